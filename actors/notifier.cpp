// The notifier actor. Owns the purchase ids whose confirmations were delivered but whose outbox
// rows are not yet deleted; only its handlers touch them. Webhook POSTs block, so they run on a
// detached poster actor that owns the HTTP client; the notifier itself never blocks and never
// delays a purchase reply (event actors only send it a message after answering).
//
// At least once: a row is deleted only after its log line (and webhook) succeeded; a row whose
// delivery or deletion was lost (crash, database down) is claimed again by a sweep.
#include "actors/notifier.hpp"

#include "actors/db_request.hpp"
#include "actors/webhook.hpp"
#include "domain/json.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/confirmation_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
constexpr int sweep_batch = 200;
constexpr std::chrono::milliseconds forget_delay{20};
constexpr std::chrono::milliseconds claim_lease{60000};
constexpr std::chrono::seconds store_timeout{30};

metrics::counter& delivered_total() {
  static auto& c = metrics::registry::global().get_counter("eventhub_confirmations_delivered_total",
                                                           "Purchase confirmations delivered");
  return c;
}

metrics::counter& failed_total() {
  static auto& c = metrics::registry::global().get_counter(
      "eventhub_confirmations_failed_total", "Purchase confirmation deliveries that failed");
  return c;
}

void log_confirmation(const domain::confirmation& c) {
  log::info("purchase.confirmed", {{"purchase_id", c.purchase_id},
                                   {"event_id", c.event_id},
                                   {"participant_id", c.participant_id},
                                   {"quantity", static_cast<std::int64_t>(c.quantity)},
                                   {"request_id", c.request_id}});
}

/// What a batch of webhook POSTs came to.
struct post_report {
  std::vector<std::int64_t> ok, failed; // purchase ids
  std::string last_error;
  int max_attempts = 0; // of the failed ones, before this try
};

} // namespace
} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::post_report)

