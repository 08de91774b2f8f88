// The purchase batch transaction; SQL in queries/purchase_queries.hpp, rules in
// domain/purchase_rules.cpp.
#include "persistence/purchase_repository.hpp"

#include "domain/audit.hpp"
#include "domain/json.hpp"
#include "persistence/audit_repository.hpp"
#include "persistence/hold_repository.hpp"
#include "persistence/queries/purchase_queries.hpp"
#include "persistence/rows.hpp"
#include "persistence/ticket_repository.hpp"
#include "persistence/waitlist_repository.hpp"

#include <algorithm>
#include <stdexcept>

namespace eventhub::persistence::purchases {
namespace {

using domain::error_code;

/// Another transaction inserted one of our keys between our read and our insert (same key,
/// different event, on another actor or node). The batch is retried and then sees it.
struct key_race {};

std::optional<domain::event_stock> lock_stock(tx& t, std::int64_t event_id) {
  auto rows = t.exec(sql::lock_event_stock, event_id);
  if (rows.empty())
    return std::nullopt;
  const auto& r = rows[0];
  domain::event_stock stock{r[0].as<std::int64_t>(), r[1].as<std::int64_t>(),
                            domain::from_micros(r[2].as<std::int64_t>()),
                            domain::from_micros(r[3].as<std::int64_t>())};
  if (!r[4].is_null())
    stock.sales_start_at = domain::from_micros(r[4].as<std::int64_t>());
  if (!r[5].is_null())
    stock.max_per_buyer = r[5].as<std::int64_t>();
  stock.held = r[6].as<std::int64_t>();
  return stock;
}

/// The types' figures, read once the due holds expired.
void read_types(tx& t, std::int64_t event_id, domain::event_stock& stock) {
  for (const auto& type : t.exec(sql::event_type_stock, event_id))
    stock.types.push_back({type[0].as<std::int64_t>(), type[1].as<std::int64_t>(),
                           type[2].as<std::int64_t>(), type[3].as<std::int64_t>(),
                           type[4].as<std::string>(), type[5].as<std::int64_t>(),
                           type[6].as<std::int64_t>()});
}

/// The event's due holds expire at the batch's instant, before anything is decided.
std::vector<domain::notification> expire_due(tx& t, std::int64_t event_id,
                                             domain::event_stock& stock) {
  auto expired = holds::expire_due(t, event_id, stock.now);
  for (const auto& n : expired)
    stock.held -= n.quantity;
  return expired;
}

/// With a maxPerBuyer: what each buyer of the batch already has (bought or held), read under the
/// row lock.
void read_buyers(tx& t, std::int64_t event_id, domain::event_stock& stock,
                 const std::vector<domain::purchase_request>& batch) {
  if (!stock.max_per_buyer)
    return;
  std::vector<std::int64_t> buyers;
  for (const auto& req : batch)
    buyers.push_back(req.participant_id);
  stock.bought = tickets_of(t, event_id, buyers);
}

std::vector<domain::keyed_purchase>
keyed_purchases(tx& t, const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> participants;
  std::vector<std::optional<std::string>> keys;
  for (const auto& req : batch)
    if (req.kind == domain::order_kind::purchase && req.idempotency_key) {
      participants.push_back(req.participant_id);
      keys.push_back(req.idempotency_key);
    }
  std::vector<domain::keyed_purchase> out;
  if (keys.empty())
    return out;
  for (const auto& r : t.exec(sql::find_keyed_purchases, int_array(participants), text_array(keys)))
    out.push_back({r[0].as<std::string>(), read_purchase(r, 1)});
  return out;
}

/// The purchases the batch's cancellations name, with their current cancelled figures.
std::vector<domain::purchase> cancel_targets(tx& t, std::int64_t event_id,
                                             const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> ids;
  for (const auto& req : batch)
    if (req.kind == domain::order_kind::cancel)
      ids.push_back(req.purchase_id);
  std::vector<domain::purchase> out;
  if (ids.empty())
    return out;
  for (const auto& r : t.exec(sql::purchases_for_batch, event_id, int_array(ids)))
    out.push_back(read_purchase(r));
  return out;
}

/// The VALID tickets of the purchases the batch cancels, locked: no check-in changes them until
/// the batch commits.
std::map<std::int64_t, std::vector<std::int64_t>>
valid_tickets(tx& t, std::int64_t event_id, const std::vector<domain::purchase>& targets) {
  std::vector<std::int64_t> ids;
  for (const auto& p : targets)
    ids.push_back(p.id);
  return tickets::lock_valid(t, event_id, ids);
}

std::vector<domain::keyed_cancellation>
keyed_cancellations(tx& t, const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> participants;
  std::vector<std::optional<std::string>> keys;
  for (const auto& req : batch)
    if (req.kind == domain::order_kind::cancel && req.idempotency_key) {
      participants.push_back(req.participant_id);
      keys.push_back(req.idempotency_key);
    }
  std::vector<domain::keyed_cancellation> out;
  if (keys.empty())
    return out;
  for (const auto& r :
       t.exec(sql::find_keyed_cancellations, int_array(participants), text_array(keys)))
    out.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>(), r[2].as<std::int64_t>(),
                   r[3].as<std::int32_t>()});
  return out;
}

