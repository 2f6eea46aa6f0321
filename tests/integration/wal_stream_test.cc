// drctl wal stream end to end, against real PostgreSQL 15 clusters of its own (they get killed,
// restarted and deleted) and posix repositories, running the built drctl binary:
// - LossBoundAfterTheDisaster: commits every 100 ms; SIGKILL of the stream, immediate shutdown
//   and deletion of the primary; the restore (restore_command = drctl wal get, falling back to the
//   streamed partial segment) brings back a prefix 1..k of the rows, and the lost tail is at most
//   partial_interval + 1 s. The restored server (timeline 2) then streams its history file and
//   segments into the same repository.
// - SynchronousRepositoryLosesNoAcknowledgedCommit: synchronous = "repository" as the primary's
//   synchronous standby: every acknowledged commit is back.
// - SynchronousLocalKeepsAcknowledgedCommitsInTheSpool: synchronous = "local"; the stream,
//   started again after the disaster without a server, stores its spool: every acknowledged
//   commit is back.
// - PrimaryRestartAndStreamKillLeaveNoGap: the repository holds every segment from the start, no
//   gap, wal get returns the primary's own bytes, the lag report is there, SIGTERM exits 0.
// - UnreachableServerIsRetriedUntilStopped, ReplicationNotPermittedIsRefused,
//   AnotherClustersRepositoryIsRefused: bad input.
// Every process the tests start is stopped by PID in TearDown, also when a test fails.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
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

constexpr const char* kPassphrase = "wal-stream-test-passphrase-5150";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

std::string Value(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return "ERROR: " + conn.error().ToString();
  auto value = conn->QueryValue(sql);
  if (!value) return "ERROR: " + value.error().ToString();
  return *value;
}

::testing::AssertionResult Succeeded(const Status& status) {
  if (status) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status.error().ToString();
}

Status Exec(const std::string& conninfo, const std::string& sql) {
  auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
  if (!conn) return std::unexpected(conn.error());
  return conn->Exec(sql);
}

std::string Conninfo(int port, const std::string& user = "postgres") {
  return "host=127.0.0.1 port=" + std::to_string(port) + " user=" + user + " dbname=postgres";
}

