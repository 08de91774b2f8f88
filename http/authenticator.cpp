// Bearer authentication; see authenticator.hpp.
#include "http/authenticator.hpp"

#include "http/decoders.hpp"

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

void authenticator::authenticate(const request& req, domain::reply<domain::principal> done) {
  auto token = bearer_token(req.header("authorization"));
  if (!token)
    return done(unauthenticated("A bearer token is required."));
  auto claims = tokens_->verify(*token, domain::now());
  if (!claims)
    return done(unauthenticated("The bearer token is invalid or expired."));
  const domain::principal who{claims->subject, claims->role};
  if (known(who.id))
    return done(who);
  participants_.find_participant(who.id, [this, who, done](domain::result<domain::participant> p) {
    if (p.ok()) {
      remember(who.id);
      return done(who);
    }
    if (p.err().code == domain::error_code::not_found)
      return done(unauthenticated("The bearer token names no participant."));
    done(p.err()); // database unavailable: 503, not a verdict on the token
  });
}

} // namespace eventhub::http
