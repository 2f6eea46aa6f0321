#include "command/demo/demo.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <thread>

#include "command/backup/backup_command.h"
#include "command/repo/repo_commands.h"
#include "command/restore/restore_command.h"
#include "command/wal/detached.h"
#include "common/config.h"
#include "common/temp_dir.h"
#include "io/hash.h"
#include "io/random.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::command {
namespace {

// Runs the steps in order, timing each; stops at the first failure.
class StepRunner {
 public:
  StepRunner(DemoReport& report, const std::function<void(const DemoStep&)>& progress)
      : report_(report), progress_(progress) {}

  bool Run(const std::string& name, const std::function<Result<std::string>()>& body) {
    if (failed_) return false;
    const auto start = std::chrono::steady_clock::now();
    auto outcome = body();
    DemoStep step;
    step.name = name;
    step.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    step.ok = outcome.has_value();
    step.detail = outcome ? *outcome : outcome.error().ToString();
    failed_ = !step.ok;
    report_.steps.push_back(step);
    if (progress_) progress_(step);
    return step.ok;
  }

  bool failed() const { return failed_; }

 private:
  DemoReport& report_;
  const std::function<void(const DemoStep&)>& progress_;
  bool failed_ = false;
};

std::string DefaultConfig(const std::filesystem::path& workdir, int port) {
  return "# drctl demo: embedded defaults\n"
         "[postgres]\n"
         "conninfo = \"host=127.0.0.1 port=" +
         std::to_string(port) +
         " user=postgres dbname=postgres\"\n"
         "pgdata = \"" +
         (workdir / "pgdata").string() +
         "\"\n\n"
         "[[repo]]\n"
         "name = \"local\"\n"
         "url = \"file://" +
         (workdir / "repo").string() +
         "\"\n\n"
         "[encryption]\n"
         "passphrase_file = \"" +
         (workdir / "passphrase").string() +
         "\"\n\n"
         "[backup]\n"
         "count_tables = ['public.\"User\"']\n\n"
         "[wal]\n"
         "spool = \"" +
         (workdir / "spool").string() +
         "\"\n"
         "async = true\n";
}

// What "the data came back" means: each table's rows, in key order, hashed.
constexpr const char* kFingerprint =
    "SELECT (SELECT count(*) FROM \"User\") || ' users, ' || (SELECT count(*) FROM orders) || "
    "' orders, ' || md5((SELECT string_agg(u::text, ',' ORDER BY id) FROM \"User\" u) || "
    "(SELECT string_agg(o::text, ',' ORDER BY id) FROM orders o))";

Result<std::string> Fingerprint(const std::string& conninfo) {
  auto conn = pg::Connection::Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  return conn->QueryValue(kFingerprint);
}

constexpr const char* kSchema = R"sql(
CREATE TABLE "User" (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, created timestamptz NOT NULL);
CREATE TABLE orders (id bigserial PRIMARY KEY, user_id bigint REFERENCES "User"(id), amount numeric(12,2),
                     note text);
)sql";

// The unprivileged user the server runs as when drctl runs as root; empty otherwise.
std::string ServerUser() { return geteuid() == 0 ? "postgres" : ""; }

}  // namespace

