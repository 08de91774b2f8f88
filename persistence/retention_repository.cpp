// Retention repository; SQL in queries/retention_queries.hpp.
#include "persistence/retention_repository.hpp"

#include "persistence/queries/retention_queries.hpp"

#include <algorithm>

namespace eventhub::persistence::retention {
namespace {

std::int64_t ms(std::chrono::milliseconds d) {
  return static_cast<std::int64_t>(d.count());
}

int delete_in(tx& t, kind k, const policy& p) {
  const int n = p.batch_size;
  switch (k) {
  case kind::login_failures:
    return static_cast<int>(
        t.exec(sql::retention_login_failures, ms(std::max(p.login_failures, p.login_window)), n)
            .affected_rows());
  case kind::idempotency_keys:
    return static_cast<int>(
        t.exec(sql::retention_idempotency_keys, ms(p.idempotency_keys), n).affected_rows());
  case kind::holds:
    return static_cast<int>(
        t.exec(sql::retention_holds, ms(p.holds), ms(p.idempotency_keys), n).affected_rows());
  case kind::webhook_attempts:
    return static_cast<int>(
        t.exec(sql::retention_webhook_attempts, ms(p.webhook_deliveries), n).affected_rows());
  }
  return 0;
}

} // namespace

const char* table_of(kind k) {
  switch (k) {
  case kind::login_failures:
    return "login_failures";
  case kind::idempotency_keys:
    return "idempotency_keys";
  case kind::holds:
    return "holds";
  case kind::webhook_attempts:
    return "webhook_attempts";
  }
  return "unknown";
}

std::optional<int> delete_batch(session& s, kind k, const policy& p) {
  return s.transact([&](tx& t) -> std::optional<int> {
    if (!t.exec(sql::retention_try_lock)[0][0].as<bool>())
      return std::nullopt;
    return delete_in(t, k, p);
  });
}

std::optional<kind> next_step(kind k, int deleted, int batch_size) {
  if (deleted >= batch_size)
    return k;
  auto at = std::find(kinds.begin(), kinds.end(), k);
  if (at == kinds.end() || at + 1 == kinds.end())
    return std::nullopt;
  return *(at + 1);
}

round_report run_round(session& s, const policy& p) {
  round_report r;
  std::optional<kind> k = kinds.front();
  while (k) {
    auto deleted = delete_batch(s, *k, p);
    ++r.batches;
    if (!deleted) {
      r.skipped = true;
      break;
    }
    r.deleted[static_cast<std::size_t>(*k)] += *deleted;
    k = next_step(*k, *deleted, p.batch_size);
  }
  return r;
}

} // namespace eventhub::persistence::retention