/// What a sold request is sold as: a purchase's own request at its type's price, or a confirmed
/// hold's tickets at the hold's price.
struct sale {
  std::size_t index; // in the batch
  std::int64_t participant_id;
  std::int32_t quantity;
  std::int64_t type_id;
  std::int64_t unit_price_cents;
  std::string currency;
  std::int64_t hold_id; // 0: none
};

/// What a batch writes, gathered from its decisions.
struct batch_writes {
  std::vector<std::pair<std::int64_t, domain::hold_status>> settled; // hold id, its new status
  std::vector<sale> sales;
  std::vector<std::size_t> new_holds; // batch indexes of the requests decided `hold`
  std::vector<std::size_t> cancels;   // batch indexes of the requests decided `cancel`
  std::vector<std::pair<std::size_t, std::int64_t>> joins; // batch index, the type it waits for
  std::vector<std::int64_t> left;                          // entries left
  bool freed = false; // tickets went back: an offer step may follow

  bool empty() const {
    return settled.empty() && sales.empty() && new_holds.empty() && cancels.empty();
  }
};

/// An entry left; an offered one's hold is released (and its entry, LEFT first, stays so).
void leave_writes(const domain::waitlist_entry& e, batch_writes& out) {
  out.left.push_back(e.id);
  if (e.hold_id) {
    out.settled.emplace_back(*e.hold_id, domain::hold_status::released);
    out.freed = true;
  }
}

batch_writes writes_of(const domain::event_stock& stock,
                       const std::vector<domain::purchase_request>& batch,
                       const std::vector<domain::decision>& decisions,
                       const domain::batch_context& context) {
  using domain::verdict;
  batch_writes out;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& d = decisions[i];
    if (d.verdict == verdict::confirm) {
      const auto& type = stock.types[*d.type_index];
      out.sales.push_back({i, batch[i].participant_id, batch[i].quantity, type.id, type.price_cents,
                           type.currency, 0});
    } else if (d.verdict == verdict::confirm_hold) {
      const auto& h = context.targets[*d.target_index].hold;
      out.settled.emplace_back(h.id, domain::hold_status::confirmed);
      out.sales.push_back({i, h.participant_id, h.quantity, h.ticket_type_id, h.unit_price_cents,
                           h.currency, h.id});
    } else if (d.verdict == verdict::release) {
      out.settled.emplace_back(context.targets[*d.target_index].hold.id,
                               domain::hold_status::released);
      out.freed = true;
    } else if (d.verdict == verdict::hold) {
      out.new_holds.push_back(i);
    } else if (d.verdict == verdict::cancel) {
      out.cancels.push_back(i);
      out.freed = true;
    } else if (d.verdict == verdict::join) {
      out.joins.emplace_back(i, stock.types[*d.type_index].id);
    } else if (d.verdict == verdict::leave) {
      leave_writes(context.leave_targets[*d.target_index], out);
    }
  }
  return out;
}

/// What the write made, by batch index (id 0 where the request made nothing).
struct written {
  std::vector<domain::purchase> purchases;
  std::vector<domain::hold> holds;
  std::vector<domain::confirmation> confirmations;
  std::vector<domain::notification> cancellations; // purchase.cancelled outbox rows
  std::vector<std::int64_t> entries;               // waitlist entries made, by batch index
};

