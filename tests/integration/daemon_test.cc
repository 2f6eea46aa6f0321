// drctl daemon against real servers: with short schedules ("@every Ns") it takes backups, expires
// and runs a drill on schedule against the shared PostgreSQL 15; /metrics passes promtool; a
// second daemon on the same repository refuses; SIGTERM stops it cleanly and its state survives.
// With a Swift repository whose S3 endpoint (the proxy) is stopped, the RPO exposure grows past
// the objective and a test webhook receiver gets exactly one alert; restarting the endpoint
// resolves it.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "harness/swift_server.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"
#include "support/webhook_receiver.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// A running `drctl daemon` child; stopped (SIGTERM) by the destructor if the test did not.
class DaemonProcess {
 public:
  // The daemon runs a copy of drctl next to its config (`config`'s directory): its jobs run the
  // same binary, and a drill's instance runs it as the postgres user, which cannot reach a build
  // directory under a private checkout.
  static Result<DaemonProcess> Start(const fs::path& config, const fs::path& log,
                                     std::vector<std::string> env = {}) {
    SpawnOptions o;
    o.argv = {(config.parent_path() / "drctl").string(), "--config", config.string(), "daemon"};
    o.env = std::move(env);
    o.stdout_path = log.string();
    o.stderr_path = log.string();
    auto p = Process::Spawn(o);
    if (!p) return std::unexpected(p.error());
    return DaemonProcess(std::move(*p));
  }
  DaemonProcess(DaemonProcess&&) noexcept = default;
  DaemonProcess& operator=(DaemonProcess&&) noexcept = default;
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;
  ~DaemonProcess() {
    if (process_) (void)process_->Stop(SIGTERM, std::chrono::minutes(2));
  }
  Result<int> Stop() {
    auto r = process_->Stop(SIGTERM, std::chrono::minutes(2));
    process_.reset();
    return r;
  }
  bool Running() { return process_ && process_->Running(); }

 private:
  explicit DaemonProcess(Process p) : process_(std::move(p)) {}
  std::optional<Process> process_;
};

std::string Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto r = client.Get(path.c_str());
  return r && r->status == 200 ? r->body : std::string();
}

json Status(int port) { return json::parse(Get(port, "/status"), nullptr, false); }

const json* FindJob(const json& status, const std::string& name) {
  if (status.is_discarded() || !status.contains("jobs")) return nullptr;
  for (const auto& j : status["jobs"]) {
    if (j["name"] == name) return &j;
  }
  return nullptr;
}

// Waits up to `limit` for `done` (checked every 500 ms).
bool WaitFor(seconds limit, const std::function<bool()>& done) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return done();
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void SetArchiveCommand(const std::string& command) {
  auto conn = pg::Connection::Open(SharedPostgres()->Conninfo());
  ASSERT_TRUE(conn.has_value());
  ASSERT_TRUE(conn->Exec("ALTER SYSTEM SET archive_command = '" + command + "'").has_value());
  ASSERT_TRUE(conn->Exec("SELECT pg_reload_conf()").has_value());
}

// Points the shared cluster's archive_command at a test's drctl, and back at /bin/true when the
// test ends however it ends (a failed assertion must not leave the next suites archiving into a
// deleted directory).
class ArchivingInto {
 public:
  explicit ArchivingInto(const std::string& command) { SetArchiveCommand(command); }
  ~ArchivingInto() { SetArchiveCommand("/bin/true"); }
  ArchivingInto(const ArchivingInto&) = delete;
  ArchivingInto& operator=(const ArchivingInto&) = delete;
};

// A workspace the postgres user can read (archive_command runs as it): the binary, a
// passphrase file, the repository and spool.
struct Workspace {
  TempDir dir;
  fs::path root;
  fs::path drctl;
  int port = 0;

