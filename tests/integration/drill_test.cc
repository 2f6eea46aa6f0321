// drctl drill against a repository holding a real backup of the shared PostgreSQL 15 and its
// archived WAL: a drill restores into a scratch instance, recovers (through drctl wal get, as
// the postgres user), checks it (pg_amcheck, the manifest's row counts, the operator's queries),
// measures the RTO, stores its report (drctl info lists it) and tears everything down; --keep
// leaves the instance for a human; --random picks a backup and a moment; a damaged repository and
// a wrong operator check fail with the reason.
#include <gtest/gtest.h>

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

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

struct Suite {
  std::optional<TempDir> dir;
  fs::path root;
  std::string config;
  std::string backup_id;
  std::string last_segment;  // the newest archived segment
};
Suite* suite = nullptr;

std::string ConfigText(const fs::path& root, const fs::path& repo, const std::string& expect) {
  const auto* pg = SharedPostgres();
  std::ostringstream c;
  c << "[postgres]\nconninfo = \"" << pg->Conninfo() << "\"\npgdata = \""
    << pg->options().pgdata.string() << "\"\n"
    << "[[repo]]\nname = \"local\"\nurl = \"file://" << repo.string() << "\"\n"
    << "[encryption]\npassphrase_file = \"" << (root / "pass").string() << "\"\nscrypt_n = 1024\n"
    << "[backup]\ncount_tables = [\"public.drill_t\"]\n"
    << "[wal]\nspool = \"" << (root / "spool").string() << "\"\n"
    << "[drill]\ndirectory = \"" << (root / "drills").string() << "\"\n"
    << "[[drill.check]]\nname = \"rows\"\nquery = \"SELECT count(*) >= 1000 FROM drill_t\"\n"
    << "expect = \"" << expect << "\"\n";
  return c.str();
}

json FirstJson(const std::string& out) {
  // A failing command prints its report, then an error document.
  const auto end = out.find("\n}\n");
  return json::parse(end == std::string::npos ? out : out.substr(0, end + 2), nullptr, false);
}

std::map<std::string, json> ChecksByName(const json& report) {
  std::map<std::string, json> out;
  for (const auto& c : report["checks"]) out[c["name"]] = c;
  return out;
}