DemoReport RunDemo(const DemoOptions& options,
                   const std::function<void(const DemoStep&)>& progress) {
  DemoReport report;
  StepRunner steps(report, progress);
  std::optional<TempDir> scratch;
  std::filesystem::path workdir = options.workdir;
  std::optional<pg::LocalCluster> cluster;
  std::optional<pg::Connection> conn;

  steps.Run("prepare workspace", [&]() -> Result<std::string> {
    if (workdir.empty()) {
      auto dir = TempDir::Create("drctl-demo-");
      if (!dir) return std::unexpected(dir.error());
      scratch = std::move(*dir);
      if (options.keep) scratch->Keep();
      workdir = scratch->path();
    }
    std::error_code ec;
    std::filesystem::create_directories(workdir / "repo", ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create " + workdir.string() + ": " + ec.message());
    // The server runs as an unprivileged user: it must be able to enter the workspace.
    std::filesystem::permissions(workdir,
                                 std::filesystem::perms::owner_all |
                                     std::filesystem::perms::group_exec |
                                     std::filesystem::perms::others_exec,
                                 ec);
    // PostgreSQL runs drctl as its archive_command and restore_command: a copy it can reach.
    std::filesystem::copy_file("/proc/self/exe", workdir / "drctl",
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot copy drctl into the workspace: " + ec.message());
    return workdir.string();
  });
  report.workdir = workdir;

  steps.Run("create PostgreSQL", [&]() -> Result<std::string> {
    pg::ClusterOptions o;
    o.pgdata = workdir / "pgdata";
    auto port = FreeLoopbackPort();
    if (!port) return std::unexpected(port.error());
    o.port = *port;
    std::ofstream(workdir / "drctl.toml") << DefaultConfig(workdir, o.port);
    // drctl is the archive_command: every WAL segment goes into the repository.
    o.settings = {"archive_mode=on", "archive_command=" + (workdir / "drctl").string() +
                                         " --config " + (workdir / "drctl.toml").string() +
                                         " wal push %p"};
    DRCTL_TRY(pg::LocalCluster::InitDb(o));
    auto started = pg::LocalCluster::Start(o);
    if (!started) return std::unexpected(started.error());
    cluster = std::move(*started);
    return "port " + std::to_string(cluster->port()) + ", pid " + std::to_string(cluster->pid()) +
           ", archive_command = drctl wal push";
  });

  steps.Run("load sample data", [&]() -> Result<std::string> {
    auto c = pg::Connection::Open(cluster->Conninfo());
    if (!c) return std::unexpected(c.error());
    conn = std::move(*c);
    DRCTL_TRY(conn->Exec(kSchema));
    DRCTL_TRY(conn->Exec(
        "INSERT INTO \"User\" SELECT g, 'user' || g || '@example.com', now() - g * interval '1 "
        "minute' FROM generate_series(1, " +
        std::to_string(options.users) +
        ") g;"
        "INSERT INTO orders (user_id, amount, note) SELECT 1 + g % " +
        std::to_string(options.users) + ", g * 1.25, repeat('x', 200) FROM generate_series(1, " +
        std::to_string(options.users * 5) + ") g;"));
    return std::to_string(options.users) + " users, " + std::to_string(options.users * 5) +
           " orders";
  });

  steps.Run("verify row counts", [&]() -> Result<std::string> {
    auto users = conn->QueryValue("SELECT count(*) FROM \"User\"");
    if (!users) return std::unexpected(users.error());
    if (*users != std::to_string(options.users)) {
      return Fail(ErrorCode::kVerifyFailed,
                  "\"User\" has " + *users + " rows, expected " + std::to_string(options.users));
    }
    return "\"User\": " + *users + " rows";
  });

  std::optional<Config> config;
  steps.Run("create repository", [&]() -> Result<std::string> {
    {
      std::ofstream pass(workdir / "passphrase");
      pass << io::ToHex(io::RandomArray<24>()) << "\n";
    }
    std::filesystem::permissions(workdir / "passphrase", std::filesystem::perms::owner_read |
                                                             std::filesystem::perms::owner_write);
    // The server (user postgres) archives into the repository: it owns it and the passphrase.
    DRCTL_TRY(ChownToUser(workdir / "repo", ServerUser()));
    DRCTL_TRY(ChownToUser(workdir / "passphrase", ServerUser()));
    // And the spool its archive_command and restore_command use (push-ahead, prefetch).
    std::error_code ec;
    std::filesystem::create_directories(workdir / "spool", ec);
    std::filesystem::permissions(workdir / "spool", std::filesystem::perms::owner_all, ec);
    DRCTL_TRY(ChownToUser(workdir / "spool", ServerUser()));
    auto loaded = LoadConfigFile(workdir / "drctl.toml");
    if (!loaded) return std::unexpected(loaded.error());
    config = std::move(*loaded);
    RepoInitOptions init;
    init.kdf.n = static_cast<std::uint64_t>(config->encryption.scrypt_n);
    auto out = RepoInit(*config, init);
    if (!out) return std::unexpected(out.error());
    return "encrypted repository in " + (workdir / "repo").string();
  });

  std::string backup_id;
  steps.Run("backup", [&]() -> Result<std::string> {
    auto out = Backup(*config, BackupOptions{.progress = false});
    if (!out) return std::unexpected(out.error());
    if (out->failure) return std::unexpected(*out->failure);
    backup_id = out->json["backup_id"];
    return "backup " + backup_id + ": " + std::to_string(out->json["files"].get<std::uint64_t>()) +
           " files, " + std::to_string(out->json["logical_bytes"].get<std::uint64_t>()) +
           " bytes, \"User\" rows " +
           std::to_string(out->json["row_counts"]["public.\"User\""].get<std::uint64_t>());
  });

  std::string before;
  steps.Run("workload after the backup", [&]() -> Result<std::string> {
    DRCTL_TRY(conn->Exec(
        "INSERT INTO orders (user_id, amount, note) SELECT 1 + g % " +
        std::to_string(options.users) +
        ", g * 0.5, 'after the backup' FROM generate_series(1, 500) g;"
        "UPDATE \"User\" SET email = 'changed' || id || '@example.com' WHERE id % 10 = 0"));
    auto fingerprint = Fingerprint(cluster->Conninfo());
    if (!fingerprint) return std::unexpected(fingerprint.error());
    before = *fingerprint;
    return "500 new orders, 10% of users changed: " + before;
  });

  std::string xid;
  steps.Run("accidental DROP TABLE", [&]() -> Result<std::string> {
    auto dropped = conn->QueryValue("BEGIN; DROP TABLE orders; SELECT txid_current()::text");
    if (!dropped) return std::unexpected(dropped.error());
    xid = *dropped;
    DRCTL_TRY(conn->Exec("COMMIT"));
    // Life goes on after the mistake; none of this may come back.
    DRCTL_TRY(conn->Exec("INSERT INTO \"User\" VALUES (0, 'after-the-drop@example.com', now())"));
    auto segment = conn->QueryValue("SELECT pg_walfile_name(pg_switch_wal())");
    if (!segment) return std::unexpected(segment.error());
    for (int i = 0; i < 600; ++i) {  // until the archiver has stored it (60 s)
      auto archived = conn->QueryValue(
          "SELECT coalesce(last_archived_wal, '') || '/' || failed_count FROM pg_stat_archiver");
      if (!archived) return std::unexpected(archived.error());
      if (archived->substr(0, 24) >= *segment && archived->size() > 24) {
        return "orders dropped by transaction " + xid + "; WAL up to " + *segment + " archived";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Fail(ErrorCode::kTimeout, "WAL segment " + *segment + " was not archived in 60 s",
                "see the server log in " + (workdir / "pgdata.log").string());
  });

  std::optional<pg::LocalCluster> restored;
  steps.Run("point-in-time restore", [&]() -> Result<std::string> {
    RestoreOptions restore;
    restore.request.pgdata = workdir / "restored";
    auto target = ParseRecoveryTarget("", xid, "", "", false, true, "latest", "promote");
    if (!target) return std::unexpected(target.error());
    restore.request.target = *target;
    restore.owner = ServerUser();
    restore.progress = false;
    restore.drctl_binary = (workdir / "drctl").string();
    auto out = Restore(*config, restore);
    if (!out) return std::unexpected(out.error());
    if (!out->json["restore_command"].get<bool>()) {
      return Fail(ErrorCode::kPrecondition, "restore could not set up WAL replay: " + out->text);
    }
    return "backup " + out->json["backup_id"].get<std::string>() + " to just before transaction " +
           xid + " into " + restore.request.pgdata.string();
  });

  steps.Run("start restored PostgreSQL", [&]() -> Result<std::string> {
    pg::ClusterOptions o;
    o.pgdata = workdir / "restored";
    auto started = pg::LocalCluster::Start(o);
    if (!started) return std::unexpected(started.error());
    restored = std::move(*started);
    for (int i = 0; i < 1200; ++i) {  // recovery replays the archive, then promotes (120 s)
      auto c = pg::Connection::Open(restored->Conninfo());
      if (c) {
        auto in_recovery = c->QueryValue("SELECT pg_is_in_recovery()::text");
        if (in_recovery && *in_recovery == "false") {
          return "port " + std::to_string(restored->port()) + ", recovered and promoted";
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return Fail(ErrorCode::kTimeout, "the restored server did not finish recovery in 120 s",
                "see " + (workdir / "restored.log").string());
  });

  steps.Run("verify restored data", [&]() -> Result<std::string> {
    auto after = Fingerprint(restored->Conninfo());
    if (!after) return std::unexpected(after.error());
    if (*after != before) {
      return Fail(
          ErrorCode::kVerifyFailed,
          "restored data differs from the data just before the drop: " + *after + " vs " + before);
    }
    return "orders back, equal to the moment before the drop: " + *after;
  });

  conn.reset();
  if (restored) {
    steps.Run("stop restored PostgreSQL", [&]() -> Result<std::string> {
      DRCTL_TRY(restored->Stop());
      return std::string("fast shutdown");
    });
  }
  if (cluster) {
    steps.Run("stop PostgreSQL", [&]() -> Result<std::string> {
      DRCTL_TRY(cluster->Stop());
      return std::string("fast shutdown");
    });
  }
  // A push-ahead process of the archive_command may still be at work: the workspace outlives it.
  if (!workdir.empty()) (void)WaitForDetached(workdir / "spool" / "archive" / "push-ahead.lock");
  report.ok = !steps.failed();
  return report;
}

}  // namespace drctl::command
