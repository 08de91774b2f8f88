// The audit log; SQL in queries/audit_queries.hpp.
#include "persistence/audit_repository.hpp"

#include "persistence/queries/audit_queries.hpp"

namespace eventhub::persistence::audit {
namespace {

std::optional<std::string> text_or_null(const std::string& s) {
  if (s.empty())
    return std::nullopt;
  return s;
}

template <class T> std::optional<T> optional_of(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

std::optional<std::int64_t> micros(const std::optional<domain::timestamp>& t) {
  if (!t)
    return std::nullopt;
  return domain::to_micros(*t);
}

domain::audit_entry read_entry(const pqxx::row& r) {
  domain::audit_entry e;
  e.id = r[0].as<std::int64_t>();
  e.at = domain::from_micros(r[1].as<std::int64_t>());
  e.actor_id = optional_of<std::int64_t>(r[2]);
  e.action = r[3].as<std::string>();
  e.entity_type = r[4].as<std::string>();
  e.entity_id = optional_of<std::int64_t>(r[5]);
  e.before = optional_of<std::string>(r[6]);
  e.after = optional_of<std::string>(r[7]);
  e.request_id = optional_of<std::string>(r[8]);
  e.client_address = optional_of<std::string>(r[9]);
  return e;
}

} // namespace

entry_arrays arrays_of(const std::vector<domain::audit_record>& entries) {
  entry_arrays a;
  for (const auto& e : entries) {
    a.actors.push_back(e.by.actor_id.value_or(0));
    a.actions.emplace_back(e.action);
    a.types.emplace_back(e.entity_type);
    a.entity_ids.push_back(e.entity_id.value_or(0));
    a.befores.push_back(text_or_null(e.before));
    a.afters.push_back(text_or_null(e.after));
    a.requests.push_back(text_or_null(e.by.request_id));
    a.addresses.push_back(text_or_null(e.by.client_address));
  }
  return a;
}

void record(tx& t, const std::vector<domain::audit_record>& entries) {
  if (entries.empty())
    return;
  const auto a = arrays_of(entries);
  t.exec(sql::record_audit, int_array(a.actors), text_array(a.actions), text_array(a.types),
         int_array(a.entity_ids), text_array(a.befores), text_array(a.afters),
         text_array(a.requests), text_array(a.addresses));
}

void record(tx& t, const domain::audit_record& entry) {
  record(t, std::vector<domain::audit_record>{entry});
}

domain::page<domain::audit_entry> list(tx& t, const domain::audit_query& q) {
  domain::page<domain::audit_entry> page;
  page.number = q.paging.page;
  page.size = q.paging.size;
  const auto from = micros(q.from), to = micros(q.to);
  for (const auto& r : t.exec_once(sql::list_audit, q.entity_type, q.entity_id, q.actor_id,
                                   q.action, from, to, q.paging.size, q.paging.offset()))
    page.items.push_back(read_entry(r));
  page.total_items = t.exec_once(sql::count_audit, q.entity_type, q.entity_id, q.actor_id, q.action,
                                 from, to)[0][0]
                         .as<std::int64_t>();
  return page;
}

int ensure_partitions(tx& t, int ahead) {
  return t.exec(sql::ensure_audit_partitions, ahead)[0][0].as<int>();
}

} // namespace eventhub::persistence::audit
