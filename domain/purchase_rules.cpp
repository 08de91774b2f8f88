// Batch decisions; see purchase_rules.hpp.
#include "domain/purchase_rules.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace eventhub::domain {
namespace {

/// The same request again: the same event and quantity, and the same type where one is named.
bool same_request(const purchase_request& first, std::int64_t first_type,
                  const purchase_request& again) {
  return first.event_id == again.event_id && first.quantity == again.quantity &&
         (!again.ticket_type_id || *again.ticket_type_id == first_type);
}

std::int64_t bought_by(const event_stock& stock, std::int64_t participant) {
  auto it = stock.bought->find(participant);
  return it == stock.bought->end() ? 0 : it->second;
}

} // namespace

std::int64_t event_stock::waiting() const {
  std::int64_t sum = 0;
  for (const auto& t : types)
    sum += t.waiting;
  return sum;
}

std::int64_t event_stock::available(const type_stock& t) const {
  return std::min(t.quota - t.sold - t.held - t.waiting, available());
}

std::int64_t event_stock::free(const type_stock& t) const {
  return std::min(t.quota - t.sold - t.held, free());
}

std::variant<std::size_t, verdict> type_of(const event_stock& stock, const purchase_request& req) {
  if (!req.ticket_type_id) {
    if (stock.types.size() == 1)
      return std::size_t{0};
    return verdict::type_required;
  }
  for (std::size_t i = 0; i < stock.types.size(); ++i)
    if (stock.types[i].id == *req.ticket_type_id)
      return i;
  return verdict::unknown_type;
}

std::optional<refusal> refusal_for(const event_stock& stock, const purchase_request& req,
                                   timestamp now) {
  const auto type = type_of(stock, req);
  if (const auto* v = std::get_if<verdict>(&type))
    return refusal{*v};
  if (now >= stock.starts_at)
    return refusal{verdict::sales_closed};
  if (stock.sales_start_at && now < *stock.sales_start_at)
    return refusal{verdict::sales_not_open};
  if (stock.max_per_buyer) {
    if (!stock.bought)
      return std::nullopt; // the buyer's count is read in the batch
    const auto allowed =
        std::max<std::int64_t>(0, *stock.max_per_buyer - bought_by(stock, req.participant_id));
    if (req.quantity > allowed)
      return refusal{verdict::buyer_limit, 0, allowed};
  }
  const auto available = stock.available(stock.types[std::get<std::size_t>(type)]);
  if (req.quantity > available)
    return refusal{verdict::sold_out, std::max<std::int64_t>(0, available)};
  return std::nullopt;
}

