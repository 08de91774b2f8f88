// The embedded default database: a project-local PostgreSQL cluster created (initdb) and
// started on a unix socket when no db.url is configured, stopped cleanly on exit, reused next time.
// A watchdog process stops it when its owner dies without doing so (kill -9, a crash); a server
// left running all the same (watchdog killed too) is adopted by the next start.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace eventhub::persistence {

class embedded_postgres {
 public:
  /// `base_dir` holds pgdata/, the socket directory, logs and the lock file.
  explicit embedded_postgres(std::string base_dir);
  ~embedded_postgres();

  embedded_postgres(const embedded_postgres&) = delete;
  embedded_postgres& operator=(const embedded_postgres&) = delete;

  /// Creates the cluster on first use, starts it (or adopts one left running by a killed
  /// process) and makes sure database `eventhub` exists. Returns its conninfo.
  /// With `share`, a server already run by another eventhub process (e.g. the service, for the
  /// admin CLI) is used as it is and left running. Throws std::runtime_error for humans.
  std::string start(bool share = false);

  /// Stops the server if this object started or adopted it, then ends the watchdog. Idempotent.
  void stop();

  /// A secret kept in the data directory (created once, mode 0600): the default jwt.secret.
  std::string load_or_create_secret();

  const std::string& directory() const { return dir_; }

 private:
  int run(const std::vector<std::string>& argv) const;
  std::vector<std::string> command(std::vector<std::string> args) const;
  void take_lock(bool share);
  void start_watchdog();
  void end_watchdog(bool server_stopped);
  pid_t running_postmaster() const;
  bool leftover_reachable(pid_t postmaster) const;
  void remove_stale_lock_files() const;
  void initialise_cluster();
  void relocate_for_postgres_user();
  void write_runtime_config() const;
  void create_database(bool adopted) const;
  std::string conninfo(const char* database) const;

  std::string dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string bin_dir_;
  std::string log_file_;
  int lock_fd_ = -1;
  pid_t watchdog_pid_ = -1;
  int watchdog_fd_ = -1; // its stdin: "stopped" when we stopped the server, else EOF
  bool as_postgres_user_ = false;
  bool running_ = false;
};

} // namespace eventhub::persistence
