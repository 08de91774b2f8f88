// The listing-cache actor. Owns the rendered pages (JSON body + ETag, keyed by query), their
// byte count and the fills in progress; only its handlers touch them, so no lock is needed.
//
// - A miss starts one database read per key, however many requests miss at once (single flight):
//   later requests for the key wait on the fill in flight.
// - A page is served while younger than max-age, measured from when its read was queued (so
//   from before the read's snapshot), and refreshed in the background after half of it:
//   availability figures lag sales by at most max-age and readers rarely wait.
// - An invalidation (admin write, any node) drops every page and detaches the fills in flight:
//   they still answer the requests that joined them (those arrived before the invalidation,
//   concurrently with the write), but are never kept, so requests that arrive after it never see
//   data read before it.
// - Listing reads never take more than max_fills of the DB pool's connections (half of it), so a
//   flood of distinct queries cannot starve purchases: further misses queue here (bounded by
//   max_queued_fills; beyond it they answer 503 at once).
// - Fresh pages are also published as an immutable snapshot (listing_board) that HTTP threads
//   read without a message: a hit costs no thread hop. Only this actor writes it; an
//   invalidation publishes the empty snapshot before it is acknowledged.
// - Memory is bounded by max_bytes: a page is kept only if it fits; expired pages go first (they
//   can never be served again), then the oldest reads.
#include "actors/listing_cache.hpp"

#include "actors/listing_board.hpp"

#include "actors/db_request.hpp"
#include "domain/json.hpp"
#include "observability/metrics.hpp"
#include "persistence/event_repository.hpp"
#include "security/password.hpp"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <deque>
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
  metrics::counter& refused = metrics::registry::global().get_counter(
      "eventhub_listing_cache_refused_total",
      "Listing misses answered 503 because the listing's database reads were all busy");
  metrics::counter& invalidations = metrics::registry::global().get_counter(
      "eventhub_listing_cache_invalidations_total", "Listing cache invalidations received");
  metrics::counter& evictions = metrics::registry::global().get_counter(
      "eventhub_listing_cache_evictions_total", "Listing pages dropped to stay within the budget");
  metrics::gauge& pages = metrics::registry::global().get_gauge("eventhub_listing_cache_pages",
                                                                "Listing pages kept in memory");
  metrics::gauge& bytes = metrics::registry::global().get_gauge(
      "eventhub_listing_cache_bytes", "Bytes of the listing pages kept in memory");
};

cache_metrics& stats() {
  static cache_metrics m;
  return m;
}

struct entry {
  domain::rendered_page page;
  clock::time_point read_at; // when the database read was queued (before its snapshot)
  std::size_t bytes = 0;     // what this entry counts against max_bytes
  std::shared_ptr<std::atomic<bool>> refresh_asked = std::make_shared<std::atomic<bool>>(false);
};

using waiter = caf::typed_response_promise<listing_answer>;

struct fill {
  std::string key;
  domain::event_query query;
  std::uint64_t generation = 0;
  clock::time_point started; // when its database read was handed to the pool
  std::vector<waiter> waiters;
};

struct cache_state {
  listing_cache_options options;
  db_pool_actor db_pool;
  page_reader read;
  std::uint64_t generation = 0; // bumped by every invalidation
  std::uint64_t next_fill = 0;
  std::unordered_map<std::string, entry> pages;
  std::size_t bytes = 0;                                  // sum of pages' entry::bytes
  std::unordered_map<std::uint64_t, fill> fills;          // by fill id
  std::unordered_map<std::string, std::uint64_t> filling; // key -> fill id, current generation
  std::size_t running = 0;          // fills whose database read is in the pool
  std::deque<std::uint64_t> queued; // fills waiting for one of the max_fills slots
  std::shared_ptr<listing_board> board;
  bool snapshot_due = false; // a publish of the pages is scheduled

  void publish() const {
    stats().pages.set(static_cast<double>(pages.size()));
    stats().bytes.set(static_cast<double>(bytes));
  }
};

using cache_actor = listing_cache_actor::stateful_base<cache_state>;

/// Builds and publishes the snapshot of the kept pages now.
void publish_snapshot(cache_actor* self) {
  auto& st = self->state;
  st.snapshot_due = false;
  auto snapshot = std::make_shared<published_pages>();
  snapshot->reserve(st.pages.size());
  for (const auto& [key, e] : st.pages)
    snapshot->emplace(key, published_page{e.page, e.read_at, e.refresh_asked});
  st.board->publish(std::move(snapshot));
}

