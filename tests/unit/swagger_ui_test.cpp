// Swagger UI's files: only the page's own files are served from docs.swagger-ui-dir, by exact
// name (no path traversal), with their content types; our initializer is always there.
#include "http/embedded_docs.hpp"
#include "http/swagger_ui.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string_view>

using namespace eventhub::http;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
  fs::path root;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "eventhub-ui-XXXXXX").string();
    root = mkdtemp(tmpl.data());
  }
  ~temp_dir() { fs::remove_all(root); }
  void write(const fs::path& relative, const std::string& content) const {
    fs::create_directories((root / relative).parent_path());
    std::ofstream(root / relative, std::ios::binary) << content;
  }
};

} // namespace

TEST_CASE("only Swagger UI's named files are served from the directory") {
  temp_dir t;
  t.write("ui/index.html", "<html>ui</html>");
  t.write("ui/swagger-ui-bundle.js", "var bundle;");
  t.write("ui/package.json", "{}");
  t.write("ui/secret.txt", "secret");
  t.write("secret.txt", "outside");
  fs::create_directories(t.root / "ui" / "swagger-ui.css"); // a directory, not a file
  auto files = swagger_ui_files::load((t.root / "ui").string());

  REQUIRE(files->find("index.html"));
  CHECK(*files->find("index.html")->body == "<html>ui</html>");
  CHECK(files->find("index.html")->content_type == "text/html; charset=utf-8");
  CHECK(files->find("") == files->find("index.html"));
  CHECK(*files->find("swagger-ui-bundle.js")->body == "var bundle;");
  using namespace std::string_view_literals;
  for (auto name : {"package.json"sv, "secret.txt"sv, "../secret.txt"sv, ".."sv, "."sv,
                    "/etc/passwd"sv, "..%2fsecret.txt"sv, "ui/index.html"sv, "swagger-ui.css"sv,
                    "INDEX.HTML"sv, "index.html/"sv, "index.html\0.png"sv}) {
    INFO(name);
    CHECK(files->find(name) == nullptr);
  }
  CHECK(std::count(files->missing().begin(), files->missing().end(), "swagger-ui.css") == 1);
  CHECK(std::count(files->missing().begin(), files->missing().end(), "index.html") == 0);
}

TEST_CASE("our initializer is served even from an empty or missing directory") {
  temp_dir t;
  auto files = swagger_ui_files::load((t.root / "missing").string());
  REQUIRE(files->find("swagger-initializer.js"));
  CHECK(*files->find("swagger-initializer.js")->body ==
        std::string(embedded_swagger_initializer()));
  CHECK(files->find("") == nullptr);
  CHECK(files->missing().size() == swagger_ui_file_names().size() - 1);
  CHECK(std::string(embedded_swagger_initializer()).find("../v3/api-docs") != std::string::npos);
}

TEST_CASE("content types by extension") {
  CHECK(content_type_of("a.html") == "text/html; charset=utf-8");
  CHECK(content_type_of("swagger-ui-bundle.js") == "text/javascript; charset=utf-8");
  CHECK(content_type_of("swagger-ui.css") == "text/css; charset=utf-8");
  CHECK(content_type_of("favicon-32x32.png") == "image/png");
  CHECK(content_type_of("x.map") == "application/octet-stream");
}