/// The arguments of write_batch's settled holds ($4, $5).
struct settle_args {
  std::vector<std::int64_t> ids;
  std::vector<std::optional<std::string>> statuses;
};

settle_args settle_args_of(const batch_writes& w) {
  settle_args out;
  for (const auto& [id, status] : w.settled) {
    out.ids.push_back(id);
    out.statuses.push_back(std::string(domain::to_string(status)));
  }
  return out;
}

/// The arguments of write_batch's purchases ($6..$13).
struct sale_args {
  std::vector<std::int64_t> participants, quantities, types, prices, holds;
  std::vector<std::optional<std::string>> request_ids, keys, currencies;
};

sale_args sale_args_of(const std::vector<domain::purchase_request>& batch, const batch_writes& w) {
  sale_args out;
  for (const auto& s : w.sales) {
    const auto& req = batch[s.index];
    out.participants.push_back(s.participant_id);
    out.quantities.push_back(s.quantity);
    out.request_ids.push_back(req.request_id);
    // A confirmation is replayed from its hold's purchase, so it records no purchase key.
    out.keys.push_back(s.hold_id ? std::nullopt : req.idempotency_key);
    out.types.push_back(s.type_id);
    out.prices.push_back(s.unit_price_cents);
    out.currencies.push_back(s.currency);
    out.holds.push_back(s.hold_id);
  }
  return out;
}

/// The arguments of write_batch's new holds ($14..$20).
struct hold_args {
  std::vector<std::int64_t> participants, quantities, types, prices, ttls;
  std::vector<std::optional<std::string>> currencies, keys;
};

hold_args hold_args_of(const domain::event_stock& stock,
                       const std::vector<domain::purchase_request>& batch,
                       const std::vector<domain::decision>& decisions, const batch_writes& w) {
  hold_args out;
  for (const auto i : w.new_holds) {
    const auto& req = batch[i];
    const auto& type = stock.types[*decisions[i].type_index];
    out.participants.push_back(req.participant_id);
    out.quantities.push_back(req.quantity);
    out.types.push_back(type.id);
    out.prices.push_back(type.price_cents);
    out.currencies.push_back(type.currency);
    out.keys.push_back(req.idempotency_key);
    out.ttls.push_back(static_cast<std::int64_t>(req.hold_ttl.count()));
  }
  return out;
}

/// The arguments of write_batch's cancellations ($21..$26) and their tickets ($28).
struct cancel_args {
  std::vector<std::int64_t> purchases, quantities, callers, asked, tickets;
  std::vector<std::optional<std::string>> keys, request_ids;
};

cancel_args cancel_args_of(const std::vector<domain::purchase_request>& batch,
                           const std::vector<domain::decision>& decisions, const batch_writes& w) {
  cancel_args out;
  for (const auto i : w.cancels) {
    const auto& req = batch[i];
    out.purchases.push_back(req.purchase_id);
    out.quantities.push_back(decisions[i].cancelled);
    out.callers.push_back(req.participant_id);
    out.keys.push_back(req.idempotency_key);
    out.asked.push_back(req.quantity);
    out.request_ids.push_back(req.request_id);
    out.tickets.insert(out.tickets.end(), decisions[i].tickets.begin(), decisions[i].tickets.end());
  }
  return out;
}

/// The nonces of the sales' tickets ($27), one per unit in the sales' order.
std::string ticket_nonces(const batch_writes& w) {
  std::int64_t units = 0;
  for (const auto& s : w.sales)
    units += s.quantity;
  return tickets::nonces_hex(units);
}

/// The purchase.cancelled notification of the cancellation at batch index `i`: this
/// cancellation's figures, for the purchase's owner.
domain::notification cancellation_of(const domain::purchase_request& req, const domain::decision& d,
                                     const domain::purchase& target, std::int64_t outbox_id) {
  domain::notification n;
  n.id = outbox_id;
  n.type = "purchase.cancelled";
  n.event_id = target.event_id;
  n.participant_id = target.participant_id;
  n.subject_id = target.id;
  n.quantity = d.cancelled;
  n.refunded_cents = d.cancelled * target.unit_price_cents;
  n.currency = target.currency;
  n.request_id = req.request_id;
  return n;
}

