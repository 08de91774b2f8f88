// The listing cache's pages as an immutable snapshot. The listing-cache actor is the only writer:
// it publishes a new snapshot after it keeps or drops pages, and an empty one on invalidation
// before it acknowledges it. HTTP threads read the snapshot without a message, so a fresh hit
// costs no thread hop; misses, refreshes and invalidations remain messages to the actor.
#pragma once

#include "domain/model.hpp"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace eventhub::actors {

/// The freshness rules of a listing page read at `read_at`, in one place for the actor and the
/// board's readers: served while younger than max-age, refreshed ahead once past half of it.
inline bool servable(std::chrono::steady_clock::time_point read_at,
                     std::chrono::steady_clock::time_point now, std::chrono::milliseconds max_age) {
  return now - read_at < max_age;
}
inline bool due_for_refresh(std::chrono::steady_clock::time_point read_at,
                            std::chrono::steady_clock::time_point now,
                            std::chrono::milliseconds max_age) {
  return now - read_at >= max_age / 2;
}

struct published_page {
  domain::rendered_page page;
  std::chrono::steady_clock::time_point read_at;    // when its database read started
  std::shared_ptr<std::atomic<bool>> refresh_asked; // a refresh hint is sent once per page
};

using published_pages = std::unordered_map<std::string, published_page>;

class listing_board {
 public:
  explicit listing_board(std::chrono::milliseconds max_age);

  /// The page for `key` if younger than max-age. `refresh` is set when it is past half of it and
  /// no reader has asked for its refresh yet.
  std::optional<domain::rendered_page> lookup(const std::string& key, bool& refresh) const;

  void publish(std::shared_ptr<const published_pages> pages);

 private:
  std::chrono::milliseconds max_age_;
  mutable std::mutex mutex_; // guards only the pointer: readers copy it, the actor swaps it
  std::shared_ptr<const published_pages> pages_;
};

} // namespace eventhub::actors