  static Workspace Create(const std::string& prefix) {
    auto d = TempDir::Create(prefix);
    EXPECT_TRUE(d.has_value());
    Workspace w{std::move(*d), {}, {}, 0};
    w.root = w.dir.path();
    fs::permissions(w.root, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    w.drctl = w.root / "drctl";
    fs::copy_file(DRCTL_BINARY, w.drctl);
    std::ofstream(w.root / "pass") << "daemon-passphrase\n";
    w.port = FreeLoopbackPort().value_or(0);
    return w;
  }

  std::string Common(const std::string& schedule, const std::string& extra,
                     const std::string& conninfo = {}) const {
    const auto* pg = SharedPostgres();
    std::ostringstream c;
    c << "[postgres]\nconninfo = \"" << (conninfo.empty() ? pg->Conninfo() : conninfo)
      << "\"\npgdata = \"" << pg->options().pgdata.string() << "\"\n"
      << "[encryption]\npassphrase_file = \"" << (root / "pass").string() << "\"\nscrypt_n = 1024\n"
      << "[wal]\nspool = \"" << (root / "spool").string() << "\"\n"
      << "[drill]\ndirectory = \"" << (root / "drills").string() << "\"\n"
      << "[schedule]\n"
      << schedule << "[daemon]\nlisten = \"127.0.0.1:" << port << "\"\nrefresh = \"1s\"\n"
      << "retry = \"5s\"\nstate = \"" << (root / "state").string() << "\"\n"
      << extra;
    return c.str();
  }
};

// Waits until the short schedules have run three backups, an expire, a verify and a drill, and
// checks that no job failed; returns the daemon's /status.
json ExpectScheduledJobsRan(const Workspace& w) {
  auto ran = [&](const std::string& name, std::uint64_t n) {
    const json s = Status(w.port);
    const json* job = FindJob(s, name);
    return job != nullptr && (*job)["runs_ok"].get<std::uint64_t>() >= n;
  };
  EXPECT_TRUE(WaitFor(
      seconds(240),
      [&] { return ran("backup", 3) && ran("expire", 1) && ran("verify", 1) && ran("drill", 1); }))
      << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");
  json s = Status(w.port);
  for (const auto& job : s["jobs"]) {
    const std::string name = job["name"];
    EXPECT_EQ(job["runs_failed"], 0) << job.dump(2) << "\n"
                                     << ReadFile(w.root / "state" / "jobs" / (name + ".log"))
                                     << ReadFile(w.root / "state" / "jobs" / (name + ".json"));
    EXPECT_GT(job["next_run"].get<std::int64_t>(), 0);
  }
  return s;
}

// `drctl info --output json` after those jobs: expire (keep_last = 2) bounded the backups and
// the drill passed.
void ExpectExpiredAndDrilled(const CommandResult& info) {
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const json repo = json::parse(info.out)["repos"][0];
  // Expire keeps 2; up to two more can have been taken since its last run (backups every 15 s,
  // expire every 20 s and never while another job runs).
  EXPECT_LE(repo["backups"].size(), 4U) << repo.dump(2);
  ASSERT_FALSE(repo["drills"].empty());
  EXPECT_TRUE(repo["drills"][0]["ok"].get<bool>());
}

TEST(Daemon, RunsBackupsExpireAndADrillOnScheduleAndServesMetrics) {
  ASSERT_NE(SharedPostgres(), nullptr);
  Workspace w = Workspace::Create("drctl-daemon-");
  const fs::path config = w.root / "drctl.toml";
  std::ofstream(config) << "[[repo]]\nname = \"local\"\nurl = \"file://"
                        << (w.root / "repo").string() << "\"\n"
                        << w.Common(
                               "backup = \"@every 15s\"\nexpire = \"@every 20s\"\n"
                               "verify = \"@every 25s\"\ndrill = \"@every 40s\"\n",
                               "[retention]\nkeep_last = 2\n"
                               // A drill of a few seconds at least: the test stops the daemon
                               // while one runs.
                               "[[drill.check]]\nname = \"slow\"\n"
                               "query = \"SELECT 'slept' FROM pg_sleep(3)\"\n"
                               "expect = \"slept\"\n");
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}).exit_status, 0);
  ASSERT_TRUE(ChownToUser(w.root, "postgres").has_value());
  ArchivingInto archiving(w.drctl.string() + " --config " + config.string() + " wal push %p");

  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log");
  ASSERT_TRUE(daemon.has_value()) << daemon.error().message();
  ASSERT_TRUE(WaitFor(seconds(30), [&] { return !Get(w.port, "/healthz").empty(); }))
      << ReadFile(w.root / "daemon.log");

  // A second daemon on the same repository (its own state directory) refuses: locked.
  const fs::path second = w.root / "second.toml";
  std::string text = ReadFile(config);
  text.replace(text.find(w.root.string() + "/state"), (w.root / "state").string().size(),
               (w.root / "state2").string());
  text.replace(text.find(std::to_string(w.port)), std::to_string(w.port).size(), "0");
  std::ofstream(second) << text;
  auto refused = RunDrctl({"--config", second.string(), "daemon"});
  EXPECT_EQ(refused.exit_status, 11) << refused.err;
  EXPECT_NE(refused.err.find("another drctl daemon"), std::string::npos) << refused.err;

  // Backups, expire, verify and a drill happen on their schedules.
  const json s = ExpectScheduledJobsRan(w);
  const json* backup = FindJob(s, "backup");
  ASSERT_NE(backup, nullptr);
  EXPECT_GT((*backup)["last_bytes"].get<std::uint64_t>(), 0U) << "a backup stores new bytes";

  // The repository shows what the jobs did: at most keep_last (+ one taken since) backups, and
  // a passed drill whose RTO the objectives judge.
  ExpectExpiredAndDrilled(RunDrctl({"--config", config.string(), "--output", "json", "info"}));
  const json status_repo = s["status"]["repos"][0];
  std::map<std::string, std::string> health;
  for (const auto& o : status_repo["objectives"]) health[o["name"]] = o["health"];
  EXPECT_EQ(health["backup_age"], "OK") << status_repo.dump(2);
  EXPECT_EQ(health["rto"], "OK") << status_repo.dump(2);

  // /metrics passes Prometheus' own parser.
  const std::string metrics = Get(w.port, "/metrics");
  ASSERT_FALSE(metrics.empty());
  const fs::path metrics_file = w.root / "metrics.txt";
  std::ofstream(metrics_file) << metrics;
  auto promtool = RunCommand({"sh", "-c", "promtool check metrics < " + metrics_file.string()},
                             std::chrono::seconds(30));
  ASSERT_TRUE(promtool.has_value());
  EXPECT_EQ(promtool->exit_status, 0) << promtool->out << promtool->err;
  EXPECT_NE(metrics.find("drctl_job_runs_total{job=\"backup\",outcome=\"ok\"}"), std::string::npos)
      << metrics;

  // drctl status agrees with the daemon and exits 0 when nothing is breached.
  auto status = RunDrctl({"--config", config.string(), "--output", "json", "status"});
  const json st = json::parse(status.out, nullptr, false);
  ASSERT_FALSE(st.is_discarded()) << status.out << status.err;
  EXPECT_EQ(status.exit_status, st["health"] == "FAIL" ? 15 : 0) << status.out;

  // SIGTERM while a drill runs: the drill tears its instance down and stores no report, the
  // daemon exits 0, the repository verifies, and the stopped run is neither a run nor a failure.
  const auto deadline = Clock::now() + seconds(120);
  bool drill_running = false;
  std::uint64_t drills_ok = 0;  // passed before the one that is stopped
  while (!drill_running && Clock::now() < deadline) {
    const json now = Status(w.port);
    const json* d = FindJob(now, "drill");
    drill_running = d != nullptr && (*d)["running"].get<bool>();
    if (drill_running) drills_ok = (*d)["runs_ok"].get<std::uint64_t>();
    if (!drill_running) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(drill_running) << "no drill seen running";
  auto stopped = daemon->Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 0) << ReadFile(w.root / "daemon.log");
  const json state = json::parse(ReadFile(w.root / "state" / "state.json"), nullptr, false);
  ASSERT_FALSE(state.is_discarded());
  EXPECT_GT(state["jobs"]["backup"]["last_start"].get<std::int64_t>(), 0);
  EXPECT_EQ(state["jobs"]["drill"]["last_outcome"], "ok") << "a stopped run is not a failure";
  EXPECT_EQ(state["jobs"]["drill"]["consecutive_failures"], 0);
  const std::string drill_log = ReadFile(w.root / "state" / "jobs" / "drill.log");
  EXPECT_NE(drill_log.find("no report stored"), std::string::npos) << drill_log;
  std::error_code ec;
  EXPECT_TRUE(fs::is_empty(w.root / "drills", ec)) << "the drill's scratch instance is gone";
  auto after = RunDrctl({"--config", config.string(), "--output", "json", "info"});
  EXPECT_EQ(json::parse(after.out)["repos"][0]["drills"].size(), drills_ok)
      << "no report for the stopped drill";
  auto verify = RunDrctl({"--config", config.string(), "verify"});
  EXPECT_EQ(verify.exit_status, 0) << verify.out << verify.err;
}

