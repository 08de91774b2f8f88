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

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
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

/// The first lines of a file (postmaster.pid: pid, data directory, start time, port, socket
/// directory, ...); empty when it cannot be read.
std::vector<std::string> read_lines(const std::string& path, std::size_t count) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (lines.size() < count && std::getline(in, line))
    lines.push_back(line);
  return lines;
}

pid_t pid_of(const std::string& text) {
  try {
    const long pid = std::stol(text);
    return pid > 0 ? static_cast<pid_t>(pid) : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

bool alive(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

/// A process's working directory ("" when it is gone or hidden from us). PostgreSQL's postmaster
/// and every backend run in the data directory, which tells them apart from an unrelated process
/// that reuses a dead server's pid.
std::string working_dir(const std::string& pid) {
  std::error_code ec;
  auto cwd = fs::read_symlink("/proc/" + pid + "/cwd", ec);
  return ec ? std::string() : cwd.string();
}

bool any_process_in(const std::string& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (!name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) &&
        working_dir(name) == dir)
      return true;
  }
  return false;
}

constexpr auto lock_wait = std::chrono::seconds{60}; // a dead owner's watchdog stops its server

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
  end_watchdog(false); // start failed half-way, or the stop did: the watchdog stops it
  if (lock_fd_ >= 0)
    ::close(lock_fd_);
}

std::vector<std::string> embedded_postgres::command(std::vector<std::string> args) const {
  if (as_postgres_user_)
    args.insert(args.begin(), {"runuser", "-u", "postgres", "--"});
  return args;
}

