// Ticket types repository; SQL in queries/ticket_type_queries.hpp.
#include "persistence/ticket_type_repository.hpp"

#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/event_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/queries/event_queries.hpp"
#include "persistence/queries/ticket_type_queries.hpp"

#include <algorithm>
#include <set>

namespace eventhub::persistence::ticket_types {
namespace {

using domain::error_code;

struct stored_type {
  std::int64_t id = 0;
  std::int64_t sold = 0;
  bool has_sales = false; // ever had a purchase, even one cancelled since
  std::int64_t held = 0;
  bool has_holds = false;   // ever had a hold (holds keep their type)
  bool has_entries = false; // has waitlist entries (they keep their type)
};

domain::error not_found(const char* what) {
  return domain::make_error(error_code::not_found, std::string("No ") + what + " with this id.");
}

[[noreturn]] void refuse(error_code code, std::string detail) {
  throw refused{domain::make_error(code, std::move(detail))};
}

void lock_event(tx& t, std::int64_t event_id) {
  if (t.exec(sql::lock_event, event_id).empty())
    throw refused{not_found("event")};
  holds::expire_due(t, event_id, std::nullopt);
}

std::vector<stored_type> types_of(tx& t, std::int64_t event_id) {
  std::vector<stored_type> out;
  for (const auto& r : t.exec(sql::ticket_types_of, event_id))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<bool>(),
                   r[3].as<std::int64_t>(), r[4].as<bool>(), r[5].as<bool>()});
  return out;
}

const stored_type* stored(const std::vector<stored_type>& types, std::int64_t id) {
  auto it = std::find_if(types.begin(), types.end(), [id](const auto& s) { return s.id == id; });
  return it == types.end() ? nullptr : &*it;
}

std::int64_t insert_one(tx& t, std::int64_t event_id, const domain::ticket_type_draft& d,
                        bool follows_capacity) {
  return t
      .exec(sql::insert_ticket_type, event_id, d.name, d.price_cents, d.currency, d.quota,
            follows_capacity)[0][0]
      .as<std::int64_t>();
}

/// The ticket_types_not_overbooked CHECK stays the last guard.
void update_one(tx& t, std::int64_t event_id, const stored_type& s,
                const domain::ticket_type_draft& d) {
  if (d.quota < s.sold + s.held)
    refuse(error_code::conflict,
           "The quota cannot be lower than the tickets sold and held of this type.");
  t.exec(sql::update_ticket_type, event_id, s.id, d.name, d.price_cents, d.currency, d.quota);
}

/// The purchases' RESTRICT trigger stays the last guard.
void delete_one(tx& t, std::int64_t event_id, const stored_type& s) {
  if (s.has_sales || s.has_holds || s.has_entries)
    refuse(error_code::conflict,
           "A ticket type with sales, holds or waitlist entries cannot be deleted.");
  t.exec(sql::delete_ticket_type, event_id, s.id);
}

domain::result<domain::ticket_type_view> view(tx& t, std::int64_t event_id, std::int64_t type_id) {
  auto e = events::find(t, event_id);
  if (!e)
    return not_found("event");
  for (const auto& type : e->ticket_types)
    if (type.id == type_id)
      return domain::ticket_type_view{type, e->tickets_available(type)};
  return not_found("ticket type");
}

/// One 400 naming every entry whose id is not one of the event's types, or repeats another's.
void check_ids(const std::vector<stored_type>& types,
               const std::vector<domain::ticket_type_draft>& drafts) {
  auto e = domain::make_error(error_code::invalid, "The request has invalid fields.");
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < drafts.size(); ++i) {
    if (!drafts[i].id)
      continue;
    const auto field = "ticketTypes[" + std::to_string(i) + "].id";
    if (!stored(types, *drafts[i].id))
      e.field_errors.push_back({field, "is not a ticket type of this event"});
    else if (!seen.insert(*drafts[i].id).second)
      e.field_errors.push_back({field, "names the same type as an earlier entry"});
  }
  if (!e.field_errors.empty())
    throw refused{std::move(e)};
}

} // namespace

void insert_for_new_event(tx& t, std::int64_t event_id, const domain::event_draft& event) {
  if (event.ticket_types) {
    for (const auto& d : *event.ticket_types)
      insert_one(t, event_id, d, false);
    return;
  }
  domain::ticket_type_draft general{std::nullopt, "General admission", 0, event.default_currency,
                                    event.capacity};
  insert_one(t, event_id, general, true);
}

void replace_all(tx& t, std::int64_t event_id,
                 const std::vector<domain::ticket_type_draft>& drafts) {
  const auto types = types_of(t, event_id);
  check_ids(types, drafts);
  for (const auto& s : types) {
    const bool kept = std::any_of(drafts.begin(), drafts.end(),
                                  [&](const auto& d) { return d.id && *d.id == s.id; });
    if (!kept)
      delete_one(t, event_id, s);
  }
  for (const auto& d : drafts) {
    if (d.id)
      update_one(t, event_id, *stored(types, *d.id), d);
    else
      insert_one(t, event_id, d, false);
  }
}

domain::result<domain::ticket_type_view> create(tx& t, std::int64_t event_id,
                                                const domain::ticket_type_draft& draft,
                                                const waitlist::offer_settings& offers,
                                                const domain::origin& by) {
  lock_event(t, event_id);
  if (types_of(t, event_id).size() >= max_per_event)
    refuse(error_code::conflict, "An event has at most 20 ticket types.");
  const auto id = insert_one(t, event_id, draft, false);
  t.exec(sql::touch_event, event_id);
  waitlist::offer_freed(t, event_id, offers);
  auto created = view(t, event_id, id);
  audit::record(t, {by, "ticket_type.created", "ticket_type", id, {}, domain::to_json(*created)});
  return created;
}

domain::result<domain::ticket_type_view> update(tx& t, std::int64_t event_id, std::int64_t type_id,
                                                const domain::ticket_type_draft& draft,
                                                const waitlist::offer_settings& offers,
                                                const domain::origin& by) {
  lock_event(t, event_id);
  const auto types = types_of(t, event_id);
  const auto* s = stored(types, type_id);
  if (!s)
    return not_found("ticket type");
  const auto before = domain::to_json(*view(t, event_id, type_id));
  update_one(t, event_id, *s, draft);
  t.exec(sql::touch_event, event_id);
  waitlist::offer_freed(t, event_id, offers);
  auto updated = view(t, event_id, type_id);
  audit::record(
      t, {by, "ticket_type.updated", "ticket_type", type_id, before, domain::to_json(*updated)});
  return updated;
}

domain::result<domain::unit> remove(tx& t, std::int64_t event_id, std::int64_t type_id,
                                    const waitlist::offer_settings& offers,
                                    const domain::origin& by) {
  lock_event(t, event_id);
  const auto types = types_of(t, event_id);
  const auto* s = stored(types, type_id);
  if (!s)
    return not_found("ticket type");
  if (types.size() == 1)
    refuse(error_code::conflict, "An event's last ticket type cannot be deleted.");
  const auto before = domain::to_json(*view(t, event_id, type_id));
  delete_one(t, event_id, *s);
  audit::record(t, {by, "ticket_type.deleted", "ticket_type", type_id, before, {}});
  t.exec(sql::touch_event, event_id);
  waitlist::offer_freed(t, event_id, offers);
  return domain::unit{};
}

domain::result<domain::ticket_type_view> find(tx& t, std::int64_t event_id, std::int64_t type_id) {
  return view(t, event_id, type_id);
}

} // namespace eventhub::persistence::ticket_types
