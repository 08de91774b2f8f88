// The notifier actor. Owns the outbox rows logged but not yet fanned out, and the map of
// deliverers (one per enabled endpoint); only its handlers touch them. It never blocks and
// never delays a purchase reply: event actors only send it a message after answering, and
// every database write it makes goes through the pool.
//
// At least once: an outbox row is deleted only by the fan-out transaction that writes its
// webhook messages, after its log line reached stdout (flushed, fsynced for a file); a row whose
// fan-out was lost (crash, database down) is claimed again by a sweep and logged and fanned out
// again (the messages' unique source makes no second message).
#include "actors/notifier.hpp"

#include "actors/db_request.hpp"
#include "actors/webhook_deliverer.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/confirmation_repository.hpp"
#include "persistence/webhook_repository.hpp"
#include "security/ticket_codes.hpp"
#include "security/webhook_signing.hpp"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <set>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
namespace hooks = persistence::webhooks;
constexpr int sweep_batch = 200;
constexpr std::chrono::milliseconds forget_delay{20};
constexpr std::chrono::milliseconds claim_lease{60000};
constexpr std::chrono::seconds store_timeout{30};

metrics::counter& delivered_total() {
  static auto& c = metrics::registry::global().get_counter(
      "eventhub_confirmations_delivered_total",
      "Outbox notifications delivered (logged and handed to their webhook endpoints)");
  return c;
}

