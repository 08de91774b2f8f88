// The listing cache: answers GET /api/events from pages kept rendered in memory.
#pragma once

#include <caf/fwd.hpp>

#include <chrono>
#include <cstddef>

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

/// Send it `list_atom, listing_request`; `invalidate_atom` (answers when done) drops all pages.
caf::actor spawn_listing_cache(caf::actor_system& sys, caf::actor db_pool,
                               const listing_cache_options& options);

} // namespace eventhub::actors
