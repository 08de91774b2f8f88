// initdb / pg_ctl driving for the embedded default database. When run as root, PostgreSQL
// (which refuses root) runs as the `postgres` user through runuser.
#include "persistence/embedded_postgres.hpp"

#include "observability/log.hpp"
#include "security/random.hpp"

#include <pqxx/pqxx>

#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>
#include <zlib.h>

extern char** environ;

namespace eventhub::persistence {
namespace fs = std::filesystem;
namespace {

constexpr const char* db_name = "eventhub";
constexpr const char* db_user = "eventhub";
constexpr int socket_port = 5432; // only names the socket file; no TCP listener

std::string find_bin_dir() {
  std::string best;
  int best_version = -1;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const auto bin = entry.path() / "bin";
    if (!fs::exists(bin / "initdb") || !fs::exists(bin / "pg_ctl"))
      continue;
    int version = std::atoi(entry.path().filename().c_str());
    if (version > best_version) {
      best_version = version;
      best = bin.string();
    }
  }
  if (best.empty())
    throw std::runtime_error("PostgreSQL server binaries not found under /usr/lib/postgresql "
                             "(install the postgresql package, or set db.url)");
  return best;
}

/// Unix socket paths are limited to 107 bytes; fall back to /tmp for deep project paths.
std::string choose_socket_dir(const std::string& dir) {
  std::string preferred = dir + "/run";
  if (preferred.size() + 20 < 100)
    return preferred;
  const auto crc =
      crc32(0L, reinterpret_cast<const Bytef*>(dir.data()), static_cast<uInt>(dir.size()));
  return "/tmp/eventhub-pg-" + std::to_string(crc);
}

void chown_to(const std::string& path, const passwd* pw) {
  if (pw && ::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    throw std::runtime_error("cannot hand " + path + " to user postgres");
}

} // namespace

embedded_postgres::embedded_postgres(std::string base_dir) {
  dir_ = fs::absolute(base_dir).lexically_normal().string();
  if (!dir_.empty() && dir_.back() == '/')
    dir_.pop_back();
  data_dir_ = dir_ + "/pgdata";
  socket_dir_ = choose_socket_dir(dir_);
  log_file_ = dir_ + "/postgres.log";
}

embedded_postgres::~embedded_postgres() {
  try {
    stop();
  } catch (const std::exception& e) {
    log::error("db.embedded_stop_failed", {{"error", e.what()}});
  }
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

int embedded_postgres::run(const std::vector<std::string>& args) const {
  std::vector<std::string> full;
  if (as_postgres_user_)
    full = {"runuser", "-u", "postgres", "--"};
  full.insert(full.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : full)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string setup_log = dir_ + "/setup.log";
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, setup_log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0)
    throw std::runtime_error("cannot run " + full[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void embedded_postgres::initialise_cluster() {
  log::info("db.embedded_initdb", {{"dir", data_dir_}});
  int rc = run({bin_dir_ + "/initdb", "-D", data_dir_, "-U", db_user, "-A", "trust", "-E", "UTF8",
                "--locale=C.UTF-8"});
  if (rc != 0)
    throw std::runtime_error("initdb failed (exit " + std::to_string(rc) + "); see " + dir_ +
                             "/setup.log");
  std::ofstream conf(data_dir_ + "/postgresql.conf", std::ios::app);
  conf << "\n# Event Hub: settings rewritten at every start\ninclude_if_exists = 'eventhub.conf'\n";
}

void embedded_postgres::write_runtime_config() const {
  const std::string path = data_dir_ + "/eventhub.conf";
  {
    std::ofstream conf(path, std::ios::trunc);
    conf << "listen_addresses = ''\n"
         << "unix_socket_directories = '" << socket_dir_ << "'\n"
         << "unix_socket_permissions = 0700\n"
         << "port = " << socket_port << "\n";
  }
  if (as_postgres_user_)
    chown_to(path, ::getpwnam("postgres"));
}

std::string embedded_postgres::conninfo(const char* database) const {
  return "host=" + socket_dir_ + " port=" + std::to_string(socket_port) + " dbname=" + database +
         " user=" + db_user;
}

void embedded_postgres::create_database() const {
  pqxx::connection c(conninfo("postgres"));
  pqxx::nontransaction n(c);
  if (n.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", std::string(db_name)).empty())
    n.exec(std::string("CREATE DATABASE ") + db_name);
}

void embedded_postgres::relocate_for_postgres_user() {
  // A parent of the project directory is closed to other users (e.g. /root): the server's
  // files move to a directory of their own, named after the project path so it is reused.
  const auto crc =
      crc32(0L, reinterpret_cast<const Bytef*>(dir_.data()), static_cast<uInt>(dir_.size()));
  const std::string home = "/var/lib/eventhub/embedded-" + std::to_string(crc);
  fs::create_directories(home);
  ::chmod("/var/lib/eventhub", 0755);
  ::chmod(home.c_str(), 0755);
  data_dir_ = home + "/pgdata";
  socket_dir_ = home + "/run";
  log_file_ = home + "/postgres.log";
  log::warn("db.embedded_relocated",
            {{"reason", "user postgres cannot reach " + dir_}, {"dir", home}});
}

std::string embedded_postgres::start(bool share) {
  fs::create_directories(dir_);
  bin_dir_ = find_bin_dir();
  as_postgres_user_ = ::geteuid() == 0;
  if (as_postgres_user_) {
    ::chmod(dir_.c_str(), 0755); // postgres must traverse it
    if (run({"test", "-x", dir_}) != 0)
      relocate_for_postgres_user();
  }
  const std::string lock_path = dir_ + "/eventhub.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (share && run({bin_dir_ + "/pg_ctl", "status", "-D", data_dir_}) == 0)
      return conninfo(db_name); // the owner keeps running and stopping it
    throw std::runtime_error(
        "the embedded database in " + dir_ +
        " is used by another eventhub process (set db.url or db.embedded-dir)");
  }
  const passwd* pg_user = as_postgres_user_ ? ::getpwnam("postgres") : nullptr;
  if (as_postgres_user_ && !pg_user)
    throw std::runtime_error("running as root needs the 'postgres' user to run PostgreSQL");

  fs::create_directories(socket_dir_);
  ::chmod(socket_dir_.c_str(), 0700);
  if (!fs::exists(data_dir_ + "/PG_VERSION")) {
    fs::create_directories(data_dir_);
    ::chmod(data_dir_.c_str(), 0700);
  }
  { std::ofstream touch(log_file_, std::ios::app); }
  if (as_postgres_user_) {
    for (const auto& p : {data_dir_, socket_dir_, log_file_})
      chown_to(p, pg_user);
  }
  if (!fs::exists(data_dir_ + "/PG_VERSION"))
    initialise_cluster();
  write_runtime_config();

  if (run({bin_dir_ + "/pg_ctl", "status", "-D", data_dir_}) == 0) {
    log::info("db.embedded_adopted", {{"dir", data_dir_}});
  } else {
    int rc =
        run({bin_dir_ + "/pg_ctl", "start", "-D", data_dir_, "-l", log_file_, "-w", "-t", "60"});
    if (rc != 0)
      throw std::runtime_error("the embedded PostgreSQL did not start (exit " + std::to_string(rc) +
                               "); see " + log_file_);
    log::info("db.embedded_started", {{"dir", data_dir_}});
  }
  running_ = true;
  create_database();
  return conninfo(db_name);
}

void embedded_postgres::stop() {
  if (!running_)
    return;
  running_ = false;
  int rc = run({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"});
  if (rc != 0)
    throw std::runtime_error("pg_ctl stop failed (exit " + std::to_string(rc) + ")");
  log::info("db.embedded_stopped");
}

std::string embedded_postgres::load_or_create_secret() {
  const std::string path = dir_ + "/jwt-secret";
  std::ifstream in(path);
  std::string secret;
  if (in && std::getline(in, secret) && secret.size() >= 32)
    return secret;
  secret = security::random_hex(48);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw std::runtime_error("cannot write " + path);
  const std::string line = secret + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok)
    throw std::runtime_error("cannot write " + path);
  return secret;
}

} // namespace eventhub::persistence