/// Publishes soon: fills arrive in bursts, and one copy of the map serves them all. Readers
/// that miss meanwhile are answered by the actor itself.
void schedule_snapshot(cache_actor* self) {
  if (!self->state.snapshot_due) {
    self->state.snapshot_due = true;
    self->delayed_send(self, std::chrono::milliseconds{2}, publish_atom::value);
  }
}

/// Map and string overhead of one entry, on top of its body, ETag and key bytes.
constexpr std::size_t entry_overhead = 160;

std::size_t footprint(const std::string& key, const domain::rendered_page& page) {
  return entry_overhead + 2 * key.size() + page.etag.size() + (page.body ? page.body->size() : 0);
}

domain::rendered_page render(const domain::page<domain::event>& page) {
  auto body = std::make_shared<const std::string>(domain::to_json(page));
  return {body, "\"" + security::content_digest(*body) + "\""};
}

bool stale(const cache_state& st, const entry& e, clock::time_point now) {
  return !servable(e.read_at, now, st.options.max_age);
}

void erase(cache_state& st, std::unordered_map<std::string, entry>::iterator it) {
  st.bytes -= it->second.bytes;
  st.pages.erase(it);
}

/// Frees room for `needed` bytes: expired pages first; then, if that is not enough, the oldest
/// reads until a quarter of the budget is free as well, so the sort is not repeated per insert.
void make_room(cache_state& st, std::size_t needed, clock::time_point now) {
  const std::size_t budget = st.options.max_bytes;
  for (auto it = st.pages.begin(); it != st.pages.end();) {
    auto next = std::next(it);
    if (stale(st, it->second, now))
      erase(st, it);
    it = next;
  }
  if (st.bytes + needed <= budget)
    return;
  std::vector<std::pair<clock::time_point, std::string>> by_age;
  by_age.reserve(st.pages.size());
  for (const auto& [key, e] : st.pages)
    by_age.emplace_back(e.read_at, key);
  std::sort(by_age.begin(), by_age.end());
  const std::size_t target = budget - std::min(budget, needed + budget / 4);
  for (const auto& [read_at, key] : by_age) {
    if (st.bytes <= target)
      break;
    erase(st, st.pages.find(key));
    stats().evictions.inc();
  }
}

/// Keeps a freshly read page if it is still fresh and fits the budget.
void keep(cache_state& st, const std::string& key, const domain::rendered_page& page,
          clock::time_point read_at) {
  if (auto old = st.pages.find(key); old != st.pages.end())
    erase(st, old);
  const auto now = clock::now();
  const std::size_t bytes = footprint(key, page);
  if (!servable(read_at, now, st.options.max_age) || bytes > st.options.max_bytes)
    return; // served to its waiters only
  if (st.bytes + bytes > st.options.max_bytes)
    make_room(st, bytes, now);
  st.pages.emplace(key, entry{page, read_at, bytes});
  st.bytes += bytes;
}

void on_filled(cache_actor* self, std::uint64_t fill_id, listing_answer result);

void launch(cache_actor* self, std::uint64_t id) {
  auto& st = self->state;
  auto& f = st.fills[id];
  f.started = clock::now();
  ++st.running;
  stats().fills.inc();
  auto job = make_db_job<domain::rendered_page>(
      clock::now() + st.options.fill_timeout,
      [read = st.read, query = f.query](persistence::session& s) {
        return render(read(s, query));
      });
  ask_db<domain::rendered_page>(self, st.db_pool, std::move(job), [self, id](listing_answer r) {
    on_filled(self, id, std::move(r));
  });
}

/// Whether a fill may start now or queue (false when max_queued_fills wait already).
bool can_start_fill(const cache_state& st) {
  return st.running < st.options.max_fills || st.queued.size() < st.options.max_queued_fills;
}

/// Registers a fill of `key` and runs it, or queues it while max_fills reads are running (so
/// listings never take more of the DB pool than that). False when the queue is full too.
bool start_fill(cache_actor* self, const std::string& key, const domain::event_query& query,
                std::vector<waiter> waiters) {
  auto& st = self->state;
  if (!can_start_fill(st))
    return false;
  const bool slot = st.running < st.options.max_fills;
  const std::uint64_t id = ++st.next_fill;
  st.fills[id] = fill{key, query, st.generation, clock::now(), std::move(waiters)};
  st.filling[key] = id;
  if (slot)
    launch(self, id);
  else
    st.queued.push_back(id);
  return true;
}

