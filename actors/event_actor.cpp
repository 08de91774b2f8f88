// The event actor.
//
// Owns (nothing else touches these): the queue of purchase commands for its event, the batch in
// flight, and a memo of the event's stock as last read under the row lock. Its handlers run one
// at a time, so the state needs no lock. It never decides a sale from memory: every sale is
// decided inside the batch transaction against the row locked with SELECT … FOR UPDATE, so
// another actor, node or process writing the same event is safe. Memory only answers requests
// that cannot succeed (sold out, sales closed) until an admin change invalidates the memo.
#include "actors/event_actor.hpp"

#include "actors/db_pool.hpp"
#include "actors/messages.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <deque>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;

/// A memo older than this is read again even without an invalidation (safety net for writers
/// outside this service, e.g. an operator raising a capacity by hand).
constexpr std::chrono::seconds memo_ttl{10};

metrics::histogram& batch_sizes() {
  static auto& h = metrics::registry::global().get_histogram(
      "eventhub_purchase_batch_size", "Purchases per batch transaction",
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  return h;
}

struct event_state {
  std::int64_t event_id = 0;
  event_actor_options options;
  caf::actor registry, db_pool, notifier;
  std::deque<purchase_command> pending;
  std::vector<purchase_command> in_flight;
  std::uint64_t batch_id = 0;
  std::optional<domain::event_stock> stock;
  clock::time_point stock_read_at;
  std::uint64_t received = 0;
  clock::time_point last_activity = clock::now();

  std::size_t pending_max() const { return static_cast<std::size_t>(options.batch_max) * 8; }
};

using event_actor = caf::stateful_actor<event_state>;

void answer(purchase_command& cmd, domain::result<domain::purchase_outcome> r) {
  cmd.reply(std::move(r));
}

/// A refusal known without the database; a possible replay of a key always goes to the database.
std::optional<domain::error> refusal_from_memo(const event_state& st, const purchase_command& cmd) {
  if (!cmd.memo_ok || !st.stock || clock::now() - st.stock_read_at > memo_ttl)
    return std::nullopt;
  if (domain::now() >= st.stock->starts_at)
    return domain::make_error(domain::error_code::sales_closed,
                              "Ticket sales closed when the event started.");
  if (cmd.request.quantity > st.stock->available()) {
    auto e =
        domain::make_error(domain::error_code::sold_out, "Not enough tickets left for this event.");
    e.tickets_available = st.stock->available();
    return e;
  }
  return std::nullopt;
}

void send_batch(event_actor* self) {
  auto& st = self->state;
  if (!st.in_flight.empty())
    return;
  deadline latest = clock::now();
  std::vector<domain::purchase_request> requests;
  std::vector<deadline> answer_by;
  while (!st.pending.empty() &&
         st.in_flight.size() < static_cast<std::size_t>(st.options.batch_max)) {
    purchase_command cmd = std::move(st.pending.front());
    st.pending.pop_front();
    if (expired(cmd.due)) {
      answer(cmd, domain::unavailable("The purchase waited too long."));
      continue;
    }
    latest = std::max(latest, cmd.due);
    requests.push_back(cmd.request);
    answer_by.push_back(cmd.due);
    st.in_flight.push_back(std::move(cmd));
  }
  if (st.in_flight.empty())
    return;
  const std::uint64_t id = ++st.batch_id;
  batch_sizes().observe(static_cast<double>(requests.size()));
  auto me = caf::actor_cast<caf::actor>(self);
  db_job job;
  job.due = latest;
  job.run = [me, id, event_id = st.event_id, requests = std::move(requests),
             answer_by = std::move(answer_by),
             delay = st.options.redelivery_delay](persistence::session& s) {
    auto outcome = persistence::purchases::commit_batch(s, event_id, requests, delay, answer_by);
    caf::anon_send(me, batch_atom::value, batch_result{id, std::move(outcome), {}});
  };
  job.fail = [me, id](const domain::error& e) {
    caf::anon_send(me, batch_atom::value, batch_result{id, std::nullopt, e});
  };
  submit(st.db_pool, std::move(job));
}

void finish_batch(event_actor* self, batch_result& result) {
  auto& st = self->state;
  if (result.batch_id != st.batch_id || st.in_flight.empty())
    return;
  if (result.outcome) {
    auto& outcome = *result.outcome;
    st.stock = outcome.stock;
    st.stock_read_at = clock::now();
    for (std::size_t i = 0; i < st.in_flight.size(); ++i)
      answer(st.in_flight[i], std::move(outcome.results[i]));
    if (!outcome.confirmations.empty())
      self->send(st.notifier, notify_atom::value,
                 confirmation_list{std::move(outcome.confirmations), false});
  } else {
    // Nothing was committed (or the outcome is unknown): everyone gets 503 and the next batch
    // reads the stock again under the lock.
    st.stock.reset();
    for (auto& cmd : st.in_flight)
      answer(cmd, result.failure);
  }
  st.in_flight.clear();
  st.last_activity = clock::now();
  send_batch(self);
}

void on_purchase(event_actor* self, purchase_command& cmd) {
  auto& st = self->state;
  ++st.received;
  st.last_activity = clock::now();
  if (auto refusal = refusal_from_memo(st, cmd)) {
    answer(cmd, *refusal);
    return;
  }
  if (st.pending.size() >= st.pending_max()) {
    answer(cmd, domain::unavailable("Too many purchases are waiting for this event."));
    return;
  }
  st.pending.push_back(std::move(cmd));
  send_batch(self);
}

void schedule_tick(event_actor* self) {
  auto period = std::max(std::chrono::milliseconds{5}, self->state.options.idle_timeout / 2);
  self->delayed_send(self, period, tick_atom::value);
}

caf::behavior event_behavior(event_actor* self, std::int64_t event_id, caf::actor registry,
                             caf::actor db_pool, caf::actor notifier, event_actor_options options) {
  auto& st = self->state;
  st.event_id = event_id;
  st.options = options;
  st.registry = std::move(registry);
  st.db_pool = std::move(db_pool);
  st.notifier = std::move(notifier);
  schedule_tick(self);
  return {
      [=](purchase_atom, purchase_command& cmd) { on_purchase(self, cmd); },
      [=](batch_atom, batch_result& result) { finish_batch(self, result); },
      [=](refresh_atom) { self->state.stock.reset(); },
      [=](tick_atom) {
        auto& st = self->state;
        if (st.pending.empty() && st.in_flight.empty() &&
            clock::now() - st.last_activity >= st.options.idle_timeout)
          self->send(st.registry, idle_atom::value, st.event_id, st.received);
        schedule_tick(self);
      },
      [=](stop_atom) {
        // The registry stopped routing to us and nothing is pending: passivate.
        if (self->state.pending.empty() && self->state.in_flight.empty())
          self->quit();
      },
  };
}

} // namespace

caf::actor spawn_event_actor(caf::actor_system& sys, std::int64_t event_id, caf::actor registry,
                             caf::actor db_pool, caf::actor notifier,
                             const event_actor_options& options) {
  return sys.spawn(event_behavior, event_id, std::move(registry), std::move(db_pool),
                   std::move(notifier), options);
}

} // namespace eventhub::actors
