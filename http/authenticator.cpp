// Bearer authentication; see authenticator.hpp.
#include "http/authenticator.hpp"

#include "http/decoders.hpp"

#include <atomic>
#include <unordered_map>

#include <cctype>

namespace eventhub::http {
namespace {

domain::error unauthenticated(const char* why) {
  return domain::make_error(domain::error_code::unauthenticated, why);
}

} // namespace

bool authenticator::known(std::int64_t id) {
  std::lock_guard<std::mutex> guard(known_mutex_);
  return known_ids_.count(id) > 0;
}

void authenticator::remember(std::int64_t id) {
  std::lock_guard<std::mutex> guard(known_mutex_);
  known_ids_.insert(id);
}

namespace {

/// Verified tokens of this thread, so that a client sending the same token with every request
/// pays for HMAC-SHA256, base64 and JSON parsing once (about 7 % of a purchase's CPU otherwise).
/// A token string that verified once verifies again until it expires; expiry is checked on
/// every use. Bounded: the cache is emptied when full.
class verified_tokens {
 public:
  /// Tokens verified by the authenticator `generation` (one cache serves one authenticator:
  /// another secret would judge differently).
  void use(std::uint64_t generation) {
    if (generation != generation_) {
      claims_.clear();
      generation_ = generation;
    }
  }
  std::optional<security::token_claims> find(std::string_view token, std::int64_t now_s) {
    auto it = claims_.find(std::string(token));
    if (it == claims_.end() || it->second.expires_at <= now_s)
      return std::nullopt;
    return it->second;
  }
  void add(std::string_view token, const security::token_claims& c) {
    if (claims_.size() >= capacity)
      claims_.clear();
    claims_.emplace(std::string(token), c);
  }

 private:
  static constexpr std::size_t capacity = 4096;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, security::token_claims> claims_;
};

std::optional<security::token_claims> verify_cached(const security::token_service& tokens,
                                                    std::uint64_t generation,
                                                    std::string_view token) {
  thread_local verified_tokens cache;
  cache.use(generation);
  const auto now = domain::now();
  const auto now_s = domain::to_micros(now) / 1000000;
  if (auto hit = cache.find(token, now_s))
    return hit;
  auto claims = tokens.verify(token, now);
  if (claims)
    cache.add(token, *claims);
  return claims;
}

} // namespace

std::uint64_t authenticator::next_generation() {
  static std::atomic<std::uint64_t> last{0};
  return ++last;
}

void authenticator::authenticate(const request& req, const post_fn& post,
                                 domain::reply<domain::principal> done) {
  auto token = bearer_token(req.header("authorization"));
  if (!token)
    return done(unauthenticated("A bearer token is required."));
  auto claims = verify_cached(*tokens_, generation_, *token);
  if (!claims)
    return done(unauthenticated("The bearer token is invalid or expired."));
  const domain::principal who{claims->subject, claims->role};
  if (known(who.id))
    return done(who);
  // Back on the I/O thread (on_io) before anything else: remember() and `done` never run on a
  // DB worker.
  auto confirmed = [this, who, done = std::move(done)](domain::result<domain::participant> p) {
    if (p.ok()) {
      remember(who.id);
      return done(who);
    }
    if (p.err().code == domain::error_code::not_found)
      return done(unauthenticated("The bearer token names no participant."));
    done(p.err()); // database unavailable: 503, not a verdict on the token
  };
  participants_.find_participant(who.id, on_io<domain::participant>(post, std::move(confirmed)));
}

} // namespace eventhub::http
