#include "postgres/local_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"
#include "postgres/connection.h"

namespace drctl::pg {
namespace {

std::string RunAs(const ClusterOptions& o) { return geteuid() == 0 ? o.os_user : std::string(); }

}  // namespace

std::string LogTail(const std::filesystem::path& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no log at " + path.string() + ")";
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string all = buf.str();
  if (all.size() > max_bytes) all = "..." + all.substr(all.size() - max_bytes);
  return all;
}

Result<std::string> FindBindir(const std::string& configured) {
  std::error_code ec;
  auto has_postgres = [&](const std::filesystem::path& dir) {
    return std::filesystem::exists(dir / "postgres", ec) &&
           std::filesystem::exists(dir / "initdb", ec);
  };
  if (!configured.empty()) {
    if (has_postgres(configured)) return configured;
    return Fail(ErrorCode::kNotFound, "no postgres and initdb in bindir " + configured,
                "fix [postgres] bindir");
  }
  if (auto r = RunCommand({"pg_config", "--bindir"}, std::chrono::seconds(10));
      r && r->exit_status == 0) {
    std::string dir = r->out;
    while (!dir.empty() && dir.back() == '\n') dir.pop_back();
    if (has_postgres(dir)) return dir;
  }
  std::vector<std::filesystem::path> candidates;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    if (has_postgres(entry.path() / "bin")) candidates.push_back(entry.path() / "bin");
  }
  if (!candidates.empty()) {
    std::sort(candidates.begin(), candidates.end());
    return candidates.back().string();
  }
  return Fail(ErrorCode::kNotFound, "cannot find the PostgreSQL server binaries",
              "install postgresql-15, or set [postgres] bindir");
}

Status LocalCluster::InitDb(const ClusterOptions& options) {
  auto bindir = FindBindir(options.bindir);
  if (!bindir) return std::unexpected(bindir.error());
  std::error_code ec;
  std::filesystem::create_directories(options.pgdata, ec);
  if (ec) {
    return Fail(ErrorCode::kIo, "cannot create " + options.pgdata.string() + ": " + ec.message());
  }
  DRCTL_TRY(ChownToUser(options.pgdata, RunAs(options)));
  auto run = RunCommand({*bindir + "/initdb", "--data-checksums", "--auth=trust", "-U", "postgres",
                         "-E", "UTF8", "--locale=C", "-D", options.pgdata.string()},
                        std::chrono::minutes(5), RunAs(options));
  if (!run) return std::unexpected(run.error().WithContext("initdb"));
  if (run->exit_status != 0) {
    return Fail(ErrorCode::kCommandFailed,
                "initdb of " + options.pgdata.string() + " failed (status " +
                    std::to_string(run->exit_status) + "): " + run->err,
                "the directory must be empty and writable by user '" + options.os_user + "'");
  }
  return Ok();
}

Result<LocalCluster> LocalCluster::Start(ClusterOptions options, std::chrono::seconds timeout) {
  auto bindir = FindBindir(options.bindir);
  if (!bindir) return std::unexpected(bindir.error());
  options.bindir = *bindir;
  if (options.port == 0) {
    auto port = FreeLoopbackPort();
    if (!port) return std::unexpected(port.error());
    options.port = *port;
  }
  if (options.socket_dir.empty()) options.socket_dir = options.pgdata;
  if (options.log_file.empty()) options.log_file = options.pgdata.string() + ".log";
  { std::ofstream touch(options.log_file, std::ios::app); }
  DRCTL_TRY(ChownToUser(options.log_file, RunAs(options)));

  SpawnOptions spawn;
  spawn.argv = {options.bindir + "/postgres", "-D", options.pgdata.string(),     "-p",
                std::to_string(options.port), "-k", options.socket_dir.string(), "-c",
                "listen_addresses=127.0.0.1"};
  for (const auto& setting : options.settings) {
    spawn.argv.push_back("-c");
    spawn.argv.push_back(setting);
  }
  spawn.user = RunAs(options);
  spawn.stdout_path = options.log_file.string();
  spawn.stderr_path = options.log_file.string();
  spawn.parent_death_signal = SIGQUIT;
  auto process = Process::Spawn(spawn);
  if (!process) return std::unexpected(process.error());
  LocalCluster cluster(std::move(options), std::move(*process));

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!cluster.Running()) {
      cluster.stopped_ = true;
      return Fail(ErrorCode::kPostgres,
                  "PostgreSQL in " + cluster.options_.pgdata.string() +
                      " exited during start-up: " + LogTail(cluster.options_.log_file),
                  "read the server log " + cluster.options_.log_file.string());
    }
    if (Connection::Open(cluster.Conninfo(), std::chrono::seconds(2))) return cluster;
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)cluster.Stop(std::chrono::seconds(5));
      return Fail(ErrorCode::kTimeout,
                  "PostgreSQL in " + cluster.options_.pgdata.string() +
                      " did not accept connections "
                      "within " +
                      std::to_string(timeout.count()) + " s: " + LogTail(cluster.options_.log_file),
                  "read the server log " + cluster.options_.log_file.string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

LocalCluster::~LocalCluster() {
  if (!stopped_ && process_.pid() > 0) (void)Stop(std::chrono::seconds(30));
}

Status LocalCluster::Stop(std::chrono::seconds grace) {
  stopped_ = true;
  auto status = process_.Stop(SIGINT, grace);
  if (!status) return std::unexpected(status.error().WithContext("stopping PostgreSQL"));
  return Ok();
}

std::string LocalCluster::Conninfo(const std::string& dbname) const {
  return "host=127.0.0.1 port=" + std::to_string(options_.port) + " user=postgres dbname=" + dbname;
}

}  // namespace drctl::pg