error refusal_error(const refusal& r) {
  switch (r.verdict) {
  case verdict::type_required: {
    auto e = make_error(error_code::invalid, "The request has invalid fields.");
    e.field_errors.push_back({"ticketTypeId", "must not be null: this event has several types"});
    return e;
  }
  case verdict::unknown_type: {
    auto e = make_error(error_code::invalid, "The request has invalid fields.");
    e.field_errors.push_back({"ticketTypeId", "is not a ticket type of this event"});
    return e;
  }
  case verdict::sold_out: {
    auto e = make_error(error_code::sold_out, "Not enough tickets left for this event.");
    e.tickets_available = r.available;
    return e;
  }
  case verdict::sales_closed:
    return make_error(error_code::sales_closed, "Ticket sales closed when the event started.");
  case verdict::sales_not_open:
    return make_error(error_code::sales_not_open, "Ticket sales have not opened yet.");
  case verdict::buyer_limit: {
    auto e = make_error(error_code::buyer_limit,
                        "This would pass the event's limit of tickets per buyer.");
    e.tickets_allowed = r.allowed;
    return e;
  }
  case verdict::key_mismatch:
    return make_error(error_code::idempotency_mismatch,
                      "This Idempotency-Key was used for a different request.");
  case verdict::purchase_not_found:
    return make_error(error_code::not_found, "No purchase with this id.");
  case verdict::already_cancelled:
    return make_error(error_code::already_cancelled,
                      "Every ticket of this purchase is already cancelled.");
  case verdict::checked_in:
    return make_error(error_code::checked_in,
                      "Checked-in tickets are not cancelled, and fewer tickets than asked for "
                      "are still valid.");
  case verdict::cancellation_closed:
    return make_error(error_code::cancellation_closed,
                      "This purchase can no longer be cancelled: the event starts too soon.");
  case verdict::cancel_too_many: {
    auto e = make_error(error_code::unprocessable, "The request cannot be applied.");
    e.field_errors.push_back({"quantity", "must not exceed the " + std::to_string(r.available) +
                                              " tickets not yet cancelled"});
    return e;
  }
  case verdict::hold_not_found:
    return make_error(error_code::not_found, "No hold with this id.");
  case verdict::entry_not_found:
    return make_error(error_code::not_found, "No waitlist entry with this id.");
  case verdict::already_waiting:
    return make_error(error_code::already_waiting,
                      "You are already on this ticket type's waitlist.");
  case verdict::tickets_available: {
    auto e = make_error(error_code::tickets_available,
                        "Enough tickets are available: buy them instead of waiting.");
    e.tickets_available = r.available;
    return e;
  }
  case verdict::hold_expired:
    return make_error(error_code::hold_expired, "The hold expired; its tickets are free again.");
  case verdict::hold_released:
    return make_error(error_code::hold_released, "The hold was released.");
  case verdict::hold_confirmed:
    return make_error(error_code::hold_confirmed,
                      "The hold was confirmed; cancel the purchase instead.");
  default:
    return unavailable("The purchase waited too long.");
  }
}

namespace {

/// Keys are per participant and per kind of request: a purchase's key used for a hold is new.
using kind_key = std::tuple<order_kind, std::int64_t, std::string>;

struct known_request {
  purchase_request request; // what the key was first used for
  std::int64_t type_id = 0; // the type it got
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
};

/// What a key was first used for, as far as same_request compares it.
purchase_request first_request(order_kind kind, std::int64_t event_id, std::int32_t quantity) {
  purchase_request r;
  r.kind = kind;
  r.event_id = event_id;
  r.quantity = quantity;
  return r;
}

/// The state of one decide_batch call.
class batch_decider {
 public:
  batch_decider(event_stock& stock, batch_context& context) : stock_(stock), context_(context) {
    for (std::size_t i = 0; i < context.purchases.size(); ++i) {
      const auto& p = context.purchases[i].original;
      keys_[{order_kind::purchase, p.participant_id, context.purchases[i].key}] = {
          first_request(order_kind::purchase, p.event_id, p.quantity), p.ticket_type_id, i,
          std::nullopt};
    }
    for (std::size_t i = 0; i < context.holds.size(); ++i) {
      const auto& h = context.holds[i].original;
      keys_[{order_kind::hold, h.participant_id, context.holds[i].key}] = {
          first_request(order_kind::hold, h.event_id, h.quantity), h.ticket_type_id, i,
          std::nullopt};
    }
    for (const auto& c : context.cancellations)
      cancel_keys_[{c.participant_id, c.key}] = c;
    if (stock.max_per_buyer && !stock.bought)
      stock.bought.emplace();
  }

  decision decide(const purchase_request& req, std::size_t i) {
    switch (req.kind) {
    case order_kind::confirm:
      return confirm(req, i);
    case order_kind::release:
      return release(req);
    case order_kind::cancel:
      return cancel(req);
    case order_kind::join:
      return join(req);
    case order_kind::leave:
      return leave(req);
    default:
      return take(req, i);
    }
  }

