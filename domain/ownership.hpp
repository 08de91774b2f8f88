// Which node owns an event: rendezvous (highest random weight) hashing of the event id over the
// live member names. Every node computes the same answer from the same member list, and a
// membership change moves only the events of the node that joined or left.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace eventhub::domain {

/// The member with the highest weight for `event_id`; empty when `members` is empty.
const std::string& owner_of(std::int64_t event_id, const std::vector<std::string>& members);

/// The weight of `member` for `event_id` (stable across processes and platforms).
std::uint64_t rendezvous_weight(const std::string& member, std::int64_t event_id);

} // namespace eventhub::domain
