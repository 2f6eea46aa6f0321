// A PostgreSQL cluster on this machine that drctl runs itself: throwaway instances for the demo,
// drills and tests, and a restored data directory started to reach its recovery target.
// The postmaster is drctl's child: stopped by PID (fast shutdown), and sent SIGQUIT (immediate
// shutdown) if drctl dies, so no instance outlives the process that started it.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/result.h"

namespace drctl::pg {

struct ClusterOptions {
  std::filesystem::path pgdata;
  std::string bindir;                 // empty: FindBindir("")
  std::string os_user = "postgres";   // when running as root, initdb and postgres run as this user
  int port = 0;                       // 0: a free loopback port
  std::filesystem::path socket_dir;   // empty: pgdata
  std::filesystem::path log_file;     // empty: <pgdata>.log
  std::vector<std::string> settings;  // extra "name=value" server settings (-c)
};

// PostgreSQL's bindir: `configured` if set, else `pg_config --bindir`, else the newest
// /usr/lib/postgresql/*/bin. kNotFound when there is no postgres binary there.
Result<std::string> FindBindir(const std::string& configured);

class LocalCluster {
 public:
  // Runs initdb (--data-checksums, trust auth for local connections, superuser "postgres",
  // UTF8, C locale) into options.pgdata, which must not exist or be empty.
  static Status InitDb(const ClusterOptions& options);

  // Starts the postmaster and waits until it accepts connections (or `timeout`). On failure the
  // error carries the end of the server log.
  static Result<LocalCluster> Start(ClusterOptions options,
                                    std::chrono::seconds timeout = std::chrono::seconds(60));

  LocalCluster(LocalCluster&&) noexcept = default;
  LocalCluster& operator=(LocalCluster&&) noexcept = default;
  ~LocalCluster();  // stops the server if still running

  // Fast shutdown (SIGINT), escalating to SIGKILL after `grace`.
  Status Stop(std::chrono::seconds grace = std::chrono::seconds(60));

  bool Running() { return process_.Running(); }
  pid_t pid() const { return process_.pid(); }
  int port() const { return options_.port; }
  const ClusterOptions& options() const { return options_; }

  // libpq conninfo for the superuser over TCP loopback.
  std::string Conninfo(const std::string& dbname = "postgres") const;

 private:
  LocalCluster(ClusterOptions options, Process process)
      : options_(std::move(options)), process_(std::move(process)) {}
  ClusterOptions options_;
  Process process_;
  bool stopped_ = false;
};

// The last `max_bytes` of a log file, for error messages.
std::string LogTail(const std::filesystem::path& path, std::size_t max_bytes = 2000);

}  // namespace drctl::pg
