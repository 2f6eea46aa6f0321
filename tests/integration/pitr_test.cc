// Point-in-time recovery end to end (drctl restore with a target, --start), against a real
// PostgreSQL 15 that archives through `drctl wal push` into encrypted posix repositories
// (passphrase_file owned by postgres: the server runs drctl as user postgres, both as
// archive_command and, in restored copies, as restore_command = drctl wal get).
//
// The suite owns one source cluster and one base backup; each test writes its own tables on the
// source, archives, restores into a new directory with `drctl restore ... --start --port P`, and
// compares what came back with what the source had at the target. Covered: an accidental DROP
// TABLE undone by --target-xid --exclusive; --target-time between two commits; --target-lsn;
// --immediate; --target-name; refusals that write nothing (outside the recoverable window, before
// the oldest backup, a time without a zone, two targets, a passphrase in the environment without
// --start, and the same with --start working); --target-action pause and shutdown; timelines
// (a restored, promoted copy archives timeline 2; the end-of-archive restore follows it with
// --target-timeline latest and leaves it with --target-timeline 1).
//
// Two repositories share one master key: the source archives into both (archive.toml). Tests 1-5
// back up into and restore from "main" (main.toml); their restored servers do not archive, since
// the source's archive settings are on its command line, not in the files a backup copies. The
// timeline test backs up into "timelines" (timelines.toml) with archive settings written by ALTER
// SYSTEM (so the restored copies archive into "timelines" too), and the timelines it creates
// there never reach the restores of the other tests, whatever the order they run in.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "harness/swift_server.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kPassphrase = "pitr-test-passphrase-8086";
constexpr const char* kPassphraseEnv = "DRCTL_PITR_TEST_PASSPHRASE";
constexpr int kBaseRows = 1000;

// One value of `sql`, or "ERROR: ..." so that a mismatch shows why.
std::string Value(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return "ERROR: " + conn.error().ToString();
  auto value = conn->QueryValue(sql);
  if (!value) return "ERROR: " + value.error().ToString();
  return *value;
}

Status Exec(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return std::unexpected(conn.error());
  return conn->Exec(sql);
}

