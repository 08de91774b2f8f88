// The listing cache: answers GET /api/events from pages kept rendered in memory.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

namespace eventhub::actors {

struct listing_cache_options {
  std::chrono::milliseconds max_age{1000};       // a page older than this is never served
  std::chrono::milliseconds fill_timeout{10000}; // deadline of one database read
  std::size_t max_bytes = std::size_t{64} << 20; // kept pages (bodies, ETags, keys) beyond this
                                                 // are evicted, expired and oldest first
  std::size_t max_fills = 2;          // database reads in flight (half the pool, so purchases
                                      // always find connections); more misses wait in a queue
  std::size_t max_queued_fills = 256; // distinct keys waiting; a miss beyond them answers 503
};

class listing_board;

/// Send it `list_atom, listing_request` (a miss), `refresh_atom, listing_request` (a published
/// page past half its age) and `invalidate_atom` (answers when done: drops all pages). It
/// publishes its fresh pages on `board` for readers on other threads.
caf::actor spawn_listing_cache(caf::actor_system& sys, caf::actor db_pool,
                               const listing_cache_options& options,
                               std::shared_ptr<listing_board> board);

} // namespace eventhub::actors
