// Batch decisions; see purchase_rules.hpp.
#include "domain/purchase_rules.hpp"

#include <algorithm>
#include <utility>

namespace eventhub::domain {
namespace {

using key_id = std::pair<std::int64_t, std::string>; // (participant, key)

struct known_key {
  purchase_request request; // what the key was first used for
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
};

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
  return std::min(t.quota - t.sold, available());
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
  default:
    return unavailable("The purchase waited too long.");
  }
}

std::vector<decision> decide_batch(event_stock& stock, const std::vector<purchase_request>& batch,
                                   const std::vector<keyed_purchase>& prior,
                                   const std::vector<bool>& abandoned) {
  std::map<key_id, known_key> keys;
  std::map<key_id, std::int64_t> key_types; // the type each known key bought
  for (std::size_t i = 0; i < prior.size(); ++i) {
    const auto& p = prior[i].original;
    purchase_request first{p.event_id, p.participant_id, p.quantity};
    keys[{p.participant_id, prior[i].key}] = {first, i, std::nullopt};
    key_types[{p.participant_id, prior[i].key}] = p.ticket_type_id;
  }
  if (stock.max_per_buyer && !stock.bought)
    stock.bought.emplace();
  std::vector<decision> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& req = batch[i];
    decision d;
    if (i < abandoned.size() && abandoned[i]) {
      d.verdict = verdict::abandoned;
      out.push_back(d);
      continue;
    }
    if (req.idempotency_key) {
      const key_id id{req.participant_id, *req.idempotency_key};
      if (auto it = keys.find(id); it != keys.end()) {
        d.verdict = same_request(it->second.request, key_types[id], req) ? verdict::replay
                                                                         : verdict::key_mismatch;
        d.prior_index = it->second.prior_index;
        d.batch_index = it->second.batch_index;
        out.push_back(d);
        continue;
      }
    }
    if (auto refused = refusal_for(stock, req, stock.now)) {
      d.verdict = refused->verdict;
      d.available = refused->available;
      d.allowed = refused->allowed;
      out.push_back(d);
      continue;
    }
    const auto t = std::get<std::size_t>(type_of(stock, req));
    auto& type = stock.types[t];
    d.verdict = verdict::confirm;
    d.type_index = t;
    stock.sold += req.quantity;
    type.sold += req.quantity;
    if (stock.bought)
      (*stock.bought)[req.participant_id] += req.quantity;
    if (req.idempotency_key) {
      const key_id id{req.participant_id, *req.idempotency_key};
      keys[id] = {req, std::nullopt, i};
      key_types[id] = type.id;
    }
    d.available = stock.available(type);
    out.push_back(d);
  }
  return out;
}

} // namespace eventhub::domain
