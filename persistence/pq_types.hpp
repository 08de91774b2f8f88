// libpqxx 6.4 glue: PostgreSQL array literals (std::optional parameters are built in).
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace eventhub::persistence {

/// `{1,2,3}`: a bigint[] parameter.
std::string int_array(const std::vector<std::int64_t>& values);

/// `{"a","b\"c",NULL}`: a text[] parameter; empty optionals become NULL.
std::string text_array(const std::vector<std::optional<std::string>>& values);

/// A bytea parameter in PostgreSQL's hex format (binary data in a text parameter).
std::string bytea_param(pqxx::transaction_base& t, const std::string& bytes);

} // namespace eventhub::persistence
