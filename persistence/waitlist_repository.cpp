// The waitlist repository; SQL in queries/waitlist_queries.hpp, rules in
// domain/purchase_rules.cpp.
#include "persistence/waitlist_repository.hpp"

#include "persistence/purchase_repository.hpp"
#include "persistence/queries/event_queries.hpp"
#include "persistence/queries/waitlist_queries.hpp"
#include "persistence/rows.hpp"

#include <stdexcept>

namespace eventhub::persistence::waitlist {
namespace {

/// The batch's requests of `kind`, each as `field` of it (who joins, which entry is left).
std::vector<std::int64_t> field_of(const std::vector<domain::purchase_request>& batch,
                                   domain::order_kind kind,
                                   std::int64_t domain::purchase_request::*field) {
  std::vector<std::int64_t> out;
  for (const auto& req : batch)
    if (req.kind == kind)
      out.push_back(req.*field);
  return out;
}

std::vector<domain::queued_entry> queue_of(tx& t, std::int64_t event_id, std::int64_t most) {
  std::vector<domain::queued_entry> out;
  for (const auto& r : t.exec(sql::waiting_queue, event_id, most))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                   r[3].as<std::int32_t>()});
  return out;
}

/// The arguments of write_offers ($5..$10).
struct offer_args {
  std::vector<std::int64_t> entries, participants, types, quantities, prices;
  std::vector<std::optional<std::string>> currencies;
};

offer_args offer_args_of(const domain::event_stock& stock,
                         const std::vector<domain::queued_entry>& queue,
                         const std::vector<domain::offer>& offers) {
  offer_args out;
  for (const auto& o : offers) {
    const auto& e = queue[o.entry_index];
    const auto& type = stock.types[o.type_index];
    out.entries.push_back(e.id);
    out.participants.push_back(e.participant_id);
    out.types.push_back(type.id);
    out.quantities.push_back(e.quantity);
    out.prices.push_back(type.price_cents);
    out.currencies.push_back(type.currency);
  }
  return out;
}

domain::notification offered(std::int64_t event_id, const domain::queued_entry& e,
                             std::int64_t hold_id, std::int64_t outbox_id,
                             domain::timestamp expires_at) {
  domain::notification n;
  n.id = outbox_id;
  n.type = "waitlist.offered";
  n.event_id = event_id;
  n.participant_id = e.participant_id;
  n.subject_id = e.id;
  n.quantity = e.quantity;
  n.hold_id = hold_id;
  n.expires_at = expires_at;
  return n;
}

} // namespace

std::vector<domain::active_entry> active_of(tx& t, std::int64_t event_id,
                                            const std::vector<domain::purchase_request>& batch) {
  std::vector<domain::active_entry> out;
  const auto joiners =
      field_of(batch, domain::order_kind::join, &domain::purchase_request::participant_id);
  if (joiners.empty())
    return out;
  for (const auto& r : t.exec(sql::active_entries_of, event_id, int_array(joiners)))
    out.push_back({r[0].as<std::int64_t>(), r[1].as<std::int64_t>()});
  return out;
}

std::vector<domain::waitlist_entry> targets(tx& t, std::int64_t event_id,
                                            const std::vector<domain::purchase_request>& batch) {
  std::vector<domain::waitlist_entry> out;
  const auto ids = field_of(batch, domain::order_kind::leave, &domain::purchase_request::entry_id);
  if (ids.empty())
    return out;
  for (const auto& r : t.exec(sql::entries_for_batch, event_id, int_array(ids)))
    out.push_back(read_entry(r));
  return out;
}

