// drctl doctor end to end, against PostgreSQL 15 clusters of its own (each test starts one with
// the settings it judges, on the command line) and the built drctl binary with --output json:
// - WellConfiguredServerIsAllOk: archiving through drctl wal push (segments really archived),
//   archive_timeout 60s, checksums on: exit 0 and every check OK.
// - ArchiveTimeoutZeroFails, ArchiveModeOffFails: exit 17 and the fix names the setting.
// - StreamingWithAnExistingSlotIsOk: [daemon] wal_stream with the slot created: slot checks OK;
//   once the slot is dropped, a WARN (exit 0).
// - UnreachableServerFailsNamingIt: a closed port: exit 12, host and port named, no password.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class Doctor : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("drctl-doctor-");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    root_ = dir_->path();
    // The server (user postgres) runs archive_command: drctl and its config live here.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    fs::copy_file(DRCTL_BINARY, root_ / "drctl");
    std::ofstream(root_ / "pass") << "doctor-test-passphrase\n";
    config_ = (root_ / "drctl.toml").string();
  }

  void TearDown() override {
    if (server_) (void)server_->Stop(std::chrono::seconds(30));
    server_.reset();
  }

  std::string PushCommand() const {
    return (root_ / "drctl").string() + " --config " + config_ + " wal push %p";
  }

  void StartServer(std::vector<std::string> extra) {
    pg::ClusterOptions o;
    o.pgdata = root_ / "pgdata";
    o.settings = {"wal_level=replica", "max_wal_senders=10", "max_replication_slots=10",
                  "fsync=off"};
    o.settings.insert(o.settings.end(), extra.begin(), extra.end());
    auto init = pg::LocalCluster::InitDb(o);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    auto cluster = pg::LocalCluster::Start(o);
    ASSERT_TRUE(cluster.has_value()) << cluster.error().ToString();
    server_.emplace(std::move(*cluster));
  }

  void WriteConfig(const std::string& conninfo, const std::string& more = "") {
    std::ofstream(config_) << "[postgres]\nconninfo = \"" << conninfo
                           << "\"\n[[repo]]\nname = \"local\"\nurl = \"file://"
                           << (root_ / "repo").string() << "\"\n[encryption]\npassphrase_file = \""
                           << (root_ / "pass").string() << "\"\nscrypt_n = 1024\n[wal]\nspool = \""
                           << (root_ / "spool").string() << "\"\n"
                           << more;
  }

  ::testing::AssertionResult Sql(const std::string& sql) {
    auto conn = pg::Connection::Open(server_->Conninfo(), std::chrono::seconds(5));
    if (!conn) return ::testing::AssertionFailure() << conn.error().ToString();
    if (auto done = conn->Exec(sql); !done) {
      return ::testing::AssertionFailure() << done.error().ToString();
    }
    return ::testing::AssertionSuccess();
  }

  std::string Value(const std::string& sql) {
    auto conn = pg::Connection::Open(server_->Conninfo(), std::chrono::seconds(5));
    if (!conn) return "ERROR: " + conn.error().ToString();
    return conn->QueryValue(sql).value_or("ERROR");
  }

  // Runs drctl doctor with --output json; `doc` gets the parsed document.
  CommandResult RunDoctor(json& doc) {
    auto r = RunDrctl({"--config", config_, "--output", "json", "doctor"});
    doc = json::parse(r.out, nullptr, false);
    return r;
  }

  static const json* Check(const json& doc, const std::string& name) {
    if (!doc.contains("checks")) return nullptr;
    for (const auto& c : doc["checks"]) {
      if (c.value("name", "") == name) return &c;
    }
    return nullptr;
  }

  std::optional<TempDir> dir_;
  fs::path root_;
  std::string config_;
  std::optional<pg::LocalCluster> server_;
};

TEST_F(Doctor, WellConfiguredServerIsAllOk) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"archive_mode=on", "archive_command=" + PushCommand(), "archive_timeout=60s"}));
  WriteConfig(server_->Conninfo());
  auto init = RunDrctl({"--config", config_, "repo", "init"});
  ASSERT_EQ(init.exit_status, 0) << Describe(init);
  ASSERT_TRUE(ChownToUser(root_, "postgres").has_value());
  // A segment really archived through drctl, so the archiver check judges a success.
  ASSERT_TRUE(Sql("CREATE TABLE t AS SELECT 1 AS x; SELECT pg_switch_wal()"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (Value("SELECT archived_count FROM pg_stat_archiver") == "0" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(Value("SELECT failed_count FROM pg_stat_archiver"), "0");

  json doc;
  auto r = RunDoctor(doc);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["ok"], true);
  std::vector<std::string> names;
  for (const auto& c : doc["checks"]) {
    names.push_back(c["name"]);
    EXPECT_EQ(c["level"], "OK") << c.dump();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"server", "wal_level", "archiving", "archive_timeout",
                                             "archiver", "data_checksums"}));
  EXPECT_EQ((*Check(doc, "archive_timeout"))["found"], "1m");
  EXPECT_NE(Check(doc, "archiver")->value("found", "").find("segments archived"),
            std::string::npos);
}