// For ASSERT_TRUE(Succeeded(Exec(...))): the error in the failure message.
::testing::AssertionResult Succeeded(const Status& status) {
  if (status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.error().ToString();
}

std::string Conninfo(int port) {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=postgres";
}

// Row count and md5 of a table's rows in key order: equal means the same rows, same content.
std::string HashSql(const std::string& table) {
  return "SELECT count(*) || ' rows ' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '-') "
         "FROM " +
         table + " t";
}

// The server's clock as a timestamp with an explicit zone, as --target-time wants it.
std::string ZonedTimeSql(const std::string& expression) {
  return "SELECT to_char((" + expression +
         ") AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'";
}

bool EmptyOrAbsent(const fs::path& dir) {
  std::error_code ec;
  return !fs::exists(dir, ec) || (fs::is_directory(dir, ec) && fs::is_empty(dir, ec));
}

std::optional<pid_t> PostmasterPid(const fs::path& pgdata) {
  std::ifstream in(pgdata / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

// Switches to a new WAL segment on the server at `conninfo` (a primary) and waits until its
// archiver has stored the segment that was completed. `log` is shown on failure.
::testing::AssertionResult SwitchAndWaitArchived(const std::string& conninfo, const fs::path& log) {
  const std::string segment = Value(conninfo, "SELECT pg_walfile_name(pg_switch_wal())");
  if (segment.starts_with("ERROR")) return ::testing::AssertionFailure() << segment;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::string last;
  while (Clock::now() < deadline) {
    last = Value(conninfo, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
    if (!last.starts_with("ERROR") && last >= segment) return ::testing::AssertionSuccess();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return ::testing::AssertionFailure()
         << "WAL segment " << segment << " was not archived within 60 s (last archived: " << last
         << "; "
         << Value(conninfo,
                  "SELECT failed_count || ' failures, last failed ' || coalesce(last_failed_wal, "
                  "'-') FROM pg_stat_archiver")
         << ")\nserver log:\n"
         << pg::LogTail(log, 3000);
}

// The suite's source cluster, repositories and base backup.
struct Source {
  std::optional<TempDir> dir;
  std::optional<pg::LocalCluster> cluster;  // after dir: stopped before the directory goes
  fs::path root;
  std::string bindir;
  fs::path drctl;            // a copy the server's user can run
  fs::path main_config;      // repo "main"
  fs::path timeline_config;  // repo "timelines"
  fs::path archive_config;   // both: the source's archive_command
  fs::path env_config;       // repo "main", passphrase from kPassphraseEnv
  std::string base_backup;   // in "main", before any test wrote anything
  std::string base_hash;     // HashSql("base") at the base backup
};

Source* suite = nullptr;
std::string suite_error;

CommandResult RunDrctl(const fs::path& config, std::vector<std::string> args,
                       std::vector<std::string> env = {}) {
  // The copy, not the build tree's binary: restore makes its own path the restore_command.
  args.insert(args.begin(), {"--config", config.string()});
  return RunDrctlAt(suite->drctl.string(), std::move(args), std::move(env));
}

void WriteConfig(const Source& s, const fs::path& path, const std::string& conninfo,
                 const std::vector<std::pair<std::string, fs::path>>& repos,
                 bool passphrase_from_env) {
  std::ofstream c(path);
  c << "[postgres]\nconninfo = \"" << conninfo << "\"\npgdata = \"" << (s.root / "pgdata").string()
    << "\"\n";
  for (const auto& [name, dir] : repos) {
    c << "[[repo]]\nname = \"" << name << "\"\nurl = \"file://" << dir.string() << "\"\n";
  }
  c << "[encryption]\n";
  if (passphrase_from_env) {
    c << "passphrase_env = \"" << kPassphraseEnv << "\"\n";
  } else {
    c << "passphrase_file = \"" << (s.root / "pass").string() << "\"\n";
  }
  c << "scrypt_n = 1024\n";
  c.close();
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                            fs::perms::others_read);
}

Status MakeSource(Source& s) {
  auto bindir = pg::FindBindir("");
  if (!bindir) return std::unexpected(bindir.error());
  s.bindir = *bindir;
  auto dir = TempDir::Create("drctl-pitr-");
  if (!dir) return std::unexpected(dir.error());
  s.dir.emplace(std::move(*dir));
  s.root = s.dir->path();
  // The server's user traverses the workspace to its data directory, drctl, configs and repos.
  fs::permissions(s.root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  s.drctl = s.root / "drctl";
  fs::copy_file(DRCTL_BINARY, s.drctl);
  fs::permissions(s.drctl, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  std::ofstream(s.root / "pass") << kPassphrase << "\n";
  fs::permissions(s.root / "pass", fs::perms::owner_read | fs::perms::owner_write);

  s.main_config = s.root / "main.toml";
  s.timeline_config = s.root / "timelines.toml";
  s.archive_config = s.root / "archive.toml";
  s.env_config = s.root / "env.toml";
  auto port = FreeLoopbackPort();
  if (!port) return std::unexpected(port.error());
  const std::string source = Conninfo(*port);
  const fs::path main_repo = s.root / "repo-main";
  const fs::path timeline_repo = s.root / "repo-timelines";
  WriteConfig(s, s.main_config, source, {{"main", main_repo}}, false);
  WriteConfig(s, s.timeline_config, source, {{"timelines", timeline_repo}}, false);
  WriteConfig(s, s.archive_config, source, {{"main", main_repo}, {"timelines", timeline_repo}},
              false);
  WriteConfig(s, s.env_config, source, {{"main", main_repo}}, true);
  // One config, two repositories: one master key (repo init); the env config opens "main".
  auto init = RunDrctl(s.archive_config, {"repo", "init"});
  if (init.exit_status != 0) return Fail(ErrorCode::kInternal, "repo init: " + Describe(init));
  // The server archives into both as user postgres.
  DRCTL_TRY(ChownToUser(main_repo, "postgres"));
  DRCTL_TRY(ChownToUser(timeline_repo, "postgres"));
  DRCTL_TRY(ChownToUser(s.root / "pass", "postgres"));

  pg::ClusterOptions o;
  o.pgdata = s.root / "pgdata";
  o.port = *port;
  // archive_mode and archive_command on the command line, not in postgresql*.conf: a restored
  // copy of this cluster starts without them (see the top of the file).
  o.settings = {"wal_level=replica", "max_wal_senders=10", "fsync=off", "archive_mode=on",
                "archive_command=" + s.drctl.string() + " --config " + s.archive_config.string() +
                    " wal push %p"};
  DRCTL_TRY(pg::LocalCluster::InitDb(o));
  auto cluster = pg::LocalCluster::Start(o);
  if (!cluster) return std::unexpected(cluster.error());
  s.cluster.emplace(std::move(*cluster));

  DRCTL_TRY(Exec(source,
                 "CREATE TABLE base (id int PRIMARY KEY, note text NOT NULL); "
                 "INSERT INTO base SELECT i, 'base row ' || i FROM generate_series(1, " +
                     std::to_string(kBaseRows) + ") i"));
  s.base_hash = Value(source, HashSql("base"));
  auto backup = RunDrctl(s.main_config, {"--output", "json", "backup", "--no-progress"});
  if (backup.exit_status != 0) return Fail(ErrorCode::kInternal, "backup: " + Describe(backup));
  auto j = json::parse(backup.out, nullptr, false);
  if (j.is_discarded() || !j["backup_id"].is_string()) {
    return Fail(ErrorCode::kInternal, "backup output: " + Describe(backup));
  }
  s.base_backup = j["backup_id"];
  // A row after the backup: --immediate must not bring it back, the other targets must.
  DRCTL_TRY(Exec(source, "INSERT INTO base VALUES (" + std::to_string(kBaseRows + 1) +
                             ", 'after the base backup')"));
  return Ok();
}

class Pitr : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite = new Source;
    suite_error.clear();
    auto made = MakeSource(*suite);
    if (!made) suite_error = made.error().ToString();
  }
  static void TearDownTestSuite() {
    delete suite;  // stops the source, then removes the workspace
    suite = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(suite_error.empty()) << "source cluster: " << suite_error;
    work_ = suite->root / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(work_);
  }

  void TearDown() override {
    for (const auto& pgdata : started_) StopDetached(pgdata);
    started_.clear();
    if (archive_settings_on_source_) ResetArchiveSettingsOnSource();
  }

  static std::string source() { return suite->cluster->Conninfo(); }
  static fs::path source_log() { return suite->cluster->options().log_file; }

  // Stops a server `drctl restore --start` left running (a detached pg_ctl server of user
  // postgres): fast shutdown (its archiver stores what is ready first), then immediate, then
  // SIGKILL by the PID in postmaster.pid.
  void StopDetached(const fs::path& pgdata) {
    const auto pid = PostmasterPid(pgdata);
    if (!pid) return;
    auto gone = [&] {
      // pg_ctl returns once postmaster.pid is removed, an instant before the process exits.
      const auto deadline = Clock::now() + std::chrono::seconds(10);
      while (PidAlive(*pid) && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      return !PidAlive(*pid);
    };
    for (const char* mode : {"fast", "immediate"}) {
      auto r = RunCommand(
          {suite->bindir + "/pg_ctl", "-D", pgdata.string(), "-m", mode, "-w", "-t", "30", "stop"},
          std::chrono::seconds(60), geteuid() == 0 ? "postgres" : "");
      if (gone()) return;
      ADD_FAILURE() << "pg_ctl stop -m " << mode << " left the server in " << pgdata
                    << " running: " << (r ? Describe(*r) : r.error().ToString());
    }
    ::kill(*pid, SIGKILL);
  }

  // `drctl --output json restore` into `pgdata` (registered to be stopped in TearDown).
  CommandResult Restore(const fs::path& config, const fs::path& pgdata,
                        const std::vector<std::string>& extra,
                        const std::vector<std::string>& env = {}) {
    started_.push_back(pgdata);
    std::vector<std::string> args = {"--output", "json",     "restore",  "--no-progress",
                                     "--owner",  "postgres", "--pgdata", pgdata.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunDrctl(config, args, env);
  }

  // A restore with --start on a free port that must succeed; its JSON in `out`, the server's
  // port in `port`.
  void RestoreStarted(const fs::path& config, const fs::path& pgdata,
                      std::vector<std::string> extra, json* out, int* port,
                      const std::vector<std::string>& env = {}) {
    auto free_port = FreeLoopbackPort();
    ASSERT_TRUE(free_port.has_value()) << free_port.error().ToString();
    *port = *free_port;
    extra.insert(extra.end(), {"--start", "--port", std::to_string(*port)});
    const auto begun = Clock::now();
    auto r = Restore(config, pgdata, extra, env);
    ASSERT_EQ(r.exit_status, 0) << Describe(r) << "\nserver log:\n"
                                << pg::LogTail(pgdata / "drctl-restore.log", 3000);
    auto j = json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << Describe(r);
    ASSERT_TRUE(j.contains("started") && j["started"].is_object()) << j.dump(2);
    EXPECT_EQ(j["ok"], true) << j.dump(2);
    EXPECT_EQ(j["restore_command"], true) << j.dump(2);
    // (A server shut down at its target reports port 0.)
    if (j["started"]["state"] != "shut down") {
      EXPECT_EQ(j["started"]["port"], *port) << j.dump(2);
    }
    std::cout << "[          ] restore " << j["target"] << ": " << j["started"]["state"] << ", "
              << j["started"]["recovery_stop"] << ", timeline " << j["started"]["timeline"] << ", "
              << std::chrono::duration<double>(Clock::now() - begun).count() << " s\n";
    *out = std::move(j);
  }

  // Runs `sql` in one transaction on the source and returns its transaction id.
  std::string CommitAndGetXid(const std::string& sql) {
    auto conn = pg::Connection::Open(source());
    EXPECT_TRUE(conn.has_value()) << conn.error().ToString();
    if (!conn) return "";
    auto xid = conn->QueryValue("BEGIN; " + sql + "; SELECT txid_current()::text");
    EXPECT_TRUE(xid.has_value()) << xid.error().ToString();
    auto committed = conn->Exec("COMMIT");
    EXPECT_TRUE(committed.has_value()) << committed.error().ToString();
    return xid.value_or("");
  }

  void ResetArchiveSettingsOnSource() {
    for (const char* setting : {"archive_mode", "archive_command"}) {
      EXPECT_TRUE(Succeeded(Exec(source(), std::string("ALTER SYSTEM RESET ") + setting)));
    }
    archive_settings_on_source_ = false;
  }

  fs::path work_;
  std::vector<fs::path> started_;
  bool archive_settings_on_source_ = false;
};

// An accidental DROP TABLE, undone: everything up to just before the dropping transaction.
TEST_F(Pitr, DropTableUndoneByTransactionId) {
  ASSERT_TRUE(
      Succeeded(Exec(source(),
                     "CREATE TABLE t1_orders (id int PRIMARY KEY, amount numeric(10,2), note text);"
                     "INSERT INTO t1_orders SELECT i, i * 1.25, 'order ' || i "
                     "  FROM generate_series(1, 500) i;"
                     "CREATE TABLE t1_customers (id int PRIMARY KEY, name text);"
                     "INSERT INTO t1_customers SELECT i, 'customer ' || i "
                     "  FROM generate_series(1, 200) i")));
  ASSERT_TRUE(
      Succeeded(Exec(source(), "UPDATE t1_orders SET amount = amount * 2 WHERE id % 7 = 0")));
  ASSERT_TRUE(Succeeded(Exec(source(), "DELETE FROM t1_orders WHERE id % 11 = 0")));
  ASSERT_TRUE(Succeeded(
      Exec(source(), "INSERT INTO t1_customers VALUES (201, 'committed just before the drop')")));
  const std::string orders = Value(source(), HashSql("t1_orders"));
  const std::string customers = Value(source(), HashSql("t1_customers"));
  const std::string base = Value(source(), HashSql("base"));
  ASSERT_EQ(orders.substr(0, 9), "455 rows ") << orders;
  ASSERT_EQ(customers.substr(0, 9), "201 rows ") << customers;

  const std::string xid = CommitAndGetXid("DROP TABLE t1_orders");
  ASSERT_FALSE(xid.empty());
  ASSERT_TRUE(Succeeded(
      Exec(source(), "INSERT INTO t1_customers VALUES (202, 'committed after the drop')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, work_ / "pgdata",
                                         {"--target-xid", xid, "--exclusive"}, &restore, &port));
  EXPECT_EQ(restore["target"], "transaction " + xid + " (exclusive)") << restore.dump(2);
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  EXPECT_NE(restore["started"]["recovery_stop"].get<std::string>().find(
                "before commit of transaction " + xid),
            std::string::npos)
      << restore.dump(2);

  const std::string restored = Conninfo(port);
  EXPECT_EQ(Value(restored, HashSql("t1_orders")), orders)
      << "the dropped table is not back as it was just before the drop";
  EXPECT_EQ(Value(restored, HashSql("t1_customers")), customers)
      << "rows committed before the drop (201 customers) and only those";
  EXPECT_EQ(Value(restored, "SELECT count(*) FROM t1_customers WHERE id = 202"), "0");
  EXPECT_EQ(Value(restored, HashSql("base")), base);
  EXPECT_EQ(Value(restored, "SELECT pg_is_in_recovery()"), "f");
}

// The same undo from S3 (Swift with s3api): "main" copied there by repo sync, and the restored
// server's restore_command (run by postgres) fetching the WAL from S3.
TEST_F(Pitr, DropTableUndoneFromAnS3Copy) {
  SwiftServer* swift = SharedSwift();
  ASSERT_NE(swift, nullptr);
  auto s3_table =
      S3RepoWithCredentialFiles(*swift, "s3", "drctl-pitr", suite->root.filename().string(), work_);
  ASSERT_TRUE(s3_table.has_value()) << s3_table.error().ToString();
  const fs::path both = work_ / "main-and-s3.toml";
  const fs::path s3_only = work_ / "s3.toml";
  WriteConfig(*suite, both, source(), {{"main", suite->root / "repo-main"}}, false);
  WriteConfig(*suite, s3_only, source(), {}, false);
  std::ofstream(both, std::ios::app) << *s3_table;
  std::ofstream(s3_only, std::ios::app) << *s3_table;

  ASSERT_TRUE(Succeeded(Exec(source(),
                             "CREATE TABLE t9_ledger (id int PRIMARY KEY, amount numeric(10,2));"
                             "INSERT INTO t9_ledger SELECT i, i * 0.5 FROM generate_series(1, 300) "
                             "i")));
  const std::string ledger = Value(source(), HashSql("t9_ledger"));
  const std::string xid = CommitAndGetXid("DROP TABLE t9_ledger");
  ASSERT_FALSE(xid.empty());
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));
  // The S3 copy shares main's key (a sibling made from one config) and gets its backups and WAL.
  auto init = RunDrctl(both, {"repo", "init", "--repo", "s3"});
  ASSERT_EQ(init.exit_status, 0) << Describe(init);
  auto sync = RunDrctl(both, {"repo", "sync", "--from", "main", "--to", "s3"});
  ASSERT_EQ(sync.exit_status, 0) << Describe(sync);

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(s3_only, work_ / "pgdata",
                                         {"--target-xid", xid, "--exclusive"}, &restore, &port));
  EXPECT_EQ(restore["repo"], "s3") << restore.dump(2);
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  const std::string restored = Conninfo(port);
  EXPECT_EQ(Value(restored, HashSql("t9_ledger")), ledger)
      << "the dropped table is not back from S3 as it was just before the drop";
  EXPECT_EQ(Value(restored, "SELECT pg_is_in_recovery()"), "f");
}

// --target-time between two commits a couple of seconds apart: the first is there, not the second.
TEST_F(Pitr, TargetTimeBetweenTwoCommits) {
  ASSERT_TRUE(Succeeded(Exec(source(), "CREATE TABLE t2_events (id int PRIMARY KEY, what text)")));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t2_events VALUES (1, 'A')")));
  ASSERT_TRUE(Succeeded(Exec(source(), "SELECT pg_sleep(1)")));
  const std::string target = Value(source(), ZonedTimeSql("clock_timestamp()"));
  ASSERT_FALSE(target.starts_with("ERROR")) << target;
  ASSERT_TRUE(Succeeded(Exec(source(), "SELECT pg_sleep(1)")));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t2_events VALUES (2, 'B')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, work_ / "pgdata",
                                         {"--target-time", target}, &restore, &port));
  EXPECT_EQ(restore["target"], "time " + target + " (inclusive)") << restore.dump(2);
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  EXPECT_NE(restore["started"]["recovery_stop"].get<std::string>().find("before commit"),
            std::string::npos)
      << restore.dump(2);
  const std::string restored = Conninfo(port);
  EXPECT_EQ(
      Value(restored, "SELECT coalesce(string_agg(what, ',' ORDER BY id), '') FROM t2_events"), "A")
      << "target time " << target;
  EXPECT_EQ(Value(restored, "SELECT count(*) FROM base"), std::to_string(kBaseRows + 1));
}

// --target-lsn: pg_current_wal_lsn() between two commits.
TEST_F(Pitr, TargetLsnBetweenTwoCommits) {
  ASSERT_TRUE(Succeeded(Exec(source(), "CREATE TABLE t3_lsn (id int PRIMARY KEY, what text)")));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t3_lsn VALUES (1, 'A')")));
  const std::string lsn = Value(source(), "SELECT pg_current_wal_lsn()::text");
  ASSERT_FALSE(lsn.starts_with("ERROR")) << lsn;
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t3_lsn VALUES (2, 'B')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(
      RestoreStarted(suite->main_config, work_ / "pgdata", {"--target-lsn", lsn}, &restore, &port));
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  EXPECT_EQ(
      Value(Conninfo(port), "SELECT coalesce(string_agg(what, ',' ORDER BY id), '') FROM t3_lsn"),
      "A")
      << "target LSN " << lsn;
}

// --immediate: only the backup's data, nothing committed after it.
TEST_F(Pitr, ImmediateStopsAtTheBackup) {
  ASSERT_TRUE(Succeeded(Exec(source(), "CREATE TABLE t3_after_backup (id int)")));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t3_after_backup VALUES (1)")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, work_ / "pgdata",
                                         {"--backup", suite->base_backup, "--immediate"}, &restore,
                                         &port));
  EXPECT_EQ(restore["backup_id"], suite->base_backup) << restore.dump(2);
  EXPECT_EQ(restore["target"], "the backup's consistency point") << restore.dump(2);
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  const std::string restored = Conninfo(port);
  EXPECT_EQ(Value(restored, HashSql("base")), suite->base_hash)
      << "the base table as the backup saw it (without the row committed after it)";
  EXPECT_EQ(Value(restored, "SELECT to_regclass('t3_after_backup') IS NULL"), "t");
}

