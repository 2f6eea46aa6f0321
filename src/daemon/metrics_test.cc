#include "daemon/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "common/process.h"
#include "common/temp_dir.h"

namespace drctl::daemon {
namespace {

using command::Health;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kNow = 1'714'000'000;
// Label values must survive backslashes, double quotes and newlines.
constexpr const char* kOddRepo = R"(eu\west "b")";

command::RepoStatus Repo(std::string name, bool reachable, Health rpo, Health backup_age) {
  command::RepoStatus r;
  r.facts.repo = std::move(name);
  r.facts.reachable = reachable;
  r.facts.newest_wal_time = kNow - 30;
  r.facts.stored_end_lsn = 0x3000000;
  r.facts.backups = {{.id = "20240424T000000Z",
                      .start_time = kNow - 7200,
                      .stop_time = kNow - 6000,
                      .logical_size = 5'000'000'000,
                      .new_bytes = 123'456'789}};
  r.facts.drills = {{.id = "d2", .time = kNow - 3600, .ok = false, .failed_step = "amcheck"},
                    {.id = "d1", .time = kNow - 86400, .ok = true, .rto_seconds = 312.5}};
  r.facts.windows = {{.timeline = 1, .from_time = kNow - 7200, .to_time = kNow - 30}};
  r.rpo_exposure_seconds = 30;
  r.objectives = {{.name = "rpo", .health = rpo, .value_seconds = 30, .objective_seconds = 900},
                  {.name = "backup_age",
                   .health = backup_age,
                   .value_seconds = 6000,
                   .objective_seconds = 3600},
                  {.name = "drill_age",
                   .health = Health::kOk,
                   .value_seconds = 86400,
                   .objective_seconds = 691200},
                  {.name = "rto",
                   .health = Health::kWarn,
                   .value_seconds = std::nullopt,
                   .objective_seconds = 14400}};
  r.health = command::Worst(rpo, backup_age);
  return r;
}

DaemonSnapshot Snapshot() {
  DaemonSnapshot s;
  s.started_at = kNow - 86400;
  s.now = kNow;
  s.version = "0.1.0\nrc \"1\"";
  s.status.measured_at = kNow - 10;
  s.status.postgres = {.reachable = true, .current_lsn = 0x3000100, .timeline = 1};
  s.status.repos = {Repo("local", true, Health::kOk, Health::kOk),
                    Repo(kOddRepo, true, Health::kOk, Health::kFail)};
  s.status.health = Health::kFail;
  s.jobs = {{.name = "backup",
             .schedule = "0 */6 * * *",
             .last_start = kNow - 6100,
             .last_end = kNow - 6000,
             .last_outcome = "ok",
             .last_duration_seconds = 100.25,
             .next_run = kNow + 3600,
             .runs_ok = 3,
             .runs_failed = 2,
             .last_bytes = 123'456'789,
             .last_success = kNow - 6000},
            {.name = "verify",
             .schedule = "0 2 * * *",
             .running = true,
             .last_start = kNow - 500,
             .last_end = kNow - 400,
             .last_outcome = "failed",
             .last_error = "chunk \"x\" missing",
             .last_duration_seconds = 12,
             .consecutive_failures = 1,
             .runs_failed = 1},
            {.name = "drill", .schedule = "0 3 * * 0", .next_run = kNow + 7200}};
  s.alerts = {{.key = "objective:backup_age:eu", .message = "backup too old", .since = kNow - 60}};
  s.stream = {.enabled = true, .running = true, .restarts = 2};
  return s;
}

// Runs `promtool check metrics` (a real Prometheus text-format parser and linter) on `text`.
void ExpectPromtoolAccepts(const std::string& text) {
  auto which = RunCommand({"/bin/sh", "-c", "command -v promtool"}, std::chrono::seconds(10));
  ASSERT_TRUE(which.has_value()) << which.error().ToString();
  ASSERT_EQ(which->exit_status, 0)
      << "promtool is missing: run scripts/install-deps.sh (Debian package prometheus)";
  auto dir = TempDir::Create("drctl-metrics-");
  ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
  const std::string path = (dir->path() / "metrics.txt").string();
  std::ofstream(path) << text;
  auto r = RunCommand({"/bin/sh", "-c", "exec promtool check metrics < \"$0\"", path},
                      std::chrono::seconds(60));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(r->exit_status, 0) << "promtool:\n" << r->out << r->err << "\nmetrics:\n" << text;
}

TEST(RenderMetrics, PromtoolAcceptsARealisticSnapshot) {
  ExpectPromtoolAccepts(RenderMetrics(Snapshot()));
}

TEST(RenderMetrics, PromtoolAcceptsAnUnmeasuredSnapshot) {
  DaemonSnapshot s;
  s.started_at = kNow;
  s.now = kNow;
  s.version = "0.1.0";
  s.jobs = {{.name = "backup", .schedule = "0 */6 * * *"}};
  const std::string text = RenderMetrics(s);
  EXPECT_THAT(text, Not(HasSubstr("drctl_objective")));
  EXPECT_THAT(text, Not(HasSubstr("drctl_health")));
  EXPECT_THAT(text, Not(HasSubstr("drctl_job_last_duration_seconds")));
  ExpectPromtoolAccepts(text);
}

TEST(RenderMetrics, Samples) {
  const std::string text = RenderMetrics(Snapshot());
  const std::string odd = R"(repo="eu\\west \"b\"")";
  for (const std::string& line : {
           std::string(R"(drctl_build_info{version="0.1.0\nrc \"1\""} 1)"),
           std::string("drctl_daemon_start_time_seconds 1713913600"),
           std::string("drctl_alerts_active 1"),
           std::string("drctl_wal_stream_up 1"),
           std::string("drctl_wal_stream_restarts_total 2"),
           std::string("drctl_health 2"),
           std::string(R"(drctl_objective_ok{repo="local",objective="rpo"} 1)"),
           "drctl_objective_ok{" + odd + R"(,objective="backup_age"} 0)",
           "drctl_objective_health{" + odd + R"(,objective="backup_age"} 2)",
           "drctl_objective_value_seconds{" + odd + R"(,objective="backup_age"} 6000)",
           "drctl_objective_target_seconds{" + odd + R"(,objective="rpo"} 900)",
           std::string(R"(drctl_repository_up{repo="local"} 1)"),
           std::string(R"(drctl_rpo_exposure_seconds{repo="local"} 30)"),
           std::string(R"(drctl_wal_lag_bytes{repo="local"} 256)"),
           std::string(R"(drctl_backups{repo="local"} 1)"),
           std::string(R"(drctl_newest_backup_age_seconds{repo="local"} 6000)"),
           std::string(R"(drctl_newest_backup_size_bytes{repo="local"} 5000000000)"),
           std::string(R"(drctl_last_drill_rto_seconds{repo="local"} 312.5)"),
           std::string(R"(drctl_last_drill_ok{repo="local"} 0)"),
           std::string(R"(drctl_recoverable_until_timestamp_seconds{repo="local"} 1713999970)"),
           std::string(R"(drctl_job_running{job="verify"} 1)"),
           std::string(R"(drctl_job_runs_total{job="backup",outcome="ok"} 3)"),
           std::string(R"(drctl_job_runs_total{job="backup",outcome="failed"} 2)"),
           std::string(R"(drctl_job_last_duration_seconds{job="backup"} 100.25)"),
           std::string(R"(drctl_job_last_success_timestamp_seconds{job="backup"} 1713994000)"),
           std::string(R"(drctl_job_last_bytes{job="backup"} 123456789)"),
           std::string(R"(drctl_job_next_run_timestamp_seconds{job="drill"} 1714007200)"),
       }) {
    EXPECT_THAT(text, HasSubstr("\n" + line + "\n")) << text;
  }
  // Unknown values have no sample: an unmeasured RTO, a job that never ran or never succeeded.
  EXPECT_THAT(text,
              Not(HasSubstr(R"(drctl_objective_value_seconds{repo="local",objective="rto"})")));
  EXPECT_THAT(text, Not(HasSubstr(R"(drctl_job_last_duration_seconds{job="drill"})")));
  EXPECT_THAT(text, Not(HasSubstr(R"(drctl_job_last_success_timestamp_seconds{job="verify"})")));
  EXPECT_THAT(text, Not(HasSubstr(R"(drctl_job_last_bytes{job="verify"})")));
  EXPECT_THAT(text, Not(HasSubstr("NaN")));
}

TEST(RenderMetrics, EveryFamilyHasHelpAndTypeBeforeItsSamples) {
  std::istringstream in(RenderMetrics(Snapshot()));
  std::set<std::string> help;
  std::set<std::string> typed;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string first;
    std::string second;
    std::string name;
    words >> first >> second >> name;
    if (first == "#" && second == "HELP") {
      help.insert(name);
    } else if (first == "#" && second == "TYPE") {
      typed.insert(name);
    } else {
      const std::string family = first.substr(0, first.find('{'));
      EXPECT_TRUE(family.starts_with("drctl_")) << line;
      EXPECT_TRUE(help.contains(family)) << line;
      EXPECT_TRUE(typed.contains(family)) << line;
    }
  }
}

TEST(EscapeLabelValue, EscapesBackslashQuoteAndNewline) {
  EXPECT_EQ(EscapeLabelValue("plain"), "plain");
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), R"(a\\b\"c\nd)");
}

}  // namespace
}  // namespace drctl::daemon