domain::purchase purchase_of(const sale& s, std::int64_t id, std::int64_t event_id,
                             domain::timestamp at) {
  domain::purchase p{id, event_id, s.participant_id, s.quantity, at};
  p.ticket_type_id = s.type_id;
  p.unit_price_cents = s.unit_price_cents;
  p.currency = s.currency;
  return p;
}

domain::hold hold_of(const domain::purchase_request& req, const domain::type_stock& type,
                     std::int64_t id, std::int64_t event_id, domain::timestamp at) {
  domain::hold h;
  h.id = id;
  h.event_id = event_id;
  h.ticket_type_id = type.id;
  h.participant_id = req.participant_id;
  h.quantity = req.quantity;
  h.unit_price_cents = type.price_cents;
  h.currency = type.currency;
  h.created_at = at;
  h.expires_at = at + std::chrono::duration_cast<std::chrono::microseconds>(req.hold_ttl);
  return h;
}

/// An audit entry of the batch (written by write_batch). `ref` 'p' or 'h' with `ord` (1-based,
/// among the sales or the new holds) takes its entity id, and its JSON's id, from the row the
/// statement inserts.
struct batch_audit {
  std::optional<std::string> ref;
  std::int64_t ord = 0;
  domain::audit_record record;
};

domain::audit_record audit_of(const domain::purchase_request& req, const char* action,
                              const char* entity_type, std::optional<std::int64_t> entity_id,
                              std::string before, std::string after) {
  return {domain::origin_of(req), action,          entity_type, entity_id,
          std::move(before),      std::move(after)};
}

/// The entries of everything the batch statement changes: purchases made (sold or a hold
/// confirmed), holds made and released, cancellations (their purchase before and after, in
/// batch order when one purchase is cancelled twice).
std::vector<batch_audit> audits_of(std::int64_t event_id, const domain::event_stock& stock,
                                   const std::vector<domain::purchase_request>& batch,
                                   const std::vector<domain::decision>& decisions,
                                   const domain::batch_context& context, const batch_writes& w) {
  std::vector<batch_audit> out;
  for (std::size_t n = 0; n < w.sales.size(); ++n) {
    const auto& s = w.sales[n];
    out.push_back({"p", static_cast<std::int64_t>(n + 1),
                   audit_of(batch[s.index], "purchase.confirmed", "purchase", std::nullopt, {},
                            domain::to_json(purchase_of(s, 0, event_id, stock.now)))});
  }
  for (std::size_t n = 0; n < w.new_holds.size(); ++n) {
    const auto i = w.new_holds[n];
    const auto& type = stock.types[*decisions[i].type_index];
    out.push_back({"h", static_cast<std::int64_t>(n + 1),
                   audit_of(batch[i], "hold.created", "hold", std::nullopt, {},
                            domain::to_json(hold_of(batch[i], type, 0, event_id, stock.now)))});
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (decisions[i].verdict != domain::verdict::release)
      continue;
    // Deciding released the target in place: it was HELD before.
    const auto& after = context.targets[*decisions[i].target_index].hold;
    auto before = after;
    before.status = domain::hold_status::held;
    out.push_back({std::nullopt, 0,
                   audit_of(batch[i], "hold.released", "hold", before.id, domain::to_json(before),
                            domain::to_json(after))});
  }
  // Deciding cancelled the targets in place: each is as after all of the batch's cancellations,
  // so it is walked back first, then forward one cancellation at a time.
  std::map<std::int64_t, domain::purchase> current;
  for (const auto i : w.cancels) {
    const auto& d = decisions[i];
    const auto& target = context.cancel_targets[*d.target_index];
    auto& start = current.emplace(target.id, target).first->second;
    start.cancelled_quantity -= d.cancelled;
    start.refunded_cents -= d.cancelled * start.unit_price_cents;
  }
  for (const auto i : w.cancels) {
    const auto& d = decisions[i];
    const auto& target = context.cancel_targets[*d.target_index];
    auto& now = current.at(target.id);
    const auto before = domain::to_json(now);
    now.cancelled_quantity += d.cancelled;
    now.refunded_cents += d.cancelled * now.unit_price_cents;
    out.push_back({std::nullopt, 0,
                   audit_of(batch[i], "purchase.cancelled", "purchase", target.id, before,
                            domain::to_json(now))});
  }
  return out;
}

