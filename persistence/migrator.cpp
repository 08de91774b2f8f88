// Migration runner: advisory lock, history table, checksum validation, one transaction.
#include "persistence/migrator.hpp"

#include "observability/log.hpp"
#include "persistence/pq_types.hpp"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <optional>

namespace eventhub::persistence {
namespace {

// Any constant shared by all nodes; "EVHBMIGR" in ASCII.
constexpr std::int64_t migration_lock_key = 0x455648424d494752;

constexpr const char* create_history_sql = R"(
CREATE TABLE IF NOT EXISTS flyway_schema_history (
    installed_rank integer       NOT NULL PRIMARY KEY,
    version        varchar(50),
    description    varchar(200)  NOT NULL,
    type           varchar(20)   NOT NULL,
    script         varchar(1000) NOT NULL,
    checksum       integer,
    installed_by   varchar(100)  NOT NULL,
    installed_on   timestamp     NOT NULL DEFAULT now(),
    execution_time integer       NOT NULL,
    success        boolean       NOT NULL
))";

struct applied_row {
  std::string script;
  std::int32_t checksum;
  bool success;
};

std::map<int, applied_row> applied_migrations(pqxx::work& w) {
  std::map<int, applied_row> rows;
  for (const auto& r :
       w.exec("SELECT version, script, checksum, success FROM flyway_schema_history "
              "WHERE version IS NOT NULL")) {
    int version = 0;
    try {
      version = std::stoi(r[0].c_str());
    } catch (const std::exception&) {
      continue; // not ours (e.g. dotted versions of another tool)
    }
    rows[version] = {r[1].c_str(), r[2].is_null() ? 0 : r[2].as<std::int32_t>(), r[3].as<bool>()};
  }
  return rows;
}

void verify_applied(const migration& m, const applied_row& row) {
  if (!row.success)
    throw migration_error("migration " + row.script +
                          " is recorded as failed; repair the "
                          "flyway_schema_history table before starting");
  if (row.checksum != m.checksum)
    throw migration_error("migration " + m.script + " was changed after it was applied (checksum " +
                          std::to_string(row.checksum) + " in the database, " +
                          std::to_string(m.checksum) +
                          " in the file); add a new migration instead");
}

void apply(pqxx::work& w, const migration& m, int rank) {
  const auto start = std::chrono::steady_clock::now();
  try {
    w.exec(m.sql);
  } catch (const pqxx::sql_error& e) {
    throw migration_error("migration " + m.script + " failed: " + e.what());
  }
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  w.exec_params("INSERT INTO flyway_schema_history (installed_rank, version, description, type, "
                "script, checksum, installed_by, execution_time, success) "
                "VALUES ($1, $2, $3, 'SQL', $4, $5, current_user, $6, true)",
                rank, std::to_string(m.version), m.description, m.script, m.checksum,
                static_cast<int>(ms));
  log::info("db.migration_applied", {{"script", m.script}, {"ms", static_cast<std::int64_t>(ms)}});
}

} // namespace

std::int32_t flyway_checksum(std::string_view sql) {
  uLong crc = crc32(0L, Z_NULL, 0);
  std::size_t pos = 0;
  bool first = true;
  while (pos < sql.size()) {
    std::size_t end = sql.find_first_of("\r\n", pos);
    std::string_view line =
        sql.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (first && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF")
      line.remove_prefix(3); // a UTF-8 byte order mark is not part of the checksum
    first = false;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(line.data()), static_cast<uInt>(line.size()));
    if (end == std::string_view::npos)
      break;
    pos = end + 1;
    if (sql[end] == '\r' && pos < sql.size() && sql[pos] == '\n')
      ++pos;
  }
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(crc));
}

namespace {

/// Splits "V12__add_index.sql" into 12 and "add index"; nullopt unless the name has that form.
std::optional<std::pair<int, std::string>> parse_name(const std::string& name) {
  const std::string suffix = ".sql";
  const auto sep = name.find("__");
  if (name.size() < 1 + 1 + 2 + 1 + suffix.size() || name[0] != 'V' || sep == std::string::npos ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0)
    return std::nullopt;
  const std::string digits = name.substr(1, sep - 1);
  std::string description = name.substr(sep + 2, name.size() - suffix.size() - sep - 2);
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (digits.empty() || digits.size() > 9 || !std::all_of(digits.begin(), digits.end(), is_digit) ||
      description.empty() || !std::all_of(description.begin(), description.end(), is_word))
    return std::nullopt;
  std::replace(description.begin(), description.end(), '_', ' ');
  return std::make_pair(std::stoi(digits), description);
}

} // namespace

std::vector<migration> load_migrations(const std::vector<migration_file>& files) {
  std::vector<migration> out;
  for (const auto& f : files) {
    auto parsed = parse_name(f.name);
    if (!parsed)
      throw migration_error("migration file " + f.name + " is not named V<n>__<what>.sql");
    out.push_back({parsed->first, parsed->second, f.name, flyway_checksum(f.sql), f.sql});
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].version == out[i - 1].version)
      throw migration_error("migrations " + out[i - 1].script + " and " + out[i].script +
                            " share version " + std::to_string(out[i].version));
  return out;
}

migration_report migrate(pqxx::connection_base& c, const std::vector<migration>& migrations) {
  pqxx::work w(c);
  // Serialises concurrent starters; released at commit or rollback.
  w.exec_params("SELECT pg_advisory_xact_lock($1)", migration_lock_key);
  w.exec(create_history_sql);
  auto applied = applied_migrations(w);
  auto rank_row = w.exec("SELECT coalesce(max(installed_rank), 0) FROM flyway_schema_history");
  int rank = rank_row[0][0].as<int>();

  migration_report report;
  for (const auto& m : migrations) {
    auto it = applied.find(m.version);
    if (it != applied.end()) {
      verify_applied(m, it->second);
    } else {
      apply(w, m, ++rank);
      ++report.applied;
    }
    report.schema_version = std::max(report.schema_version, m.version);
  }
  for (const auto& [version, row] : applied)
    if (version > report.schema_version) {
      log::warn("db.migration_unknown", {{"script", row.script}});
      report.schema_version = version;
    }
  w.commit();
  return report;
}

} // namespace eventhub::persistence
