// Loads Swagger UI's files once, at start-up (see swagger_ui.hpp).
#include "http/swagger_ui.hpp"

#include "http/embedded_docs.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace eventhub::http {
namespace {

constexpr const char* initializer_name = "swagger-initializer.js";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::shared_ptr<const std::string> read_regular_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return nullptr;
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return nullptr;
  std::ostringstream content;
  content << in.rdbuf();
  return std::make_shared<const std::string>(content.str());
}

} // namespace

const std::vector<std::string>& swagger_ui_file_names() {
  static const std::vector<std::string> names = {"index.html",
                                                 "index.css",
                                                 "swagger-ui.css",
                                                 "swagger-ui-bundle.js",
                                                 "swagger-ui-standalone-preset.js",
                                                 initializer_name,
                                                 "favicon-16x16.png",
                                                 "favicon-32x32.png",
                                                 "oauth2-redirect.html",
                                                 "oauth2-redirect.js"};
  return names;
}

std::string content_type_of(std::string_view name) {
  if (ends_with(name, ".html"))
    return "text/html; charset=utf-8";
  if (ends_with(name, ".js"))
    return "text/javascript; charset=utf-8";
  if (ends_with(name, ".css"))
    return "text/css; charset=utf-8";
  if (ends_with(name, ".png"))
    return "image/png";
  return "application/octet-stream";
}

std::shared_ptr<const swagger_ui_files> swagger_ui_files::load(const std::string& dir) {
  auto out = std::make_shared<swagger_ui_files>();
  out->dir_ = dir;
  for (const auto& name : swagger_ui_file_names()) {
    auto body = name == initializer_name
                    ? std::make_shared<const std::string>(embedded_swagger_initializer())
                    : read_regular_file(std::filesystem::path(dir) / name);
    if (!body) {
      out->missing_.push_back(name);
      continue;
    }
    out->files_[name] = static_file{content_type_of(name), std::move(body)};
  }
  return out;
}

const static_file* swagger_ui_files::find(std::string_view name) const {
  auto it = files_.find(name.empty() ? std::string_view("index.html") : name);
  return it == files_.end() ? nullptr : &it->second;
}

} // namespace eventhub::http