/// The entries of the waitlist's joins (`ids`: the entries made, by position in w.joins) and
/// leaves, written by their own statement before the batch statement.
std::vector<domain::audit_record>
waitlist_audits(std::int64_t event_id, const domain::event_stock& stock,
                const std::vector<domain::purchase_request>& batch,
                const std::vector<domain::decision>& decisions,
                const domain::batch_context& context, const batch_writes& w,
                const std::vector<std::int64_t>& ids) {
  std::vector<domain::audit_record> out;
  for (std::size_t n = 0; n < ids.size(); ++n) {
    const auto& [i, type_id] = w.joins[n];
    domain::waitlist_entry e;
    e.id = ids[n];
    e.event_id = event_id;
    e.ticket_type_id = type_id;
    e.participant_id = batch[i].participant_id;
    e.quantity = batch[i].quantity;
    e.created_at = stock.now;
    out.push_back(
        audit_of(batch[i], "waitlist.joined", "waitlist_entry", e.id, {}, domain::to_json(e)));
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (decisions[i].verdict != domain::verdict::leave)
      continue;
    // Deciding left the target in place: it was OFFERED (with its offer's hold) or WAITING.
    const auto& after = context.leave_targets[*decisions[i].target_index];
    auto before = after;
    before.status =
        after.hold_id ? domain::waitlist_status::offered : domain::waitlist_status::waiting;
    out.push_back(audit_of(batch[i], "waitlist.left", "waitlist_entry", before.id,
                           domain::to_json(before), domain::to_json(after)));
  }
  return out;
}

/// The arguments of write_batch's audit entries ($29..$38): each entry's reference, then the
/// entries themselves.
struct audit_args {
  std::vector<std::optional<std::string>> refs;
  std::vector<std::int64_t> ords;
  audit::entry_arrays entries;
};

audit_args audit_args_of(std::vector<batch_audit> audits) {
  audit_args out;
  std::vector<domain::audit_record> records;
  for (auto& a : audits) {
    out.refs.push_back(std::move(a.ref));
    out.ords.push_back(a.ord);
    records.push_back(std::move(a.record));
  }
  out.entries = audit::arrays_of(records);
  return out;
}

std::size_t distinct_purchases(const std::vector<domain::purchase_request>& batch,
                               const std::vector<std::size_t>& indexes) {
  std::vector<std::int64_t> ids;
  for (const auto i : indexes)
    ids.push_back(batch[i].purchase_id);
  std::sort(ids.begin(), ids.end());
  return static_cast<std::size_t>(std::unique(ids.begin(), ids.end()) - ids.begin());
}