int embedded_postgres::run(const std::vector<std::string>& args) const {
  std::vector<std::string> full = command(args);
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

void embedded_postgres::create_database(bool adopted) const {
  // A started server accepts connections (pg_ctl -w); an adopted one may still be starting up.
  const auto until =
      std::chrono::steady_clock::now() + (adopted ? lock_wait : std::chrono::seconds{0});
  std::unique_ptr<pqxx::connection> c;
  while (!c) {
    try {
      c = std::make_unique<pqxx::connection>(conninfo("postgres"));
    } catch (const pqxx::broken_connection&) {
      if (std::chrono::steady_clock::now() >= until)
        throw;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
  }
  pqxx::nontransaction n(*c);
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
  take_lock(share);
  if (lock_fd_ < 0)
    return conninfo(db_name); // shared: the owner keeps running and stopping it
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

  start_watchdog(); // from here on, our death stops the server

  bool adopted = false;
  if (const pid_t leftover = running_postmaster()) {
    // Left running by an eventhub that was killed with its watchdog (kill -9 of both, a
    // supervisor killing the process group): adopted when it answers on our socket, else
    // stopped cleanly and started again with the settings of today.
    if (leftover_reachable(leftover)) {
      adopted = true;
      log::info("db.embedded_adopted", {{"dir", data_dir_}, {"pid", static_cast<int>(leftover)}});
    } else {
      log::warn("db.embedded_restarting",
                {{"dir", data_dir_},
                 {"pid", static_cast<int>(leftover)},
                 {"reason", "the server left running does not listen on " + socket_dir_}});
      if (run({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"}) != 0)
        throw std::runtime_error("cannot stop the embedded PostgreSQL left running in " +
                                 data_dir_ + "; see " + dir_ + "/setup.log");
    }
  } else {
    remove_stale_lock_files();
  }
  if (!adopted) {
    int rc =
        run({bin_dir_ + "/pg_ctl", "start", "-D", data_dir_, "-l", log_file_, "-w", "-t", "60"});
    if (rc != 0)
      throw std::runtime_error("the embedded PostgreSQL did not start (exit " + std::to_string(rc) +
                               "); see " + log_file_);
    log::info("db.embedded_started", {{"dir", data_dir_}});
  }
  running_ = true;
  create_database(adopted);
  return conninfo(db_name);
}

void embedded_postgres::take_lock(bool share) {
  const std::string lock_path = dir_ + "/eventhub.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0)
    throw std::runtime_error("cannot open " + lock_path);
  const auto until = std::chrono::steady_clock::now() + lock_wait;
  bool logged = false;
  while (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    if (share && run({bin_dir_ + "/pg_ctl", "status", "-D", data_dir_}) == 0) {
      ::close(lock_fd_);
      lock_fd_ = -1;
      return;
    }
    // The lock is the owner's, shared with its watchdog: an owner still alive is another
    // eventhub; a dead one's watchdog is stopping the server and lets go when it is down.
    const auto recorded = read_lines(lock_path, 1);
    const pid_t owner = recorded.empty() ? 0 : pid_of(recorded[0]);
    if (alive(owner) || std::chrono::steady_clock::now() >= until)
      throw std::runtime_error(
          "the embedded database in " + dir_ + " is used by another eventhub process" +
          (alive(owner) ? " (pid " + std::to_string(owner) + ")" : std::string()) +
          " (set db.url or db.embedded-dir)");
    if (!logged)
      log::info("db.embedded_waiting", {{"reason", "the previous owner's watchdog is stopping "
                                                   "the server"}});
    logged = true;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 ||
      ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size()))
    throw std::runtime_error("cannot write " + lock_path);
}

/// A process that outlives us by design: it reads its stdin (a pipe only we write to) and, at EOF
/// without the word "stopped" (we died before stopping the server: kill -9, a crash, abort),
/// stops the server itself. It holds the lock (a copy of our descriptor) until that is done, so
/// a next start cannot adopt a server being stopped. In a session of its own and with the stop
/// signals blocked, it does not go down with the terminal's process group.
void embedded_postgres::start_watchdog() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("cannot create the embedded database watchdog's pipe");
  std::vector<std::string> full = {
      "/bin/sh", "-c", "read -r word; [ \"$word\" = stopped ] || \"$@\"", "eventhub-pg-watchdog"};
  for (auto& a :
       command({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"}))
    full.push_back(std::move(a));
  std::vector<char*> argv;
  for (auto& a : full)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const int lock_copy = ::fcntl(lock_fd_, F_DUPFD_CLOEXEC, 10); // never fd 3 itself
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  const std::string setup_log = dir_ + "/setup.log";
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, setup_log.c_str(),
                                   O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  posix_spawn_file_actions_adddup2(&actions, lock_copy, 3);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
    sigaddset(&mask, sig);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  pid_t pid = 0;
  const int rc =
      lock_copy < 0 ? EBADF : posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (lock_copy >= 0)
    ::close(lock_copy);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    throw std::runtime_error("cannot start the embedded database watchdog (/bin/sh)");
  }
  watchdog_pid_ = pid;
  watchdog_fd_ = fds[1];
  log::info("db.embedded_watchdog", {{"pid", static_cast<int>(pid)}});
}

void embedded_postgres::end_watchdog(bool server_stopped) {
  if (watchdog_pid_ < 0)
    return;
  if (server_stopped) {
    constexpr char word[] = "stopped\n";
    [[maybe_unused]] auto ignored = ::write(watchdog_fd_, word, sizeof word - 1);
  }
  ::close(watchdog_fd_); // else EOF: it stops the server, and we wait for that
  int status = 0;
  while (::waitpid(watchdog_pid_, &status, 0) < 0 && errno == EINTR)
    ;
  watchdog_pid_ = -1;
  watchdog_fd_ = -1;
}

/// The pid of postmaster.pid when it is a live server of this data directory, else 0. pg_ctl
/// status only asks whether the pid exists: a dead server's pid reused by another process would
/// be "running" to it (and pg_ctl stop would signal that process).
pid_t embedded_postgres::running_postmaster() const {
  const auto lines = read_lines(data_dir_ + "/postmaster.pid", 1);
  const pid_t pid = lines.empty() ? 0 : pid_of(lines[0]);
  std::error_code ec;
  const auto data_dir = fs::canonical(data_dir_, ec).string();
  return pid > 0 && !ec && working_dir(std::to_string(pid)) == data_dir ? pid : 0;
}

/// Whether the running server `postmaster` listens where we connect (it may have been started with
/// another socket directory, or a /tmp cleaner may have removed its socket).
bool embedded_postgres::leftover_reachable(pid_t postmaster) const {
  const auto lines = read_lines(data_dir_ + "/postmaster.pid", 5);
  return lines.size() == 5 && pid_of(lines[0]) == postmaster &&
         lines[3] == std::to_string(socket_port) && lines[4] == socket_dir_ &&
         fs::exists(socket_dir_ + "/.s.PGSQL." + std::to_string(socket_port));
}

/// No server runs in the data directory, yet postmaster.pid (or the socket's lock file) may
/// remain: a crash, a power cut. PostgreSQL ignores one naming a dead pid but refuses to start
/// while its pid is alive, reused by any process of its user. With no process at all in the data
/// directory (no orphaned backend still using the old shared memory), they are removed.
void embedded_postgres::remove_stale_lock_files() const {
  const std::string pid_file = data_dir_ + "/postmaster.pid";
  const std::string socket_lock =
      socket_dir_ + "/.s.PGSQL." + std::to_string(socket_port) + ".lock";
  if (!fs::exists(pid_file) && !fs::exists(socket_lock))
    return;
  std::error_code ec;
  const auto data_dir = fs::canonical(data_dir_, ec).string();
  if (ec || any_process_in(data_dir))
    return; // left to PostgreSQL, which then says why in postgres.log
  log::warn("db.embedded_stale_pid_file", {{"dir", data_dir_}});
  fs::remove(pid_file, ec);
  fs::remove(socket_lock, ec);
}

void embedded_postgres::stop() {
  if (!running_)
    return;
  running_ = false;
  int rc = run({bin_dir_ + "/pg_ctl", "stop", "-D", data_dir_, "-m", "fast", "-w", "-t", "60"});
  if (rc != 0)
    throw std::runtime_error("pg_ctl stop failed (exit " + std::to_string(rc) + ")");
  log::info("db.embedded_stopped");
  end_watchdog(true);
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
