// The participant body shared by registration and admin creation.
#pragma once

#include "domain/commands.hpp"
#include "http/validation.hpp"

#include <optional>

namespace eventhub::http {

/// Reads {email, password, fullName[, role]}; `allow_role` only for ADMIN callers.
std::optional<domain::new_participant> read_new_participant(validator& v, bool allow_role);

std::string lower_case(std::string s);

} // namespace eventhub::http
