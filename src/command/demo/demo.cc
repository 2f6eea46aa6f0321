#include "command/demo/demo.h"

#include <unistd.h>

#include <fstream>
#include <optional>

#include "command/backup/backup_command.h"
#include "command/repo/repo_commands.h"
#include "command/restore/restore_command.h"
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
         "count_tables = ['public.\"User\"']\n";
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
    return workdir.string();
  });
  report.workdir = workdir;

  steps.Run("create PostgreSQL", [&]() -> Result<std::string> {
    pg::ClusterOptions o;
    o.pgdata = workdir / "pgdata";
    DRCTL_TRY(pg::LocalCluster::InitDb(o));
    auto started = pg::LocalCluster::Start(o);
    if (!started) return std::unexpected(started.error());
    cluster = std::move(*started);
    std::ofstream(workdir / "drctl.toml") << DefaultConfig(workdir, cluster->port());
    return "port " + std::to_string(cluster->port()) + ", pid " + std::to_string(cluster->pid());
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
    auto loaded = LoadConfigFile(workdir / "drctl.toml");
    if (!loaded) return std::unexpected(loaded.error());
    config = std::move(*loaded);
    RepoInitOptions init;
    init.kdf.n = static_cast<std::uint64_t>(config->encryption.scrypt_n);
    auto out = RepoInit(*config, init);
    if (!out) return std::unexpected(out.error());
    return "encrypted repository in " + (workdir / "repo").string();
  });

  std::string before;
  std::string backup_id;
  steps.Run("backup", [&]() -> Result<std::string> {
    auto fingerprint = Fingerprint(cluster->Conninfo());
    if (!fingerprint) return std::unexpected(fingerprint.error());
    before = *fingerprint;
    auto out = Backup(*config, BackupOptions{.progress = false});
    if (!out) return std::unexpected(out.error());
    if (out->failure) return std::unexpected(*out->failure);
    backup_id = out->json["backup_id"];
    return "backup " + backup_id + ": " + std::to_string(out->json["files"].get<std::uint64_t>()) +
           " files, " + std::to_string(out->json["logical_bytes"].get<std::uint64_t>()) +
           " bytes, \"User\" rows " +
           std::to_string(out->json["row_counts"]["public.\"User\""].get<std::uint64_t>());
  });

  steps.Run("damage the database", [&]() -> Result<std::string> {
    DRCTL_TRY(conn->Exec("DROP TABLE orders; DELETE FROM \"User\" WHERE id % 2 = 0"));
    auto users = conn->QueryValue("SELECT count(*) FROM \"User\"");
    if (!users) return std::unexpected(users.error());
    return "dropped orders, deleted half of \"User\" (" + *users + " rows left)";
  });

  std::optional<pg::LocalCluster> restored;
  steps.Run("restore", [&]() -> Result<std::string> {
    RestoreOptions restore;
    restore.request.pgdata = workdir / "restored";
    restore.request.backup = backup_id;
    restore.owner = geteuid() == 0 ? "postgres" : "";
    restore.progress = false;
    auto out = Restore(*config, restore);
    if (!out) return std::unexpected(out.error());
    return "backup " + backup_id + " into " + restore.request.pgdata.string() + " (" +
           std::to_string(out->json["files"].get<std::uint64_t>()) + " files)";
  });

  steps.Run("start restored PostgreSQL", [&]() -> Result<std::string> {
    pg::ClusterOptions o;
    o.pgdata = workdir / "restored";
    auto started = pg::LocalCluster::Start(o);
    if (!started) return std::unexpected(started.error());
    restored = std::move(*started);
    return "port " + std::to_string(restored->port()) + ", pid " + std::to_string(restored->pid());
  });

  steps.Run("verify restored data", [&]() -> Result<std::string> {
    auto after = Fingerprint(restored->Conninfo());
    if (!after) return std::unexpected(after.error());
    if (*after != before) {
      return Fail(ErrorCode::kVerifyFailed,
                  "restored data differs from the data backed up: " + *after + " vs " + before);
    }
    return "equal to the backed-up data: " + *after;
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
  report.ok = !steps.failed();
  return report;
}

}  // namespace drctl::command
