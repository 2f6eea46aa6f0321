#include "command/status/status_report.h"

#include <gtest/gtest.h>

namespace drctl::command {
namespace {

constexpr std::int64_t kNow = 1'790'000'000;
constexpr std::int64_t kM = 60;
constexpr std::int64_t kH = 3600;
constexpr std::uint64_t kSeg = std::uint64_t{16} << 20;
constexpr double kMinute = 60;
constexpr double kHour = 3600;
constexpr double kDay = 86400;

ObjectivesConfig Objectives() {
  ObjectivesConfig o;
  o.rpo = std::chrono::minutes(15);
  o.rto = std::chrono::hours(4);
  o.backup_age = std::chrono::hours(7);
  o.drill_age = std::chrono::days(8);
  return o;
}

RepoFacts Healthy() {
  RepoFacts f;
  f.repo = "local";
  f.reachable = true;
  f.newest_wal = "000000010000000000000009";
  f.newest_wal_time = kNow - 60;
  f.stored_end_lsn = 10 * kSeg;
  f.backups.push_back(BackupPoint{.id = "b1", .start_time = kNow - 3600, .stop_time = kNow - 3500});
  f.drills.push_back(DrillPoint{.id = "d1", .time = kNow - 86400, .ok = true, .rto_seconds = 120});
  return f;
}

PostgresPosition Pg(std::uint64_t lsn) {
  return PostgresPosition{.reachable = true, .error = {}, .current_lsn = lsn, .timeline = 1};
}

const ObjectiveCheck& Find(const RepoStatus& s, const std::string& name) {
  for (const auto& c : s.objectives) {
    if (c.name == name) return c;
  }
  ADD_FAILURE() << "no objective " << name;
  return s.objectives.front();
}

TEST(Objectives, HealthyRepositoryIsOkEverywhere) {
  auto s = EvaluateObjectives(Healthy(), Pg(10 * kSeg + 100), Objectives(), kNow);
  EXPECT_EQ(s.health, Health::kOk);
  ASSERT_EQ(s.objectives.size(), 4U);
  EXPECT_EQ(s.rpo_exposure_seconds, 60.0);
  EXPECT_EQ(Find(s, "backup_age").value_seconds, 3500.0);
  EXPECT_EQ(Find(s, "drill_age").value_seconds, 86400.0);
  EXPECT_EQ(Find(s, "rto").value_seconds, 120.0);
}

TEST(Objectives, ExposureIsZeroWhenTheCurrentPositionIsStored) {
  auto s = EvaluateObjectives(Healthy(), Pg(10 * kSeg), Objectives(), kNow);
  EXPECT_EQ(s.rpo_exposure_seconds, 0.0);
  EXPECT_NE(Find(s, "rpo").detail.find("current WAL position is stored"), std::string::npos);
}

TEST(Objectives, RpoWarnsNearAndFailsBeyondTheObjective) {
  auto f = Healthy();
  f.newest_wal_time = kNow - 14 * kM;  // 14 of 15 minutes: above 3/4
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(11 * kSeg), Objectives(), kNow), "rpo").health,
            Health::kWarn);
  f.newest_wal_time = kNow - 11 * kM;  // below 3/4 (11.25 min)
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(11 * kSeg), Objectives(), kNow), "rpo").health,
            Health::kOk);
  f.newest_wal_time = kNow - 16 * kM;
  auto s = EvaluateObjectives(f, Pg(11 * kSeg), Objectives(), kNow);
  EXPECT_EQ(Find(s, "rpo").health, Health::kFail);
  EXPECT_EQ(s.health, Health::kFail);
  EXPECT_NE(Find(s, "rpo").detail.find("16m of 15m"), std::string::npos) << Find(s, "rpo").detail;
}

TEST(Objectives, UnreachablePostgresMeasuresFromTheNewestWal) {
  PostgresPosition down;
  down.error = "connection refused";
  auto s = EvaluateObjectives(Healthy(), down, Objectives(), kNow);
  EXPECT_EQ(s.rpo_exposure_seconds, 60.0);
  EXPECT_NE(Find(s, "rpo").detail.find("connection refused"), std::string::npos);
}