// --target-name: a restore point between two commits.
TEST_F(Pitr, TargetNameIsARestorePoint) {
  const std::string name = "pitr-before-b-" + std::to_string(getpid());
  ASSERT_TRUE(Succeeded(Exec(source(), "CREATE TABLE t3_named (id int PRIMARY KEY, what text)")));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t3_named VALUES (1, 'A')")));
  const std::string point = Value(source(), "SELECT pg_create_restore_point('" + name + "')");
  ASSERT_FALSE(point.starts_with("ERROR")) << point;
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t3_named VALUES (2, 'B')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, work_ / "pgdata",
                                         {"--target-name", name}, &restore, &port));
  EXPECT_EQ(restore["target"], "restore point '" + name + "' (inclusive)") << restore.dump(2);
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  EXPECT_NE(restore["started"]["recovery_stop"].get<std::string>().find(name), std::string::npos)
      << restore.dump(2);
  EXPECT_EQ(
      Value(Conninfo(port), "SELECT coalesce(string_agg(what, ',' ORDER BY id), '') FROM t3_named"),
      "A")
      << "restore point " << name << " at " << point;
}

// Every refusal comes before anything is written: the target stays absent (or empty).
TEST_F(Pitr, RefusalsWriteNothing) {
  const int precondition = InfoFor(ErrorCode::kPrecondition).exit_code;
  const int usage = InfoFor(ErrorCode::kUsage).exit_code;
  ASSERT_EQ(precondition, 14);
  ASSERT_EQ(usage, 2);
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  // After the last archived WAL; the target directory exists and is empty.
  const fs::path empty = work_ / "empty";
  fs::create_directories(empty);
  const std::string future = Value(source(), ZonedTimeSql("now() + interval '1 hour'"));
  auto late = Restore(suite->main_config, empty, {"--target-time", future});
  EXPECT_EQ(late.exit_status, precondition) << Describe(late);
  std::cout << "[          ] refused: " << late.err;
  EXPECT_NE(late.err.find("recoverable window of backup"), std::string::npos) << Describe(late);
  EXPECT_NE(late.err.find("nothing was written"), std::string::npos) << Describe(late);
  EXPECT_TRUE(fs::is_directory(empty) && fs::is_empty(empty)) << Describe(late);

  // Before the oldest backup.
  const fs::path absent = work_ / "absent";
  const std::string past = Value(source(), ZonedTimeSql("now() - interval '1 day'"));
  auto early = Restore(suite->main_config, absent, {"--target-time", past});
  EXPECT_EQ(early.exit_status, precondition) << Describe(early);
  std::cout << "[          ] refused: " << early.err;
  EXPECT_NE(early.err.find("no backup can reach the target"), std::string::npos) << Describe(early);
  EXPECT_FALSE(fs::exists(absent)) << Describe(early);

  // A time without a zone.
  auto no_zone = Restore(suite->main_config, absent, {"--target-time", "2026-11-25 21:00:00"});
  EXPECT_EQ(no_zone.exit_status, usage) << Describe(no_zone);
  std::cout << "[          ] refused: " << no_zone.err;
  EXPECT_NE(no_zone.err.find("with a zone"), std::string::npos) << Describe(no_zone);
  EXPECT_FALSE(fs::exists(absent)) << Describe(no_zone);

  // Two targets at once.
  auto two = Restore(suite->main_config, absent, {"--target-xid", "1234", "--target-lsn", "0/1"});
  EXPECT_EQ(two.exit_status, usage) << Describe(two);
  std::cout << "[          ] refused: " << two.err;
  EXPECT_NE(two.err.find("at most one"), std::string::npos) << Describe(two);
  EXPECT_FALSE(fs::exists(absent)) << Describe(two);

  // The passphrase in drctl's environment: a server started later by someone else would not
  // have it, so a target (which needs restore_command) is refused without --start ...
  const std::string xid =
      CommitAndGetXid("CREATE TABLE t4_env (id int); INSERT INTO t4_env VALUES (1)");
  ASSERT_FALSE(xid.empty());
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));
  const std::vector<std::string> env = {std::string(kPassphraseEnv) + "=" + kPassphrase};
  auto no_start = Restore(suite->env_config, absent, {"--target-xid", xid}, env);
  EXPECT_EQ(no_start.exit_status, precondition) << Describe(no_start);
  std::cout << "[          ] refused: " << no_start.err;
  EXPECT_NE(no_start.err.find(kPassphraseEnv), std::string::npos) << Describe(no_start);
  EXPECT_NE(no_start.err.find("--start"), std::string::npos) << Describe(no_start);
  EXPECT_NE(no_start.err.find("nothing was written"), std::string::npos) << Describe(no_start);
  EXPECT_TRUE(EmptyOrAbsent(absent)) << Describe(no_start);

  // ... and works with --start: the server inherits drctl's environment.
  json restore;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->env_config, work_ / "with-start",
                                         {"--target-xid", xid}, &restore, &port, env));
  EXPECT_EQ(restore["started"]["state"], "promoted") << restore.dump(2);
  EXPECT_NE(restore["started"]["recovery_stop"].get<std::string>().find(
                "after commit of transaction " + xid),
            std::string::npos)
      << restore.dump(2);
  EXPECT_EQ(Value(Conninfo(port), "SELECT count(*) FROM t4_env"), "1");
}

