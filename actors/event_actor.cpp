// The event actor.
//
// Owns (nothing else touches these): the queue of commands for its event (purchases, holds,
// confirmations, releases, cancellations, waitlist joins and leaves) with the promises of their
// answers, the batch in flight, a memo of the event's stock (its ticket types' figures and the next
// hold expiry included) as last read under the row lock, and the timer of that next expiry. Its
// handlers run one at a time, so the state needs no lock. It never decides from memory: every sale,
// hold, confirmation and release is decided inside the batch transaction against the row locked
// with SELECT … FOR UPDATE, so another actor, node or process writing the same event is safe.
// Memory only answers purchases and holds that cannot succeed (sold out, sales closed; the rule is
// domain::refusal_for) until an admin change invalidates the memo or a hold's expiry makes it
// overstate what is held. The memo never knows what a buyer already has, so with a maxPerBuyer it
// refuses only what the sales window or the type decides.
//
// Hold expiry: the timer fires at the next expiry and runs a batch (empty if nothing waits),
// whose first step expires every due hold under the row lock. A hold expires exactly once
// because that step is a conditional update (status = 'HELD'), not because only this actor
// runs: the sweep (hold_sweeper.hpp) and the actor of a new owner node may try the same hold, and
// whichever locks the row first expires it. The timer only makes release prompt; reads already
// count a hold as free from its expiresAt on.
//
// Answers leave as response messages: a batch's turn delivers one message per command and
// renders nothing; the asker decides where its HTTP answer is rendered.
#include "actors/event_actor.hpp"

#include "actors/db_request.hpp"
#include "domain/purchase_rules.hpp"
#include "observability/metrics.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <deque>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
namespace purchases = persistence::purchases;

/// A memo older than this is read again even without an invalidation (safety net for writers
/// outside this service, e.g. an operator raising a capacity by hand).
constexpr std::chrono::seconds memo_ttl{10};

