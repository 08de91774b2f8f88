// Bearer authentication; see authenticator.hpp.
#include "http/authenticator.hpp"

#include <cctype>

namespace eventhub::http {
namespace {

domain::error unauthenticated(const char* why) {
  return domain::make_error(domain::error_code::unauthenticated, why);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

} // namespace

std::optional<std::string_view> bearer_token(const request& req) {
  auto header = req.header("authorization");
  if (!header)
    return std::nullopt;
  std::string_view v = *header;
  auto space = v.find(' ');
  if (space == std::string_view::npos || !iequals(v.substr(0, space), "bearer"))
    return std::nullopt;
  auto token = v.substr(space + 1);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  if (token.empty())
    return std::nullopt;
  return token;
}

bool authenticator::known(std::int64_t id) {
  std::lock_guard<std::mutex> guard(known_mutex_);
  return known_ids_.count(id) > 0;
}

void authenticator::remember(std::int64_t id) {
  std::lock_guard<std::mutex> guard(known_mutex_);
  known_ids_.insert(id);
}

void authenticator::authenticate(const request& req, domain::reply<domain::principal> done) {
  auto token = bearer_token(req);
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