/// Writes the batch in one statement (write_batch, queries/purchase_queries.hpp): settled holds,
/// cancellations, purchases, new holds, and the counters once. Their CHECKs are the last guard.
written write(tx& t, std::int64_t event_id, const domain::event_stock& stock,
              const std::vector<domain::purchase_request>& batch,
              const std::vector<domain::decision>& decisions, const batch_writes& w,
              const domain::batch_context& context, std::chrono::milliseconds redelivery_delay) {
  written out;
  out.purchases.resize(batch.size());
  out.holds.resize(batch.size());
  out.entries.resize(batch.size());
  if (!w.joins.empty() || !w.left.empty()) {
    const auto ids = waitlist::write(t, event_id, stock.now, batch, w.joins, w.left);
    for (std::size_t n = 0; n < ids.size(); ++n)
      out.entries[w.joins[n].first] = ids[n];
    audit::record(t, waitlist_audits(event_id, stock, batch, decisions, context, w, ids));
  }
  if (w.empty())
    return out;
  const auto settle = settle_args_of(w);
  const auto sold = sale_args_of(batch, w);
  const auto held = hold_args_of(stock, batch, decisions, w);
  const auto cancelled = cancel_args_of(batch, decisions, w);
  const auto audited = audit_args_of(audits_of(event_id, stock, batch, decisions, context, w));
  const auto rows =
      t.exec(sql::write_batch, event_id, domain::to_micros(stock.now),
             static_cast<std::int64_t>(redelivery_delay.count()), int_array(settle.ids),
             text_array(settle.statuses), int_array(sold.participants), int_array(sold.quantities),
             text_array(sold.request_ids), text_array(sold.keys), int_array(sold.types),
             int_array(sold.prices), text_array(sold.currencies), int_array(sold.holds),
             int_array(held.participants), int_array(held.quantities), int_array(held.types),
             int_array(held.prices), text_array(held.currencies), text_array(held.keys),
             int_array(held.ttls), int_array(cancelled.purchases), int_array(cancelled.quantities),
             int_array(cancelled.callers), text_array(cancelled.keys), int_array(cancelled.asked),
             text_array(cancelled.request_ids), ticket_nonces(w), int_array(cancelled.tickets),
             text_array(audited.refs), int_array(audited.ords), int_array(audited.entries.actors),
             text_array(audited.entries.actions), text_array(audited.entries.types),
             int_array(audited.entries.entity_ids), text_array(audited.entries.befores),
             text_array(audited.entries.afters), text_array(audited.entries.requests),
             text_array(audited.entries.addresses));
  std::size_t settled = 0, cancelled_purchases = 0;
  for (const auto& r : rows) {
    if (r[3].as<bool>())
      throw key_race{};
    const auto kind = r[0].as<std::string>();
    const auto n = static_cast<std::size_t>(r[1].as<std::int64_t>()) - 1; // ORDINALITY is 1-based
    const auto id = r[2].as<std::int64_t>();
    if (kind == "s") {
      ++settled;
    } else if (kind == "r") {
      ++cancelled_purchases;
    } else if (kind == "c") {
      const auto i = w.cancels[n];
      out.cancellations.push_back(cancellation_of(
          batch[i], decisions[i], context.cancel_targets[*decisions[i].target_index], id));
    } else if (kind == "p") {
      const auto& s = w.sales[n];
      out.purchases[s.index] = purchase_of(s, id, event_id, stock.now);
      out.confirmations.push_back(
          {id, event_id, s.participant_id, s.quantity, batch[s.index].request_id, 0});
    } else {
      const auto i = w.new_holds[n];
      out.holds[i] =
          hold_of(batch[i], stock.types[*decisions[i].type_index], id, event_id, stock.now);
    }
  }
  // The batch decided under the same row lock, so a hold it settles is HELD.
  if (settled != w.settled.size())
    throw std::logic_error("a hold decided under the row lock was no longer HELD");
  if (out.cancellations.size() != w.cancels.size() ||
      cancelled_purchases != distinct_purchases(batch, w.cancels))
    throw std::logic_error("a cancellation decided under the row lock found fewer tickets left");
  return out;
}

/// Requests whose answer is due within this margin are not sold: committing and replying must
/// fit before the HTTP edge answers 503 on its own.
constexpr std::chrono::milliseconds commit_margin{250};

std::vector<bool>
abandoned_now(const std::vector<std::chrono::steady_clock::time_point>& answer_by) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<bool> out;
  out.reserve(answer_by.size());
  for (const auto& t : answer_by)
    out.push_back(now + commit_margin >= t);
  return out;
}

domain::purchase_outcome outcome_of(domain::purchase p, bool replayed,
                                    std::optional<domain::hold> h) {
  domain::purchase_outcome o;
  o.purchase = std::move(p);
  o.replayed = replayed;
  o.hold = std::move(h);
  return o;
}

/// A cancelled purchase as it was once the cancellation (or its replay) was decided.
domain::purchase cancelled_purchase(const domain::batch_context& context,
                                    const domain::decision& d) {
  auto p = context.cancel_targets[*d.target_index];
  p.cancelled_quantity = d.cancelled_total;
  p.refunded_cents = d.cancelled_total * p.unit_price_cents;
  return p;
}

