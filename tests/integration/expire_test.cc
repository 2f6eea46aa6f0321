// drctl expire end to end, on a PostgreSQL 15 cluster of its own that archives through
// `drctl wal push` into encrypted posix repositories (one per test: archive_command is switched
// with ALTER SYSTEM). Covered: --dry-run changes nothing and lists the plan; keep_last = 2 deletes
// the older backups, their WAL and the packs nothing references any more (the dry run's estimate
// is what goes), and the kept backups restore and start; expire while a backup runs (the backup
// completes, and restores after the next expire collected what it could); a damaged manifest or
// index makes expire refuse and delete nothing.
//
// The sweep never deletes a pack younger than its grace period (1 h). The tests age the
// repository instead of waiting: they set the mtime of packs and indexes 2 h back, as if the
// backups had been taken earlier.
#include <gtest/gtest.h>

#include <unistd.h>
#include <algorithm>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "catalog/backup_catalog.h"
#include "catalog/gc.h"
#include "catalog/repository.h"
#include "common/error.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"
#include "storage/open.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr const char* kPassphrase = "expire-test-passphrase-5150";

std::string Value(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return "ERROR: " + conn.error().ToString();
  auto value = conn->QueryValue(sql);
  if (!value) return "ERROR: " + value.error().ToString();
  return *value;
}

::testing::AssertionResult Exec(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return ::testing::AssertionFailure() << conn.error().ToString();
  auto done = conn->Exec(sql);
  if (!done) return ::testing::AssertionFailure() << done.error().ToString();
  return ::testing::AssertionSuccess();
}

std::string Conninfo(int port, const std::string& db = "postgres") {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres dbname=" + db;
}

// Every file of a repository except locks/ (taken and released by every command): path →
// size and mtime.
std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> Files(const fs::path& repo) {
  std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> out;
  for (const auto& e : fs::recursive_directory_iterator(repo)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), repo).string();
    if (rel.starts_with("locks/")) continue;
    out[rel] = {e.file_size(), e.last_write_time().time_since_epoch().count()};
  }
  return out;
}

// `after` is `before` but for what PostgreSQL's archiver may add meanwhile (it archives into the
// suite's repositories): every file of `before` is still there unchanged (an archiver's
// temporary, `*.drctl-tmp-*`, may have become its segment), and anything new is WAL.
::testing::AssertionResult Unchanged(
    const std::map<std::string, std::pair<std::uintmax_t, std::int64_t>>& before,
    const std::map<std::string, std::pair<std::uintmax_t, std::int64_t>>& after) {
  for (const auto& [path, meta] : before) {
    if (path.find(".drctl-tmp-") != std::string::npos) continue;
    const auto it = after.find(path);
    if (it == after.end()) return ::testing::AssertionFailure() << path << " is gone";
    if (it->second != meta) return ::testing::AssertionFailure() << path << " changed";
  }
  for (const auto& [path, meta] : after) {
    if (!before.contains(path) && !path.starts_with("wal/")) {
      return ::testing::AssertionFailure() << path << " is new";
    }
  }
  return ::testing::AssertionSuccess();
}

std::size_t CountUnder(const fs::path& dir) {
  std::size_t n = 0;
  if (!fs::exists(dir)) return 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1U : 0U;
  return n;
}

// Moves the mtime of every pack and index 2 h back (past GC's 1 h grace period).
void Age(const fs::path& repo) {
  const auto past = fs::file_time_type::clock::now() - std::chrono::hours(2);
  for (const char* dir : {"packs", "index"}) {
    if (!fs::exists(repo / dir)) continue;
    for (const auto& e : fs::recursive_directory_iterator(repo / dir)) {
      if (e.is_regular_file()) fs::last_write_time(e.path(), past);
    }
  }
}

void FlipByte(const fs::path& file, std::uintmax_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5a));
}

