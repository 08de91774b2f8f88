// Validated inputs of service operations, built by the HTTP layer after decoding.
#pragma once

#include "domain/model.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace eventhub::domain {

struct page_request {
  int page = 0;
  int size = 20;

  std::int64_t offset() const { return static_cast<std::int64_t>(page) * size; }
};

/// GET /api/events query; equal queries share one cached page.
struct event_query {
  page_request paging;
  std::optional<std::string> text; // q: substring of name or venue, case-insensitive
  std::optional<timestamp> from;   // from <= startsAt
  std::optional<timestamp> to;     // startsAt < to

  std::string cache_key() const;
};

struct event_draft {
  std::string name;
  std::optional<std::string> description;
  std::string venue;
  timestamp starts_at;
  std::optional<timestamp> ends_at;
  std::int64_t capacity = 0;
};

struct new_participant {
  std::string email; // already lower-cased
  std::string password;
  std::string full_name;
  domain::role role = role::user;
};

struct login_request {
  std::string email; // already lower-cased
  std::string password;
  std::string client_address;
};

struct purchase_request {
  std::int64_t event_id = 0;
  std::int64_t participant_id = 0;
  std::int32_t quantity = 0;
  std::optional<std::string> idempotency_key;
  std::string request_id; // X-Request-Id, carried into the confirmation event
};

struct purchase_outcome {
  domain::purchase purchase;
  bool replayed = false; // an earlier purchase returned for a repeated Idempotency-Key
};

} // namespace eventhub::domain