/// Starts a background refill of a page past half its age, unless one is under way or the
/// fill slots are busy (a refresh-ahead never queues: nobody waits for it).
void refresh_ahead(cache_actor* self, const std::string& key, const domain::event_query& query) {
  auto& st = self->state;
  if (st.filling.count(key) || st.running >= st.options.max_fills || !st.queued.empty())
    return;
  start_fill(self, key, query, {});
}

caf::result<listing_answer> on_list(cache_actor* self, const domain::event_query& query) {
  auto& st = self->state;
  const std::string key = query.cache_key();
  const auto now = clock::now();
  auto it = st.pages.find(key);
  if (it != st.pages.end() && !stale(st, it->second, now)) {
    stats().hits.inc();
    listing_answer page = it->second.page;
    if (due_for_refresh(it->second.read_at, now, st.options.max_age))
      refresh_ahead(self, key, query);
    return page;
  }
  stats().misses.inc();
  auto active = st.filling.find(key);
  if (active != st.filling.end()) {
    auto promise = self->make_response_promise<listing_answer>();
    st.fills[active->second].waiters.push_back(promise);
    return promise;
  }
  if (!can_start_fill(st)) {
    // Thousands of distinct queries missing at once (a crawler, an attack): the bounded queue
    // is full, so answer now rather than wait without bound.
    stats().refused.inc();
    return listing_answer(domain::unavailable("Too many listing queries at once; try again."));
  }
  // A promise is made only when the answer comes later: once made, it alone answers.
  auto promise = self->make_response_promise<listing_answer>();
  start_fill(self, key, query, {promise});
  return promise;
}

void on_filled(cache_actor* self, std::uint64_t fill_id, listing_answer result) {
  auto& st = self->state;
  auto it = st.fills.find(fill_id);
  if (it == st.fills.end())
    return;
  fill f = std::move(it->second);
  st.fills.erase(it);
  --st.running;
  while (st.running < st.options.max_fills && !st.queued.empty()) {
    const auto next = st.queued.front();
    st.queued.pop_front();
    launch(self, next);
  }
  if (f.generation == st.generation) {
    // Only this generation's fill of the key can be registered: invalidations clear `filling`.
    st.filling.erase(f.key);
    if (result.ok())
      keep(st, f.key, *result, f.started);
    st.publish();
    schedule_snapshot(self);
  }
  for (auto& w : f.waiters)
    w.deliver(result);
}

void on_invalidate(cache_actor* self) {
  auto& st = self->state;
  ++st.generation;
  st.pages.clear();
  st.bytes = 0;
  st.filling.clear(); // fills in flight still answer their waiters, but are not kept
  stats().invalidations.inc();
  st.publish();
  publish_snapshot(self); // before the acknowledgement: no reader sees a page from before it
}

listing_cache_actor::behavior_type cache_behavior(cache_actor* self, db_pool_actor db_pool,
                                                  listing_cache_options options,
                                                  std::shared_ptr<listing_board> board,
                                                  page_reader read) {
  self->state.db_pool = std::move(db_pool);
  self->state.options = options;
  self->state.board = std::move(board);
  self->state.read = std::move(read);
  self->state.publish();
  return {
      [=](list_atom, domain::event_query& query) { return on_list(self, query); },
      [=](refresh_ahead_atom, domain::event_query& query) {
        // A reader of the board saw the page past half its age; refill it if still kept.
        const auto key = query.cache_key();
        if (self->state.pages.count(key))
          refresh_ahead(self, key, query);
      },
      [=](publish_atom) { publish_snapshot(self); },
      [=](invalidate_atom) {
        on_invalidate(self);
        return invalidated_atom::value;
      },
  };
}

} // namespace

listing_cache_actor spawn_listing_cache(caf::actor_system& sys, db_pool_actor db_pool,
                                        const listing_cache_options& options,
                                        std::shared_ptr<listing_board> board, page_reader read) {
  if (!read)
    read = [](persistence::session& s, const domain::event_query& query) {
      return s.transact([&](persistence::tx& t) { return persistence::events::list(t, query); });
    };
  return sys.spawn(cache_behavior, std::move(db_pool), options, std::move(board), std::move(read));
}

} // namespace eventhub::actors
