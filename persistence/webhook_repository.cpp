// Webhooks repository; see webhook_repository.hpp.
#include "persistence/webhook_repository.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/queries/webhook_queries.hpp"

namespace eventhub::persistence::webhooks {
namespace {

std::vector<std::int64_t> ids_of(const pqxx::result& rows) {
  std::vector<std::int64_t> out;
  out.reserve(rows.size());
  for (const auto& r : rows)
    out.push_back(r[0].as<std::int64_t>());
  return out;
}

std::vector<std::string> split_types(const std::string& joined) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= joined.size()) {
    auto comma = joined.find(',', start);
    if (comma == std::string::npos)
      comma = joined.size();
    if (comma > start)
      out.push_back(joined.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string types_param(const std::vector<std::string>& types) {
  return text_array({types.begin(), types.end()});
}

std::vector<std::string> all_types() {
  return {domain::webhook_event_types.begin(), domain::webhook_event_types.end()};
}

domain::webhook_endpoint endpoint_of(const pqxx::row& r) {
  domain::webhook_endpoint e;
  e.id = r[0].as<std::int64_t>();
  e.url = r[1].as<std::string>();
  e.event_types = split_types(r[2].as<std::string>());
  e.enabled = r[3].as<bool>();
  e.created_at = domain::from_micros(r[4].as<std::int64_t>());
  e.configured = r[5].as<bool>();
  return e;
}

std::int64_t next_id(tx& t) {
  return t.exec(sql::next_endpoint_id)[0][0].as<std::int64_t>();
}

} // namespace

std::vector<std::int64_t> fan_out_confirmations(tx& t, const std::vector<std::int64_t>& ids) {
  return ids.empty() ? std::vector<std::int64_t>{}
                     : ids_of(t.exec(sql::fan_out_confirmations, int_array(ids)));
}

std::vector<std::int64_t> fan_out_notifications(tx& t, const std::vector<std::int64_t>& ids) {
  return ids.empty() ? std::vector<std::int64_t>{}
                     : ids_of(t.exec(sql::fan_out_notifications, int_array(ids)));
}

std::vector<message> claim_due(tx& t, std::int64_t endpoint_id, int limit,
                               std::chrono::milliseconds lease) {
  std::vector<message> out;
  for (const auto& r : t.exec(sql::claim_due_messages, endpoint_id, limit,
                              static_cast<std::int64_t>(lease.count())))
    out.push_back(
        {r[0].as<std::int64_t>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<int>()});
  return out;
}

void record(tx& t, std::int64_t endpoint_id, const std::vector<attempt_record>& attempts) {
  if (attempts.empty())
    return;
  std::vector<std::int64_t> ids, numbers, statuses, durations, times;
  std::vector<std::optional<std::string>> types, outcomes, errors;
  std::vector<std::int64_t> retried, retried_numbers, delays, settled;
  for (const auto& a : attempts) {
    ids.push_back(a.message_id);
    types.emplace_back(a.type);
    numbers.push_back(a.attempt);
    outcomes.emplace_back(a.outcome);
    statuses.push_back(a.response_status);
    durations.push_back(a.duration_ms);
    times.push_back(domain::to_micros(a.attempted_at));
    errors.emplace_back(a.error.substr(0, 500));
    if (a.next_status == "PENDING") {
      retried.push_back(a.message_id);
      retried_numbers.push_back(a.attempt);
      delays.push_back(a.retry_in.count());
    } else {
      settled.push_back(a.message_id);
    }
  }
  t.exec(sql::record_attempts, endpoint_id, int_array(ids), text_array(types), int_array(numbers),
         text_array(outcomes), int_array(statuses), int_array(durations), int_array(times),
         text_array(errors));
  if (!retried.empty())
    t.exec(sql::retry_messages, int_array(retried), int_array(retried_numbers), int_array(delays));
  if (!settled.empty())
    t.exec(sql::settle_messages, int_array(settled));
}

std::optional<std::string> disable(tx& t, std::int64_t endpoint_id, const std::string& reason) {
  auto before = find(t, endpoint_id);
  auto rows = t.exec(sql::disable_endpoint, endpoint_id, reason.substr(0, 500));
  if (rows.empty() || !before)
    return std::nullopt;
  auto after = *before;
  after.enabled = false;
  audit::record(t, {{},
                    "webhook.disabled",
                    "webhook",
                    endpoint_id,
                    domain::to_json(*before),
                    domain::to_json(after)});
  return rows[0][0].as<std::string>();
}

std::vector<stored_endpoint> enabled_endpoints(tx& t) {
  std::vector<stored_endpoint> out;
  for (const auto& r : t.exec(sql::enabled_endpoints))
    out.push_back(
        {r[0].as<std::int64_t>(), r[1].as<std::string>(), pqxx::binarystring(r[2]).str()});
  return out;
}

domain::webhook_endpoint create(tx& t, const domain::webhook_draft& draft,
                                const std::function<std::string(std::int64_t)>& seal) {
  const auto id = next_id(t);
  return endpoint_of(t.exec(sql::insert_endpoint, id, draft.url, types_param(draft.event_types),
                            bytea_param(t.raw(), seal(id)), false)[0]);
}

domain::page<domain::webhook_endpoint> list(tx& t, domain::page_request paging) {
  domain::page<domain::webhook_endpoint> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_endpoints, paging.size, paging.offset()))
    page.items.push_back(endpoint_of(r));
  page.total_items = t.exec(sql::count_endpoints)[0][0].as<std::int64_t>();
  return page;
}

std::optional<domain::webhook_endpoint> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_endpoint, id);
  if (rows.empty())
    return std::nullopt;
  return endpoint_of(rows[0]);
}

bool remove(tx& t, std::int64_t id) {
  return t.exec(sql::delete_endpoint, id).affected_rows() > 0;
}

void configure(tx& t, const std::string& url,
               const std::function<std::string(std::int64_t)>& seal) {
  auto rows = t.exec(sql::configured_endpoint);
  if (url.empty()) {
    if (!rows.empty())
      remove(t, rows[0][0].as<std::int64_t>());
    return;
  }
  if (rows.empty()) {
    const auto id = next_id(t);
    t.exec(sql::insert_endpoint, id, url, types_param(all_types()), bytea_param(t.raw(), seal(id)),
           true);
    return;
  }
  const auto id = rows[0][0].as<std::int64_t>();
  t.exec(sql::rewrite_configured_endpoint, id, url, bytea_param(t.raw(), seal(id)),
         types_param(all_types()));
}

domain::page<domain::delivery_attempt> attempts(tx& t, std::int64_t endpoint_id,
                                                domain::page_request paging) {
  domain::page<domain::delivery_attempt> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r :
       t.exec(sql::attempts_of_endpoint, endpoint_id, paging.size, paging.offset())) {
    domain::delivery_attempt a;
    a.webhook_id = r[0].as<std::int64_t>();
    a.message_id = domain::webhook_message_id(r[1].as<std::int64_t>());
    a.type = r[2].as<std::string>();
    a.attempt = r[3].as<int>();
    a.outcome = r[4].as<std::string>();
    if (const int status = r[5].as<int>(); status != 0)
      a.response_status = status;
    a.duration_ms = r[6].as<std::int64_t>();
    a.attempted_at = domain::from_micros(r[7].as<std::int64_t>());
    page.items.push_back(std::move(a));
  }
  page.total_items = t.exec(sql::count_attempts_of_endpoint, endpoint_id)[0][0].as<std::int64_t>();
  return page;
}

} // namespace eventhub::persistence::webhooks
