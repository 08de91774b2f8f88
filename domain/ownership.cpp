// Rendezvous hashing with FNV-1a over the member name, mixed with the event id (splitmix64).
#include "domain/ownership.hpp"

namespace eventhub::domain {
namespace {

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

} // namespace

std::uint64_t rendezvous_weight(const std::string& member, std::int64_t event_id) {
  return mix(fnv1a(member) ^ mix(static_cast<std::uint64_t>(event_id)));
}

const std::string& owner_of(std::int64_t event_id, const std::vector<std::string>& members) {
  static const std::string none;
  const std::string* best = &none;
  std::uint64_t best_weight = 0;
  for (const auto& m : members) {
    const auto w = rendezvous_weight(m, event_id);
    // ties (practically impossible) go to the smaller name, so every node agrees
    if (best->empty() || w > best_weight || (w == best_weight && m < *best)) {
      best = &m;
      best_weight = w;
    }
  }
  return *best;
}

} // namespace eventhub::domain