TEST_F(Doctor, ArchiveTimeoutZeroFails) {
  ASSERT_NO_FATAL_FAILURE(
      StartServer({"archive_mode=on", "archive_command=" + PushCommand(), "archive_timeout=0"}));
  WriteConfig(server_->Conninfo());
  json doc;
  auto r = RunDoctor(doc);
  EXPECT_EQ(r.exit_status, 17) << Describe(r);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(doc["error"]["code"], "verify_failed");
  const json* c = Check(doc, "archive_timeout");
  ASSERT_NE(c, nullptr) << doc.dump(2);
  EXPECT_EQ((*c)["level"], "FAIL");
  EXPECT_EQ((*c)["fix"], "ALTER SYSTEM SET archive_timeout = '60s'; SELECT pg_reload_conf();");
  EXPECT_NE(r.err.find("archive_timeout"), std::string::npos) << r.err;
}

TEST_F(Doctor, ArchiveModeOffFails) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"archive_mode=off"}));
  WriteConfig(server_->Conninfo());
  json doc;
  auto r = RunDoctor(doc);
  EXPECT_EQ(r.exit_status, 17) << Describe(r);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  const json* c = Check(doc, "archiving");
  ASSERT_NE(c, nullptr) << doc.dump(2);
  EXPECT_EQ((*c)["level"], "FAIL");
  EXPECT_TRUE(c->value("fix", "").starts_with("ALTER SYSTEM SET archive_mode = 'on'")) << c->dump();
  EXPECT_NE(c->value("fix", "").find("restart PostgreSQL"), std::string::npos) << c->dump();
}

TEST_F(Doctor, StreamingWithAnExistingSlotIsOk) {
  ASSERT_NO_FATAL_FAILURE(StartServer({"archive_mode=off", "max_slot_wal_keep_size=1GB"}));
  WriteConfig(server_->Conninfo(), "slot = \"doctor_slot\"\n[daemon]\nwal_stream = true\n");
  ASSERT_TRUE(Sql("SELECT pg_create_physical_replication_slot('doctor_slot', true)"));
  json doc;
  auto r = RunDoctor(doc);
  ASSERT_EQ(r.exit_status, 0) << Describe(r);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  for (const auto& c : doc["checks"]) EXPECT_EQ(c["level"], "OK") << c.dump();
  for (const char* name :
       {"slot", "max_slot_wal_keep_size", "max_wal_senders", "partial_interval"}) {
    EXPECT_NE(Check(doc, name), nullptr) << name;
  }
  EXPECT_TRUE(Check(doc, "slot")
                  ->value("found", "")
                  .starts_with("'doctor_slot': physical, inactive, wal_status reserved, retains"))
      << Check(doc, "slot")->dump();
  EXPECT_EQ(Check(doc, "archive_timeout"), nullptr) << "streaming: no archive_timeout to judge";

  ASSERT_TRUE(Sql("SELECT pg_drop_replication_slot('doctor_slot')"));
  r = RunDoctor(doc);
  EXPECT_EQ(r.exit_status, 0) << "a WARN alone exits 0\n" << Describe(r);
  ASSERT_NE(Check(doc, "slot"), nullptr) << r.out;
  EXPECT_EQ((*Check(doc, "slot"))["level"], "WARN");
}

TEST_F(Doctor, UnreachableServerFailsNamingIt) {
  const int port = ClosedPort();
  ASSERT_GT(port, 0);
  WriteConfig("host=127.0.0.1 port=" + std::to_string(port) +
              " user=postgres password=doctor-secret dbname=postgres connect_timeout=5");
  json doc;
  auto r = RunDoctor(doc);
  EXPECT_EQ(r.exit_status, 12) << Describe(r);
  ASSERT_FALSE(doc.is_discarded()) << r.out;
  EXPECT_EQ(doc["error"]["code"], "postgres");
  ASSERT_EQ(doc["checks"].size(), 1U) << r.out;
  EXPECT_EQ(doc["checks"][0]["name"], "connection");
  EXPECT_EQ(doc["checks"][0]["level"], "FAIL");
  const std::string where = "host=127.0.0.1 port=" + std::to_string(port);
  EXPECT_NE(doc["checks"][0].value("found", "").find(where), std::string::npos) << r.out;
  EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("doctor-secret"), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find("doctor-secret"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace drctl::testing