// --target-action pause leaves the server in recovery, read-only, at the target;
// --target-action shutdown stops it there.
TEST_F(Pitr, TargetActionPauseAndShutdown) {
  const std::string xid = CommitAndGetXid(
      "CREATE TABLE t5_items (id int PRIMARY KEY, label text); "
      "INSERT INTO t5_items SELECT i, 'item ' || i FROM generate_series(1, 100) i");
  ASSERT_FALSE(xid.empty());
  const std::string items = Value(source(), HashSql("t5_items"));
  ASSERT_TRUE(Succeeded(Exec(source(), "INSERT INTO t5_items VALUES (101, 'after the target')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));

  json paused;
  int port = 0;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, work_ / "paused",
                                         {"--target-xid", xid, "--target-action", "pause"}, &paused,
                                         &port));
  EXPECT_EQ(paused["started"]["state"], "paused") << paused.dump(2);
  EXPECT_NE(paused["started"]["recovery_stop"].get<std::string>().find(
                "after commit of transaction " + xid),
            std::string::npos)
      << paused.dump(2);
  const std::string restored = Conninfo(port);
  EXPECT_EQ(Value(restored, "SELECT pg_is_in_recovery()"), "t");
  EXPECT_EQ(Value(restored, "SELECT pg_get_wal_replay_pause_state()"), "paused");
  EXPECT_EQ(Value(restored, HashSql("t5_items")), items);
  auto write = Exec(restored, "INSERT INTO t5_items VALUES (102, 'written while paused')");
  ASSERT_FALSE(write.has_value()) << "a paused server in recovery accepted a write";
  EXPECT_NE(write.error().ToString().find("read-only"), std::string::npos)
      << write.error().ToString();

  json shut;
  const fs::path shut_dir = work_ / "shutdown";
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->main_config, shut_dir,
                                         {"--target-xid", xid, "--target-action", "shutdown"},
                                         &shut, &port));
  EXPECT_EQ(shut["started"]["state"], "shut down") << shut.dump(2);
  EXPECT_NE(shut["started"]["recovery_stop"].get<std::string>().find(
                "after commit of transaction " + xid),
            std::string::npos)
      << shut.dump(2);
  EXPECT_FALSE(fs::exists(shut_dir / "postmaster.pid"))
      << "the server is still running: " << pg::LogTail(shut_dir / "drctl-restore.log");
  EXPECT_FALSE(pg::Connection::Open(Conninfo(port), std::chrono::seconds(2)).has_value());
}

