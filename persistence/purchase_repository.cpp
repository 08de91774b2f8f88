// The purchase batch transaction; SQL in queries/purchase_queries.hpp, rules in
// domain/purchase_rules.cpp.
#include "persistence/purchase_repository.hpp"

#include "persistence/queries/purchase_queries.hpp"
#include "persistence/rows.hpp"

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
  for (const auto& type : t.exec(sql::event_type_stock, event_id))
    stock.types.push_back({type[0].as<std::int64_t>(), type[1].as<std::int64_t>(),
                           type[2].as<std::int64_t>(), type[3].as<std::int64_t>(),
                           type[4].as<std::string>()});
  return stock;
}

/// With a maxPerBuyer: what each buyer of the batch already has, read under the row lock.
void read_buyers(tx& t, std::int64_t event_id, domain::event_stock& stock,
                 const std::vector<domain::purchase_request>& batch) {
  if (!stock.max_per_buyer)
    return;
  std::vector<std::int64_t> buyers;
  for (const auto& req : batch)
    buyers.push_back(req.participant_id);
  stock.bought.emplace();
  for (const auto& r : t.exec(sql::tickets_of_buyers, event_id, int_array(buyers)))
    (*stock.bought)[r[0].as<std::int64_t>()] = r[1].as<std::int64_t>();
}

std::vector<domain::keyed_purchase>
keyed_purchases(tx& t, const std::vector<domain::purchase_request>& batch) {
  std::vector<std::int64_t> participants;
  std::vector<std::optional<std::string>> keys;
  for (const auto& req : batch)
    if (req.idempotency_key) {
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

struct inserted {
  std::vector<domain::purchase> purchases; // by batch index; id 0 when not confirmed
  std::vector<domain::confirmation> confirmations;
};

/// Writes the confirmed requests of a batch in one statement (queries/purchase_queries.hpp).
/// The CHECKs of the event's and the types' sold counters are the last guard.
inserted insert_confirmed(tx& t, std::int64_t event_id, const domain::event_stock& stock,
                          const std::vector<domain::purchase_request>& batch,
                          const std::vector<domain::decision>& decisions,
                          std::chrono::milliseconds redelivery_delay) {
  inserted out;
  out.purchases.resize(batch.size());
  std::vector<std::size_t> confirmed;
  std::vector<std::int64_t> participants, quantities, types, prices;
  std::vector<std::optional<std::string>> request_ids, keys, currencies;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (decisions[i].verdict != domain::verdict::confirm)
      continue;
    const auto& req = batch[i];
    confirmed.push_back(i);
    participants.push_back(req.participant_id);
    quantities.push_back(req.quantity);
    request_ids.push_back(req.request_id);
    keys.push_back(req.idempotency_key);
    const auto& type = stock.types[*decisions[i].type_index];
    types.push_back(type.id);
    prices.push_back(type.price_cents);
    currencies.push_back(type.currency);
  }
  if (confirmed.empty())
    return out;

  auto rows = t.exec(sql::record_purchases, event_id, int_array(participants),
                     int_array(quantities), text_array(request_ids), text_array(keys),
                     static_cast<std::int64_t>(redelivery_delay.count()), int_array(types),
                     int_array(prices), text_array(currencies));
  for (std::size_t n = 0; n < confirmed.size(); ++n) {
    const auto& r = rows[static_cast<int>(n)];
    if (r[1].as<bool>())
      throw key_race{};
    const auto& req = batch[confirmed[n]];
    const auto id = r[0].as<std::int64_t>();
    domain::purchase p{id, event_id, req.participant_id, req.quantity, stock.now};
    p.ticket_type_id = types[n];
    p.unit_price_cents = prices[n];
    p.currency = *currencies[n];
    out.purchases[confirmed[n]] = std::move(p);
    out.confirmations.push_back(
        {id, event_id, req.participant_id, req.quantity, req.request_id, 0});
  }
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

batch_outcome run_batch(tx& t, std::int64_t event_id,
                        const std::vector<domain::purchase_request>& batch,
                        std::chrono::milliseconds redelivery_delay,
                        const std::vector<std::chrono::steady_clock::time_point>& answer_by) {
  batch_outcome outcome;
  outcome.stock = lock_stock(t, event_id);
  if (!outcome.stock) {
    for (std::size_t i = 0; i < batch.size(); ++i)
      outcome.results.emplace_back(
          domain::make_error(error_code::not_found, "No event with this id."));
    return outcome;
  }
  const auto prior = keyed_purchases(t, batch);
  read_buyers(t, event_id, *outcome.stock, batch);
  // Checked after the lock is held: that is where a batch may have waited.
  auto decisions = domain::decide_batch(*outcome.stock, batch, prior, abandoned_now(answer_by));
  auto rows = insert_confirmed(t, event_id, *outcome.stock, batch, decisions, redelivery_delay);
  outcome.confirmations = std::move(rows.confirmations);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& d = decisions[i];
    if (d.verdict == domain::verdict::confirm) {
      outcome.results.emplace_back(domain::purchase_outcome{rows.purchases[i], false});
    } else if (d.verdict == domain::verdict::replay) {
      const auto& original =
          d.prior_index ? prior[*d.prior_index].original : rows.purchases[*d.batch_index];
      outcome.results.emplace_back(domain::purchase_outcome{original, true});
    } else {
      outcome.results.emplace_back(domain::refusal_error({d.verdict, d.available, d.allowed}));
    }
  }
  return outcome;
}

} // namespace

batch_outcome commit_batch(session& s, std::int64_t event_id,
                           const std::vector<domain::purchase_request>& batch,
                           std::chrono::milliseconds redelivery_delay,
                           const std::vector<std::chrono::steady_clock::time_point>& answer_by) {
  for (int attempt = 1;; ++attempt) {
    try {
      return s.transact(
          [&](tx& t) { return run_batch(t, event_id, batch, redelivery_delay, answer_by); });
    } catch (const key_race&) {
      if (attempt == 3)
        throw db_unavailable("idempotency keys contended");
    }
  }
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
