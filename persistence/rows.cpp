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
  if (!r[i + 10].is_null())
    e.sales_start_at = micros(r[i + 10]);
  if (!r[i + 11].is_null())
    e.max_per_buyer = r[i + 11].as<std::int64_t>();
  e.admission_queue = r[i + 12].as<bool>();
  e.tickets_held = r[i + 13].as<std::int64_t>();
  return e;
}

std::optional<domain::ticket_type> read_ticket_type(const pqxx::row& r, int i) {
  if (r[i].is_null())
    return std::nullopt;
  domain::ticket_type t;
  t.id = r[i].as<std::int64_t>();
  t.event_id = r[i + 1].as<std::int64_t>();
  t.name = r[i + 2].as<std::string>();
  t.price_cents = r[i + 3].as<std::int64_t>();
  t.currency = r[i + 4].as<std::string>();
  t.quota = r[i + 5].as<std::int64_t>();
  t.tickets_sold = r[i + 6].as<std::int64_t>();
  t.tickets_held = r[i + 7].as<std::int64_t>();
  t.tickets_waiting = r[i + 8].as<std::int64_t>();
  return t;
}

std::vector<domain::event> read_events_with_types(const pqxx::result& rows, int types_at) {
  std::vector<domain::event> events;
  for (const auto& r : rows) {
    if (events.empty() || events.back().id != r[0].as<std::int64_t>())
      events.push_back(read_event(r));
    if (auto type = read_ticket_type(r, types_at))
      events.back().ticket_types.push_back(std::move(*type));
  }
  return events;
}

domain::purchase read_purchase(const pqxx::row& r, int i) {
  domain::purchase p;
  p.id = r[i].as<std::int64_t>();
  p.event_id = r[i + 1].as<std::int64_t>();
  p.participant_id = r[i + 2].as<std::int64_t>();
  p.quantity = r[i + 3].as<std::int32_t>();
  p.purchased_at = micros(r[i + 4]);
  p.ticket_type_id = r[i + 5].as<std::int64_t>();
  p.unit_price_cents = r[i + 6].as<std::int64_t>();
  p.currency = r[i + 7].as<std::string>();
  p.cancelled_quantity = r[i + 8].as<std::int32_t>();
  p.refunded_cents = r[i + 9].as<std::int64_t>();
  return p;
}

domain::hold read_hold(const pqxx::row& r, int i) {
  domain::hold h;
  h.id = r[i].as<std::int64_t>();
  h.event_id = r[i + 1].as<std::int64_t>();
  h.ticket_type_id = r[i + 2].as<std::int64_t>();
  h.participant_id = r[i + 3].as<std::int64_t>();
  h.quantity = r[i + 4].as<std::int32_t>();
  h.unit_price_cents = r[i + 5].as<std::int64_t>();
  h.currency = r[i + 6].as<std::string>();
  h.status = domain::parse_hold_status(r[i + 7].c_str()).value_or(domain::hold_status::held);
  h.created_at = micros(r[i + 8]);
  h.expires_at = micros(r[i + 9]);
  if (!r[i + 10].is_null())
    h.purchase_id = r[i + 10].as<std::int64_t>();
  return h;
}

domain::waitlist_entry read_entry(const pqxx::row& r, int i) {
  domain::waitlist_entry e;
  e.id = r[i].as<std::int64_t>();
  e.event_id = r[i + 1].as<std::int64_t>();
  e.ticket_type_id = r[i + 2].as<std::int64_t>();
  e.participant_id = r[i + 3].as<std::int64_t>();
  e.quantity = r[i + 4].as<std::int32_t>();
  e.status =
      domain::parse_waitlist_status(r[i + 5].c_str()).value_or(domain::waitlist_status::left);
  e.created_at = micros(r[i + 6]);
  if (!r[i + 7].is_null())
    e.hold_id = r[i + 7].as<std::int64_t>();
  if (!r[i + 8].is_null())
    e.offer_expires_at = micros(r[i + 8]);
  if (!r[i + 9].is_null())
    e.position = r[i + 9].as<std::int64_t>();
  return e;
}

domain::ticket read_ticket(const pqxx::row& r, int i) {
  domain::ticket t;
  t.id = r[i].as<std::int64_t>();
  t.purchase_id = r[i + 1].as<std::int64_t>();
  t.event_id = r[i + 2].as<std::int64_t>();
  t.ticket_type_id = r[i + 3].as<std::int64_t>();
  t.participant_id = r[i + 4].as<std::int64_t>();
  t.nonce = pqxx::binarystring(r[i + 5]).str();
  t.status = domain::parse_ticket_status(r[i + 6].c_str()).value_or(domain::ticket_status::valid);
  if (!r[i + 7].is_null())
    t.checked_in_at = micros(r[i + 7]);
  return t;
}

} // namespace eventhub::persistence
