// Swagger UI's files: the npm package swagger-ui-dist, read from docs.swagger-ui-dir at start-up,
// plus our swagger-initializer.js (compiled in), which points the UI at /v3/api-docs.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eventhub::http {

struct static_file {
  std::string content_type;
  std::shared_ptr<const std::string> body;
};

/// Immutable once loaded, so every I/O thread reads it without a lock. Only the names of
/// swagger_ui_file_names() are ever served: a request names a key of a map, never a path, so
/// no request can reach another file (no path traversal).
class swagger_ui_files {
 public:
  /// Reads the files the page needs from `dir`; names it could not read are in missing().
  static std::shared_ptr<const swagger_ui_files> load(const std::string& dir);

  /// The file of exactly this name ("" is index.html), or nullptr.
  const static_file* find(std::string_view name) const;

  /// Names of swagger_ui_file_names() not found in the directory.
  const std::vector<std::string>& missing() const { return missing_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::map<std::string, static_file, std::less<>> files_;
  std::vector<std::string> missing_;
};

/// The files index.html loads, and the OAuth2 redirect page: all that is served.
const std::vector<std::string>& swagger_ui_file_names();

/// The Content-Type of a served file, by its extension.
std::string content_type_of(std::string_view file_name);

} // namespace eventhub::http
