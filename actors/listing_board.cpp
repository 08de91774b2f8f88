// Snapshot reads of the listing cache; see listing_board.hpp.
#include "actors/listing_board.hpp"

#include "observability/metrics.hpp"

namespace eventhub::actors {

listing_board::listing_board(std::chrono::milliseconds max_age)
    : max_age_(max_age), pages_(std::make_shared<const published_pages>()) {}

std::optional<domain::rendered_page> listing_board::lookup(const std::string& key,
                                                           bool& refresh) const {
  static auto& hits = metrics::registry::global().get_counter(
      "eventhub_listing_cache_requests_total", "Listing requests by cache result",
      {{"result", "hit"}});
  std::shared_ptr<const published_pages> pages;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    pages = pages_;
  }
  auto it = pages->find(key);
  if (it == pages->end())
    return std::nullopt;
  const auto now = std::chrono::steady_clock::now();
  if (!servable(it->second.read_at, now, max_age_))
    return std::nullopt;
  refresh = due_for_refresh(it->second.read_at, now, max_age_) &&
            !it->second.refresh_asked->exchange(true);
  hits.inc();
  return it->second.page;
}

void listing_board::publish(std::shared_ptr<const published_pages> pages) {
  std::lock_guard<std::mutex> guard(mutex_);
  pages_ = std::move(pages);
}

} // namespace eventhub::actors