class Drill : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto* pg = SharedPostgres();
    ASSERT_NE(pg, nullptr);
    suite = new Suite;
    auto d = TempDir::Create("drctl-drill-");
    ASSERT_TRUE(d.has_value());
    suite->dir.emplace(std::move(*d));
    suite->root = suite->dir->path();
    const fs::path root = suite->root;
    fs::permissions(root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::copy_file(DRCTL_BINARY, root / "drctl");
    std::ofstream(root / "pass") << "drill-passphrase\n";
    suite->config = (root / "drctl.toml").string();
    std::ofstream(suite->config) << ConfigText(root, root / "repo", "t");
    ASSERT_EQ(RunDrctl({"--config", suite->config, "repo", "init"}).exit_status, 0);
    ASSERT_TRUE(ChownToUser(root, "postgres").has_value());
    auto conn = pg::Connection::Open(pg->Conninfo());
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(conn->Exec("DROP TABLE IF EXISTS drill_t; CREATE TABLE drill_t (i int "
                           "PRIMARY KEY); INSERT INTO drill_t SELECT generate_series(1, 1000)")
                    .has_value());
    ASSERT_TRUE(conn->Exec("ALTER SYSTEM SET archive_command = '" + (root / "drctl").string() +
                           " --config " + suite->config + " wal push %p'")
                    .has_value());
    ASSERT_TRUE(conn->Exec("SELECT pg_reload_conf()").has_value());
    auto backup =
        RunDrctl({"--config", suite->config, "--output", "json", "backup", "--no-progress"});
    ASSERT_EQ(backup.exit_status, 0) << backup.err;
    suite->backup_id = json::parse(backup.out)["backup_id"];
    // After the backup: 500 more rows over three segments, archived.
    std::string segment;
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(conn->Exec("INSERT INTO drill_t SELECT generate_series(" +
                             std::to_string(1001 + i * 200) + ", " +
                             std::to_string(i == 2 ? 1500 : 1000 + (i + 1) * 200) + ")")
                      .has_value());
      segment = conn->QueryValue("SELECT pg_walfile_name(pg_current_wal_lsn())").value_or("");
      ASSERT_TRUE(conn->Exec("SELECT pg_switch_wal()").has_value());
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (conn->QueryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
                   .value_or("") < segment &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GE(conn->QueryValue("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")
                  .value_or(""),
              segment);
    suite->last_segment = segment;
    (void)conn->Exec("ALTER SYSTEM SET archive_command = '/bin/true'");
    (void)conn->Exec("SELECT pg_reload_conf()");
  }
  static void TearDownTestSuite() {
    if (auto conn = pg::Connection::Open(SharedPostgres()->Conninfo()); conn) {
      (void)conn->Exec("ALTER SYSTEM SET archive_command = '/bin/true'");
      (void)conn->Exec("SELECT pg_reload_conf()");
    }
    delete suite;
    suite = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(suite, nullptr);
    ASSERT_FALSE(suite->backup_id.empty()) << "suite set-up failed";
  }
  // A copy of the repository, damaged by `damage`, and a config for it (plus `extra` TOML).
  static std::string DamagedCopy(const std::string& name,
                                 const std::function<void(const fs::path&)>& damage,
                                 const std::string& extra = "") {
    const fs::path copy = suite->root / name;
    fs::copy(suite->root / "repo", copy, fs::copy_options::recursive);
    damage(copy);
    std::string config = (suite->root / (name + ".toml")).string();
    std::ofstream(config) << ConfigText(suite->root, copy, "t") << extra;
    return config;
  }
  // Runs a drill expected to fail: its report, with the repository step failing on `kind`.
  static json FailingDrill(const std::string& config, const std::string& kind) {
    auto drill = Run(config, {});
    EXPECT_EQ(drill.exit_status, InfoFor(ErrorCode::kVerifyFailed).exit_code) << drill.out;
    json report = FirstJson(drill.out);
    EXPECT_FALSE(report.is_discarded()) << drill.out;
    if (report.is_discarded()) return report;
    auto checks = ChecksByName(report);
    EXPECT_EQ(checks["repository"]["ok"], false) << report.dump(2);
    EXPECT_NE(checks["repository"]["detail"].get<std::string>().find(kind), std::string::npos)
        << report.dump(2);
    EXPECT_FALSE(fs::exists(report["directory"].get<std::string>())) << "torn down";
    return report;
  }

  // The drill runs the suite's copy of drctl: its instance's restore_command runs that binary as
  // the postgres user, which cannot reach a build directory under a private checkout.
  static CommandResult Run(const std::string& config, std::vector<std::string> args,
                           std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--config", config, "--output", "json", "drill"});
    return RunDrctlAt((suite->root / "drctl").string(), std::move(args), std::move(env));
  }
};