void log_confirmation(const domain::confirmation& c) {
  log::info("purchase.confirmed", {{"purchase_id", c.purchase_id},
                                   {"event_id", c.event_id},
                                   {"participant_id", c.participant_id},
                                   {"quantity", static_cast<std::int64_t>(c.quantity)},
                                   {"request_id", c.request_id}});
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

struct notifier_state {
  notifier_options options;
  db_pool_actor db_pool;
  std::shared_ptr<const security::key_sealer> sealer;
  std::vector<std::int64_t> confirmations_to_forget; // purchase ids
  std::vector<std::int64_t> notifications_to_forget; // outbox ids
  bool forget_scheduled = false;
  std::map<std::int64_t, deliverer_actor> deliverers; // by endpoint id
  bool reloading = false;
};

using notifier_pointer = notifier_actor::stateful_pointer<notifier_state>;

void reload_endpoints(notifier_pointer self);

void schedule_forget(notifier_pointer self) {
  if (!self->state.forget_scheduled) {
    self->state.forget_scheduled = true;
    self->delayed_send(self, forget_delay, forget_atom::value);
  }
}

/// Flushes the log, fans the logged rows out to their endpoints in one transaction (deleting
/// them from the outbox), then wakes the deliverers that got messages. A lost transaction only
/// means a sweep delivers those rows again.
void forget_delivered(notifier_pointer self) {
  auto& st = self->state;
  st.forget_scheduled = false;
  if (st.confirmations_to_forget.empty() && st.notifications_to_forget.empty())
    return;
  auto job = make_tx_job<std::vector<std::int64_t>>(
      clock::now() + store_timeout,
      [confirmations = std::move(st.confirmations_to_forget),
       notifications = std::move(st.notifications_to_forget)](persistence::tx& t) {
        // The rows' log lines may be their only delivery (no webhook): they reach stdout (and
        // the disk, for a file) before the rows can be deleted. On the pool's thread: it blocks.
        log::flush_durably();
        auto endpoints = hooks::fan_out_confirmations(t, confirmations);
        auto more = hooks::fan_out_notifications(t, notifications);
        endpoints.insert(endpoints.end(), more.begin(), more.end());
        return endpoints;
      });
  st.confirmations_to_forget.clear();
  st.notifications_to_forget.clear();
  ask_db<std::vector<std::int64_t>>(
      self, st.db_pool, std::move(job), [self](domain::result<std::vector<std::int64_t>> r) {
        if (!r.ok()) {
          log::warn("notify.fan_out_failed");
          return;
        }
        for (auto id : std::set<std::int64_t>(r->begin(), r->end())) {
          auto it = self->state.deliverers.find(id);
          if (it != self->state.deliverers.end())
            self->send(it->second, wake_atom::value);
          else
            reload_endpoints(self); // created on another node since the last reload
        }
      });
}

void deliver(notifier_pointer self, confirmation_list& list) {
  auto& st = self->state;
  for (const auto& c : list.items) {
    log_confirmation(c);
    st.confirmations_to_forget.push_back(c.purchase_id);
  }
  delivered_total().inc(list.items.size());
  schedule_forget(self);
}

void deliver(notifier_pointer self, notification_list& list) {
  auto& st = self->state;
  for (const auto& n : list.items) {
    log_notification(n);
    st.notifications_to_forget.push_back(n.id);
  }
  delivered_total().inc(list.items.size());
  schedule_forget(self);
}

template <class Row, class List, class Claim>
void sweep_outbox(notifier_pointer self, Claim claim_due, bool follow_up) {
  auto job = make_tx_job<std::vector<Row>>(
      clock::now() + self->state.options.sweep_interval,
      [claim_due](persistence::tx& t) { return claim_due(t, sweep_batch, claim_lease); });
  ask_db<std::vector<Row>>(self, self->state.db_pool, std::move(job),
                           [self, follow_up](domain::result<std::vector<Row>> rows) {
                             if (!rows.ok() || rows->empty())
                               return;
                             const bool more =
                                 rows->size() == static_cast<std::size_t>(sweep_batch);
                             List list{std::move(*rows)};
                             deliver(self, list);
                             if (more && follow_up)
                               self->send(self, sweep_atom::value);
                           });
}

void sweep(notifier_pointer self) {
  sweep_outbox<domain::confirmation, confirmation_list>(
      self,
      [](persistence::tx& t, int limit, std::chrono::milliseconds lease) {
        return persistence::confirmations::claim_due(t, limit, lease);
      },
      true);
}

void sweep_notifications(notifier_pointer self) {
  sweep_outbox<domain::notification, notification_list>(
      self,
      [](persistence::tx& t, int limit, std::chrono::milliseconds lease) {
        return persistence::notifications::claim_due(t, limit, lease);
      },
      false);
}

/// Starts a deliverer for each enabled endpoint that has none, stops those of endpoints gone.
void apply_endpoints(notifier_pointer self, std::vector<webhook_target>& targets) {
  auto& st = self->state;
  std::set<std::int64_t> wanted;
  for (auto& t : targets) {
    wanted.insert(t.id);
    auto& d = st.deliverers[t.id];
    if (!d) {
      d = spawn_deliverer(self->system(), st.db_pool, std::move(t), st.options.delivery);
      self->monitor(d);
    }
  }
  for (auto it = st.deliverers.begin(); it != st.deliverers.end();) {
    if (wanted.count(it->first)) {
      ++it;
      continue;
    }
    self->send_exit(it->second, caf::exit_reason::user_shutdown);
    it = st.deliverers.erase(it);
  }
}

void reload_endpoints(notifier_pointer self) {
  auto& st = self->state;
  if (st.reloading)
    return;
  st.reloading = true;
  auto job = make_tx_job<std::vector<webhook_target>>(
      clock::now() + store_timeout, [sealer = st.sealer](persistence::tx& t) {
        std::vector<webhook_target> out;
        for (auto& e : hooks::enabled_endpoints(t)) {
          auto secret = sealer->open_bytes(e.sealed_secret, security::webhook_secret_ad(e.id));
          if (!secret) {
            log::error("webhook.secret_unreadable", {{"webhook_id", e.id}});
            continue; // sealed under another tickets.key-secret: signing would be forgery
          }
          out.push_back({e.id, std::move(e.url), std::move(*secret)});
        }
        return out;
      });
  ask_db<std::vector<webhook_target>>(self, st.db_pool, std::move(job),
                                      [self](domain::result<std::vector<webhook_target>> r) {
                                        self->state.reloading = false;
                                        if (r.ok())
                                          apply_endpoints(self, *r);
                                      });
}

/// Writes notify.webhook-url into the endpoints (or removes it), then loads them all.
void configure_endpoint(notifier_pointer self) {
  auto& st = self->state;
  auto job = make_tx_job<domain::unit>(
      clock::now() + store_timeout,
      [url = st.options.webhook_url, secret = st.options.webhook_secret,
       sealer = st.sealer](persistence::tx& t) {
        hooks::configure(t, url, [&](std::int64_t id) {
          return sealer->seal_bytes(secret, security::webhook_secret_ad(id));
        });
        return domain::unit{};
      });
  ask_db<domain::unit>(self, st.db_pool, std::move(job), [self](domain::result<domain::unit> r) {
    if (!r.ok())
      log::warn("webhook.configure_failed"); // the tick reloads what there is
    reload_endpoints(self);
  });
}

notifier_actor::behavior_type notifier_behavior(notifier_pointer self, db_pool_actor db_pool,
                                                std::shared_ptr<const security::key_sealer> sealer,
                                                notifier_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.db_pool = std::move(db_pool);
  st.sealer = std::move(sealer);
  self->set_down_handler([=](caf::down_msg& msg) {
    auto& ds = self->state.deliverers;
    for (auto it = ds.begin(); it != ds.end(); ++it)
      if (it->second.address() == msg.source) {
        ds.erase(it); // stopped by a 410; a re-created endpoint gets a new one at reload
        return;
      }
  });
  self->set_exit_handler([=](caf::exit_msg& msg) {
    forget_delivered(self); // spares a second delivery after restart
    for (auto& [id, d] : self->state.deliverers)
      self->send_exit(d, msg.reason);
    self->state.deliverers.clear();
    self->quit(msg.reason);
  });
  configure_endpoint(self);
  self->send(self, sweep_atom::value); // deliver what a previous run left behind
  sweep_notifications(self);
  self->delayed_send(self, st.options.sweep_interval, sweep_tick_atom::value);
  return {
      [=](notify_atom, confirmation_list& list) { deliver(self, list); },
      [=](notify_atom, notification_list& list) { deliver(self, list); },
      [=](endpoints_atom) { reload_endpoints(self); },
      [=](forget_atom) { forget_delivered(self); },
      [=](sweep_atom) { sweep(self); },
      [=](sweep_tick_atom) {
        sweep(self);
        sweep_notifications(self);
        reload_endpoints(self);
        self->delayed_send(self, self->state.options.sweep_interval, sweep_tick_atom::value);
      },
  };
}

} // namespace

notifier_actor spawn_notifier(caf::actor_system& sys, db_pool_actor db_pool,
                              std::shared_ptr<const security::key_sealer> sealer,
                              const notifier_options& options) {
  return sys.spawn(notifier_behavior, std::move(db_pool), std::move(sealer), options);
}

} // namespace eventhub::actors
