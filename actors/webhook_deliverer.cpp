// The deliverer actor; see webhook_deliverer.hpp.
#include "actors/webhook_deliverer.hpp"

#include "actors/db_request.hpp"
#include "actors/webhook.hpp"
#include "domain/json.hpp"
#include "domain/webhooks.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "persistence/webhook_repository.hpp"
#include "security/outbound_target.hpp"
#include "security/random.hpp"
#include "security/webhook_signing.hpp"

#include <caf/actor_system.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <sodium.h>

#include <algorithm>
#include <deque>
#include <memory>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace db = persistence::webhooks;

constexpr int claim_batch = 200;
constexpr std::size_t flush_batch = 200;
constexpr milliseconds flush_delay{20};
constexpr milliseconds store_timeout{30000};
constexpr std::chrono::hours retry_after_cap{24};
constexpr std::string_view refused_prefix = "target refused: ";

/// One attempt for a poster: everything it needs to resolve, sign and POST.
struct attempt_job {
  std::string url;
  std::string secret;
  std::string message_id; // webhook-id
  std::string body;
  bool allow_private = false;
};

} // namespace
} // namespace eventhub::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::attempt_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(eventhub::actors::webhook_answer)

namespace eventhub::actors {
namespace {

using poster_actor =
    caf::typed_actor<caf::replies_to<post_atom, attempt_job>::with<webhook_answer>>;

/// Resolves and checks the target at every attempt (a DNS answer may change after the
/// registration), then POSTs to the checked addresses only.
webhook_answer attempt(webhook_client& client, const attempt_job& job) {
  auto url = security::parse_web_url(job.url);
  if (!url) {
    webhook_answer refused;
    refused.error = "the URL does not parse";
    return refused;
  }
  auto target = security::check_target(*url, job.allow_private);
  if (!target.allowed()) {
    webhook_answer refused;
    refused.error = std::string(refused_prefix) + target.refusal;
    return refused;
  }
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  webhook_request request;
  request.url = job.url;
  request.host = url->host;
  request.port = url->port;
  request.addresses = std::move(target.addresses);
  request.headers = {"webhook-id: " + job.message_id, "webhook-timestamp: " + std::to_string(now),
                     "webhook-signature: " +
                         security::webhook_signature(job.secret, job.message_id, now, job.body)};
  request.body = job.body;
  return client.post(request);
}

poster_actor::behavior_type poster(poster_actor::pointer, milliseconds timeout) {
  auto client = std::make_shared<webhook_client>(timeout);
  return {[client](post_atom, const attempt_job& job) { return attempt(*client, job); }};
}

metrics::counter& attempts_total(const std::string& outcome) {
  return metrics::registry::global().get_counter("eventhub_webhook_attempts_total",
                                                 "Webhook delivery attempts by outcome",
                                                 {{"outcome", outcome}});
}

struct deliverer_state {
  webhook_target target;
  delivery_options options;
  db_pool_actor db_pool;
  std::vector<poster_actor> posters;
  std::vector<std::size_t> idle;            // indexes into posters
  std::deque<db::message> queue;            // claimed, not yet attempted
  std::vector<db::attempt_record> outcomes; // not yet stored
  bool claiming = false;
  bool more_due = false; // the last claim was full
  bool flush_scheduled = false;
  bool gone = false; // answered 410: stop once the outcomes are stored
  bool refusal_logged = false;
};

using deliverer_pointer = deliverer_actor::stateful_pointer<deliverer_state>;

void dispatch(deliverer_pointer self);
void claim(deliverer_pointer self);

/// What an answer makes of its message.
db::attempt_record settle(const deliverer_state& st, const db::message& m,
                          const webhook_answer& a) {
  db::attempt_record r;
  r.message_id = m.id;
  r.type = m.type;
  r.attempt = m.attempts + 1;
  r.response_status = a.status;
  r.duration_ms = a.duration.count();
  r.attempted_at = domain::now();
  r.error = a.error;
  if (a.status >= 200 && a.status < 300) {
    r.outcome = r.next_status = "DELIVERED";
    return r;
  }
  if (a.status == 410) {
    r.outcome = "GONE";
    r.next_status = "FAILED";
    return r;
  }
  r.outcome = a.timed_out ? "TIMED_OUT" : "FAILED";
  const double unit = randombytes_uniform(1000000) / 1e6;
  auto delay = retry_delay(st.options.retry_schedule, r.attempt, unit, a.retry_after);
  r.next_status = delay ? "PENDING" : "FAILED";
  r.retry_in = delay.value_or(milliseconds{0});
  return r;
}

/// Stores the outcomes so far in one transaction (and the endpoint's disabling after a 410).
void flush(deliverer_pointer self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.outcomes.empty())
    return;
  auto outcomes = std::move(st.outcomes);
  st.outcomes.clear();
  std::optional<milliseconds> next_retry;
  for (const auto& o : outcomes)
    if (o.next_status == "PENDING")
      next_retry = std::min(next_retry.value_or(o.retry_in), o.retry_in);
  const bool gone = st.gone;
  const auto id = st.target.id;
  auto job = make_tx_job<std::optional<std::string>>(
      clock::now() + store_timeout, [id, outcomes = std::move(outcomes), gone](persistence::tx& t) {
        db::record(t, id, outcomes);
        return gone ? db::disable(t, id, "the endpoint answered 410 Gone")
                    : std::optional<std::string>{};
      });
  ask_db<std::optional<std::string>>(
      self, st.db_pool, std::move(job),
      [self, gone, next_retry](domain::result<std::optional<std::string>> r) {
        if (!r.ok())
          log::warn("webhook.store_failed", {{"webhook_id", self->state.target.id}});
        // Unstored outcomes: the leases end and the messages are tried again (after a 410, by
        // the deliverer the notifier starts again while the endpoint is still enabled).
        if (gone) {
          if (r.ok() && *r)
            log::warn(
                "webhook.disabled",
                {{"webhook_id", self->state.target.id}, {"url", **r}, {"reason", "410 Gone"}});
          self->quit();
          return;
        }
        if (r.ok() && next_retry)
          self->delayed_send(self, *next_retry + milliseconds{5}, wake_atom::value);
      });
}

void on_answer(deliverer_pointer self, std::size_t poster, const db::message& m,
               const webhook_answer& a) {
  auto& st = self->state;
  st.idle.push_back(poster);
  if (st.gone)
    return; // the endpoint is disabled: later answers change nothing
  if (a.status == 0 && !st.refusal_logged && a.error.rfind(refused_prefix, 0) == 0) {
    st.refusal_logged = true; // once per deliverer: its attempts all fail the same way
    log::warn("webhook.target_refused", {{"webhook_id", st.target.id}, {"reason", a.error}});
  }
  auto record = settle(st, m, a);
  attempts_total(record.outcome).inc();
  if (record.outcome == "GONE") {
    st.gone = true;
    st.queue.clear();
  }
  st.outcomes.push_back(std::move(record));
  if (st.gone || st.outcomes.size() >= flush_batch) {
    flush(self);
  } else if (!st.flush_scheduled) {
    st.flush_scheduled = true;
    self->delayed_send(self, flush_delay, flush_atom::value);
  }
  dispatch(self);
}

void dispatch(deliverer_pointer self) {
  auto& st = self->state;
  const auto timeout = st.options.timeout * 2 + std::chrono::seconds(30); // resolve + POST
  while (!st.gone && !st.idle.empty() && !st.queue.empty()) {
    const auto index = st.idle.back();
    st.idle.pop_back();
    auto m = std::move(st.queue.front());
    st.queue.pop_front();
    attempt_job job{st.target.url, st.target.secret, domain::webhook_message_id(m.id),
                    domain::compact_json(m.body), st.options.allow_private_targets};
    self->request(st.posters[index], timeout, post_atom::value, std::move(job))
        .then([self, index, m](webhook_answer& a) { on_answer(self, index, m, a); },
              [self, index, m](caf::error&) {
                webhook_answer lost;
                lost.timed_out = true;
                lost.error = "no answer from the poster";
                on_answer(self, index, m, lost);
              });
  }
  if (st.queue.empty() && st.more_due)
    claim(self);
}

void claim(deliverer_pointer self) {
  auto& st = self->state;
  const int in_flight = static_cast<int>(st.posters.size() - st.idle.size());
  const int queued = static_cast<int>(st.queue.size());
  const int room = st.options.queue - queued - in_flight;
  // Claim again only when the queue runs low: a message waits in memory for at most the
  // attempts ahead of it, well within the lease it was claimed with.
  if (st.claiming || st.gone || room <= 0 || queued > 2 * st.options.concurrency)
    return;
  const int limit = std::min(room, claim_batch);
  // Long enough for every queued and claimed message to be tried at the endpoint's concurrency.
  const auto lease = st.options.timeout * ((limit + queued) / st.options.concurrency + 2);
  st.claiming = true;
  st.more_due = false;
  const auto id = st.target.id;
  auto job = make_tx_job<std::vector<db::message>>(
      clock::now() + store_timeout,
      [id, limit, lease](persistence::tx& t) { return db::claim_due(t, id, limit, lease); });
  ask_db<std::vector<db::message>>(self, st.db_pool, std::move(job),
                                   [self, limit](domain::result<std::vector<db::message>> rows) {
                                     auto& st = self->state;
                                     st.claiming = false;
                                     if (!rows.ok())
                                       return; // the next tick tries again
                                     st.more_due = static_cast<int>(rows->size()) == limit;
                                     for (auto& m : *rows)
                                       st.queue.push_back(std::move(m));
                                     dispatch(self);
                                   });
}

deliverer_actor::behavior_type deliverer(deliverer_pointer self, db_pool_actor db_pool,
                                         webhook_target target, delivery_options options) {
  auto& st = self->state;
  st.target = std::move(target);
  st.options = options;
  st.db_pool = std::move(db_pool);
  security::ensure_sodium(); // randombytes_uniform for the jitter
  for (int i = 0; i < std::max(1, options.concurrency); ++i) {
    auto p = self->system().spawn<caf::detached>(poster, options.timeout);
    self->link_to(p);
    st.posters.push_back(std::move(p));
    st.idle.push_back(static_cast<std::size_t>(i));
  }
  claim(self);
  self->delayed_send(self, options.sweep_interval, deliver_tick_atom::value);
  return {
      [=](wake_atom) { claim(self); },
      [=](deliver_tick_atom) {
        claim(self);
        self->delayed_send(self, self->state.options.sweep_interval, deliver_tick_atom::value);
      },
      [=](flush_atom) { flush(self); },
  };
}

} // namespace

std::optional<milliseconds> retry_delay(const std::vector<milliseconds>& schedule, int attempt,
                                        double unit,
                                        std::optional<std::chrono::seconds> retry_after) {
  if (attempt < 1 || static_cast<std::size_t>(attempt) > schedule.size())
    return std::nullopt;
  const auto base = schedule[static_cast<std::size_t>(attempt) - 1];
  auto delay = milliseconds{static_cast<std::int64_t>(base.count() * (0.9 + 0.2 * unit))};
  if (retry_after)
    delay = std::max(delay, std::chrono::duration_cast<milliseconds>(
                                std::min<std::chrono::seconds>(*retry_after, retry_after_cap)));
  return delay;
}

deliverer_actor spawn_deliverer(caf::actor_system& sys, db_pool_actor db_pool,
                                webhook_target target, const delivery_options& options) {
  return sys.spawn(deliverer, std::move(db_pool), std::move(target), options);
}

} // namespace eventhub::actors