struct Suite {
  std::optional<TempDir> dir;
  std::optional<pg::LocalCluster> cluster;  // after dir: stopped before the directory goes
  fs::path root;
  std::string bindir;
  fs::path drctl;
  int port = 0;
};

Suite* suite = nullptr;
std::string suite_error;

struct Repo {
  fs::path dir;
  fs::path config;
};

CommandResult Drctl(const Repo& repo, std::vector<std::string> args) {
  args.insert(args.begin(), {"--config", repo.config.string()});
  return RunDrctlAt(suite->drctl.string(), std::move(args));
}

Status MakeSuite(Suite& s) {
  auto bindir = pg::FindBindir("");
  if (!bindir) return std::unexpected(bindir.error());
  s.bindir = *bindir;
  auto dir = TempDir::Create("drctl-expire-");
  if (!dir) return std::unexpected(dir.error());
  s.dir.emplace(std::move(*dir));
  s.root = s.dir->path();
  fs::permissions(s.root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  s.drctl = s.root / "drctl";
  fs::copy_file(DRCTL_BINARY, s.drctl);
  fs::permissions(s.drctl, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec);
  std::ofstream(s.root / "pass") << kPassphrase << "\n";
  fs::permissions(s.root / "pass", fs::perms::owner_read | fs::perms::owner_write);
  DRCTL_TRY(ChownToUser(s.root / "pass", "postgres"));
  auto port = FreeLoopbackPort();
  if (!port) return std::unexpected(port.error());
  s.port = *port;
  pg::ClusterOptions o;
  o.pgdata = s.root / "pgdata";
  o.port = s.port;
  // archive_command is not on the command line: each test points it at its own repository with
  // ALTER SYSTEM (the command line would override that).
  o.settings = {"wal_level=replica", "max_wal_senders=10", "fsync=off", "archive_mode=on"};
  DRCTL_TRY(pg::LocalCluster::InitDb(o));
  auto cluster = pg::LocalCluster::Start(o);
  if (!cluster) return std::unexpected(cluster.error());
  s.cluster.emplace(std::move(*cluster));
  auto conn = pg::Connection::Open(Conninfo(s.port), std::chrono::seconds(5));
  if (!conn) return std::unexpected(conn.error());
  return conn->Exec(
      "CREATE TABLE marks (id serial PRIMARY KEY, note text NOT NULL);"
      "CREATE TABLE churn (id int PRIMARY KEY, v text NOT NULL)");
}

class Expire : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    suite = new Suite;
    suite_error.clear();
    auto made = MakeSuite(*suite);
    if (!made) suite_error = made.error().ToString();
  }
  static void TearDownTestSuite() {
    delete suite;
    suite = nullptr;
  }

  void SetUp() override { ASSERT_TRUE(suite_error.empty()) << "cluster: " << suite_error; }

  void TearDown() override {
    for (const auto& pgdata : started_) {
      (void)RunCommand(
          {suite->bindir + "/pg_ctl", "-D", pgdata.string(), "-m", "immediate", "-w", "stop"},
          std::chrono::seconds(60), geteuid() == 0 ? "postgres" : "");
    }
  }

  static std::string source(const std::string& db = "postgres") {
    return Conninfo(suite->port, db);
  }

  // A new repository `name` with `retention` lines, initialised, archived into by the cluster.
  static Repo NewRepo(const std::string& name, const std::string& retention) {
    Repo r{suite->root / ("repo-" + name), suite->root / (name + ".toml")};
    std::ofstream c(r.config);
    c << "[postgres]\nconninfo = \"" << source() << "\"\npgdata = \""
      << (suite->root / "pgdata").string() << "\"\n"
      << "[[repo]]\nname = \"" << name << "\"\nurl = \"file://" << r.dir.string() << "\"\n"
      << "[encryption]\npassphrase_file = \"" << (suite->root / "pass").string()
      << "\"\nscrypt_n = 1024\n"
      << "[retention]\n"
      << retention << "\n";
    c.close();
    fs::permissions(r.config, fs::perms::owner_read | fs::perms::owner_write |
                                  fs::perms::group_read | fs::perms::others_read);
    auto init = Drctl(r, {"repo", "init"});
    EXPECT_EQ(init.exit_status, 0) << Describe(init);
    EXPECT_TRUE(ChownToUser(r.dir, "postgres").has_value());
    EXPECT_TRUE(Exec(source(), "ALTER SYSTEM SET archive_command = '" + suite->drctl.string() +
                                   " --config " + r.config.string() + " wal push %p'"));
    EXPECT_TRUE(Exec(source(), "SELECT pg_reload_conf()"));
    return r;
  }

  // Writes something new (a mark row, a rewritten churn table: chunks only this backup has),
  // then backs up. Returns the backup id ("" on failure, with the test failed).
  static std::string Backup(const Repo& repo, const std::string& note) {
    EXPECT_TRUE(Exec(source(), "INSERT INTO marks (note) VALUES ('" + note +
                                   "'); TRUNCATE churn; INSERT INTO churn SELECT i, "
                                   "md5(random()::text) || md5(random()::text) FROM "
                                   "generate_series(1, 60000) i; CHECKPOINT"));
    auto r = Drctl(repo, {"--output", "json", "backup", "--no-progress"});
    EXPECT_EQ(r.exit_status, 0) << Describe(r);
    auto j = json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.contains("backup_id")) {
      ADD_FAILURE() << Describe(r);
      return "";
    }
    return j["backup_id"].get<std::string>();
  }

  static std::optional<catalog::Repository> OpenRepository(const Repo& repo) {
    RepoConfig rc;
    rc.name = "test";
    rc.url = "file://" + repo.dir.string();
    auto storage = storage::OpenStorage(rc);
    EXPECT_TRUE(storage.has_value()) << storage.error().ToString();
    if (!storage) return std::nullopt;
    auto opened = catalog::Repository::Open(std::move(*storage), std::string(kPassphrase));
    EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
    if (!opened) return std::nullopt;
    return std::move(*opened);
  }

  // `drctl restore --backup ID --start` (plus `extra`) into a new directory; returns its port.
  int RestoreStarted(const Repo& repo, const std::string& backup_id,
                     const std::vector<std::string>& extra) {
    const fs::path pgdata = suite->root / ("restore-" + backup_id);
    started_.push_back(pgdata);
    auto port = FreeLoopbackPort();
    EXPECT_TRUE(port.has_value());
    if (!port) return 0;
    std::vector<std::string> args = {
        "--output",           "json",          "restore",  "--no-progress", "--owner", "postgres",
        "--pgdata",           pgdata.string(), "--backup", backup_id,       "--start", "--port",
        std::to_string(*port)};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Drctl(repo, args);
    EXPECT_EQ(r.exit_status, 0) << Describe(r) << "\nserver log:\n"
                                << pg::LogTail(pgdata / "drctl-restore.log", 3000);
    return r.exit_status == 0 ? *port : 0;
  }

  std::vector<fs::path> started_;
};