/// The answer to request `i` once everything is written.
domain::result<domain::purchase_outcome> answer(std::size_t i, const domain::purchase_request& req,
                                                const domain::decision& d,
                                                const domain::batch_context& context,
                                                const written& made) {
  using domain::verdict;
  auto target = [&]() { return context.targets[*d.target_index].hold; };
  switch (d.verdict) {
  case verdict::confirm:
    return outcome_of(made.purchases[i], false, std::nullopt);
  case verdict::hold:
    return outcome_of({}, false, made.holds[i]);
  case verdict::confirm_hold: {
    auto h = target();
    h.purchase_id = made.purchases[i].id;
    return outcome_of(made.purchases[i], false, h);
  }
  case verdict::release:
    return outcome_of({}, false, target());
  case verdict::already_free:
    if (req.kind == domain::order_kind::leave)
      return outcome_of({}, false, std::nullopt);
    return outcome_of({}, false, target());
  case verdict::cancel:
    return outcome_of(cancelled_purchase(context, d), false, std::nullopt);
  case verdict::join:
  case verdict::leave:
    return outcome_of({}, false, std::nullopt); // the entry is read once all is written
  case verdict::replay:
    if (req.kind == domain::order_kind::cancel)
      return outcome_of(cancelled_purchase(context, d), true, std::nullopt);
    if (req.kind == domain::order_kind::hold)
      return outcome_of({}, true,
                        d.prior_index ? context.holds[*d.prior_index].original
                                      : made.holds[*d.batch_index]);
    if (req.kind == domain::order_kind::confirm) {
      auto h = target();
      auto p = d.batch_index
                   ? made.purchases[*d.batch_index]
                   : context.targets[*d.target_index].purchase.value_or(domain::purchase{});
      h.purchase_id = p.id;
      return outcome_of(p, true, h);
    }
    return outcome_of(d.prior_index ? context.purchases[*d.prior_index].original
                                    : made.purchases[*d.batch_index],
                      true, std::nullopt);
  default:
    return domain::refusal_error({d.verdict, d.available, d.allowed});
  }
}

/// A hold the batch confirms or releases is past its expiry: the expiry step must run first.
bool names_a_due_hold(const std::vector<domain::target_hold>& targets, domain::timestamp now) {
  return std::any_of(targets.begin(), targets.end(), [now](const auto& target) {
    return target.hold.status == domain::hold_status::held && target.hold.expires_at <= now;
  });
}

/// The targets the expiry step just expired read EXPIRED.
void mark_expired(std::vector<domain::target_hold>& targets,
                  const std::vector<domain::notification>& expired) {
  for (auto& target : targets)
    for (const auto& n : expired)
      if (n.subject_id == target.hold.id)
        target.hold.status = domain::hold_status::expired;
}

/// The earliest expiry of the holds this batch made.
std::optional<domain::timestamp> earliest(const std::vector<domain::hold>& made) {
  std::optional<domain::timestamp> out;
  for (const auto& h : made)
    if (h.id != 0 && (!out || h.expires_at < *out))
      out = h.expires_at;
  return out;
}

/// Whether the batch joins or leaves the waitlist: those are decided on stored statuses, so the
/// due holds (and the offers they made) must expire first.
bool touches_waitlist(const std::vector<domain::purchase_request>& batch) {
  return std::any_of(batch.begin(), batch.end(), [](const auto& req) {
    return req.kind == domain::order_kind::join || req.kind == domain::order_kind::leave;
  });
}

/// The entry a join made or a leave named, as it stands once everything is written.
void attach_entries(tx& t, const std::vector<domain::purchase_request>& batch,
                    const std::vector<domain::decision>& decisions, const written& made,
                    std::vector<domain::result<domain::purchase_outcome>>& results) {
  using domain::verdict;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto v = decisions[i].verdict;
    const bool answered =
        v == verdict::join || v == verdict::leave ||
        (v == verdict::already_free && batch[i].kind == domain::order_kind::leave);
    if (answered && results[i].ok())
      results[i]->entry =
          waitlist::find(t, v == verdict::join ? made.entries[i] : batch[i].entry_id);
  }
}

