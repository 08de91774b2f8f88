// Row mapping; see rows.hpp.
#include "persistence/rows.hpp"

namespace eventhub::persistence {
namespace {

domain::timestamp micros(const pqxx::field& f) {
  return domain::from_micros(f.as<std::int64_t>());
}

} // namespace

domain::participant read_participant(const pqxx::row& r, int i) {
  domain::participant p;
  p.id = r[i].as<std::int64_t>();
  p.email = r[i + 1].as<std::string>();
  p.full_name = r[i + 2].as<std::string>();
  p.role = domain::parse_role(r[i + 3].c_str()).value_or(domain::role::user);
  p.created_at = micros(r[i + 4]);
  return p;
}

domain::event read_event(const pqxx::row& r, int i) {
  domain::event e;
  e.id = r[i].as<std::int64_t>();
  e.name = r[i + 1].as<std::string>();
  if (!r[i + 2].is_null())
    e.description = r[i + 2].as<std::string>();
  e.venue = r[i + 3].as<std::string>();
  e.starts_at = micros(r[i + 4]);
  if (!r[i + 5].is_null())
    e.ends_at = micros(r[i + 5]);
  e.capacity = r[i + 6].as<std::int64_t>();
  e.tickets_sold = r[i + 7].as<std::int64_t>();
  e.created_at = micros(r[i + 8]);
  e.updated_at = micros(r[i + 9]);
  return e;
}

domain::purchase read_purchase(const pqxx::row& r, int i) {
  domain::purchase p;
  p.id = r[i].as<std::int64_t>();
  p.event_id = r[i + 1].as<std::int64_t>();
  p.participant_id = r[i + 2].as<std::int64_t>();
  p.quantity = r[i + 3].as<std::int32_t>();
  p.purchased_at = micros(r[i + 4]);
  return p;
}

} // namespace eventhub::persistence
