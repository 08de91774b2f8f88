// The listing-cache actor. Owns the rendered pages (JSON body + ETag, keyed by query) and the
// fills in progress; only its handlers touch them, so no lock is needed.
//
// - A miss starts one database read per key, however many requests miss at once (single flight).
// - A page is served while younger than max-age and refreshed in the background after half of
//   it, so availability figures lag sales by at most max-age and readers rarely wait.
// - An invalidation (admin write, any node) drops every page and detaches the fills in flight:
//   requests that arrive after it never see data read before it.
#include "actors/listing_cache.hpp"

#include "actors/db_pool.hpp"
#include "actors/messages.hpp"
#include "domain/json.hpp"
#include "observability/metrics.hpp"
#include "persistence/event_repository.hpp"
#include "security/password.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include <unordered_map>

namespace eventhub::actors {
namespace {

using clock = std::chrono::steady_clock;

struct cache_metrics {
  metrics::counter& hits = metrics::registry::global().get_counter(
      "eventhub_listing_cache_requests_total", "Listing requests by cache result",
      {{"result", "hit"}});
  metrics::counter& misses = metrics::registry::global().get_counter(
      "eventhub_listing_cache_requests_total", "Listing requests by cache result",
      {{"result", "miss"}});
  metrics::counter& fills = metrics::registry::global().get_counter(
      "eventhub_listing_cache_fills_total", "Listing pages read from the database");
  metrics::counter& invalidations = metrics::registry::global().get_counter(
      "eventhub_listing_cache_invalidations_total", "Listing cache invalidations received");
};

cache_metrics& stats() {
  static cache_metrics m;
  return m;
}

struct entry {
  domain::rendered_page page;
  clock::time_point read_at; // when the database read started
};

struct fill {
  std::string key;
  std::uint64_t generation = 0;
  clock::time_point started;
  std::vector<domain::reply<domain::rendered_page>> waiters;
};

struct cache_state {
  listing_cache_options options;
  caf::actor db_pool;
  std::uint64_t generation = 0; // bumped by every invalidation
  std::uint64_t next_fill = 0;
  std::unordered_map<std::string, entry> pages;
  std::unordered_map<std::uint64_t, fill> fills;          // by fill id
  std::unordered_map<std::string, std::uint64_t> filling; // key -> fill id, current generation
};

using cache_actor = caf::stateful_actor<cache_state>;

domain::rendered_page render(const domain::page<domain::event>& page) {
  auto body = std::make_shared<const std::string>(domain::to_json(page));
  return {body, "\"" + security::content_digest(*body) + "\""};
}

void start_fill(cache_actor* self, const std::string& key, const domain::event_query& query,
                std::vector<domain::reply<domain::rendered_page>> waiters) {
  auto& st = self->state;
  const std::uint64_t id = ++st.next_fill;
  st.fills[id] = fill{key, st.generation, clock::now(), std::move(waiters)};
  st.filling[key] = id;
  stats().fills.inc();
  auto me = caf::actor_cast<caf::actor>(self);
  db_job job;
  job.due = clock::now() + st.options.fill_timeout;
  job.run = [me, id, query](persistence::session& s) {
    auto page = s.transact([&](persistence::tx& t) { return persistence::events::list(t, query); });
    caf::anon_send(me, filled_atom::value, listing_fill{id, render(page), {}});
  };
  job.fail = [me, id](const domain::error& e) {
    caf::anon_send(me, filled_atom::value, listing_fill{id, std::nullopt, e});
  };
  submit(st.db_pool, std::move(job));
}

void on_list(cache_actor* self, listing_request& req) {
  auto& st = self->state;
  const std::string key = req.query.cache_key();
  const auto now = clock::now();
  auto it = st.pages.find(key);
  if (it != st.pages.end() && now - it->second.read_at < st.options.max_age) {
    stats().hits.inc();
    req.reply(it->second.page);
    if (now - it->second.read_at >= st.options.max_age / 2 && !st.filling.count(key))
      start_fill(self, key, req.query, {});
    return;
  }
  stats().misses.inc();
  auto active = st.filling.find(key);
  if (active != st.filling.end()) {
    st.fills[active->second].waiters.push_back(std::move(req.reply));
    return;
  }
  std::vector<domain::reply<domain::rendered_page>> waiters;
  waiters.push_back(std::move(req.reply));
  start_fill(self, key, req.query, std::move(waiters));
}

void on_filled(cache_actor* self, listing_fill& result) {
  auto& st = self->state;
  auto it = st.fills.find(result.fill_id);
  if (it == st.fills.end())
    return;
  fill f = std::move(it->second);
  st.fills.erase(it);
  if (f.generation == st.generation) {
    st.filling.erase(f.key);
    if (result.page) {
      if (st.pages.size() >= st.options.max_entries)
        st.pages.clear(); // crude but bounded; hot pages come back on the next request
      st.pages[f.key] = entry{*result.page, f.started};
    }
  }
  for (auto& waiter : f.waiters) {
    if (result.page)
      waiter(*result.page);
    else
      waiter(result.failure);
  }
}

caf::behavior cache_behavior(cache_actor* self, caf::actor db_pool, listing_cache_options options) {
  self->state.db_pool = std::move(db_pool);
  self->state.options = options;
  return {
      [=](list_atom, listing_request& req) { on_list(self, req); },
      [=](filled_atom, listing_fill& result) { on_filled(self, result); },
      [=](invalidate_atom) {
        auto& st = self->state;
        ++st.generation;
        st.pages.clear();
        st.filling.clear(); // fills in flight still answer their waiters, but are not kept
        stats().invalidations.inc();
        return invalidate_atom::value;
      },
  };
}

} // namespace

caf::actor spawn_listing_cache(caf::actor_system& sys, caf::actor db_pool,
                               const listing_cache_options& options) {
  return sys.spawn(cache_behavior, std::move(db_pool), options);
}

} // namespace eventhub::actors