TEST(Daemon, RunsScheduledJobsOnASwiftRepository) {
  // The same schedule against S3 (Swift with s3api): backups, expire and a drill on time.
  ASSERT_NE(SharedPostgres(), nullptr);
  SwiftServer* swift = SharedSwift();
  ASSERT_NE(swift, nullptr);
  auto bucket = RunAwsCli(swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                          {"s3api", "create-bucket", "--bucket", "drctl-daemon-sched"});
  ASSERT_TRUE(bucket.has_value() && bucket->exit_status == 0);
  Workspace w = Workspace::Create("drctl-daemon-swift-");
  const fs::path config = w.root / "drctl.toml";
  std::ofstream(config) << "[[repo]]\nname = \"s3\"\nurl = \"s3://drctl-daemon-sched/"
                        << w.root.filename().string() << "\"\nendpoint = \"" << swift->endpoint()
                        << "\"\npath_style = true\naccess_key_id_env = \"SCHED_S3_KEY\"\n"
                        << "secret_access_key_env = \"SCHED_S3_SECRET\"\n"
                        << w.Common(
                               "backup = \"@every 15s\"\nexpire = \"@every 20s\"\n"
                               "verify = \"@every 25s\"\ndrill = \"@every 40s\"\n",
                               "[retention]\nkeep_last = 2\n");
  const std::vector<std::string> env = {std::string("SCHED_S3_KEY=") + SwiftServer::kAccessKey,
                                        std::string("SCHED_S3_SECRET=") + SwiftServer::kSecretKey};
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}, env).exit_status, 0);
  ASSERT_TRUE(ChownToUser(w.root, "postgres").has_value());
  // The archiver (the postgres user) reaches S3 with credentials from a wrapper, never argv.
  const fs::path wrapper = w.root / "push.sh";
  std::ofstream(wrapper) << "#!/bin/sh\nexport SCHED_S3_KEY='" << SwiftServer::kAccessKey
                         << "' SCHED_S3_SECRET='" << SwiftServer::kSecretKey << "'\nexec "
                         << w.drctl.string() << " --config " << config.string()
                         << " wal push \"$1\"\n";
  fs::permissions(wrapper, fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);
  ArchivingInto archiving(wrapper.string() + " %p");
  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log", env);
  ASSERT_TRUE(daemon.has_value());
  ExpectScheduledJobsRan(w);
  ExpectExpiredAndDrilled(RunDrctl({"--config", config.string(), "--output", "json", "info"}, env));
  auto stopped = daemon->Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 0);
}