namespace eventhub::actors {
namespace {

/// The poster: (post_atom, confirmation_list | notification_list) -> post_report. Detached: it
/// owns the libcurl handle and blocks on POSTs.
using poster_actor =
    caf::typed_actor<caf::replies_to<post_atom, confirmation_list>::with<post_report>,
                     caf::replies_to<post_atom, notification_list>::with<post_report>>;

/// POSTs each item; `id_of` is the outbox row it reports, `key_of` the delivery's id.
template <class List, class Id, class Key>
post_report post_all(webhook_client& client, const List& list, Id id_of, Key key_of) {
  post_report report;
  for (const auto& item : list.items) {
    std::string error;
    if (client.post(domain::webhook_json(item), key_of(item), error)) {
      report.ok.push_back(id_of(item));
    } else {
      report.failed.push_back(id_of(item));
      report.last_error = error;
      report.max_attempts = std::max(report.max_attempts, item.attempts);
    }
  }
  return report;
}

poster_actor::behavior_type webhook_poster(poster_actor::pointer, std::string url,
                                           std::chrono::milliseconds timeout) {
  auto client = std::make_shared<webhook_client>(url, timeout);
  return {
      [=](post_atom, confirmation_list& list) {
        return post_all(
            *client, list, [](const domain::confirmation& c) { return c.purchase_id; },
            [](const domain::confirmation& c) {
              return "confirmation-" + std::to_string(c.purchase_id);
            });
      },
      [=](post_atom, notification_list& list) {
        return post_all(
            *client, list, [](const domain::notification& n) { return n.id; },
            [](const domain::notification& n) { return "notification-" + std::to_string(n.id); });
      },
  };
}

struct notifier_state {
  notifier_options options;
  db_pool_actor db_pool;
  poster_actor poster;
  std::vector<std::int64_t> to_forget;
  bool forget_scheduled = false;
};

using notifier_pointer = notifier_actor::stateful_pointer<notifier_state>;

void schedule_forget(notifier_pointer self) {
  if (!self->state.forget_scheduled) {
    self->state.forget_scheduled = true;
    self->delayed_send(self, forget_delay, forget_atom::value);
  }
}

/// Runs a write on the outbox; a failure only means a later sweep delivers again.
template <class Write> void store(notifier_pointer self, const char* failure_event, Write write) {
  auto job = make_tx_job<domain::unit>(clock::now() + store_timeout, [write](persistence::tx& t) {
    write(t);
    return domain::unit{};
  });
  ask_db<domain::unit>(self, self->state.db_pool, std::move(job),
                       [failure_event](const domain::result<domain::unit>& r) {
                         if (!r.ok())
                           log::warn(failure_event);
                       });
}

void forget_delivered(notifier_pointer self) {
  auto& st = self->state;
  st.forget_scheduled = false;
  if (st.to_forget.empty())
    return;
  // A lost delete only means the sweeper delivers those rows again: at least once.
  store(self, "notify.forget_failed", [ids = std::move(st.to_forget)](persistence::tx& t) {
    persistence::confirmations::forget_delivered(t, ids);
  });
  st.to_forget.clear();
}

void postpone(notifier_pointer self, std::vector<std::int64_t> ids, std::chrono::milliseconds delay,
              std::string reason) {
  store(self, "notify.postpone_failed",
        [ids = std::move(ids), delay, reason = std::move(reason)](persistence::tx& t) {
          persistence::confirmations::postpone(t, ids, delay, reason);
        });
}

void on_posted(notifier_pointer self, post_report& report) {
  auto& st = self->state;
  delivered_total().inc(report.ok.size());
  st.to_forget.insert(st.to_forget.end(), report.ok.begin(), report.ok.end());
  schedule_forget(self);
  if (report.failed.empty())
    return;
  failed_total().inc(report.failed.size());
  log::warn("notify.webhook_failed", {{"count", static_cast<std::int64_t>(report.failed.size())},
                                      {"error", report.last_error}});
  postpone(self, std::move(report.failed), retry_backoff(st.options.retry_max, report.max_attempts),
           report.last_error);
}

void deliver(notifier_pointer self, confirmation_list& list) {
  auto& st = self->state;
  for (const auto& c : list.items)
    log_confirmation(c);
  if (!st.poster) {
    for (const auto& c : list.items)
      st.to_forget.push_back(c.purchase_id);
    delivered_total().inc(list.items.size());
    schedule_forget(self);
    return;
  }
  // Each POST may take the webhook timeout; past that the rows stay claimed and a later sweep
  // delivers them again.
  const auto timeout = st.options.webhook_timeout * static_cast<int>(list.items.size() + 1);
  self->request(st.poster, timeout, post_atom::value, std::move(list))
      .then([self](post_report& report) { on_posted(self, report); },
            [](caf::error&) { log::warn("notify.webhook_timeout"); });
}

void log_notification(const domain::notification& n) {
  if (n.is_check_in()) {
    log::info(n.type.c_str(), {{"ticket_id", n.subject_id},
                               {"event_id", n.event_id},
                               {"purchase_id", n.purchase_id},
                               {"participant_id", n.participant_id}});
    return;
  }
  if (n.is_offer()) {
    log::info(n.type.c_str(), {{"entry_id", n.subject_id},
                               {"hold_id", n.hold_id},
                               {"event_id", n.event_id},
                               {"participant_id", n.participant_id},
                               {"quantity", static_cast<std::int64_t>(n.quantity)}});
    return;
  }
  if (n.is_hold()) {
    log::info(n.type.c_str(), {{"hold_id", n.subject_id},
                               {"event_id", n.event_id},
                               {"participant_id", n.participant_id},
                               {"quantity", static_cast<std::int64_t>(n.quantity)}});
    return;
  }
  log::info(n.type.c_str(), {{"purchase_id", n.subject_id},
                             {"event_id", n.event_id},
                             {"participant_id", n.participant_id},
                             {"quantity", static_cast<std::int64_t>(n.quantity)},
                             {"refunded_cents", n.refunded_cents},
                             {"currency", n.currency},
                             {"request_id", n.request_id}});
}

/// Lifecycle notifications are few (one per expired hold or cancellation): each delivery's outcome
/// is stored at once rather than batched like confirmations.
void on_notifications_posted(notifier_pointer self, post_report& report) {
  delivered_total().inc(report.ok.size());
  store(self, "notify.forget_failed", [ids = std::move(report.ok)](persistence::tx& t) {
    persistence::notifications::forget_delivered(t, ids);
  });
  if (report.failed.empty())
    return;
  failed_total().inc(report.failed.size());
  log::warn("notify.webhook_failed", {{"count", static_cast<std::int64_t>(report.failed.size())},
                                      {"error", report.last_error}});
  store(self, "notify.postpone_failed",
        [ids = std::move(report.failed),
         delay = retry_backoff(self->state.options.retry_max, report.max_attempts),
         reason = report.last_error](persistence::tx& t) {
          persistence::notifications::postpone(t, ids, delay, reason);
        });
}

void deliver(notifier_pointer self, notification_list& list) {
  auto& st = self->state;
  for (const auto& n : list.items)
    log_notification(n);
  if (!st.poster) {
    post_report report;
    for (const auto& n : list.items)
      report.ok.push_back(n.id);
    on_notifications_posted(self, report);
    return;
  }
  const auto timeout = st.options.webhook_timeout * static_cast<int>(list.items.size() + 1);
  self->request(st.poster, timeout, post_atom::value, std::move(list))
      .then([self](post_report& report) { on_notifications_posted(self, report); },
            [](caf::error&) { log::warn("notify.webhook_timeout"); });
}

void sweep_notifications(notifier_pointer self) {
  auto job = make_tx_job<std::vector<domain::notification>>(
      clock::now() + self->state.options.sweep_interval, [](persistence::tx& t) {
        return persistence::notifications::claim_due(t, sweep_batch, claim_lease);
      });
  ask_db<std::vector<domain::notification>>(
      self, self->state.db_pool, std::move(job),
      [self](domain::result<std::vector<domain::notification>> rows) {
        if (!rows.ok() || rows->empty())
          return;
        notification_list list{std::move(*rows)};
        deliver(self, list);
      });
}

void sweep(notifier_pointer self) {
  auto job = make_tx_job<std::vector<domain::confirmation>>(
      clock::now() + self->state.options.sweep_interval, [](persistence::tx& t) {
        return persistence::confirmations::claim_due(t, sweep_batch, claim_lease);
      });
  ask_db<std::vector<domain::confirmation>>(
      self, self->state.db_pool, std::move(job),
      [self](domain::result<std::vector<domain::confirmation>> rows) {
        if (!rows.ok() || rows->empty())
          return;
        const bool more = rows->size() == static_cast<std::size_t>(sweep_batch);
        confirmation_list list{std::move(*rows)};
        deliver(self, list);
        if (more)
          self->send(self, sweep_atom::value);
      });
}

notifier_actor::behavior_type notifier_behavior(notifier_pointer self, db_pool_actor db_pool,
                                                notifier_options options) {
  auto& st = self->state;
  st.options = options;
  st.db_pool = std::move(db_pool);
  if (!options.webhook_url.empty()) {
    st.poster = self->system().spawn<caf::detached>(webhook_poster, options.webhook_url,
                                                    options.webhook_timeout);
    self->link_to(st.poster);
  }
  self->set_exit_handler([=](caf::exit_msg& msg) {
    forget_delivered(self); // spares a second delivery after restart
    self->quit(msg.reason);
  });
  self->send(self, sweep_atom::value); // deliver what a previous run left behind
  sweep_notifications(self);
  self->delayed_send(self, options.sweep_interval, sweep_tick_atom::value);
  return {
      [=](notify_atom, confirmation_list& list) { deliver(self, list); },
      [=](notify_atom, notification_list& list) { deliver(self, list); },
      [=](forget_atom) { forget_delivered(self); },
      [=](sweep_atom) { sweep(self); },
      [=](sweep_tick_atom) {
        sweep(self);
        sweep_notifications(self);
        self->delayed_send(self, self->state.options.sweep_interval, sweep_tick_atom::value);
      },
  };
}

} // namespace

std::chrono::milliseconds retry_backoff(std::chrono::milliseconds retry_max, int attempts) {
  auto delay = std::chrono::milliseconds{1000LL << std::min(std::max(attempts, 0), 16)};
  return std::min(delay, retry_max);
}

notifier_actor spawn_notifier(caf::actor_system& sys, db_pool_actor db_pool,
                              const notifier_options& options) {
  return sys.spawn(notifier_behavior, std::move(db_pool), options);
}

} // namespace eventhub::actors