 private:
  /// A purchase or a new hold: the key, then the rules, then the tickets are taken.
  decision take(const purchase_request& req, std::size_t i) {
    decision d;
    if (auto known = known_key(req)) {
      d.verdict = same_request(known->request, known->type_id, req) ? verdict::replay
                                                                    : verdict::key_mismatch;
      d.prior_index = known->prior_index;
      d.batch_index = known->batch_index;
      return d;
    }
    if (auto refused = refusal_for(stock_, req, stock_.now)) {
      d.verdict = refused->verdict;
      d.available = refused->available;
      d.allowed = refused->allowed;
      return d;
    }
    const auto t = std::get<std::size_t>(type_of(stock_, req));
    auto& type = stock_.types[t];
    const bool hold = req.kind == order_kind::hold;
    d.verdict = hold ? verdict::hold : verdict::confirm;
    d.type_index = t;
    (hold ? stock_.held : stock_.sold) += req.quantity;
    (hold ? type.held : type.sold) += req.quantity;
    if (stock_.bought)
      (*stock_.bought)[req.participant_id] += req.quantity;
    if (req.idempotency_key)
      keys_[{req.kind, req.participant_id, *req.idempotency_key}] = {req, type.id, std::nullopt, i};
    d.available = stock_.available(type);
    return d;
  }

  /// A HELD hold becomes a purchase: its tickets move from held to sold, the buyer's count
  /// stays. A confirmed one answers its purchase again.
  decision confirm(const purchase_request& req, std::size_t i) {
    decision d;
    auto* target = target_of(req, d);
    if (!target)
      return d;
    auto& h = target->hold;
    switch (h.status) {
    case hold_status::confirmed:
      d.verdict = verdict::replay;
      if (auto it = confirmed_in_batch_.find(h.id); it != confirmed_in_batch_.end())
        d.batch_index = it->second;
      return d;
    case hold_status::released:
      d.verdict = verdict::hold_released;
      return d;
    case hold_status::expired:
      d.verdict = verdict::hold_expired;
      return d;
    case hold_status::held:
      break;
    }
    auto* type = type_by_id(h.ticket_type_id, d);
    stock_.held -= h.quantity;
    stock_.sold += h.quantity;
    type->held -= h.quantity;
    type->sold += h.quantity;
    h.status = hold_status::confirmed;
    confirmed_in_batch_[h.id] = i;
    d.verdict = verdict::confirm_hold;
    d.available = stock_.available(*type);
    return d;
  }

  /// A HELD hold's tickets are free again; a hold no longer HELD frees nothing.
  decision release(const purchase_request& req) {
    decision d;
    auto* target = target_of(req, d);
    if (!target)
      return d;
    auto& h = target->hold;
    if (h.status != hold_status::held) {
      d.verdict =
          h.status == hold_status::confirmed ? verdict::hold_confirmed : verdict::already_free;
      return d;
    }
    auto* type = type_by_id(h.ticket_type_id, d);
    stock_.held -= h.quantity;
    type->held -= h.quantity;
    if (stock_.bought)
      (*stock_.bought)[h.participant_id] -= h.quantity;
    h.status = hold_status::released;
    d.verdict = verdict::release;
    d.available = stock_.available(*type);
    return d;
  }

  /// Tickets of a purchase go back to its type and the event, and leave its buyer's count; a
  /// repeated key answers the purchase as it is now. Checked in this order: the key, the
  /// cutoff, what is left, then the quantity asked for (0: all that is left).
  decision cancel(const purchase_request& req) {
    decision d;
    auto* p = cancel_target_of(req, d);
    if (!p)
      return d;
    if (req.idempotency_key) {
      auto it = cancel_keys_.find({req.participant_id, *req.idempotency_key});
      if (it != cancel_keys_.end()) {
        const bool same =
            it->second.purchase_id == req.purchase_id && it->second.asked == req.quantity;
        d.verdict = same ? verdict::replay : verdict::key_mismatch;
        d.cancelled_total = p->cancelled_quantity;
        return d;
      }
    }
    if (stock_.now >= stock_.starts_at - std::chrono::duration_cast<std::chrono::microseconds>(
                                             req.cancel_cutoff)) {
      d.verdict = verdict::cancellation_closed;
      return d;
    }
    // Checked-in tickets stay: only VALID ones are cancelled, highest id first.
    const auto left = p->quantity - p->cancelled_quantity;
    auto& valid = context_.valid_tickets[p->id];
    const auto valid_count = static_cast<std::int32_t>(valid.size());
    if (valid_count == 0) {
      d.verdict = left > 0 ? verdict::checked_in : verdict::already_cancelled;
      return d;
    }
    const auto quantity = req.quantity == 0 ? valid_count : req.quantity;
    if (quantity > left) {
      d.verdict = verdict::cancel_too_many;
      d.available = left;
      return d;
    }
    if (quantity > valid_count) {
      d.verdict = verdict::checked_in;
      return d;
    }
    d.tickets.assign(valid.end() - quantity, valid.end());
    valid.resize(valid.size() - static_cast<std::size_t>(quantity));
    auto* type = type_by_id(p->ticket_type_id, d);
    stock_.sold -= quantity;
    type->sold -= quantity;
    if (stock_.bought)
      (*stock_.bought)[p->participant_id] -= quantity;
    p->cancelled_quantity += quantity;
    p->refunded_cents += quantity * p->unit_price_cents;
    if (req.idempotency_key)
      cancel_keys_[{req.participant_id, *req.idempotency_key}] = {
          *req.idempotency_key, req.participant_id, req.purchase_id, req.quantity};
    d.verdict = verdict::cancel;
    d.cancelled = quantity;
    d.cancelled_total = p->cancelled_quantity;
    d.available = stock_.available(*type);
    return d;
  }

