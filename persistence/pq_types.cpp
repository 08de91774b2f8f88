// PostgreSQL array literal encoding (elements quoted, '"' and '\' escaped).
#include "persistence/pq_types.hpp"

namespace eventhub::persistence {

std::string int_array(const std::vector<std::int64_t>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i)
      out += ',';
    out += std::to_string(values[i]);
  }
  return out + "}";
}

std::string text_array(const std::vector<std::optional<std::string>>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i)
      out += ',';
    if (!values[i]) {
      out += "NULL";
      continue;
    }
    out += '"';
    for (char c : *values[i]) {
      if (c == '"' || c == '\\')
        out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string bytea_param(pqxx::transaction_base& t, const std::string& bytes) {
  return t.esc_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

} // namespace eventhub::persistence
