// Events repository; SQL in queries/event_queries.hpp.
#include "persistence/event_repository.hpp"

#include "persistence/queries/event_queries.hpp"
#include "persistence/rows.hpp"

namespace eventhub::persistence::events {
namespace {

std::optional<std::int64_t> micros(const std::optional<domain::timestamp>& t) {
  if (!t)
    return std::nullopt;
  return domain::to_micros(*t);
}

domain::error not_found() {
  return domain::make_error(domain::error_code::not_found, "No event with this id.");
}

} // namespace

domain::event insert(tx& t, const domain::event_draft& d) {
  auto rows = t.exec(sql::insert_event, d.name, d.description, d.venue,
                     domain::to_micros(d.starts_at), micros(d.ends_at), d.capacity);
  return read_event(rows[0]);
}

domain::result<domain::event> update(tx& t, std::int64_t id, const domain::event_draft& d) {
  try {
    pqxx::subtransaction guard(t.raw(), "update_event");
    auto rows = t.exec(sql::update_event, id, d.name, d.description, d.venue,
                       domain::to_micros(d.starts_at), micros(d.ends_at), d.capacity);
    guard.commit();
    if (rows.empty())
      return not_found();
    return read_event(rows[0]);
  } catch (const pqxx::check_violation& e) {
    if (std::string(e.what()).find("events_not_oversold") == std::string::npos)
      throw;
    return domain::make_error(domain::error_code::conflict,
                              "The capacity cannot be lower than the tickets already sold.");
  }
}

domain::result<domain::unit> remove(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::lock_event_for_delete, id);
  if (rows.empty())
    return not_found();
  if (rows[0][0].as<std::int64_t>() > 0)
    return domain::make_error(domain::error_code::conflict,
                              "An event with sold tickets cannot be deleted.");
  t.exec(sql::delete_event, id); // purchases' foreign key (RESTRICT) is the backstop
  return domain::unit{};
}

std::optional<domain::event> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_event, id);
  if (rows.empty())
    return std::nullopt;
  return read_event(rows[0]);
}

domain::page<domain::event> list(tx& t, const domain::event_query& q) {
  domain::page<domain::event> page;
  page.number = q.paging.page;
  page.size = q.paging.size;
  const auto from = micros(q.from), to = micros(q.to);
  const auto rows = t.exec(sql::list_events, q.text, from, to, q.paging.size, q.paging.offset());
  for (const auto& r : rows)
    page.items.push_back(read_event(r));
  if (!rows.empty())
    page.total_items = rows[0][10].as<std::int64_t>();
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