std::vector<std::int64_t> write(tx& t, std::int64_t event_id, domain::timestamp at,
                                const std::vector<domain::purchase_request>& batch,
                                const std::vector<std::pair<std::size_t, std::int64_t>>& joined,
                                const std::vector<std::int64_t>& left) {
  std::vector<std::int64_t> participants, types, quantities;
  for (const auto& [i, type] : joined) {
    participants.push_back(batch[i].participant_id);
    types.push_back(type);
    quantities.push_back(batch[i].quantity);
  }
  std::vector<std::int64_t> ids(joined.size(), 0);
  std::size_t left_rows = 0;
  for (const auto& r : t.exec(sql::write_waitlist, event_id, domain::to_micros(at), int_array(left),
                              int_array(participants), int_array(types), int_array(quantities))) {
    if (r[0].as<std::string>() == "l")
      ++left_rows;
    else
      ids[static_cast<std::size_t>(r[1].as<std::int64_t>()) - 1] = r[2].as<std::int64_t>();
  }
  // Decided under the same row lock: every entry left was WAITING or OFFERED.
  if (left_rows != left.size())
    throw std::logic_error("a waitlist entry decided under the row lock was no longer active");
  return ids;
}

std::vector<domain::notification> make_offers(tx& t, std::int64_t event_id,
                                              domain::event_stock& stock,
                                              const offer_settings& settings,
                                              std::optional<domain::timestamp>* earliest) {
  std::vector<domain::notification> out;
  const auto most = domain::offerable(stock);
  if (most <= 0)
    return out;
  const auto queue = queue_of(t, event_id, most);
  if (queue.empty())
    return out;
  if (stock.max_per_buyer) {
    std::vector<std::int64_t> buyers;
    for (const auto& e : queue)
      buyers.push_back(e.participant_id);
    stock.bought = purchases::tickets_of(t, event_id, buyers);
  }
  const auto offers = domain::decide_offers(stock, queue);
  if (offers.empty())
    return out;
  const auto args = offer_args_of(stock, queue, offers);
  const auto expires_at =
      stock.now + std::chrono::duration_cast<std::chrono::microseconds>(settings.ttl);
  const auto rows =
      t.exec(sql::write_offers, event_id, domain::to_micros(stock.now),
             static_cast<std::int64_t>(settings.ttl.count()),
             static_cast<std::int64_t>(settings.redelivery_delay.count()), int_array(args.entries),
             int_array(args.participants), int_array(args.types), int_array(args.quantities),
             int_array(args.prices), text_array(args.currencies));
  for (const auto& r : rows) {
    // Read under the same row lock: every entry offered was WAITING.
    if (!r[3].as<bool>())
      throw std::logic_error("a waitlist entry offered under the row lock was no longer WAITING");
    const auto& o = offers[static_cast<std::size_t>(r[0].as<std::int64_t>()) - 1];
    out.push_back(offered(event_id, queue[o.entry_index], r[1].as<std::int64_t>(),
                          r[2].as<std::int64_t>(), expires_at));
  }
  if (earliest && (!*earliest || expires_at < **earliest))
    *earliest = expires_at;
  return out;
}

std::vector<domain::notification> offer_freed(tx& t, std::int64_t event_id,
                                              const offer_settings& settings) {
  auto stock = purchases::locked_stock(t, event_id);
  if (!stock)
    return {};
  return make_offers(t, event_id, *stock, settings);
}

std::optional<domain::waitlist_entry> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_entry, id);
  if (rows.empty())
    return std::nullopt;
  return read_entry(rows[0]);
}

domain::page<domain::waitlist_entry> list_of(tx& t, std::int64_t participant_id,
                                             const domain::page_request& paging) {
  domain::page<domain::waitlist_entry> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_entries_of, participant_id, paging.size, paging.offset()))
    page.items.push_back(read_entry(r));
  page.total_items = t.exec(sql::count_entries_of, participant_id)[0][0].as<std::int64_t>();
  return page;
}

std::optional<domain::page<domain::waitlist_entry>>
list_of_event(tx& t, std::int64_t event_id, const domain::page_request& paging) {
  if (t.exec(sql::event_exists, event_id).empty())
    return std::nullopt;
  domain::page<domain::waitlist_entry> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_event_entries, event_id, paging.size, paging.offset()))
    page.items.push_back(read_entry(r));
  page.total_items = t.exec(sql::count_event_entries, event_id)[0][0].as<std::int64_t>();
  return page;
}

} // namespace eventhub::persistence::waitlist
