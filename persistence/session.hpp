// One PostgreSQL connection with its prepared statements, reconnecting with backoff.
// A session is owned by exactly one DB worker actor (one thread), so it needs no lock.
#pragma once

#include "domain/error.hpp"
#include "domain/result.hpp"
#include "persistence/pq_types.hpp"
#include "persistence/statement.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace eventhub::persistence {

/// The database cannot answer now (down, connection lost, timeout, lock wait too long).
/// Callers answer 503 with Retry-After; nothing was committed unless `in_doubt`.
struct db_unavailable : std::runtime_error {
  explicit db_unavailable(const std::string& what, bool doubt = false)
      : std::runtime_error(what), in_doubt(doubt) {}
  bool in_doubt; // the commit may or may not have happened
};

/// Shared by the sessions of one pool: when one reconnects, the others stop backing off, so a
/// database that came back is used by every worker at once.
struct recovery_signal {
  std::atomic<std::int64_t> last_success{0}; // steady_clock ticks
};

struct connection_options {
  std::string conninfo; // URL or key=value string understood by libpq
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds statement_timeout{5000};
  std::chrono::milliseconds lock_timeout{2000};
  std::shared_ptr<recovery_signal> recovery; // optional
};

/// Thrown by repository code to refuse a change after writing part of it: the transaction rolls
/// back and the job answers `error` (make_tx_job), so nothing changes on a refused request.
struct refused {
  domain::error error;
};

class session;

/// A transaction in progress; repositories run named statements through it.
class tx {
 public:
  tx(pqxx::work& work, session& owner) : work_(work), owner_(owner) {}

  template <class... Args> pqxx::result exec(const statement& s, Args&&... args);
  /// Unprepared: planned with these values every time (for statements whose best plan depends
  /// on which optional filters are given).
  template <class... Args> pqxx::result exec_once(const statement& s, Args&&... args) {
    return work_.exec_params(s.sql, std::forward<Args>(args)...);
  }

  pqxx::work& raw() { return work_; }

 private:
  pqxx::work& work_;
  session& owner_;
};

class session {
 public:
  explicit session(connection_options options);
  ~session();

  /// Runs `f(tx&)` in one transaction and commits it. Throws db_unavailable when the database
  /// cannot be reached (without waiting out the backoff) or the connection breaks; any other
  /// exception from `f` rolls back and propagates.
  template <class F> auto transact(F&& f) -> decltype(f(std::declval<tx&>()));

  /// True once connected and not known to be broken.
  bool connected() const { return conn_ != nullptr; }

  /// Connects now unless within the backoff window; false if the database is unreachable.
  bool try_connect();

  void prepare(const statement& s);

 private:
  pqxx::connection& connection(); // connects or throws db_unavailable
  /// Throws db_unavailable; `reset` drops the connection (libpqxx 6.4 would otherwise try to
  /// reuse a dead PGconn) and lets the next use reconnect at once.
  [[noreturn]] void fail(const char* why, bool reset, bool in_doubt);
  void drop_connection();

  connection_options options_;
  std::unique_ptr<pqxx::connection> conn_;
  std::unordered_set<std::string> prepared_;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::steady_clock::time_point last_failure_{};
  std::chrono::milliseconds backoff_{0};
};

/// What may be logged of an exception from a transaction: the SQLSTATE and the first line of
/// the message. PostgreSQL's DETAIL line can quote a whole row (a password hash included), so it
/// is never logged.
std::string loggable_error(const std::exception& e);

/// Builds the conninfo with connect_timeout and application_name added.
std::string with_client_options(const std::string& conninfo, std::chrono::milliseconds timeout);

template <class... Args> pqxx::result tx::exec(const statement& s, Args&&... args) {
  owner_.prepare(s);
  return work_.exec_prepared(s.name, std::forward<Args>(args)...);
}

/// Runs `f(tx&) -> result<T>` in one transaction; a `refused` thrown by `f` rolls it back and is
/// answered as its error.
template <class T, class F> domain::result<T> transact_refusable(session& s, F&& f) {
  try {
    return s.transact([&](tx& t) -> domain::result<T> { return f(t); });
  } catch (const refused& r) {
    return domain::result<T>(r.error);
  }
}

template <class F> auto session::transact(F&& f) -> decltype(f(std::declval<tx&>())) {
  // A connection found dead before commit is replaced and the transaction run once more:
  // nothing of it was committed. A loss during commit is in doubt and never retried here.
  for (int attempt = 1;; ++attempt) {
    pqxx::connection& c = connection();
    bool committing = false;
    bool lost = false;
    try {
      pqxx::work work(c);
      tx t(work, *this);
      if constexpr (std::is_void_v<decltype(f(t))>) {
        f(t);
        committing = true;
        work.commit();
        return;
      } else {
        auto value = f(t);
        committing = true;
        work.commit();
        return value;
      }
    } catch (const pqxx::broken_connection&) {
      lost = true;
    } catch (const pqxx::in_doubt_error&) {
      fail("database connection lost during commit", true, true);
    } catch (const pqxx::sql_error& e) {
      const std::string state = e.sqlstate();
      if (state.rfind("57P", 0) == 0 || state.rfind("08", 0) == 0) // server shutdown, link failure
        lost = true;
      else if (state == "57014" || state == "55P03" || state.rfind("53", 0) == 0) // timeouts
        fail("database busy", false, false);
      else
        throw;
    }
    if (lost && (committing || attempt > 1))
      fail("database connection lost", true, committing);
    drop_connection();
  }
}

} // namespace eventhub::persistence