batch_outcome run_batch(tx& t, std::int64_t event_id,
                        const std::vector<domain::purchase_request>& batch,
                        std::chrono::milliseconds redelivery_delay,
                        const std::vector<std::chrono::steady_clock::time_point>& answer_by,
                        bool expire_first, std::chrono::milliseconds offer_ttl) {
  batch_outcome outcome;
  outcome.stock = lock_stock(t, event_id);
  if (!outcome.stock) {
    for (std::size_t i = 0; i < batch.size(); ++i)
      outcome.results.emplace_back(
          domain::make_error(error_code::not_found, "No event with this id."));
    return outcome;
  }
  auto& stock = *outcome.stock;
  domain::batch_context context{keyed_purchases(t, batch), holds::keyed(t, batch),
                                holds::targets(t, event_id, batch), keyed_cancellations(t, batch),
                                cancel_targets(t, event_id, batch)};
  context.valid_tickets = valid_tickets(t, event_id, context.cancel_targets);
  // No HELD hold at all (the counter is their sum): nothing to expire, and no next expiry.
  const bool any_held = stock.held > 0;
  const bool expire = any_held && (expire_first || names_a_due_hold(context.targets, stock.now) ||
                                   touches_waitlist(batch));
  if (expire) {
    outcome.notifications = expire_due(t, event_id, stock);
    mark_expired(context.targets, outcome.notifications);
  }
  read_types(t, event_id, stock);
  read_buyers(t, event_id, stock, batch);
  context.active_entries = waitlist::active_of(t, event_id, batch);
  context.leave_targets = waitlist::targets(t, event_id, batch);
  // Checked after the lock is held: that is where a batch may have waited.
  auto decisions = domain::decide_batch(stock, batch, context, abandoned_now(answer_by));
  const auto writes = writes_of(stock, batch, decisions, context);
  auto made = write(t, event_id, stock, batch, decisions, writes, context, redelivery_delay);
  outcome.confirmations = std::move(made.confirmations);
  outcome.notifications.insert(outcome.notifications.end(), made.cancellations.begin(),
                               made.cancellations.end());
  auto next = earliest(made.holds);
  if (writes.freed || !outcome.notifications.empty()) {
    auto offered = waitlist::make_offers(t, event_id, stock, {offer_ttl, redelivery_delay}, &next);
    outcome.notifications.insert(outcome.notifications.end(), offered.begin(), offered.end());
  }
  for (std::size_t i = 0; i < batch.size(); ++i)
    outcome.results.push_back(answer(i, batch[i], decisions[i], context, made));
  attach_entries(t, batch, decisions, made, outcome.results);
  outcome.next_expiry_exact = expire || !any_held;
  stock.next_expiry = expire ? holds::next_expiry(t, event_id) : next;
  return outcome;
}

} // namespace

batch_outcome commit_batch(session& s, std::int64_t event_id,
                           const std::vector<domain::purchase_request>& batch,
                           std::chrono::milliseconds redelivery_delay,
                           const std::vector<std::chrono::steady_clock::time_point>& answer_by,
                           bool expire_first, std::chrono::milliseconds offer_ttl) {
  for (int attempt = 1;; ++attempt) {
    try {
      return s.transact([&](tx& t) {
        return run_batch(t, event_id, batch, redelivery_delay, answer_by, expire_first, offer_ttl);
      });
    } catch (const key_race&) {
      if (attempt == 3)
        throw db_unavailable("idempotency keys contended");
    }
  }
}

std::optional<domain::event_stock> locked_stock(tx& t, std::int64_t event_id) {
  auto stock = lock_stock(t, event_id);
  if (stock)
    read_types(t, event_id, *stock);
  return stock;
}

std::map<std::int64_t, std::int64_t> tickets_of(tx& t, std::int64_t event_id,
                                                const std::vector<std::int64_t>& buyers) {
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& r : t.exec(sql::tickets_of_buyers, event_id, int_array(buyers)))
    out[r[0].as<std::int64_t>()] = r[1].as<std::int64_t>();
  return out;
}

std::optional<domain::purchase> find(tx& t, std::int64_t id) {
  auto rows = t.exec(sql::find_purchase, id);
  if (rows.empty())
    return std::nullopt;
  return read_purchase(rows[0]);
}

domain::page<domain::purchase> list_of(tx& t, std::int64_t participant_id,
                                       const domain::page_request& paging) {
  domain::page<domain::purchase> page;
  page.number = paging.page;
  page.size = paging.size;
  for (const auto& r : t.exec(sql::list_purchases_of, participant_id, paging.size, paging.offset()))
    page.items.push_back(read_purchase(r));
  page.total_items = t.exec(sql::count_purchases_of, participant_id)[0][0].as<std::int64_t>();
  return page;
}

void forget_internal_keys(tx& t, std::chrono::milliseconds age) {
  t.exec(sql::forget_internal_keys, static_cast<std::int64_t>(age.count()));
}

} // namespace eventhub::persistence::purchases