// A promoted restore whose server archives into the repository it was restored from creates
// timeline 2 there; the end-of-archive restore of the same backup follows it (latest), or stays
// on timeline 1 when told to.
TEST_F(Pitr, TimelinesFollowLatestOrTheOneNamed) {
  // The backup carries archive settings in postgresql.auto.conf (the source's own come from its
  // command line, which wins): its restored copies archive into "timelines".
  archive_settings_on_source_ = true;
  ASSERT_TRUE(Succeeded(Exec(source(), "ALTER SYSTEM SET archive_mode = 'on'")));
  ASSERT_TRUE(Succeeded(Exec(source(), "ALTER SYSTEM SET archive_command = '" +
                                           suite->drctl.string() + " --config " +
                                           suite->timeline_config.string() + " wal push %p'")));
  ASSERT_TRUE(Succeeded(Exec(source(),
                             "CREATE TABLE t6_rows (id int PRIMARY KEY, note text); "
                             "INSERT INTO t6_rows VALUES (1, 'before the backup')")));
  auto backup = RunDrctl(suite->timeline_config, {"--output", "json", "backup", "--no-progress"});
  ASSERT_EQ(backup.exit_status, 0) << Describe(backup);
  ResetArchiveSettingsOnSource();
  auto backup_json = json::parse(backup.out, nullptr, false);
  ASSERT_FALSE(backup_json.is_discarded()) << Describe(backup);
  const std::string backup_id = backup_json["backup_id"];

  // Restore, promote: timeline 2, archived through drctl into the same repository.
  json first;
  int port = 0;
  const fs::path first_dir = work_ / "timeline2";
  ASSERT_NO_FATAL_FAILURE(
      RestoreStarted(suite->timeline_config, first_dir, {"--immediate"}, &first, &port));
  EXPECT_EQ(first["started"]["state"], "promoted") << first.dump(2);
  ASSERT_EQ(first["started"]["timeline"], "2") << first.dump(2);
  const std::string timeline2 = Conninfo(port);
  EXPECT_EQ(Value(timeline2, "SELECT timeline_id FROM pg_control_checkpoint()"), "2");
  ASSERT_TRUE(Succeeded(Exec(timeline2, "INSERT INTO t6_rows VALUES (2, 'on timeline 2')")));
  ASSERT_TRUE(SwitchAndWaitArchived(timeline2, first_dir / "drctl-restore.log"));
  // Timeline 1 goes on too, after the branch point.
  ASSERT_TRUE(Succeeded(
      Exec(source(), "INSERT INTO t6_rows VALUES (3, 'on timeline 1 after the branch')")));
  ASSERT_TRUE(SwitchAndWaitArchived(source(), source_log()));
  StopDetached(first_dir);

  auto info = RunDrctl(suite->timeline_config, {"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << Describe(info);
  auto info_json = json::parse(info.out, nullptr, false);
  ASSERT_FALSE(info_json.is_discarded()) << Describe(info);
  bool history2 = false;
  for (const auto& t : info_json["repos"][0]["wal"]["timelines"]) {
    if (t["timeline"] == 2 && t["history"] == true && !t["ranges"].empty()) history2 = true;
  }
  EXPECT_TRUE(history2) << "no history file and segments of timeline 2: "
                        << info_json["repos"][0]["wal"].dump(2);
  // Both timelines are recoverable: 1 from the backup, 2 from the switch.
  std::vector<std::string> reachable;
  for (const auto& w : info_json["repos"][0]["wal"]["windows"]) {
    reachable.push_back(w["timeline"].dump() + " " + w["from"].get<std::string>());
  }
  EXPECT_EQ(reachable,
            (std::vector<std::string>{"1 backup " + backup_id, "2 switch from timeline 1"}))
      << info_json["repos"][0]["wal"].dump(2);

  // End of the archive, latest timeline: follows timeline 2.
  json latest;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->timeline_config, work_ / "latest",
                                         {"--backup", backup_id}, &latest, &port));
  EXPECT_EQ(latest["target"], "the end of the archive") << latest.dump(2);
  EXPECT_EQ(latest["started"]["state"], "promoted") << latest.dump(2);
  EXPECT_EQ(Value(Conninfo(port), "SELECT string_agg(note, ',' ORDER BY id) FROM t6_rows"),
            "before the backup,on timeline 2");
  StopDetached(work_ / "latest");

  // End of the archive on timeline 1: the branch is not followed.
  json one;
  ASSERT_NO_FATAL_FAILURE(RestoreStarted(suite->timeline_config, work_ / "timeline1",
                                         {"--backup", backup_id, "--target-timeline", "1"}, &one,
                                         &port));
  EXPECT_EQ(one["started"]["state"], "promoted") << one.dump(2);
  EXPECT_EQ(Value(Conninfo(port), "SELECT string_agg(note, ',' ORDER BY id) FROM t6_rows"),
            "before the backup,on timeline 1 after the branch");
}

}  // namespace
}  // namespace drctl::testing