std::vector<std::string> Ids(const json& list) {
  std::vector<std::string> ids;
  for (const auto& b : list) ids.push_back(b["backup_id"].get<std::string>());
  return ids;
}

TEST_F(Expire, DryRunListsThePlanThenKeepLastTwoDeletesAndTheKeptBackupsRestore) {
  const Repo repo = NewRepo("keep", "keep_last = 2");
  std::vector<std::string> ids;
  for (int i = 1; i <= 4; ++i) ids.push_back(Backup(repo, "backup " + std::to_string(i)));
  ASSERT_FALSE(HasFailure());
  Age(repo.dir);

  const auto before = Files(repo.dir);
  auto dry = Drctl(repo, {"--output", "json", "expire", "--dry-run"});
  ASSERT_EQ(dry.exit_status, 0) << Describe(dry);
  EXPECT_TRUE(Unchanged(before, Files(repo.dir))) << "the dry run changed the repository";
  const json plan = json::parse(dry.out);
  ASSERT_EQ(plan["repos"].size(), 1U) << plan.dump(2);
  const json& p = plan["repos"][0];
  EXPECT_EQ(Ids(p["kept"]), (std::vector<std::string>{ids[2], ids[3]})) << p.dump(2);
  EXPECT_EQ(p["kept"][0]["rules"], json::array({"keep_last"})) << p.dump(2);
  EXPECT_EQ(Ids(p["expired"]), (std::vector<std::string>{ids[0], ids[1]})) << p.dump(2);
  EXPECT_GT(p["wal_deleted"]["files"].get<int>(), 0) << p.dump(2);
  ASSERT_TRUE(p["packs"].is_object()) << p.dump(2);
  const auto packs_to_go = p["packs"]["deleted"].get<std::size_t>();
  EXPECT_GT(packs_to_go, 0U) << "the older backups' churn tables should free whole packs";
  std::cout << "[          ] dry run: " << p["packs"].dump() << ", freed " << p["bytes_freed"]
            << " bytes\n";
  auto text = Drctl(repo, {"expire", "--dry-run"});
  ASSERT_EQ(text.exit_status, 0) << Describe(text);
  EXPECT_NE(text.out.find("keep    " + ids[3]), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("delete  " + ids[0]), std::string::npos) << text.out;
  EXPECT_TRUE(Unchanged(before, Files(repo.dir)));

  const std::size_t packs_before = CountUnder(repo.dir / "packs");
  auto run = Drctl(repo, {"--output", "json", "expire"});
  ASSERT_EQ(run.exit_status, 0) << Describe(run);
  const json done = json::parse(run.out)["repos"][0];
  EXPECT_EQ(Ids(done["expired"]), (std::vector<std::string>{ids[0], ids[1]}));
  EXPECT_EQ(done["packs"]["deleted"], packs_to_go) << done.dump(2);
  EXPECT_EQ(CountUnder(repo.dir / "packs"), packs_before - packs_to_go);

  auto opened = OpenRepository(repo);
  ASSERT_TRUE(opened.has_value());
  auto left = catalog::ListBackupIds(opened->storage());
  ASSERT_TRUE(left.has_value()) << left.error().ToString();
  // Listed by id: two backups of one second are in random order there.
  std::vector<std::string> want = {ids[2], ids[3]};
  std::sort(left->begin(), left->end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(*left, want);
  // Nothing unreferenced and old is left: a fresh mark and sweep finds nothing to delete.
  auto live = catalog::LiveChunks(opened->storage(), opened->master());
  ASSERT_TRUE(live.has_value()) << live.error().ToString();
  auto gc = catalog::CollectGarbage(opened->storage(), opened->master(), *live, {.dry_run = true});
  ASSERT_TRUE(gc.has_value()) << gc.error().ToString();
  EXPECT_EQ(gc->packs_deleted, 0U);
  // The WAL of the kept backups is there, nothing from before the older one is.
  auto kept = catalog::LoadManifest(opened->storage(), opened->master(), ids[2]);
  ASSERT_TRUE(kept.has_value()) << kept.error().ToString();
  for (const auto& e : fs::directory_iterator(repo.dir / "wal" / "00000001")) {
    const std::string name = e.path().filename().string();
    EXPECT_GE(name.substr(0, 24), kept->start_wal) << name << " should have been deleted";
  }
  EXPECT_TRUE(fs::exists(repo.dir / "wal" / "00000001" / kept->start_wal));
  EXPECT_TRUE(fs::exists(repo.dir / "wal" / "00000001" / kept->stop_wal));

  // The WAL expire removed between the kept backups is not a gap to verify: with [retention]
  // rules, continuity is promised from the newest backup's start (no pitr rule here).
  auto verified = Drctl(repo, {"verify"});
  EXPECT_EQ(verified.exit_status, 0) << Describe(verified);

  // Running it again finds nothing more to do.
  auto again = Drctl(repo, {"--output", "json", "expire"});
  ASSERT_EQ(again.exit_status, 0) << Describe(again);
  EXPECT_TRUE(json::parse(again.out)["repos"][0]["expired"].empty());

  // Both kept backups restore and start: the older one at its consistency point, the newest to
  // the end of the archive.
  const int older = RestoreStarted(repo, ids[2], {"--immediate"});
  ASSERT_NE(older, 0);
  EXPECT_EQ(Value(Conninfo(older), "SELECT note FROM marks ORDER BY id DESC LIMIT 1"), "backup 3");
  const int newest = RestoreStarted(repo, ids[3], {});
  ASSERT_NE(newest, 0);
  EXPECT_EQ(Value(Conninfo(newest), "SELECT note FROM marks ORDER BY id DESC LIMIT 1"), "backup 4");
  EXPECT_EQ(Value(Conninfo(newest), "SELECT count(*) FROM churn"), "60000");
}

TEST_F(Expire, WhileABackupRunsTheBackupCompletesAndRestores) {
  // A database big enough for a backup to take a few seconds.
  ASSERT_TRUE(Exec(source(), "DROP DATABASE IF EXISTS bench"));
  ASSERT_TRUE(Exec(source(), "CREATE DATABASE bench"));
  auto init = RunCommand({suite->bindir + "/pgbench", "-i", "-q", "-s", "20", "-h", "127.0.0.1",
                          "-p", std::to_string(suite->port), "-U", "postgres", "bench"},
                         std::chrono::minutes(10));
  ASSERT_TRUE(init.has_value() && init->exit_status == 0)
      << (init ? Describe(*init) : init.error().ToString());

  const Repo repo = NewRepo("concurrent", "keep_last = 1");
  const std::string first = Backup(repo, "concurrent 1");
  const std::string second = Backup(repo, "concurrent 2");
  ASSERT_FALSE(HasFailure());
  Age(repo.dir);
  ASSERT_TRUE(Exec(source(), "INSERT INTO marks (note) VALUES ('concurrent 3')"));
  ASSERT_TRUE(Exec(source("bench"),
                   "UPDATE pgbench_accounts SET abalance = abalance + 1 "
                   "WHERE aid % 10 = 0"));

  SpawnOptions o;
  o.argv = {suite->drctl.string(), "--config", repo.config.string(), "--output", "json", "backup",
            "--no-progress"};
  o.stdout_path = (suite->root / "concurrent-backup.out").string();
  o.stderr_path = (suite->root / "concurrent-backup.err").string();
  auto child = Process::Spawn(o);
  ASSERT_TRUE(child.has_value()) << child.error().ToString();
  // Once the backup holds its lock, expire runs.
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (Clock::now() < deadline && CountUnder(repo.dir / "locks") == 0 && child->Running()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto during = Drctl(repo, {"--output", "json", "expire"});
  const bool backup_was_running = child->Running();
  std::cout << "[          ] expire during the backup (still running: " << backup_was_running
            << "): exit " << during.exit_status << "\n";
  // Backups and WAL go; the sweep waits for the backup's lock to go (exit 11, locked).
  EXPECT_TRUE(during.exit_status == 0 ||
              during.exit_status == InfoFor(ErrorCode::kLocked).exit_code)
      << Describe(during);
  const json d = json::parse(during.out, nullptr, false);
  ASSERT_FALSE(d.is_discarded()) << Describe(during);
  EXPECT_EQ(Ids(d["repos"][0]["expired"]), std::vector<std::string>{first}) << d.dump(2);
  if (during.exit_status != 0) {
    EXPECT_EQ(d["repos"][0]["packs_error"]["code"], "locked") << d.dump(2);
  }
  auto status = child->Wait(std::chrono::minutes(10));
  ASSERT_TRUE(status.has_value()) << status.error().ToString();
  std::ifstream out_file(suite->root / "concurrent-backup.out");
  const std::string out((std::istreambuf_iterator<char>(out_file)), {});
  ASSERT_EQ(*status, 0) << out;
  const std::string third = json::parse(out)["backup_id"].get<std::string>();

  // The next expire keeps only the new backup and collects everything else.
  Age(repo.dir);
  auto after = Drctl(repo, {"--output", "json", "expire"});
  ASSERT_EQ(after.exit_status, 0) << Describe(after);
  const json a = json::parse(after.out)["repos"][0];
  EXPECT_EQ(Ids(a["expired"]), std::vector<std::string>{second}) << a.dump(2);
  EXPECT_EQ(Ids(a["kept"]), std::vector<std::string>{third}) << a.dump(2);

  const int port = RestoreStarted(repo, third, {"--immediate"});
  ASSERT_NE(port, 0);
  EXPECT_EQ(Value(Conninfo(port), "SELECT note FROM marks ORDER BY id DESC LIMIT 1"),
            "concurrent 3");
  EXPECT_EQ(Value(Conninfo(port, "bench"), "SELECT count(*) FROM pgbench_accounts"), "2000000");
  EXPECT_EQ(
      Value(Conninfo(port, "bench"), "SELECT count(*) FROM pgbench_accounts WHERE abalance <> 0"),
      "200000");
  EXPECT_TRUE(Exec(source(), "DROP DATABASE bench"));
}

TEST_F(Expire, RefusesOnADamagedManifestOrIndexAndDeletesNothing) {
  const Repo repo = NewRepo("damaged", "keep_last = 1");
  const std::string oldest = Backup(repo, "damaged 1");
  Backup(repo, "damaged 2");
  Backup(repo, "damaged 3");
  ASSERT_FALSE(HasFailure());
  Age(repo.dir);

  const fs::path manifest = repo.dir / "backups" / (oldest + ".manifest");
  FlipByte(manifest, fs::file_size(manifest) / 2);
  const auto before = Files(repo.dir);
  for (const bool dry_run : {true, false}) {
    std::vector<std::string> args = {"--output", "json", "expire"};
    if (dry_run) args.push_back("--dry-run");
    auto r = Drctl(repo, args);
    EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code) << Describe(r);
    EXPECT_NE((r.out + r.err).find("backups/" + oldest + ".manifest"), std::string::npos)
        << Describe(r);
    EXPECT_NE((r.out + r.err).find("nothing was deleted"), std::string::npos) << Describe(r);
    EXPECT_TRUE(Unchanged(before, Files(repo.dir))) << "expire deleted something";
  }
  FlipByte(manifest, fs::file_size(manifest) / 2);  // repaired

  std::optional<fs::path> index;
  for (const auto& e : fs::directory_iterator(repo.dir / "index")) index = e.path();
  ASSERT_TRUE(index.has_value());
  FlipByte(*index, fs::file_size(*index) - 20);
  const auto damaged = Files(repo.dir);
  auto r = Drctl(repo, {"--output", "json", "expire"});
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code) << Describe(r);
  EXPECT_NE((r.out + r.err).find("index/" + index->filename().string()), std::string::npos)
      << Describe(r);
  EXPECT_TRUE(Unchanged(damaged, Files(repo.dir))) << "expire deleted something";
  FlipByte(*index, fs::file_size(*index) - 20);

  // Repaired, it runs.
  auto ok = Drctl(repo, {"--output", "json", "expire"});
  EXPECT_EQ(ok.exit_status, 0) << Describe(ok);
  EXPECT_FALSE(fs::exists(manifest));
}

}  // namespace
}  // namespace drctl::testing