// The alert events a `cat >> FILE` alert command received, one JSON document per line.
std::vector<json> CommandEvents(const fs::path& file, const std::string& key) {
  std::vector<json> out;
  std::istringstream in(ReadFile(file));
  for (std::string line; std::getline(in, line);) {
    const json e = json::parse(line, nullptr, false);
    if (!e.is_discarded() && e.value("key", "") == key) out.push_back(e);
  }
  return out;
}

TEST(Daemon, AFailingJobRetriesWithBackoffAlertsOnceAcrossARestartAndResolves) {
  ASSERT_NE(SharedPostgres(), nullptr);
  Workspace w = Workspace::Create("drctl-daemon-fail-");
  const fs::path alerts = w.root / "alerts.jsonl";
  const std::string never = "\"0 0 1 1 *\"";
  const std::string schedule = "backup = \"@every 1h\"\nexpire = " + never + "\nverify = " + never +
                               "\ndrill = " + never + "\n";
  const std::string extra = "[alerts]\ncommand = \"(cat; echo) >> " + alerts.string() + "\"\n";
  const auto closed = FreeLoopbackPort();
  ASSERT_TRUE(closed.has_value());
  auto write_config = [&](const std::string& conninfo) {
    std::ofstream(w.root / "drctl.toml")
        << "[[repo]]\nname = \"local\"\nurl = \"file://" << (w.root / "repo").string() << "\"\n"
        << w.Common(schedule, extra, conninfo);
  };
  // PostgreSQL out of reach: the first backup (the repository has none, so it runs at once)
  // fails, and is retried after 5 s, 10 s, 20 s...
  write_config("host=127.0.0.1 port=" + std::to_string(*closed) + " user=postgres dbname=postgres");
  const fs::path config = w.root / "drctl.toml";
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}).exit_status, 0);
  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log");
  ASSERT_TRUE(daemon.has_value());
  auto backup_job = [&]() -> json {
    const json status = Status(w.port);
    const json* job = FindJob(status, "backup");
    return job != nullptr ? *job : json();
  };
  ASSERT_TRUE(WaitFor(seconds(60),
                      [&] {
                        const json j = backup_job();
                        return !j.is_null() && j["consecutive_failures"].get<int>() >= 2;
                      }))
      << backup_job().dump(2) << ReadFile(w.root / "daemon.log");
  json j = backup_job();
  EXPECT_EQ(j["last_outcome"], "failed");
  EXPECT_NE(j["last_error"].get<std::string>().find(std::to_string(*closed)), std::string::npos)
      << "the error names what failed: " << j.dump(2);
  const auto first_failures = j["consecutive_failures"].get<int>();
  ASSERT_TRUE(WaitFor(seconds(10), [&] { return CommandEvents(alerts, "job:backup").size() == 1; }))
      << ReadFile(alerts);

  // A restart keeps the record (the failures go on counting) and does not alert again.
  ASSERT_TRUE(daemon->Stop().has_value());
  auto again = DaemonProcess::Start(config, w.root / "daemon2.log");
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(WaitFor(seconds(60),
                      [&] {
                        const json k = backup_job();
                        return !k.is_null() &&
                               k["consecutive_failures"].get<int>() > first_failures;
                      }))
      << backup_job().dump(2) << ReadFile(w.root / "daemon2.log");
  std::this_thread::sleep_for(seconds(3));
  auto events = CommandEvents(alerts, "job:backup");
  ASSERT_EQ(events.size(), 1U) << ReadFile(alerts);
  EXPECT_EQ(events[0]["state"], "firing");
  ASSERT_TRUE(again->Stop().has_value());

  // PostgreSQL reachable again: the pending retry succeeds and the alert resolves.
  write_config("");
  auto fixed = DaemonProcess::Start(config, w.root / "daemon3.log");
  ASSERT_TRUE(fixed.has_value());
  ASSERT_TRUE(
      WaitFor(seconds(180), [&] { return CommandEvents(alerts, "job:backup").size() == 2; }))
      << backup_job().dump(2) << ReadFile(w.root / "daemon3.log") << ReadFile(alerts);
  events = CommandEvents(alerts, "job:backup");
  EXPECT_EQ(events[1]["state"], "resolved");
  j = backup_job();
  EXPECT_EQ(j["last_outcome"], "ok") << j.dump(2);
  EXPECT_EQ(j["consecutive_failures"], 0);
  ASSERT_TRUE(fixed->Stop().has_value());
}