  /// A new WAITING entry, in the contract's order: the type, the sales window, an entry already
  /// active, the buyer's limit, then tickets the public could take now.
  decision join(const purchase_request& req) {
    decision d;
    auto refused = refusal_for(stock_, req, stock_.now);
    const auto refuse = [&] {
      d.verdict = refused->verdict;
      d.allowed = refused->allowed;
      return d;
    };
    if (refused && refused->verdict != verdict::sold_out &&
        refused->verdict != verdict::buyer_limit)
      return refuse();
    const auto t = std::get<std::size_t>(type_of(stock_, req));
    auto& type = stock_.types[t];
    d.type_index = t;
    if (is_active(req.participant_id, type.id)) {
      d.verdict = verdict::already_waiting;
      return d;
    }
    if (refused && refused->verdict == verdict::buyer_limit)
      return refuse();
    if (!refused) {
      d.verdict = verdict::tickets_available;
      d.available = stock_.available(type);
      return d;
    }
    type.waiting += req.quantity;
    context_.active_entries.push_back({req.participant_id, type.id});
    d.verdict = verdict::join;
    d.available = std::max<std::int64_t>(0, stock_.available(type));
    return d;
  }

  /// A WAITING entry stops waiting; an OFFERED one's hold is released (its tickets go on to the
  /// next entries); an entry already done changes nothing, unless its offer was confirmed.
  decision leave(const purchase_request& req) {
    decision d;
    auto* e = leave_target_of(req, d);
    if (!e)
      return d;
    switch (e->status) {
    case waitlist_status::confirmed:
      d.verdict = verdict::hold_confirmed;
      return d;
    case waitlist_status::left:
    case waitlist_status::expired:
      d.verdict = verdict::already_free;
      return d;
    case waitlist_status::waiting:
      type_by_id(e->ticket_type_id, d)->waiting -= e->quantity;
      break;
    case waitlist_status::offered: {
      auto* type = type_by_id(e->ticket_type_id, d);
      stock_.held -= e->quantity;
      type->held -= e->quantity;
      if (stock_.bought)
        (*stock_.bought)[e->participant_id] -= e->quantity;
      break;
    }
    }
    e->status = waitlist_status::left;
    auto& active = context_.active_entries;
    active.erase(std::remove_if(active.begin(), active.end(),
                                [&](const active_entry& a) {
                                  return a.participant_id == e->participant_id &&
                                         a.ticket_type_id == e->ticket_type_id;
                                }),
                 active.end());
    d.verdict = verdict::leave;
    return d;
  }

  bool is_active(std::int64_t participant, std::int64_t type) const {
    return std::any_of(context_.active_entries.begin(), context_.active_entries.end(),
                       [&](const active_entry& a) {
                         return a.participant_id == participant && a.ticket_type_id == type;
                       });
  }

