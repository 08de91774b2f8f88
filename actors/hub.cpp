// Service operations as message flows. Each operation names the actor that owns the state it
// needs: the DB pool for plain reads and writes, the listing cache for listings, the event
// registry for purchases, the credential workers for argon2id, the cluster node for broadcasts.
#include "actors/hub.hpp"

#include "actors/db_job.hpp"
#include "actors/messages.hpp"
#include "observability/metrics.hpp"
#include "persistence/event_repository.hpp"
#include "persistence/participant_repository.hpp"
#include "persistence/purchase_repository.hpp"

#include <caf/send.hpp>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
using domain::error_code;
using domain::make_error;
namespace participants = persistence::participants;
namespace events = persistence::events;
namespace purchases = persistence::purchases;
namespace logins = persistence::logins;

deadline due(const hub_context& ctx) {
  return clock::now() + ctx.request_timeout;
}

template <class T> domain::result<T> found(std::optional<T> value, const char* what) {
  if (value)
    return std::move(*value);
  return make_error(error_code::not_found, std::string("No ") + what + " with this id.");
}

/// Runs `work` on a DB worker inside one transaction.
template <class T, class Work>
void transact(const hub_context& ctx, domain::reply<T> done, Work work) {
  query<T>(ctx.db_pool, due(ctx), std::move(done),
           [work = std::move(work)](persistence::session& s) {
             return s.transact([&](persistence::tx& t) -> domain::result<T> { return work(t); });
           });
}

/// After an admin write: every node's cache and event actor learn of it before `done` answers.
template <class T>
domain::reply<T> invalidating(const hub_context& ctx, std::int64_t event_id,
                              domain::reply<T> done) {
  return [cluster = ctx.cluster, event_id, done](domain::result<T> r) {
    if (!r.ok())
      return done(std::move(r));
    auto value = std::make_shared<domain::result<T>>(std::move(r));
    const std::int64_t id = event_id > 0 ? event_id : (*value)->id;
    caf::anon_send(cluster, invalidate_atom::value,
                   invalidation{id, [done, value] { done(*value); }});
  };
}

template <>
domain::reply<domain::unit> invalidating(const hub_context& ctx, std::int64_t event_id,
                                         domain::reply<domain::unit> done) {
  return [cluster = ctx.cluster, event_id, done](domain::result<domain::unit> r) {
    if (!r.ok())
      return done(std::move(r));
    caf::anon_send(cluster, invalidate_atom::value,
                   invalidation{event_id, [done] { done(domain::unit{}); }});
  };
}

/// Counts each purchase answer of this node once, whichever node or mode served it.
domain::reply<domain::purchase_outcome> counted(domain::reply<domain::purchase_outcome> done) {
  auto& registry = metrics::registry::global();
  auto outcome = [&registry](const char* name) -> metrics::counter& {
    return registry.get_counter("eventhub_purchases_total", "Purchase requests by outcome",
                                {{"outcome", name}});
  };
  static metrics::counter& confirmed = outcome("confirmed");
  static metrics::counter& replayed = outcome("replayed");
  static metrics::counter& sold_out = outcome("sold_out");
  static metrics::counter& sales_closed = outcome("sales_closed");
  static metrics::counter& unavailable = outcome("unavailable");
  static metrics::counter& rejected = outcome("rejected");
  return [done = std::move(done)](domain::result<domain::purchase_outcome> r) {
    if (r.ok())
      (r->replayed ? replayed : confirmed).inc();
    else if (r.err().code == error_code::sold_out)
      sold_out.inc();
    else if (r.err().code == error_code::sales_closed)
      sales_closed.inc();
    else if (r.err().code == error_code::unavailable)
      unavailable.inc();
    else
      rejected.inc();
    done(std::move(r));
  };
}

struct login_record {
  std::int64_t id = 0;
  domain::role role = domain::role::user;
  std::string hash; // empty for an unknown email
};

domain::error bad_credentials() {
  return make_error(error_code::unauthenticated, "Invalid email or password.");
}

domain::error throttled(std::int64_t retry_after_seconds) {
  auto e = make_error(error_code::throttled, "Too many failed logins; try again later.");
  e.retry_after_seconds = static_cast<int>(retry_after_seconds);
  return e;
}

/// Step 1, one transaction: the attempt is counted (or refused while locked) and the account
/// looked up. An unknown email goes on like a known one, so both answer alike.
domain::result<login_record> begin_login(persistence::tx& t, const domain::login_request& req,
                                         const logins::throttle_policy& policy) {
  auto attempt = logins::begin_attempt(t, req.email, req.client_address, policy);
  if (!attempt.admitted)
    return throttled(attempt.retry_after_seconds);
  login_record who;
  if (auto rec = participants::find_login(t, req.email)) {
    who.id = rec->id;
    who.role = rec->role;
    who.hash = std::move(rec->password_hash);
  }
  return who;
}