metrics::histogram& batch_sizes() {
  static auto& h = metrics::registry::global().get_histogram(
      "eventhub_purchase_batch_size", "Purchases per batch transaction",
      {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  return h;
}

/// Holds this node expired, by who found them due (the event's actor or the sweep).
metrics::counter& expired_by_actor() {
  static auto& c = metrics::registry::global().get_counter(
      "eventhub_holds_expired_total", "Holds expired, by who expired them", {{"by", "actor"}});
  return c;
}

struct pending_purchase {
  purchase_command cmd;
  caf::typed_response_promise<purchase_answer> promise;
};

struct event_state {
  std::int64_t event_id = 0;
  event_actor_options options;
  event_actor_deps deps;
  std::deque<pending_purchase> pending;
  std::vector<pending_purchase> in_flight;
  std::optional<domain::event_stock> stock;
  clock::time_point stock_read_at;
  std::uint64_t received = 0;
  clock::time_point last_activity = clock::now();
  bool next_expiry_known = false;            // stock->next_expiry is the event's, not a guess
  std::optional<domain::timestamp> timer_at; // the armed expiry timer
  std::uint64_t timer_generation = 0;        // ticks of older timers are ignored
  bool expiry_due = false;                   // run a batch even if no command waits
  bool expiring = false;                     // a batch without commands is in flight

  std::size_t pending_max() const { return static_cast<std::size_t>(options.batch_max) * 8; }
  bool idle() const { return pending.empty() && in_flight.empty() && !expiring; }
};

using event_pointer = event_actor::stateful_pointer<event_state>;

/// A refusal known without the database; a possible replay of a key always goes to the database.
std::optional<domain::error> refusal_from_memo(const event_state& st, const purchase_command& cmd) {
  const auto kind = cmd.request.kind;
  if (!cmd.memo_ok || !st.stock || clock::now() - st.stock_read_at > memo_ttl ||
      (kind != domain::order_kind::purchase && kind != domain::order_kind::hold))
    return std::nullopt;
  if (st.stock->next_expiry && domain::now() >= *st.stock->next_expiry)
    return std::nullopt; // a hold expired since: the memo overstates what is held
  auto refused = domain::refusal_for(*st.stock, cmd.request, domain::now());
  // A type unknown to the memo may have been added by another process meanwhile: the batch
  // decides those.
  if (!refused || refused->verdict == domain::verdict::unknown_type ||
      refused->verdict == domain::verdict::type_required)
    return std::nullopt;
  return domain::refusal_error(*refused);
}

/// Whether the batch must look for due holds: unless the memo knows the event's next expiry
/// (read by an earlier batch of this actor, or the earliest of the holds it made since) and it
/// has not come. A hold made meanwhile by another node is expired by the sweep.
bool expiry_may_be_due(const event_state& st) {
  if (!st.stock || !st.next_expiry_known)
    return true;
  return st.stock->next_expiry && domain::now() >= *st.stock->next_expiry;
}

/// The memo after a batch: its stock, and the next expiry (the event's when the batch read it,
/// else the earlier of what was known and the holds the batch made).
void remember_stock(event_state& st, purchases::batch_outcome& outcome) {
  std::optional<domain::timestamp> known;
  if (st.stock && st.next_expiry_known)
    known = st.stock->next_expiry;
  st.stock = std::move(outcome.stock);
  st.stock_read_at = clock::now();
  if (!st.stock) {
    st.next_expiry_known = false;
    return;
  }
  st.stock->bought.reset(); // it counted only this batch's buyers
  if (!outcome.next_expiry_exact && known &&
      (!st.stock->next_expiry || *known < *st.stock->next_expiry))
    st.stock->next_expiry = known;
  st.next_expiry_known = outcome.next_expiry_exact || st.next_expiry_known;
}

void send_batch(event_pointer self);

/// Arms the timer for the next hold expiry, unless one is armed for it already.
void arm_expiry(event_pointer self, std::optional<domain::timestamp> next) {
  auto& st = self->state;
  if (!next || (st.timer_at && *st.timer_at == *next))
    return;
  st.timer_at = next;
  const auto delay = std::max(std::chrono::microseconds{0}, *next - domain::now());
  self->delayed_send(self,
                     std::chrono::duration_cast<std::chrono::milliseconds>(delay) +
                         std::chrono::milliseconds{1},
                     expiry_tick_atom::value, ++st.timer_generation);
}

void on_expiry_tick(event_pointer self, std::uint64_t generation) {
  auto& st = self->state;
  if (generation != st.timer_generation)
    return;
  st.timer_at.reset();
  st.expiry_due = true;
  send_batch(self);
}

/// Hands a batch's outbox rows (hold.expired, purchase.cancelled) to the notifier.
void send_notifications(event_pointer self, std::vector<domain::notification>& items) {
  if (items.empty())
    return;
  expired_by_actor().inc(static_cast<std::uint64_t>(
      std::count_if(items.begin(), items.end(), [](const auto& n) { return n.is_hold(); })));
  self->send(self->state.deps.notifier, notify_atom::value, notification_list{std::move(items)});
}

void finish_batch(event_pointer self, domain::result<purchases::batch_outcome> result) {
  auto& st = self->state;
  if (result.ok()) {
    auto& outcome = *result;
    remember_stock(st, outcome);
    for (std::size_t i = 0; i < st.in_flight.size(); ++i)
      st.in_flight[i].promise.deliver(std::move(outcome.results[i]));
    if (!outcome.confirmations.empty())
      self->send(st.deps.notifier, notify_atom::value,
                 confirmation_list{std::move(outcome.confirmations)});
    send_notifications(self, outcome.notifications);
    arm_expiry(self, st.stock ? st.stock->next_expiry : std::nullopt);
  } else {
    // Nothing was committed (or the outcome is unknown): everyone gets 503 and the next batch
    // reads the stock again under the lock.
    st.stock.reset();
    for (auto& p : st.in_flight)
      p.promise.deliver(purchase_answer(result.err()));
  }
  st.in_flight.clear();
  st.last_activity = clock::now();
  send_batch(self);
}

db_job batch_job(const event_state& st, std::vector<domain::purchase_request> requests,
                 std::vector<deadline> answer_by, deadline latest, bool expire_first) {
  auto commit = st.deps.commit ? st.deps.commit : batch_committer{purchases::commit_batch};
  return make_db_job<purchases::batch_outcome>(
      latest, [commit, event_id = st.event_id, requests = std::move(requests),
               answer_by = std::move(answer_by), delay = st.options.redelivery_delay,
               offer_ttl = st.options.offer_ttl, expire_first](persistence::session& s) {
        return commit(s, event_id, requests, delay, answer_by, expire_first, offer_ttl);
      });
}

void finish_expiry(event_pointer self, domain::result<purchases::batch_outcome> result);

/// A batch with no command: expires the due holds and learns the next expiry.
void expire_alone(event_pointer self, deadline latest) {
  auto& st = self->state;
  st.expiring = true;
  ask_db<purchases::batch_outcome>(
      self, st.deps.db_pool, batch_job(st, {}, {}, latest + std::chrono::seconds(5), true),
      [self](domain::result<purchases::batch_outcome> r) { finish_expiry(self, std::move(r)); });
}

void finish_expiry(event_pointer self, domain::result<purchases::batch_outcome> result) {
  auto& st = self->state;
  st.expiring = false;
  if (result.ok()) {
    send_notifications(self, result->notifications);
    remember_stock(st, *result);
    arm_expiry(self, st.stock ? st.stock->next_expiry : std::nullopt);
  } else {
    st.stock.reset(); // the sweep, or the next batch, expires them
  }
  send_batch(self);
}

/// Moves up to batch_max pending commands into one transaction, unless one is in flight.
void send_batch(event_pointer self) {
  auto& st = self->state;
  if (!st.in_flight.empty() || st.expiring)
    return;
  deadline latest = clock::now();
  std::vector<domain::purchase_request> requests;
  std::vector<deadline> answer_by;
  while (!st.pending.empty() &&
         st.in_flight.size() < static_cast<std::size_t>(st.options.batch_max)) {
    pending_purchase p = std::move(st.pending.front());
    st.pending.pop_front();
    if (expired(p.cmd.due)) {
      p.promise.deliver(purchase_answer(domain::unavailable("The purchase waited too long.")));
      continue;
    }
    latest = std::max(latest, p.cmd.due);
    requests.push_back(p.cmd.request);
    answer_by.push_back(p.cmd.due);
    st.in_flight.push_back(std::move(p));
  }
  if (st.in_flight.empty() && !st.expiry_due)
    return;
  st.expiry_due = false;
  if (st.in_flight.empty()) {
    expire_alone(self, latest);
    return;
  }
  batch_sizes().observe(static_cast<double>(requests.size()));
  ask_db<purchases::batch_outcome>(
      self, st.deps.db_pool,
      batch_job(st, std::move(requests), std::move(answer_by), latest, expiry_may_be_due(st)),
      [self](domain::result<purchases::batch_outcome> r) { finish_batch(self, std::move(r)); });
}

caf::result<purchase_answer> on_purchase(event_pointer self, purchase_command& cmd) {
  auto& st = self->state;
  ++st.received;
  st.last_activity = clock::now();
  if (auto refusal = refusal_from_memo(st, cmd))
    return purchase_answer(*refusal);
  if (st.pending.size() >= st.pending_max())
    return purchase_answer(domain::unavailable("Too many purchases are waiting for this event."));
  st.pending.push_back({std::move(cmd), self->make_response_promise<purchase_answer>()});
  auto promise = st.pending.back().promise;
  send_batch(self);
  return promise;
}

void schedule_idle_check(event_pointer self) {
  auto period = std::max(std::chrono::milliseconds{5}, self->state.options.idle_timeout / 2);
  self->delayed_send(self, period, idle_check_atom::value);
}

event_actor::behavior_type event_behavior(event_pointer self, std::int64_t event_id,
                                          event_actor_deps deps, event_actor_options options) {
  auto& st = self->state;
  st.event_id = event_id;
  st.options = options;
  st.deps = std::move(deps);
  schedule_idle_check(self);
  return {
      [=](purchase_atom, purchase_command& cmd) { return on_purchase(self, cmd); },
      [=](stock_stale_atom) {
        self->state.stock.reset();
        self->state.next_expiry_known = false;
      },
      [=](expiry_tick_atom, std::uint64_t generation) { on_expiry_tick(self, generation); },
      [=](idle_check_atom) {
        auto& st = self->state;
        if (st.idle() && clock::now() - st.last_activity >= st.options.idle_timeout)
          self->send(st.deps.registry, idle_atom::value, st.event_id, st.received);
        schedule_idle_check(self);
      },
      [=](passivate_atom) {
        // The registry stopped routing to us and nothing is pending: passivate.
        if (self->state.idle())
          self->quit();
      },
  };
}

} // namespace

event_actor spawn_event_actor(caf::actor_system& sys, std::int64_t event_id,
                              const event_actor_deps& deps, const event_actor_options& options) {
  return sys.spawn(event_behavior, event_id, deps, options);
}

} // namespace eventhub::actors