TEST(Daemon, KeepsWalStreamRunningAndRestartsItWhenItDies) {
  Workspace w = Workspace::Create("drctl-daemon-stream-");
  // A primary of the test's own (replication allowed; the slot it gets is dropped with it).
  pg::ClusterOptions o;
  o.pgdata = w.root / "pgdata";
  o.settings = {"wal_level=replica", "max_wal_senders=10", "max_replication_slots=10", "fsync=off"};
  ASSERT_TRUE(pg::LocalCluster::InitDb(o).has_value());
  auto primary = pg::LocalCluster::Start(o);
  ASSERT_TRUE(primary.has_value()) << primary.error().ToString();
  const std::string never = "\"0 0 1 1 *\"";
  const fs::path config = w.root / "drctl.toml";
  std::ofstream(config) << "[[repo]]\nname = \"local\"\nurl = \"file://"
                        << (w.root / "repo").string() << "\"\n"
                        << w.Common("backup = " + never + "\nexpire = " + never +
                                        "\nverify = " + never + "\ndrill = " + never + "\n",
                                    "wal_stream = true\n", primary->Conninfo());
  // Common() ends inside [daemon]: wal_stream belongs there; partial uploads every second.
  std::ofstream(config, std::ios::app) << "[objectives]\nrpo = \"5m\"\n";
  {
    std::string text = ReadFile(config);
    text.replace(text.find("[wal]\n"), 6, "[wal]\npartial_interval = \"1s\"\n");
    std::ofstream(config) << text;
  }
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}).exit_status, 0);
  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log");
  ASSERT_TRUE(daemon.has_value());
  auto stream = [&]() -> json {
    const json s = Status(w.port);
    return s.is_discarded() ? json() : s["stream"];
  };
  ASSERT_TRUE(WaitFor(seconds(60), [&] {
    const json st = stream();
    return !st.is_null() && st["running"].get<bool>();
  })) << ReadFile(w.root / "daemon.log");
  auto conn = pg::Connection::Open(primary->Conninfo());
  ASSERT_TRUE(conn.has_value());
  auto newest_wal = [&]() -> std::string {
    const json s = Status(w.port);
    if (s.is_discarded() || s["status"]["repos"].empty()) return "";
    return s["status"]["repos"][0]["newest_wal"].get<std::string>();
  };
  ASSERT_TRUE(conn->Exec("CREATE TABLE t (i int); INSERT INTO t VALUES (1)").has_value());
  ASSERT_TRUE(WaitFor(seconds(60), [&] { return !newest_wal().empty(); }))
      << "the stream stores WAL: " << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");

  // The stream dies: the daemon starts it again, and it goes on storing WAL.
  auto pgrep = RunCommand(
      {"pgrep", "-f", config.string() + " --output json --log-level info wal stream"}, seconds(10));
  ASSERT_TRUE(pgrep.has_value() && pgrep->exit_status == 0) << "no wal stream child";
  const pid_t pid = std::stoi(pgrep->out);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ASSERT_TRUE(WaitFor(seconds(30),
                      [&] {
                        const json st = stream();
                        return !st.is_null() && st["restarts"].get<int>() >= 1 &&
                               st["running"].get<bool>();
                      }))
      << stream().dump(2) << ReadFile(w.root / "daemon.log");
  EXPECT_NE(stream()["last_exit"].get<std::string>().find("exit 137"), std::string::npos)
      << stream().dump(2);
  const std::string before = newest_wal();
  ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (2); SELECT pg_switch_wal()").has_value());
  ASSERT_TRUE(conn->Exec("INSERT INTO t VALUES (3); SELECT pg_switch_wal()").has_value());
  EXPECT_TRUE(WaitFor(seconds(60), [&] { return newest_wal() > before; }))
      << before << " " << Status(w.port).dump(2);

  // Stopping the daemon stops the stream too.
  auto stopped = daemon->Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 0);
  auto left = RunCommand(
      {"pgrep", "-f", config.string() + " --output json --log-level info wal stream"}, seconds(10));
  ASSERT_TRUE(left.has_value());
  EXPECT_NE(left->exit_status, 0) << "wal stream still runs: " << left->out;
  (void)primary->Stop(seconds(30));
}

