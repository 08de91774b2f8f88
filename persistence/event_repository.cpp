// Events repository; SQL in queries/event_queries.hpp.
#include "persistence/event_repository.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/queries/event_queries.hpp"
#include "persistence/queries/ticket_type_queries.hpp"
#include "persistence/rows.hpp"
#include "persistence/ticket_type_repository.hpp"

namespace eventhub::persistence::events {
namespace {

using domain::error_code;

std::optional<std::int64_t> micros(const std::optional<domain::timestamp>& t) {
  if (!t)
    return std::nullopt;
  return domain::to_micros(*t);
}

/// The stored value a PUT's change leaves: (whether to set, the value to set).
template <class T> std::pair<bool, std::optional<T>> setting(const domain::change<T>& c) {
  if (!c)
    return {false, std::nullopt};
  return {true, *c};
}

domain::error not_found() {
  return domain::make_error(error_code::not_found, "No event with this id.");
}

bool names(const pqxx::sql_error& e, const char* constraint) {
  return std::string(e.what()).find(constraint) != std::string::npos;
}

/// The event's own columns; the CHECKs of V1 and V4 answer as 409 and 400.
void write_columns(tx& t, std::int64_t id, const domain::event_draft& d) {
  const auto [set_sales, sales_start_at] = setting(d.sales_start_at);
  const auto [set_limit, max_per_buyer] = setting(d.max_per_buyer);
  std::optional<std::int64_t> sales_micros;
  if (sales_start_at)
    sales_micros = domain::to_micros(*sales_start_at);
  try {
    t.exec(sql::update_event, id, d.name, d.description, d.venue, domain::to_micros(d.starts_at),
           micros(d.ends_at), d.capacity, set_sales, sales_micros, set_limit, max_per_buyer,
           d.admission_queue);
  } catch (const pqxx::check_violation& e) {
    if (names(e, "events_not_oversold") || names(e, "events_not_overbooked"))
      throw refused{domain::make_error(
          error_code::conflict,
          "The capacity cannot be lower than the tickets already sold and held.")};
    if (names(e, "events_sales_start_before_start")) {
      auto err = domain::make_error(error_code::invalid, "The request has invalid fields.");
      err.field_errors.push_back({"salesStartAt", "must be before startsAt"});
      throw refused{std::move(err)};
    }
    throw;
  }
}

} // namespace

domain::event insert(tx& t, const domain::event_draft& d, const domain::origin& by) {
  std::optional<std::int64_t> sales_start_at, max_per_buyer;
  if (d.sales_start_at && *d.sales_start_at)
    sales_start_at = domain::to_micros(**d.sales_start_at);
  if (d.max_per_buyer)
    max_per_buyer = *d.max_per_buyer;
  const auto id = t.exec(sql::insert_event, d.name, d.description, d.venue,
                         domain::to_micros(d.starts_at), micros(d.ends_at), d.capacity,
                         sales_start_at, max_per_buyer, d.admission_queue.value_or(false))[0][0]
                      .as<std::int64_t>();
  ticket_types::insert_for_new_event(t, id, d);
  auto created = *find(t, id);
  audit::record(t, {by, "event.created", "event", id, {}, domain::to_json(created)});
  return created;
}

domain::result<domain::event> update(tx& t, std::int64_t id, const domain::event_draft& d,
                                     const waitlist::offer_settings& offers,
                                     const domain::origin& by) {
  if (t.exec(sql::lock_event, id).empty())
    return not_found();
  const auto before = domain::to_json(*find(t, id));
  holds::expire_due(t, id, std::nullopt);
  write_columns(t, id, d);
  t.exec(sql::follow_capacity, id, d.capacity);
  if (d.ticket_types)
    ticket_types::replace_all(t, id, *d.ticket_types);
  waitlist::offer_freed(t, id, offers);
  auto updated = *find(t, id);
  audit::record(t, {by, "event.updated", "event", id, before, domain::to_json(updated)});
  return updated;
}

domain::result<domain::unit> remove(tx& t, std::int64_t id, const domain::origin& by) {
  auto rows = t.exec(sql::lock_event, id);
  if (rows.empty())
    return not_found();
  if (rows[0][0].as<std::int64_t>() > 0 || rows[0][1].as<bool>())
    return domain::make_error(error_code::conflict,
                              "An event with sold tickets cannot be deleted.");
  holds::expire_due(t, id, std::nullopt);
  if (t.exec(sql::event_tickets_held, id)[0][0].as<std::int64_t>() > 0)
    return domain::make_error(error_code::conflict,
                              "An event with tickets held for buyers cannot be deleted.");
  const auto before = domain::to_json(*find(t, id));
  t.exec(sql::delete_event, id); // the purchases' RESTRICT trigger is the backstop
  audit::record(t, {by, "event.deleted", "event", id, before, {}});
  return domain::unit{};
}

std::optional<domain::event> find(tx& t, std::int64_t id) {
  auto events = read_events_with_types(t.exec(sql::find_event, id), 14);
  if (events.empty())
    return std::nullopt;
  return std::move(events.front());
}

domain::page<domain::event> list(tx& t, const domain::event_query& q) {
  domain::page<domain::event> page;
  page.number = q.paging.page;
  page.size = q.paging.size;
  const auto from = micros(q.from), to = micros(q.to);
  const auto rows = t.exec(sql::list_events, q.text, from, to, q.paging.size, q.paging.offset());
  page.items = read_events_with_types(rows, 15);
  if (!rows.empty())
    page.total_items = rows[0][14].as<std::int64_t>();
  else if (q.paging.offset() > 0)
    page.total_items = t.exec(sql::count_events, q.text, from, to)[0][0].as<std::int64_t>();
  return page;
}

domain::result<domain::page<domain::attendee>> attendees(tx& t, std::int64_t event_id,
                                                         const domain::page_request& paging) {
  if (t.exec(sql::event_exists, event_id).empty())
    return not_found();
  domain::page<domain::attendee> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_attendees, event_id, paging.size, paging.offset()))
    page.items.push_back({read_participant(r), r[5].as<std::int64_t>()});
  page.total_items = t.exec(sql::count_attendees, event_id)[0][0].as<std::int64_t>();
  return page;
}

} // namespace eventhub::persistence::events
