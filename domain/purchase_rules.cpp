// Batch decisions; see purchase_rules.hpp.
#include "domain/purchase_rules.hpp"

#include <map>
#include <utility>

namespace eventhub::domain {
namespace {

using key_id = std::pair<std::int64_t, std::string>; // (participant, key)

struct known_key {
  std::int64_t event_id;
  std::int32_t quantity;
  std::optional<std::size_t> prior_index;
  std::optional<std::size_t> batch_index;
};

} // namespace

std::optional<verdict> refusal_for(const event_stock& stock, std::int32_t quantity, timestamp now) {
  if (now >= stock.starts_at)
    return verdict::sales_closed;
  if (quantity > stock.available())
    return verdict::sold_out;
  return std::nullopt;
}

error refusal_error(verdict v, std::int64_t available) {
  switch (v) {
  case verdict::sold_out: {
    auto e = make_error(error_code::sold_out, "Not enough tickets left for this event.");
    e.tickets_available = available;
    return e;
  }
  case verdict::sales_closed:
    return make_error(error_code::sales_closed, "Ticket sales closed when the event started.");
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
  for (std::size_t i = 0; i < prior.size(); ++i) {
    const auto& p = prior[i].original;
    keys[{p.participant_id, prior[i].key}] = {p.event_id, p.quantity, i, std::nullopt};
  }
  std::vector<decision> out;
  out.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& req = batch[i];
    decision d;
    if (i < abandoned.size() && abandoned[i]) {
      d.verdict = verdict::abandoned;
      d.available = stock.available();
      out.push_back(d);
      continue;
    }
    if (req.idempotency_key) {
      auto it = keys.find({req.participant_id, *req.idempotency_key});
      if (it != keys.end()) {
        const bool same =
            it->second.event_id == req.event_id && it->second.quantity == req.quantity;
        d.verdict = same ? verdict::replay : verdict::key_mismatch;
        d.prior_index = it->second.prior_index;
        d.batch_index = it->second.batch_index;
        d.available = stock.available();
        out.push_back(d);
        continue;
      }
    }
    if (auto refused = refusal_for(stock, req.quantity, stock.now)) {
      d.verdict = *refused;
    } else {
      d.verdict = verdict::confirm;
      stock.sold += req.quantity;
      if (req.idempotency_key)
        keys[{req.participant_id, *req.idempotency_key}] = {req.event_id, req.quantity,
                                                            std::nullopt, i};
    }
    d.available = stock.available();
    out.push_back(d);
  }
  return out;
}

} // namespace eventhub::domain
