// Batch decisions; see purchase_rules.hpp.
#include "domain/purchase_rules.hpp"

#include <algorithm>
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

std::int64_t event_stock::available(const type_stock& t) const {
  return std::min(t.quota - t.sold - t.held, available());
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
                      "This Idempotency-Key was used for a different purchase.");
  case verdict::hold_not_found:
    return make_error(error_code::not_found, "No hold with this id.");
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
    if (stock.max_per_buyer && !stock.bought)
      stock.bought.emplace();
  }

  decision decide(const purchase_request& req, std::size_t i) {
    switch (req.kind) {
    case order_kind::confirm:
      return confirm(req, i);
    case order_kind::release:
      return release(req);
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
    // A hold's type cannot be deleted while it is HELD (ticket_types' foreign key and the
    // type's tickets_held): reaching this is a broken invariant, not a request to refuse.
    throw std::logic_error("a held hold's ticket type is missing");
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

std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned) {
  batch_context context{prior, {}, {}};
  return decide_batch(stock, batch, context, abandoned);
}

} // namespace eventhub::domain