/// Step 3, after the credential worker's verdict: a failure is counted against the client
/// address (the email counted it in step 1); a success ends the email's run of failures and gets
/// a token.
domain::result<domain::access_token> settle_login(persistence::tx& t, const hub_context& ctx,
                                                  const domain::login_request& req,
                                                  const login_record& who, bool verified) {
  if (!verified) {
    logins::failed(t, req.client_address, ctx.throttle);
    return bad_credentials();
  }
  logins::succeeded(t, req.email);
  return ctx.tokens->issue(who.id, who.role, domain::now());
}

void finish_login(std::shared_ptr<const hub_context> ctx, domain::login_request req,
                  login_record who, bool verified, domain::reply<domain::access_token> done) {
  transact<domain::access_token>(*ctx, std::move(done),
                                 [ctx, req = std::move(req), who, verified](persistence::tx& t) {
                                   return settle_login(t, *ctx, req, who, verified);
                                 });
}

} // namespace

const caf::actor& hub_context::hasher() const {
  return hashers[next_hasher.fetch_add(1, std::memory_order_relaxed) % hashers.size()];
}

// participants ------------------------------------------------------------------------------

void hub::register_participant(domain::new_participant p, domain::reply<domain::participant> done) {
  auto ctx = ctx_;
  auto password = p.password;
  domain::reply<std::string> hashed = [ctx, p = std::move(p),
                                       done](domain::result<std::string> hash) {
    if (!hash.ok())
      return done(hash.err());
    transact<domain::participant>(*ctx, done, [p, h = std::move(*hash)](persistence::tx& t) {
      return participants::insert(t, p, h);
    });
  };
  caf::anon_send(ctx->hasher(), hash_atom::value,
                 hash_request{std::move(password), std::move(hashed), due(*ctx)});
}

void hub::login(domain::login_request req, domain::reply<domain::access_token> done) {
  auto ctx = ctx_;
  // Step 2: argon2id on a credential worker, never on this (HTTP) thread or an actor's.
  domain::reply<login_record> looked_up = [ctx, req, done](domain::result<login_record> who) {
    if (!who.ok())
      return done(who.err());
    domain::reply<bool> verified = [ctx, req, who = *who, done](domain::result<bool> ok) {
      if (!ok.ok())
        return done(ok.err());
      finish_login(ctx, req, who, *ok, done);
    };
    caf::anon_send(ctx->hasher(), verify_atom::value,
                   verify_request{who->hash, req.password, std::move(verified), due(*ctx)});
  };
  transact<login_record>(*ctx, std::move(looked_up), [ctx, req](persistence::tx& t) {
    return begin_login(t, req, ctx->throttle);
  });
}

void hub::find_participant(std::int64_t id, domain::reply<domain::participant> done) {
  transact<domain::participant>(*ctx_, std::move(done), [id](persistence::tx& t) {
    return found(participants::find(t, id), "participant");
  });
}

void hub::list_participants(domain::page_request paging,
                            domain::reply<domain::page<domain::participant>> done) {
  transact<domain::page<domain::participant>>(*ctx_, std::move(done), [paging](persistence::tx& t) {
    return participants::list(t, paging);
  });
}

// events ------------------------------------------------------------------------------------

void hub::list_events(domain::event_query query, domain::reply<domain::rendered_page> done) {
  bool refresh = false;
  if (auto page = ctx_->listings->lookup(query.cache_key(), refresh)) {
    if (refresh)
      caf::anon_send(ctx_->cache, refresh_atom::value, listing_request{std::move(query), nullptr});
    return done(std::move(*page));
  }
  caf::anon_send(ctx_->cache, list_atom::value, listing_request{std::move(query), std::move(done)});
}

void hub::find_event(std::int64_t id, domain::reply<domain::event> done) {
  transact<domain::event>(*ctx_, std::move(done),
                          [id](persistence::tx& t) { return found(events::find(t, id), "event"); });
}

void hub::create_event(domain::event_draft draft, domain::reply<domain::event> done) {
  transact<domain::event>(*ctx_, invalidating(*ctx_, 0, std::move(done)),
                          [draft](persistence::tx& t) { return events::insert(t, draft); });
}

void hub::update_event(std::int64_t id, domain::event_draft draft,
                       domain::reply<domain::event> done) {
  transact<domain::event>(*ctx_, invalidating(*ctx_, id, std::move(done)),
                          [id, draft](persistence::tx& t) { return events::update(t, id, draft); });
}