TEST(Daemon, CopiesToALaggingRepositoryOnlyWhenOneLags) {
  ASSERT_NE(SharedPostgres(), nullptr);
  SetArchiveCommand("/bin/true");
  Workspace w = Workspace::Create("drctl-daemon-sync-");
  const std::string never = "\"0 0 1 1 *\"";
  const fs::path config = w.root / "drctl.toml";
  std::ofstream(config) << "[[repo]]\nname = \"one\"\nurl = \"file://" << (w.root / "one").string()
                        << "\"\n[[repo]]\nname = \"two\"\nurl = \"file://"
                        << (w.root / "two").string() << "\"\n"
                        << w.Common("backup = " + never + "\nexpire = " + never + "\nverify = " +
                                        never + "\ndrill = " + never + "\nsync = \"@every 3s\"\n",
                                    "");
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}).exit_status, 0);
  // The first backup (neither repository has one, so it runs at once) goes into "one" only.
  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log");
  ASSERT_TRUE(daemon.has_value());
  auto job = [&](const std::string& name) -> json {
    const json status = Status(w.port);
    const json* j = FindJob(status, name);
    return j != nullptr ? *j : json();
  };
  auto backups_in = [&](const std::string& repo) -> std::size_t {
    auto info = RunDrctl({"--config", config.string(), "--output", "json", "info", "--repo", repo});
    const json j = json::parse(info.out, nullptr, false);
    return j.is_discarded() ? 0 : j["repos"][0]["backups"].size();
  };
  ASSERT_TRUE(WaitFor(seconds(120),
                      [&] {
                        const json b = job("backup");
                        const json s = job("sync");
                        return !b.is_null() && b["runs_ok"] == 1 && !s.is_null() &&
                               s["runs_ok"].get<int>() >= 1;
                      }))
      << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");
  EXPECT_TRUE(WaitFor(seconds(30), [&] { return backups_in("two") == 1; }))
      << "repo sync copied the backup";
  EXPECT_EQ(backups_in("one"), 1U);
  // Nothing lags any more: the following scheduled times pass without a copy.
  std::this_thread::sleep_for(seconds(3));
  const auto runs = job("sync")["runs_ok"].get<int>();
  std::this_thread::sleep_for(seconds(10));
  EXPECT_EQ(job("sync")["runs_ok"].get<int>(), runs) << Status(w.port).dump(2);
  EXPECT_EQ(job("sync")["runs_failed"], 0);
  auto stopped = daemon->Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 0);
}