std::optional<pid_t> PostmasterPid(const fs::path& pgdata) {
  std::ifstream in(pgdata / "postmaster.pid");
  long pid = 0;
  if (!(in >> pid) || pid <= 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

struct StreamSettings {
  std::string synchronous = "off";
  std::string application_name = "drctl";
};

class WalStream : public ::testing::Test {
 protected:
  void SetUp() override {
    auto bindir = pg::FindBindir("");
    ASSERT_TRUE(bindir.has_value()) << bindir.error().ToString();
    bindir_ = *bindir;
    auto dir = TempDir::Create("drctl-stream-");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    root_ = dir_->path();
    // The servers (user postgres) traverse the workspace; restored ones run drctl wal get.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    drctl_ = root_ / "drctl";
    fs::copy_file(DRCTL_BINARY, drctl_);
    fs::permissions(drctl_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
    std::ofstream(root_ / "pass") << kPassphrase << "\n";
    fs::permissions(root_ / "pass", fs::perms::owner_read | fs::perms::owner_write);
    repo_ = root_ / "repo";
    spool_ = root_ / "spool";
  }

  void TearDown() override {
    for (auto& p : streams_) (void)p.Stop(SIGKILL, std::chrono::seconds(5));
    streams_.clear();
    for (const auto& pgdata : restored_) StopDetached(pgdata);
    restored_.clear();
    if (primary_) (void)primary_->Stop(std::chrono::seconds(30));
    primary_.reset();
  }

  // A primary of the test's own: replication allowed, no archiving (WAL reaches the repository
  // through wal stream and the backup only).
  void StartPrimary(std::vector<std::string> extra = {}) {
    pg::ClusterOptions o;
    o.pgdata = root_ / "pgdata";
    o.settings = {"wal_level=replica", "max_wal_senders=10", "max_replication_slots=10",
                  "fsync=off"};
    o.settings.insert(o.settings.end(), extra.begin(), extra.end());
    ASSERT_TRUE(Succeeded(pg::LocalCluster::InitDb(o)));
    auto cluster = pg::LocalCluster::Start(o);
    ASSERT_TRUE(cluster.has_value()) << cluster.error().ToString();
    primary_.emplace(std::move(*cluster));
  }

  void WriteConfig(const std::string& conninfo, const StreamSettings& s = {}) {
    config_ = root_ / "drctl.toml";
    std::ofstream c(config_);
    const std::string repo_table =
        repo_toml_.empty() ? "[[repo]]\nname = \"local\"\nurl = \"file://" + repo_.string() + "\"\n"
                           : repo_toml_;
    c << "[postgres]\nconninfo = \"" << conninfo << "\"\npgdata = \"" << (root_ / "pgdata").string()
      << "\"\n"
      << repo_table << "[encryption]\npassphrase_file = \"" << (root_ / "pass").string()
      << "\"\nscrypt_n = 1024\n[wal]\nspool = \"" << spool_.string()
      << "\"\npartial_interval = \"1s\"\nsynchronous = \"" << s.synchronous
      << "\"\napplication_name = \"" << s.application_name << "\"\n";
    c.close();
    fs::permissions(config_, fs::perms::owner_read | fs::perms::owner_write |
                                 fs::perms::group_read | fs::perms::others_read);
  }

  CommandResult Drctl(std::vector<std::string> args,
                      std::chrono::milliseconds timeout = std::chrono::minutes(5)) {
    SpawnOptions o;
    o.argv = {drctl_.string(), "--config", config_.string()};
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    auto r = RunCommand(o, timeout);
    if (!r) return CommandResult{-1, "", r.error().ToString()};
    return *r;
  }

  void InitRepoAndBackup(bool backup = true) {
    auto init = Drctl({"repo", "init"});
    ASSERT_EQ(init.exit_status, 0) << Describe(init);
    if (!backup) return;
    auto b = Drctl({"--output", "json", "backup", "--no-progress"});
    ASSERT_EQ(b.exit_status, 0) << Describe(b);
  }

  // Starts `drctl wal stream` (stderr in stream-N.log); returns its index in streams_.
  std::size_t StartStream() {
    SpawnOptions o;
    o.argv = {drctl_.string(), "--config", config_.string(), "--output", "json", "--log-level",
              "info",          "wal",      "stream"};
    const std::size_t n = streams_.size();
    o.stdout_path = (root_ / ("stream-" + std::to_string(n) + ".out")).string();
    o.stderr_path = (root_ / ("stream-" + std::to_string(n) + ".log")).string();
    auto p = Process::Spawn(o);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    if (p) streams_.push_back(std::move(*p));
    return n;
  }

  std::string StreamLog(std::size_t n) {
    return ReadAll(root_ / ("stream-" + std::to_string(n) + ".log"));
  }

  // Waits (up to 20 s) until stream `n` logged `needle`.
  ::testing::AssertionResult WaitLog(std::size_t n, const std::string& needle) {
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      if (StreamLog(n).find(needle) != std::string::npos) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << "no \"" << needle << "\" logged within 20 s:\n"
                                         << StreamLog(n);
  }

  json StreamStatus() {
    auto j = json::parse(ReadAll(spool_ / "stream" / "status.json"), nullptr, false);
    return j.is_discarded() ? json::object() : j;
  }

  // Waits until status.json says "streaming" (and the stream process is still alive).
  ::testing::AssertionResult WaitStreaming(std::size_t n) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < deadline) {
      if (!streams_[n].Running()) {
        return ::testing::AssertionFailure() << "wal stream exited:\n" << StreamLog(n);
      }
      if (StreamStatus().value("state", "") == "streaming") return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ::testing::AssertionFailure() << "wal stream did not start streaming within 60 s:\n"
                                         << StreamLog(n);
  }

  // The disaster: the stream SIGKILLed, the primary shut down immediately, its data deleted.
  void Disaster(std::size_t stream) {
    ::kill(streams_[stream].pid(), SIGKILL);
    ::kill(primary_->pid(), SIGQUIT);  // immediate shutdown
    (void)streams_[stream].Wait(std::chrono::seconds(30));
    (void)primary_->Stop(std::chrono::seconds(30));
    primary_.reset();
    fs::remove_all(root_ / "pgdata");
  }

  // `drctl restore --start` into a new directory; returns the port of the promoted server.
  int RestoreStarted() {
    if (fs::exists(repo_)) {
      EXPECT_TRUE(Succeeded(ChownToUser(repo_, "postgres")));
    }
    EXPECT_TRUE(Succeeded(ChownToUser(root_ / "pass", "postgres")));
    auto port = FreeLoopbackPort();
    EXPECT_TRUE(port.has_value());
    if (!port) return 0;
    const fs::path pgdata = root_ / "restored";
    restored_.push_back(pgdata);
    auto r = Drctl({"--output", "json", "restore", "--no-progress", "--owner", "postgres",
                    "--pgdata", pgdata.string(), "--start", "--port", std::to_string(*port)});
    EXPECT_EQ(r.exit_status, 0) << Describe(r) << "\nserver log:\n"
                                << pg::LogTail(pgdata / "drctl-restore.log", 3000);
    if (r.exit_status != 0) return 0;
    std::cout << "[          ] restored: " << r.out.substr(0, 400) << "\n";
    return *port;
  }

  void StopDetached(const fs::path& pgdata) {
    const auto pid = PostmasterPid(pgdata);
    if (!pid) return;
    (void)RunCommand(
        {bindir_ + "/pg_ctl", "-D", pgdata.string(), "-m", "immediate", "-w", "-t", "30", "stop"},
        std::chrono::seconds(60), geteuid() == 0 ? "postgres" : "");
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (PidAlive(*pid) && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (PidAlive(*pid)) ::kill(*pid, SIGKILL);
  }

  // Switches the primary to a new segment and returns the completed one's name.
  std::string SwitchWal() { return Value(primary(), "SELECT pg_walfile_name(pg_switch_wal())"); }

  // Waits until `segment` is stored (as a complete segment) in the repository.
  ::testing::AssertionResult WaitStored(const std::string& segment) {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    const fs::path object = repo_ / "wal" / segment.substr(0, 8) / segment;
    while (Clock::now() < deadline) {
      if (fs::exists(object)) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return ::testing::AssertionFailure() << segment << " was not stored within 60 s\n"
                                         << StreamLog(streams_.size() - 1);
  }

  // The synchronous tests' common part (defined below).
  int CommitSynchronouslyThenDisaster(const std::string& mode, std::size_t* stream);

  std::string primary() const { return primary_->Conninfo(); }

  // Ticks committed every 100 ms for 8 s, the disaster, a restore: the lost tail is at most
  // partial_interval (1 s) + 1 s. `restored`: the restored server's conninfo (defined below).
  void TicksLossBoundAfterTheDisaster(std::string* restored);

  std::optional<TempDir> dir_;
  fs::path root_, drctl_, repo_, spool_, config_;
  std::string repo_toml_;  // the [[repo]] table when not the posix repository at repo_
  std::string bindir_;
  std::optional<pg::LocalCluster> primary_;
  std::vector<Process> streams_;
  std::vector<fs::path> restored_;
};

void WalStream::TicksLossBoundAfterTheDisaster(std::string* restored_conninfo) {
  ASSERT_NO_FATAL_FAILURE(StartPrimary());
  ASSERT_TRUE(Succeeded(
      Exec(primary(), "CREATE TABLE ticks (id int PRIMARY KEY, at timestamptz NOT NULL)")));
  WriteConfig(primary());
  ASSERT_NO_FATAL_FAILURE(InitRepoAndBackup());
  const std::size_t stream = StartStream();
  ASSERT_TRUE(WaitStreaming(stream));

  auto conn = pg::Connection::Open(primary());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  int last = 0;
  double last_at = 0;
  const auto until = Clock::now() + std::chrono::seconds(8);
  while (Clock::now() < until) {
    auto at = conn->QueryValue("INSERT INTO ticks VALUES (" + std::to_string(last + 1) +
                               ", clock_timestamp()) RETURNING extract(epoch FROM at)::text");
    ASSERT_TRUE(at.has_value()) << at.error().ToString();
    ++last;
    last_at = std::stod(*at);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  Disaster(stream);

  const int port = RestoreStarted();
  ASSERT_NE(port, 0);
  const std::string restored = Conninfo(port);
  *restored_conninfo = restored;
  const std::string facts = Value(restored,
                                  "SELECT count(*) || ' ' || coalesce(min(id), 0) || ' ' || "
                                  "coalesce(max(id), 0) || ' ' || "
                                  "coalesce(extract(epoch FROM max(at))::text, '0') FROM ticks");
  std::istringstream in(facts);
  long count = -1;
  long min_id = -1;
  long max_id = -1;
  double restored_at = 0;
  ASSERT_TRUE(in >> count >> min_id >> max_id >> restored_at) << facts;
  std::cout << "[          ] committed " << last << " rows, restored " << count << ", lost tail "
            << (last_at - restored_at) << " s\n";
  ASSERT_GT(count, 0) << "nothing streamed came back";
  EXPECT_EQ(min_id, 1);
  EXPECT_EQ(max_id, count) << "the restored rows are not a prefix 1..k";
  EXPECT_LE(max_id, last);
  EXPECT_LE(last_at - restored_at, 1.0 + 1.0)
      << "lost more than partial_interval (1 s) + 1 s of commits";
}

TEST_F(WalStream, LossBoundAfterTheDisaster) {
  std::string restored;
  ASSERT_NO_FATAL_FAILURE(TicksLossBoundAfterTheDisaster(&restored));

  // The restored, promoted server (timeline 2) streams into the same repository: the timeline
  // history file first, then its segments.
  spool_ = root_ / "spool-restored";
  WriteConfig(restored);
  const std::size_t next = StartStream();
  ASSERT_TRUE(WaitStreaming(next));
  EXPECT_EQ(StreamStatus().value("timeline", 0), 2) << StreamStatus().dump();
  EXPECT_TRUE(fs::exists(repo_ / "wal" / "00000002" / "00000002.history")) << StreamLog(next);
  ASSERT_TRUE(Succeeded(Exec(restored, "INSERT INTO ticks VALUES (1000000, clock_timestamp())")));
  const std::string segment = Value(restored, "SELECT pg_walfile_name(pg_switch_wal())");
  ASSERT_TRUE(segment.starts_with("00000002")) << segment;
  ASSERT_TRUE(WaitStored(segment));
}

TEST_F(WalStream, LossBoundAfterTheDisasterOnS3) {
  // The same disaster with the repository on S3 (Swift with s3api): the stream uploads segments
  // and partials there, the restore's restore_command (run by postgres) fetches them back.
  SwiftServer* swift = SharedSwift();
  ASSERT_NE(swift, nullptr);
  auto s3_table =
      S3RepoWithCredentialFiles(*swift, "s3", "drctl-stream", root_.filename().string(), root_);
  ASSERT_TRUE(s3_table.has_value()) << s3_table.error().ToString();
  repo_toml_ = *s3_table;
  std::string restored;
  ASSERT_NO_FATAL_FAILURE(TicksLossBoundAfterTheDisaster(&restored));
  EXPECT_FALSE(fs::exists(repo_)) << "the posix repository was used";
}

// A primary whose synchronous standby is a wal stream in `mode`: commits numbered rows for 5 s
// (each returns once acknowledged), then the disaster. Returns the last acknowledged id.
int WalStream::CommitSynchronouslyThenDisaster(const std::string& mode, std::size_t* stream) {
  const std::string name = "drctl_" + mode;
  StartPrimary({"synchronous_commit=on"});
  if (::testing::Test::HasFatalFailure()) return 0;
  WriteConfig(primary(), {.synchronous = mode, .application_name = name});
  EXPECT_TRUE(
      Succeeded(Exec(primary(), "CREATE TABLE acked (id int PRIMARY KEY, at timestamptz)")));
  InitRepoAndBackup();
  *stream = StartStream();
  EXPECT_TRUE(WaitStreaming(*stream));
  // Only now the stream becomes the synchronous standby (a commit before it runs would wait).
  EXPECT_TRUE(
      Succeeded(Exec(primary(), "ALTER SYSTEM SET synchronous_standby_names = '" + name + "'")));
  EXPECT_TRUE(Succeeded(Exec(primary(), "SELECT pg_reload_conf()")));
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  std::string state;
  while (Clock::now() < deadline && state != "sync") {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    state = Value(primary(),
                  "SELECT coalesce(max(sync_state), 'none') FROM pg_stat_replication "
                  "WHERE application_name = '" +
                      name + "'");
  }
  EXPECT_EQ(state, "sync") << StreamLog(*stream);
  if (state != "sync") return 0;

  auto conn = pg::Connection::Open(primary());
  EXPECT_TRUE(conn.has_value()) << conn.error().ToString();
  if (!conn) return 0;
  int acknowledged = 0;
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    // Returns only once the primary has the stream's acknowledgement (synchronous commit).
    const Status inserted = conn->Exec("INSERT INTO acked VALUES (" +
                                       std::to_string(acknowledged + 1) + ", clock_timestamp())");
    EXPECT_TRUE(Succeeded(inserted));
    if (!inserted) break;
    ++acknowledged;
  }
  Disaster(*stream);
  std::cout << "[          ] " << acknowledged << " commits acknowledged (" << mode << ")\n";
  return acknowledged;
}

TEST_F(WalStream, SynchronousRepositoryLosesNoAcknowledgedCommit) {
  std::size_t stream = 0;
  const int acknowledged = CommitSynchronouslyThenDisaster("repository", &stream);
  ASSERT_GT(acknowledged, 0);
  const int port = RestoreStarted();
  ASSERT_NE(port, 0);
  EXPECT_EQ(Value(Conninfo(port),
                  "SELECT count(*) FROM acked WHERE id <= " + std::to_string(acknowledged)),
            std::to_string(acknowledged))
      << "an acknowledged commit is lost";
}

// "local": acknowledged once fsynced in the spool. The primary's host is lost, drctl's is not:
// the stream started again (no server to reach) stores what its spool holds, and the restore has
// every acknowledged commit.
TEST_F(WalStream, SynchronousLocalKeepsAcknowledgedCommitsInTheSpool) {
  std::size_t stream = 0;
  const int acknowledged = CommitSynchronouslyThenDisaster("local", &stream);
  ASSERT_GT(acknowledged, 0);
  const std::size_t again = StartStream();
  ASSERT_TRUE(WaitLog(again, "left in the spool"));
  ::kill(streams_[again].pid(), SIGTERM);
  auto exit = streams_[again].Wait(std::chrono::seconds(60));
  ASSERT_TRUE(exit.has_value()) << StreamLog(again);
  EXPECT_EQ(*exit, 0) << StreamLog(again);
  const int port = RestoreStarted();
  ASSERT_NE(port, 0);
  EXPECT_EQ(Value(Conninfo(port),
                  "SELECT count(*) FROM acked WHERE id <= " + std::to_string(acknowledged)),
            std::to_string(acknowledged))
      << "an acknowledged commit is lost";
}

TEST_F(WalStream, PrimaryRestartAndStreamKillLeaveNoGap) {
  ASSERT_NO_FATAL_FAILURE(StartPrimary());
  WriteConfig(primary());
  ASSERT_NO_FATAL_FAILURE(InitRepoAndBackup(false));
  const std::string first = Value(primary(), "SELECT pg_walfile_name(pg_current_wal_lsn())");
  std::size_t stream = StartStream();
  ASSERT_TRUE(WaitStreaming(stream));
  // Some WAL, then a switch; returns the completed segment.
  auto write = [&](int round) {
    EXPECT_TRUE(Succeeded(Exec(primary(),
                               "CREATE TABLE IF NOT EXISTS r (round int, pad text); "
                               "INSERT INTO r SELECT " +
                                   std::to_string(round) +
                                   ", repeat('x', 200) FROM generate_series(1, 2000)")));
    return SwitchWal();
  };
  write(1);
  ASSERT_TRUE(WaitStored(write(2)));

  // The primary restarts (fast shutdown) while streaming; the stream reconnects by itself.
  auto options = primary_->options();
  ASSERT_TRUE(Succeeded(primary_->Stop(std::chrono::seconds(60))));
  primary_.reset();
  auto restarted = pg::LocalCluster::Start(options);
  ASSERT_TRUE(restarted.has_value()) << restarted.error().ToString();
  primary_.emplace(std::move(*restarted));
  write(3);
  ASSERT_TRUE(WaitStored(write(4))) << "the stream did not come back after the restart";
  EXPECT_GE(StreamStatus().value("reconnects", 0), 1) << StreamStatus().dump();
  EXPECT_NE(StreamLog(stream).find("retrying in"), std::string::npos) << StreamLog(stream);
  // The lag report: a log line every partial_interval (1 s), and status.json.
  ASSERT_TRUE(WaitLog(stream, "wal stream: received "));
  EXPECT_NE(StreamLog(stream).find(" bytes (timeline 1)"), std::string::npos) << StreamLog(stream);
  for (const char* key : {"received_lsn", "flushed_lsn", "stored_lsn", "server_lsn", "lag_bytes",
                          "updated_at", "received_at", "stored_at"}) {
    EXPECT_TRUE(StreamStatus().contains(key)) << key << " missing: " << StreamStatus().dump();
  }

  // The stream dies (SIGKILL) and is started again: it resumes from its spool and the slot.
  ASSERT_TRUE(streams_[stream].Running()) << StreamLog(stream);
  ::kill(streams_[stream].pid(), SIGKILL);
  (void)streams_[stream].Wait(std::chrono::seconds(30));
  write(5);
  stream = StartStream();
  ASSERT_TRUE(WaitStreaming(stream));
  write(6);
  const std::string last = SwitchWal();
  ASSERT_TRUE(WaitStored(last));

  auto info = Drctl({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << Describe(info);
  const auto j = json::parse(info.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << info.out;
  const auto& timelines = j["repos"][0]["wal"]["timelines"];
  ASSERT_EQ(timelines.size(), 1U) << info.out;
  EXPECT_EQ(timelines[0]["gaps"], json::array()) << info.out;
  ASSERT_EQ(timelines[0]["ranges"].size(), 1U) << info.out;
  EXPECT_LE(timelines[0]["ranges"][0]["first"].get<std::string>(), first) << info.out;
  EXPECT_GE(timelines[0]["ranges"][0]["last"].get<std::string>(), last) << info.out;

  // wal get gives back the primary's own segment, byte for byte.
  const fs::path fetched = root_ / "fetched";
  auto get = Drctl({"wal", "get", last, fetched.string()});
  ASSERT_EQ(get.exit_status, 0) << Describe(get);
  const std::string own = ReadAll(root_ / "pgdata" / "pg_wal" / last);
  ASSERT_EQ(own.size(), 16U << 20);
  EXPECT_TRUE(ReadAll(fetched) == own) << last << " differs from the primary's pg_wal/" << last;

  // SIGTERM: a clean stop, exit 0, everything received stored (the partial segment too).
  ASSERT_TRUE(Succeeded(Exec(primary(), "INSERT INTO r VALUES (7, 'after the last switch')")));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(streams_[stream].pid(), SIGTERM);
  auto status = streams_[stream].Wait(std::chrono::seconds(60));
  ASSERT_TRUE(status.has_value()) << StreamLog(stream);
  EXPECT_EQ(*status, 0) << StreamLog(stream);
  const auto out =
      json::parse(ReadAll(root_ / ("stream-" + std::to_string(stream) + ".out")), nullptr, false);
  EXPECT_EQ(out.value("ok", false), true) << out.dump();
  EXPECT_EQ(StreamStatus().value("state", ""), "stopped");
  EXPECT_EQ(StreamStatus()["stored_lsn"], StreamStatus()["received_lsn"]) << StreamStatus().dump();
  EXPECT_EQ(out["stored_lsn"], StreamStatus()["stored_lsn"]) << out.dump();
  std::cout << "[          ] status.json: " << StreamStatus().dump() << "\n";
}

TEST_F(WalStream, UnreachableServerIsRetriedUntilStopped) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  WriteConfig(Conninfo(*port));  // nothing listens there
  ASSERT_NO_FATAL_FAILURE(InitRepoAndBackup(false));
  const std::size_t stream = StartStream();
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::size_t failures = 0;
  while (Clock::now() < deadline && failures < 2) {
    ASSERT_TRUE(streams_[stream].Running()) << StreamLog(stream);
    const std::string log = StreamLog(stream);
    failures = 0;
    for (auto at = log.find("cannot connect to PostgreSQL for replication");
         at != std::string::npos;
         at = log.find("cannot connect to PostgreSQL for replication", at + 1)) {
      ++failures;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GE(failures, 2U) << "expected retries, each logged:\n" << StreamLog(stream);
  EXPECT_NE(StreamLog(stream).find("retrying in"), std::string::npos) << StreamLog(stream);
  const json status = StreamStatus();
  EXPECT_EQ(status.value("state", ""), "retrying") << status.dump();
  EXPECT_NE(status.value("last_error", "").find("cannot connect"), std::string::npos)
      << status.dump();
  ::kill(streams_[stream].pid(), SIGTERM);
  auto exit = streams_[stream].Wait(std::chrono::seconds(30));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(*exit, 0) << StreamLog(stream);
}

TEST_F(WalStream, ReplicationNotPermittedIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartPrimary());
  ASSERT_TRUE(Succeeded(Exec(primary(), "CREATE ROLE no_replication LOGIN")));
  WriteConfig(Conninfo(primary_->port(), "no_replication"));
  ASSERT_NO_FATAL_FAILURE(InitRepoAndBackup(false));
  auto r = Drctl({"wal", "stream"}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kAuth).exit_code) << Describe(r);
  EXPECT_NE(r.err.find("PostgreSQL refused a replication connection"), std::string::npos)
      << Describe(r);
  EXPECT_NE(r.err.find("REPLICATION attribute"), std::string::npos) << Describe(r);
}

TEST_F(WalStream, AnotherClustersRepositoryIsRefused) {
  ASSERT_NO_FATAL_FAILURE(StartPrimary());
  WriteConfig(primary());
  ASSERT_NO_FATAL_FAILURE(InitRepoAndBackup(false));
  fs::create_directories(repo_ / "wal");
  std::ofstream(repo_ / "wal" / "cluster.json") << "{\"system_identifier\": \"42\"}\n";
  auto r = Drctl({"wal", "stream"}, std::chrono::seconds(60));
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kConflict).exit_code) << Describe(r);
  EXPECT_NE(r.err.find("archives another cluster"), std::string::npos) << Describe(r);
  EXPECT_FALSE(fs::exists(repo_ / "wal" / "00000001")) << "nothing stored for another cluster";
}

}  // namespace
}  // namespace drctl::testing