TEST_F(Drill, PassesOnAHealthyRepositoryAndKeepLeavesTheInstance) {
  auto drill = Run(suite->config, {"--keep"});
  ASSERT_EQ(drill.exit_status, 0) << drill.out << drill.err;
  const json report = json::parse(drill.out);
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["backup_id"], suite->backup_id);
  EXPECT_EQ(report["target"], "the end of the archive");
  auto checks = ChecksByName(report);
  for (const char* name :
       {"restore", "recovery", "pg_amcheck", "row count public.drill_t", "check rows", "rto"}) {
    ASSERT_TRUE(checks.contains(name)) << name << " missing: " << report.dump(2);
    EXPECT_EQ(checks[name]["ok"], true) << report.dump(2);
  }
  EXPECT_NE(checks["row count public.drill_t"]["detail"].get<std::string>().find(
                "the backup counted 1000"),
            std::string::npos);
  EXPECT_GT(report["timings"]["rto_seconds"].get<double>(), 0);
  // Kept: the instance runs, recovered past the backup through the archived WAL.
  ASSERT_EQ(report["kept"], true);
  const fs::path pgdata = fs::path(report["directory"].get<std::string>()) / "pgdata";
  const std::string conninfo = SharedPostgres()->Conninfo() + " host='" + pgdata.string() +
                               "' port=" + std::to_string(report["port"].get<int>());
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(10));
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  EXPECT_EQ(conn->QueryValue("SELECT count(*) FROM drill_t").value_or("?"), "1500");
  EXPECT_EQ(conn->QueryValue("SHOW archive_mode").value_or("?"), "off");
  auto stop = RunCommand({pg::FindBindir("").value_or("/usr/lib/postgresql/15/bin") + "/pg_ctl",
                          "-D", pgdata.string(), "-m", "immediate", "-w", "stop"},
                         std::chrono::minutes(1), "postgres");
  EXPECT_TRUE(stop && stop->exit_status == 0);
  fs::remove_all(pgdata.parent_path());

  // drctl info lists it.
  auto info = RunDrctl({"--config", suite->config, "--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const auto drills = json::parse(info.out)["repos"][0]["drills"];
  ASSERT_FALSE(drills.empty());
  EXPECT_EQ(drills[0]["drill_id"], report["drill_id"]);
  EXPECT_EQ(drills[0]["ok"], true);
}

TEST_F(Drill, ImmediateComparesTheCountsExactlyAndTearsDown) {
  auto drill = Run(suite->config, {"--immediate"});
  ASSERT_EQ(drill.exit_status, 0) << drill.out << drill.err;
  const json report = json::parse(drill.out);
  auto checks = ChecksByName(report);
  EXPECT_EQ(checks["row count public.drill_t"]["detail"], "1000 rows (the backup counted 1000)");
  EXPECT_EQ(report["kept"], false);
  EXPECT_FALSE(fs::exists(report["directory"].get<std::string>())) << "torn down";
}

TEST_F(Drill, SigtermTearsTheInstanceDownAndStoresNoReport) {
  // The daemon stops its jobs with SIGTERM: a drill must not leave a scratch server behind.
  auto count_drills = [] {
    auto info = RunDrctl({"--config", suite->config, "--output", "json", "info"});
    return json::parse(info.out, nullptr, false)["repos"][0]["drills"].size();
  };
  const auto before = count_drills();
  const fs::path drills = suite->root / "drills";
  SpawnOptions o;
  o.argv = {(suite->root / "drctl").string(), "--config", suite->config, "drill"};
  o.stdout_path = (suite->root / "sigterm.out").string();
  o.stderr_path = (suite->root / "sigterm.err").string();
  auto p = Process::Spawn(o);
  ASSERT_TRUE(p.has_value());
  // Once its instance is up (postmaster.pid in the scratch data directory), stop it.
  fs::path pid_file;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (pid_file.empty() && std::chrono::steady_clock::now() < deadline && p->Running()) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(drills, ec)) {
      if (fs::exists(e.path() / "pgdata" / "postmaster.pid")) pid_file = e.path() / "pgdata";
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(pid_file.empty()) << "the drill never started its instance";
  ASSERT_EQ(::kill(p->pid(), SIGTERM), 0);
  auto status = p->Wait(std::chrono::minutes(3));
  ASSERT_TRUE(status.has_value());
  std::ifstream err(suite->root / "sigterm.err");
  const std::string err_text((std::istreambuf_iterator<char>(err)),
                             std::istreambuf_iterator<char>());
  EXPECT_EQ(*status, 16) << err_text;
  EXPECT_NE(err_text.find("no report stored"), std::string::npos) << err_text;
  EXPECT_FALSE(fs::exists(pid_file.parent_path())) << "the scratch instance was torn down";
  auto pgrep = RunCommand({"pgrep", "-f", pid_file.string()}, std::chrono::seconds(10));
  ASSERT_TRUE(pgrep.has_value());
  EXPECT_NE(pgrep->exit_status, 0) << "a server of the drill still runs: " << pgrep->out;
  EXPECT_EQ(count_drills(), before) << "an interrupted drill stores no report";
}

TEST_F(Drill, RandomPicksABackupAndAMomentAndSaysWhich) {
  auto drill = Run(suite->config, {"--random", "--seed", "7"});
  ASSERT_EQ(drill.exit_status, 0) << drill.out << drill.err;
  const json report = json::parse(drill.out);
  EXPECT_EQ(report["random"], true);
  EXPECT_EQ(report["seed"], 7);
  auto checks = ChecksByName(report);
  EXPECT_NE(
      checks["choose"]["detail"].get<std::string>().find("random: backup " + suite->backup_id),
      std::string::npos)
      << report.dump(2);
}

TEST_F(Drill, AWrongOperatorCheckFailsNamingIt) {
  const std::string config = (suite->root / "wrong-check.toml").string();
  std::ofstream(config) << ConfigText(suite->root, suite->root / "repo", "f");
  auto drill = Run(config, {"--immediate"});
  EXPECT_EQ(drill.exit_status, InfoFor(ErrorCode::kVerifyFailed).exit_code) << drill.out;
  const json report = FirstJson(drill.out);
  ASSERT_FALSE(report.is_discarded()) << drill.out;
  EXPECT_EQ(report["ok"], false);
  auto checks = ChecksByName(report);
  EXPECT_EQ(checks["check rows"]["ok"], false);
  EXPECT_EQ(checks["check rows"]["detail"], "got 't', expected 'f'");
  EXPECT_EQ(checks["pg_amcheck"]["ok"], true) << "only the wrong check fails";
  EXPECT_NE(drill.err.find("failed: check rows"), std::string::npos) << drill.err;
}

TEST_F(Drill, AFlippedByteInAPackFailsWithWhatWasWrong) {
  const std::string config = DamagedCopy("flipped", [](const fs::path& repo) {
    for (const auto& e : fs::recursive_directory_iterator(repo / "packs")) {
      if (!e.is_regular_file()) continue;
      std::fstream f(e.path(), std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(fs::file_size(e.path()) / 4));
      f.put('\x5a');
    }
  });
  const json report = FailingDrill(config, "corrupt_pack");
  auto checks = ChecksByName(report);
  ASSERT_TRUE(checks.contains("restore")) << report.dump(2);
  EXPECT_EQ(checks["restore"]["ok"], false);
  const std::string why = checks["restore"]["detail"];
  EXPECT_NE(why.find("packs/"), std::string::npos) << why;
  EXPECT_NE(why.find("authentication"), std::string::npos) << why;
  EXPECT_FALSE(checks.contains("pg_amcheck")) << "nothing to check without a restore";
}

TEST_F(Drill, AMissingPackFailsNamingIt) {
  const std::string config = DamagedCopy("nopack", [](const fs::path& repo) {
    for (const auto& e : fs::recursive_directory_iterator(repo / "packs")) {
      if (e.is_regular_file()) {
        fs::remove(e.path());
        break;
      }
    }
  });
  FailingDrill(config, "missing_pack");
}

TEST_F(Drill, AMissingWalSegmentInTheMiddleFailsInsteadOfStoppingEarlyQuietly) {
  // The segment before the newest archived one: recovery would end there without an error.
  const std::string newest = suite->last_segment;
  char middle[32];
  std::snprintf(middle, sizeof(middle), "%s%08llX", newest.substr(0, 16).c_str(),
                std::stoull(newest.substr(16), nullptr, 16) - 1);
  const std::string name = middle;
  const std::string config = DamagedCopy("walgap", [&](const fs::path& repo) {
    ASSERT_TRUE(fs::remove(repo / "wal" / name.substr(0, 8) / name)) << name;
  });
  FailingDrill(config, "wal_gap");
}

TEST_F(Drill, ATruncatedManifestFailsNamingIt) {
  const std::string config = DamagedCopy("truncated", [](const fs::path& repo) {
    for (const auto& e : fs::directory_iterator(repo / "backups")) {
      fs::resize_file(e.path(), fs::file_size(e.path()) / 2);
    }
  });
  FailingDrill(config, "manifest");
}

TEST_F(Drill, ARepositoryMissingABackupTheOtherHasFails) {
  const fs::path lagging = suite->root / "lagging";
  const std::string config = DamagedCopy(
      "complete",
      [&](const fs::path& repo) {
        fs::copy(repo, lagging, fs::copy_options::recursive);
        fs::remove_all(lagging / "backups");
        fs::create_directories(lagging / "backups");
      },
      "[[repo]]\nname = \"lagging\"\nurl = \"file://" + lagging.string() + "\"\n");
  FailingDrill(config, "repo_difference");
}

TEST_F(Drill, PassesOnASwiftRepositoryAndVerifyProvesIt) {
  // The same cluster backed up into S3 (Swift with s3api); credentials from the environment.
  SwiftServer* swift = SharedSwift();
  ASSERT_NE(swift, nullptr);
  auto bucket = RunAwsCli(swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                          {"s3api", "create-bucket", "--bucket", "drctl-drill"});
  ASSERT_TRUE(bucket.has_value()) << bucket.error().ToString();
  const std::string config = (suite->root / "swift.toml").string();
  {
    std::string text = ConfigText(suite->root, suite->root / "unused", "t");
    const std::string posix = "url = \"file://" + (suite->root / "unused").string() + "\"\n";
    const auto at = text.find(posix);
    ASSERT_NE(at, std::string::npos);
    text.replace(at, posix.size(),
                 "url = \"s3://drctl-drill/" + suite->root.filename().string() +
                     "\"\nendpoint = \"" + swift->endpoint() +
                     "\"\nregion = \"us-east-1\"\npath_style = true\n"
                     "access_key_id_env = \"DRILL_S3_KEY\"\n"
                     "secret_access_key_env = \"DRILL_S3_SECRET\"\n");
    std::ofstream(config) << text;
  }
  const std::vector<std::string> env = {std::string("DRILL_S3_KEY=") + SwiftServer::kAccessKey,
                                        std::string("DRILL_S3_SECRET=") + SwiftServer::kSecretKey};
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config, "--output", "json"});
    return RunDrctl(args, env);
  };
  auto init = run({"repo", "init"});
  ASSERT_EQ(init.exit_status, 0) << init.err;
  auto backup = run({"backup", "--no-progress"});
  ASSERT_EQ(backup.exit_status, 0) << backup.err;
  auto verify = run({"verify"});
  ASSERT_EQ(verify.exit_status, 0) << verify.out << verify.err;
  EXPECT_EQ(json::parse(verify.out)["repos"][0]["restorable"], true);
  auto drill = Run(config, {"--immediate"}, env);
  ASSERT_EQ(drill.exit_status, 0) << drill.out << drill.err;
  const json report = json::parse(drill.out);
  EXPECT_EQ(report["ok"], true);
  auto checks = ChecksByName(report);
  for (const char* name : {"repository", "restore", "recovery", "pg_amcheck",
                           "row count public.drill_t", "check rows", "rto"}) {
    EXPECT_EQ(checks[name]["ok"], true) << name << ": " << report.dump(2);
  }
  EXPECT_EQ(report["report_stored_in"], "local");
}

}  // namespace
}  // namespace drctl::testing