// The webhook's alert events, in order.
std::vector<json> Events(WebhookReceiver& receiver) {
  std::vector<json> events;
  for (const auto& r : receiver.requests()) events.push_back(json::parse(r.body, nullptr, false));
  return events;
}

TEST(Daemon, AnS3OutageGrowsRpoExposureAndFiresExactlyOneAlertUntilItRecovers) {
  ASSERT_NE(SharedPostgres(), nullptr);
  auto swift = SwiftServer::Start();
  ASSERT_TRUE(swift.has_value()) << swift.error().message();
  auto bucket = RunAwsCli(swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                          {"s3api", "create-bucket", "--bucket", "drctl-daemon"});
  ASSERT_TRUE(bucket.has_value() && bucket->exit_status == 0);
  WebhookReceiver receiver;
  Workspace w = Workspace::Create("drctl-daemon-s3-");
  const fs::path config = w.root / "drctl.toml";
  const std::string never = "\"0 0 1 1 *\"";
  std::ofstream(config) << "[[repo]]\nname = \"s3\"\nurl = \"s3://drctl-daemon/r\"\nendpoint = \""
                        << swift->endpoint() << "\"\npath_style = true\n"
                        << "access_key_id_env = \"DAEMON_S3_KEY\"\n"
                        << "secret_access_key_env = \"DAEMON_S3_SECRET\"\n"
                        << w.Common("backup = " + never + "\nexpire = " + never +
                                        "\nverify = " + never + "\ndrill = " + never + "\n",
                                    "[objectives]\nrpo = \"20s\"\n[alerts]\nwebhook = "
                                    "\"http://127.0.0.1:" +
                                        std::to_string(receiver.port()) + "/hook\"\n");
  const std::vector<std::string> env = {std::string("DAEMON_S3_KEY=") + SwiftServer::kAccessKey,
                                        std::string("DAEMON_S3_SECRET=") + SwiftServer::kSecretKey};
  ASSERT_EQ(RunDrctl({"--config", config.string(), "repo", "init"}, env).exit_status, 0);
  ASSERT_TRUE(ChownToUser(w.root, "postgres").has_value());
  // The archiver reaches S3 with credentials from a wrapper (never in the config or argv).
  const fs::path wrapper = w.root / "push.sh";
  std::ofstream(wrapper) << "#!/bin/sh\nexport DAEMON_S3_KEY='" << SwiftServer::kAccessKey
                         << "' DAEMON_S3_SECRET='" << SwiftServer::kSecretKey << "'\nexec "
                         << w.drctl.string() << " --config " << config.string()
                         << " wal push \"$1\"\n";
  fs::permissions(wrapper, fs::perms::owner_all | fs::perms::others_exec | fs::perms::others_read);
  ArchivingInto archiving(wrapper.string() + " %p");
  // Every objective but the RPO is met before the outage: a backup and a drill.
  auto backup = RunDrctl({"--config", config.string(), "backup", "--no-progress"}, env);
  ASSERT_EQ(backup.exit_status, 0) << backup.err;
  auto drill = RunDrctlAt(w.drctl.string(), {"--config", config.string(), "drill"}, env);
  ASSERT_EQ(drill.exit_status, 0) << drill.out << drill.err;

  // A steady trickle of WAL: a row and a segment switch every 2 s.
  std::atomic<bool> stop_workload{false};
  std::thread workload([&] {
    auto conn = pg::Connection::Open(SharedPostgres()->Conninfo());
    if (!conn) return;
    (void)conn->Exec("CREATE TABLE IF NOT EXISTS daemon_t (t timestamptz DEFAULT now())");
    while (!stop_workload) {
      (void)conn->Exec("INSERT INTO daemon_t DEFAULT VALUES; SELECT pg_switch_wal()");
      std::this_thread::sleep_for(seconds(2));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& t;
    ~Join() {
      stop = true;
      t.join();
    }
  } join{stop_workload, workload};

  auto daemon = DaemonProcess::Start(config, w.root / "daemon.log", env);
  ASSERT_TRUE(daemon.has_value());
  auto rpo = [&]() -> std::optional<json> {
    const json s = Status(w.port);
    if (s.is_discarded() || s["status"]["repos"].empty()) return std::nullopt;
    for (const auto& o : s["status"]["repos"][0]["objectives"]) {
      if (o["name"] == "rpo") return o;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(WaitFor(seconds(60),
                      [&] {
                        auto o = rpo();
                        return o && (*o)["health"] == "OK";
                      }))
      << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");
  EXPECT_TRUE(Events(receiver).empty()) << "nothing is wrong yet";

  // The S3 endpoint goes away: exposure grows past 20 s, one alert.
  ASSERT_TRUE(swift->StopProxy().has_value());
  ASSERT_TRUE(WaitFor(seconds(90), [&] { return !Events(receiver).empty(); }))
      << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");
  auto breached = rpo();
  ASSERT_TRUE(breached.has_value());
  EXPECT_GT((*breached)["value_seconds"].get<double>(), 20.0) << breached->dump(2);
  std::this_thread::sleep_for(seconds(15));  // a long outage is not a flood
  auto events = Events(receiver);
  ASSERT_EQ(events.size(), 1U) << json(events).dump(2);
  EXPECT_EQ(events[0]["state"], "firing");
  EXPECT_EQ(events[0]["key"], "objective:rpo:s3");
  // drctl status, which cannot read the repository either, says so and exits 15.
  auto status = RunDrctl({"--config", config.string(), "status"}, env);
  EXPECT_EQ(status.exit_status, 15) << status.out << status.err;
  EXPECT_NE(status.out.find("unreachable"), std::string::npos) << status.out;
  const auto still = rpo();
  ASSERT_TRUE(still.has_value());
  EXPECT_GT((*still)["value_seconds"].get<double>(), (*breached)["value_seconds"].get<double>())
      << "the exposure keeps growing during the outage";

  // The endpoint comes back: archiving catches up and the alert resolves, once.
  ASSERT_TRUE(swift->StartProxy().has_value());
  ASSERT_TRUE(WaitFor(seconds(180), [&] { return Events(receiver).size() >= 2; }))
      << Status(w.port).dump(2) << ReadFile(w.root / "daemon.log");
  std::this_thread::sleep_for(seconds(3));
  events = Events(receiver);
  ASSERT_EQ(events.size(), 2U) << json(events).dump(2);
  EXPECT_EQ(events[1]["state"], "resolved");
  EXPECT_EQ(events[1]["key"], "objective:rpo:s3");
  auto stopped = daemon->Stop();
  ASSERT_TRUE(stopped.has_value());
  EXPECT_EQ(*stopped, 0);
}

}  // namespace
}  // namespace drctl::testing
