// Participants: registration, login lookup, reads.
#pragma once

#include "domain/commands.hpp"
#include "domain/result.hpp"
#include "persistence/session.hpp"

#include <optional>

namespace eventhub::persistence::participants {

/// conflict when the email is taken (the unique constraint decides under concurrency).
domain::result<domain::participant> insert(tx& t, const domain::new_participant& p,
                                           const std::string& password_hash);

std::optional<domain::participant> find(tx& t, std::int64_t id);

struct login_record {
  std::int64_t id;
  domain::role role;
  std::string password_hash;
};
std::optional<login_record> find_login(tx& t, const std::string& email);

domain::page<domain::participant> list(tx& t, const domain::page_request& paging);

} // namespace eventhub::persistence::participants
