// The notifier actor. Owns the purchase ids whose confirmations were delivered but whose outbox
// rows are not yet deleted; only its handlers touch them. Webhook POSTs block, so they run on a
// detached poster actor that owns the HTTP client; the notifier itself never blocks and never
// delays a purchase reply (event actors only send it a message after answering).
//
// At least once: a row is deleted only after its log line (and webhook) succeeded; a row whose
// delivery or deletion was lost (crash, database down) is claimed again by a sweep.
#include "actors/notifier.hpp"

#include "actors/db_pool.hpp"
#include "actors/messages.hpp"
#include "actors/webhook.hpp"
#include "domain/json.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/confirmation_repository.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
constexpr int sweep_batch = 200;
constexpr std::chrono::milliseconds forget_delay{20};
constexpr std::chrono::milliseconds claim_lease{60000};
using forget_atom = caf::atom_constant<caf::atom("forget")>;

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

std::string webhook_body(const domain::confirmation& c) {
  rapidjson::StringBuffer buffer;
  domain::json_writer w(buffer);
  w.StartObject();
  w.Key("type");
  w.String("purchase.confirmed");
  w.Key("purchaseId");
  w.Int64(c.purchase_id);
  w.Key("eventId");
  w.Int64(c.event_id);
  w.Key("participantId");
  w.Int64(c.participant_id);
  w.Key("quantity");
  w.Int(c.quantity);
  w.Key("requestId");
  w.String(c.request_id);
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void log_confirmation(const domain::confirmation& c) {
  log::info("purchase.confirmed", {{"purchase_id", c.purchase_id},
                                   {"event_id", c.event_id},
                                   {"participant_id", c.participant_id},
                                   {"quantity", static_cast<std::int64_t>(c.quantity)},
                                   {"request_id", c.request_id}});
}

/// Detached: owns the libcurl handle and blocks on POSTs.
caf::behavior webhook_poster(caf::event_based_actor* self, std::string url,
                             std::chrono::milliseconds timeout) {
  auto client = std::make_shared<webhook_client>(url, timeout);
  return {
      [=](notify_atom, confirmation_list& list) {
        std::vector<std::int64_t> ok, failed;
        std::string last_error;
        int max_attempts = 0;
        for (const auto& c : list.items) {
          std::string error;
          if (client->post(webhook_body(c), "confirmation-" + std::to_string(c.purchase_id),
                           error)) {
            ok.push_back(c.purchase_id);
          } else {
            failed.push_back(c.purchase_id);
            last_error = error;
            max_attempts = std::max(max_attempts, c.attempts);
          }
        }
        return caf::make_message(posted_atom::value, std::move(ok), std::move(failed),
                                 std::move(last_error), max_attempts);
      },
  };
}

struct notifier_state {
  notifier_options options;
  caf::actor db_pool, poster;
  std::vector<std::int64_t> to_forget;
  bool forget_scheduled = false;
};

using notifier_actor = caf::stateful_actor<notifier_state>;

std::chrono::milliseconds backoff(const notifier_options& o, int attempts) {
  auto delay = std::chrono::milliseconds{1000LL << std::min(attempts, 16)};
  return std::min(delay, o.retry_max);
}

void schedule_forget(notifier_actor* self) {
  if (!self->state.forget_scheduled) {
    self->state.forget_scheduled = true;
    self->delayed_send(self, forget_delay, forget_atom::value);
  }
}

void forget_delivered(notifier_actor* self) {
  auto& st = self->state;
  st.forget_scheduled = false;
  if (st.to_forget.empty())
    return;
  db_job job;
  job.due = clock::now() + std::chrono::seconds(30);
  job.run = [ids = std::move(st.to_forget)](persistence::session& s) {
    s.transact([&](persistence::tx& t) { persistence::confirmations::forget_delivered(t, ids); });
  };
  job.fail = [](const domain::error&) {
    log::warn("notify.forget_failed"); // the sweeper delivers those rows again: at least once
  };
  st.to_forget.clear();
  submit(st.db_pool, std::move(job));
}

void postpone(notifier_actor* self, std::vector<std::int64_t> ids, std::chrono::milliseconds delay,
              std::string reason) {
  db_job job;
  job.due = clock::now() + std::chrono::seconds(30);
  job.run = [ids = std::move(ids), delay, reason = std::move(reason)](persistence::session& s) {
    s.transact(
        [&](persistence::tx& t) { persistence::confirmations::postpone(t, ids, delay, reason); });
  };
  job.fail = [](const domain::error&) {};
  submit(self->state.db_pool, std::move(job));
}

void deliver(notifier_actor* self, confirmation_list& list) {
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
  self->send(st.poster, notify_atom::value, std::move(list));
}

void sweep(notifier_actor* self) {
  auto me = caf::actor_cast<caf::actor>(self);
  db_job job;
  job.due = clock::now() + self->state.options.sweep_interval;
  job.run = [me](persistence::session& s) {
    auto rows = s.transact([](persistence::tx& t) {
      return persistence::confirmations::claim_due(t, sweep_batch, claim_lease);
    });
    const bool more = rows.size() == static_cast<std::size_t>(sweep_batch);
    if (!rows.empty())
      caf::anon_send(me, notify_atom::value, confirmation_list{std::move(rows), true});
    if (more)
      caf::anon_send(me, sweep_atom::value);
  };
  job.fail = [](const domain::error&) {};
  submit(self->state.db_pool, std::move(job));
}

caf::behavior notifier_behavior(notifier_actor* self, caf::actor db_pool,
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
  self->delayed_send(self, options.sweep_interval, tick_atom::value);
  return {
      [=](notify_atom, confirmation_list& list) { deliver(self, list); },
      [=](posted_atom, std::vector<std::int64_t>& ok, std::vector<std::int64_t>& failed,
          std::string& error, int attempts) {
        auto& st = self->state;
        delivered_total().inc(ok.size());
        st.to_forget.insert(st.to_forget.end(), ok.begin(), ok.end());
        schedule_forget(self);
        if (!failed.empty()) {
          failed_total().inc(failed.size());
          log::warn("notify.webhook_failed",
                    {{"count", static_cast<std::int64_t>(failed.size())}, {"error", error}});
          postpone(self, std::move(failed), backoff(st.options, attempts), error);
        }
      },
      [=](forget_atom) { forget_delivered(self); },
      [=](sweep_atom) { sweep(self); },
      [=](tick_atom) {
        sweep(self);
        self->delayed_send(self, self->state.options.sweep_interval, tick_atom::value);
      },
  };
}

} // namespace

caf::actor spawn_notifier(caf::actor_system& sys, caf::actor db_pool,
                          const notifier_options& options) {
  return sys.spawn(notifier_behavior, std::move(db_pool), options);
}

} // namespace eventhub::actors