  waitlist_entry* leave_target_of(const purchase_request& req, decision& d) {
    auto& targets = context_.leave_targets;
    for (std::size_t t = 0; t < targets.size(); ++t)
      if (targets[t].id == req.entry_id && targets[t].participant_id == req.participant_id) {
        d.target_index = t;
        return &targets[t];
      }
    d.verdict = verdict::entry_not_found;
    return nullptr;
  }

  purchase* cancel_target_of(const purchase_request& req, decision& d) {
    auto& targets = context_.cancel_targets;
    for (std::size_t t = 0; t < targets.size(); ++t)
      if (targets[t].id == req.purchase_id) {
        d.target_index = t;
        return &targets[t];
      }
    d.verdict = verdict::purchase_not_found;
    return nullptr;
  }

  target_hold* target_of(const purchase_request& req, decision& d) {
    auto& targets = context_.targets;
    for (std::size_t t = 0; t < targets.size(); ++t)
      if (targets[t].hold.id == req.hold_id &&
          targets[t].hold.participant_id == req.participant_id) {
        d.target_index = t;
        return &targets[t];
      }
    d.verdict = verdict::hold_not_found;
    return nullptr;
  }

  type_stock* type_by_id(std::int64_t id, decision& d) {
    for (std::size_t t = 0; t < stock_.types.size(); ++t)
      if (stock_.types[t].id == id) {
        d.type_index = t;
        return &stock_.types[t];
      }
    // A type with a HELD hold or a purchase cannot be deleted (ticket_types' restrict triggers):
    // reaching this is a broken invariant, not a request to refuse.
    throw std::logic_error("the ticket type of a hold or purchase is missing");
  }

  std::optional<known_request> known_key(const purchase_request& req) const {
    if (!req.idempotency_key)
      return std::nullopt;
    auto it = keys_.find({req.kind, req.participant_id, *req.idempotency_key});
    if (it == keys_.end())
      return std::nullopt;
    return it->second;
  }

  event_stock& stock_;
  batch_context& context_;
  std::map<kind_key, known_request> keys_;
  std::map<std::int64_t, std::size_t> confirmed_in_batch_; // hold id -> batch index
  std::map<std::pair<std::int64_t, std::string>, keyed_cancellation> cancel_keys_; // (caller, key)
};

} // namespace

std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   batch_context& context, const std::vector<bool>& abandoned) {
  batch_decider decider(stock, context);
  std::vector<decision> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (i < abandoned.size() && abandoned[i]) {
      decision d;
      d.verdict = verdict::abandoned;
      out.push_back(d);
      continue;
    }
    out.push_back(decider.decide(batch[i], i));
  }
  return out;
}

std::int64_t offerable(const event_stock& stock) {
  if (stock.now >= stock.starts_at)
    return 0;
  std::int64_t most = 0;
  for (const auto& t : stock.types)
    if (t.waiting > 0)
      most = std::max(most, stock.free(t));
  return most;
}

std::vector<offer> decide_offers(event_stock& stock, const std::vector<queued_entry>& queue) {
  std::vector<offer> out;
  for (std::size_t i = 0; i < queue.size(); ++i) {
    const auto& e = queue[i];
    auto it = std::find_if(stock.types.begin(), stock.types.end(),
                           [&](const type_stock& t) { return t.id == e.ticket_type_id; });
    if (it == stock.types.end() || e.quantity > stock.free(*it))
      continue;
    if (stock.max_per_buyer && stock.bought &&
        bought_by(stock, e.participant_id) + e.quantity > *stock.max_per_buyer)
      continue; // the buyer got tickets elsewhere meanwhile: they stay in the queue
    stock.held += e.quantity;
    it->held += e.quantity;
    it->waiting -= e.quantity;
    if (stock.bought)
      (*stock.bought)[e.participant_id] += e.quantity;
    out.push_back({i, static_cast<std::size_t>(it - stock.types.begin())});
  }
  return out;
}

std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned) {
  batch_context context{prior, {}, {}, {}, {}, {}, {}};
  return decide_batch(stock, batch, context, abandoned);
}

} // namespace eventhub::domain