void hub::delete_event(std::int64_t id, domain::reply<domain::unit> done) {
  transact<domain::unit>(*ctx_, invalidating(*ctx_, id, std::move(done)),
                         [id](persistence::tx& t) { return events::remove(t, id); });
}

void hub::list_attendees(std::int64_t event_id, domain::page_request paging,
                         domain::reply<domain::page<domain::attendee>> done) {
  transact<domain::page<domain::attendee>>(
      *ctx_, std::move(done),
      [event_id, paging](persistence::tx& t) { return events::attendees(t, event_id, paging); });
}

// purchases ---------------------------------------------------------------------------------

void hub::purchase(domain::purchase_request req, domain::reply<domain::purchase_outcome> reply) {
  auto done = counted(std::move(reply));
  if (ctx_->mode == config::purchase_mode::actor) {
    const bool memo_ok = !req.idempotency_key;
    caf::anon_send(ctx_->registry, purchase_atom::value,
                   purchase_command{std::move(req), std::move(done), due(*ctx_), true, memo_ok});
    return;
  }
  // lock-per-request: the classic design, one FOR UPDATE transaction per request.
  auto ctx = ctx_;
  const auto answer_by = due(*ctx);
  query<domain::purchase_outcome>(
      ctx->db_pool, answer_by, std::move(done),
      [ctx, req, answer_by](persistence::session& s) -> domain::result<domain::purchase_outcome> {
        auto outcome =
            purchases::commit_batch(s, req.event_id, {req}, ctx->redelivery_delay, {answer_by});
        if (!outcome.confirmations.empty())
          caf::anon_send(ctx->notifier, notify_atom::value,
                         confirmation_list{std::move(outcome.confirmations), false});
        return std::move(outcome.results.front());
      });
}

void hub::find_purchase(std::int64_t id, domain::principal caller,
                        domain::reply<domain::purchase> done) {
  transact<domain::purchase>(*ctx_, std::move(done), [id, caller](persistence::tx& t) {
    auto p = purchases::find(t, id);
    if (p && caller.role != domain::role::admin && p->participant_id != caller.id)
      p.reset(); // someone else's purchase does not exist for this caller
    return found(std::move(p), "purchase");
  });
}

void hub::list_purchases(std::int64_t participant_id, domain::page_request paging,
                         domain::reply<domain::page<domain::purchase>> done) {
  transact<domain::page<domain::purchase>>(*ctx_, std::move(done),
                                           [participant_id, paging](persistence::tx& t) {
                                             return purchases::list_of(t, participant_id, paging);
                                           });
}

// operations --------------------------------------------------------------------------------

namespace {

/// Checks the database (a real round trip) and asks the cluster node for its view.
void check_health(std::shared_ptr<const hub_context> ctx,
                  domain::reply<domain::health_report> done) {
  db_job job;
  job.due = clock::now() + std::min(ctx->request_timeout, std::chrono::milliseconds{3000});
  auto report = [ctx, done](bool db_up) {
    domain::health_report r;
    r.db_up = db_up;
    r.cluster_enabled = ctx->cluster_enabled;
    member_reply with_members = [r, done](std::vector<domain::member_view> members) mutable {
      r.members = std::move(members);
      done(r);
    };
    caf::anon_send(ctx->cluster, view_atom::value, std::move(with_members));
  };
  job.run = [report](persistence::session& s) {
    s.transact([](persistence::tx& t) { t.raw().exec("SELECT 1"); });
    report(true);
  };
  job.fail = [report](const domain::error&) { report(false); };
  submit(ctx->db_pool, std::move(job));
}

} // namespace

void hub::health(domain::reply<domain::health_report> done) {
  // Like Spring Boot's management.endpoint.health.cache.time-to-live: a report younger than
  // health.cache-ttl is answered at once; a load balancer polling every node many times a second
  // costs one database round trip per ttl, and the report lags the truth by at most that.
  auto& cache = ctx_->health;
  {
    std::lock_guard<std::mutex> guard(cache.mutex);
    const bool fresh = cache.report && clock::now() - cache.checked_at < ctx_->health_ttl;
    if (fresh || (cache.refreshing && cache.report)) {
      auto r = *cache.report;
      return done(std::move(r));
    }
    cache.refreshing = true;
  }
  auto ctx = ctx_;
  check_health(ctx, [ctx, done](domain::result<domain::health_report> r) {
    {
      std::lock_guard<std::mutex> guard(ctx->health.mutex);
      ctx->health.refreshing = false;
      if (r.ok()) {
        ctx->health.report = *r;
        ctx->health.checked_at = clock::now();
      }
    }
    done(std::move(r));
  });
}

} // namespace eventhub::actors