TEST(Objectives, UnreachableRepositoryFailsButKeepsTheLastKnownExposure) {
  auto f = Healthy();
  f.reachable = false;
  f.error = "connect to 127.0.0.1:9 refused";
  auto s = EvaluateObjectives(f, Pg(11 * kSeg), Objectives(), kNow + 1000);
  EXPECT_EQ(s.rpo_exposure_seconds, 1060.0);
  EXPECT_EQ(Find(s, "rpo").health, Health::kFail);
  // What was read before is still judged (one breach, one alert), marked as last known.
  EXPECT_EQ(Find(s, "backup_age").health, Health::kOk);
  EXPECT_NE(Find(s, "backup_age").detail.find("last known; repository unreachable"),
            std::string::npos);
  // Never read: nothing is known, so it fails.
  RepoFacts never;
  never.repo = "s3";
  never.error = "connect refused";
  auto n = EvaluateObjectives(never, Pg(11 * kSeg), Objectives(), kNow);
  EXPECT_EQ(Find(n, "backup_age").health, Health::kFail);
  EXPECT_NE(Find(n, "backup_age").detail.find("unreachable: connect refused"), std::string::npos);
}

TEST(Objectives, NothingStoredFailsWithWhatToDo) {
  RepoFacts f;
  f.repo = "empty";
  f.reachable = true;
  auto s = EvaluateObjectives(f, Pg(kSeg), Objectives(), kNow);
  EXPECT_EQ(Find(s, "rpo").health, Health::kFail);
  EXPECT_FALSE(Find(s, "rpo").value_seconds.has_value());
  EXPECT_NE(Find(s, "rpo").detail.find("drctl wal push"), std::string::npos);
  EXPECT_NE(Find(s, "backup_age").detail.find("drctl backup"), std::string::npos);
  EXPECT_EQ(Find(s, "drill_age").health, Health::kFail);
  EXPECT_EQ(Find(s, "rto").health, Health::kWarn);
}

TEST(Objectives, BackupAgeHasNoWarnBand) {
  auto f = Healthy();
  f.backups.back().stop_time = kNow - 6 * kH - 59 * kM;
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(10 * kSeg), Objectives(), kNow), "backup_age").health,
            Health::kOk);
  f.backups.back().stop_time = kNow - 7 * kH - 1;
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(10 * kSeg), Objectives(), kNow), "backup_age").health,
            Health::kFail);
}

TEST(Objectives, FailedNewestDrillWarnsAndRtoComesFromTheLastPassedOne) {
  auto f = Healthy();
  f.drills.insert(
      f.drills.begin(),
      DrillPoint{.id = "d2", .time = kNow - 100, .ok = false, .failed_step = "amcheck"});
  auto s = EvaluateObjectives(f, Pg(10 * kSeg), Objectives(), kNow);
  EXPECT_EQ(Find(s, "drill_age").health, Health::kWarn);
  EXPECT_NE(Find(s, "drill_age").detail.find("d2 FAILED at amcheck"), std::string::npos);
  EXPECT_EQ(Find(s, "rto").value_seconds, 120.0);
}

TEST(Objectives, RtoAboveTheObjectiveFails) {
  auto f = Healthy();
  f.drills.front().rto_seconds = 5 * kH;
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(10 * kSeg), Objectives(), kNow), "rto").health,
            Health::kFail);
  f.drills.front().rto_seconds = 3.5 * kH;
  EXPECT_EQ(Find(EvaluateObjectives(f, Pg(10 * kSeg), Objectives(), kNow), "rto").health,
            Health::kWarn);
}

TEST(Objectives, JsonCarriesEveryObjective) {
  StatusReport r;
  r.measured_at = kNow;
  r.postgres = Pg(10 * kSeg);
  r.repos.push_back(EvaluateObjectives(Healthy(), r.postgres, Objectives(), kNow));
  auto j = StatusJson(r);
  EXPECT_EQ(j["health"], "OK");
  EXPECT_EQ(j["repos"][0]["objectives"].size(), 4U);
  EXPECT_EQ(j["repos"][0]["rpo_exposure_seconds"], 0.0);
  EXPECT_EQ(j["postgres"]["current_lsn"], "0/A000000");
  EXPECT_NE(StatusText(r).find("OK   rpo"), std::string::npos) << StatusText(r);
}

TEST(HumanDuration, TwoMostSignificantUnits) {
  EXPECT_EQ(HumanDuration(0), "0s");
  EXPECT_EQ(HumanDuration(0.4), "0s");
  EXPECT_EQ(HumanDuration(59.6), "1m");
  EXPECT_EQ(HumanDuration(252), "4m 12s");
  EXPECT_EQ(HumanDuration(900), "15m");
  EXPECT_EQ(HumanDuration(7 * kHour + 3 * kMinute + 12), "7h 3m");
  EXPECT_EQ(HumanDuration(kDay + kHour + 1), "1d 1h");
  EXPECT_EQ(HumanDuration(8 * kDay), "8d");
  EXPECT_EQ(HumanDuration(-90), "-1m 30s");
}

}  // namespace
}  // namespace drctl::command
