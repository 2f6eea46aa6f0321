#include "daemon/job_record.h"

#include <gtest/gtest.h>

namespace drctl::daemon {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::int64_t kMidnight = 1'795'651'200;  // 2026-11-26T00:00:00Z
constexpr std::int64_t kH = 3600;
constexpr std::int64_t kD = 86400;

CronExpr Every6h() { return CronExpr::Parse("0 */6 * * *").value(); }

TEST(JobRecord, NextRunFollowsTheSchedule) {
  JobRecord r;
  r.last_scheduled = kMidnight;
  EXPECT_EQ(NextRun(Every6h(), r), kMidnight + 6 * kH);
}

TEST(JobRecord, MissedRunsGiveOneCatchUpRun) {
  JobRecord r;
  r.last_scheduled = kMidnight;
  const std::int64_t now = kMidnight + 3 * kD + 100;  // daemon was down for three days
  EXPECT_LE(NextRun(Every6h(), r), now);              // due at once
  MarkStarted(Every6h(), r, now);
  EXPECT_EQ(r.last_scheduled, now);
  MarkFinished(r, now + 60, true, "", 1234, minutes(1), hours(1));
  EXPECT_EQ(NextRun(Every6h(), r), kMidnight + 3 * kD + 6 * kH);  // not again at once
  EXPECT_EQ(r.last_bytes, 1234U);
  EXPECT_EQ(r.last_success, now + 60);
}

TEST(JobRecord, FailuresRetryWithDoublingBackoffCappedAndBeforeTheNextRun) {
  JobRecord r;
  r.last_scheduled = kMidnight;
  std::int64_t now = kMidnight + 6 * kH;
  MarkStarted(Every6h(), r, now);
  MarkFinished(r, now + 10, false, "repository unreachable", 0, minutes(1), minutes(5));
  EXPECT_EQ(r.consecutive_failures, 1);
  EXPECT_EQ(NextRun(Every6h(), r), now + 10 + 60);
  std::vector<std::int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    now = NextRun(Every6h(), r);
    MarkStarted(Every6h(), r, now);
    EXPECT_EQ(r.last_scheduled, kMidnight + 6 * kH) << "a retry stands for the same run";
    MarkFinished(r, now, false, "still down", 0, minutes(1), minutes(5));
    delays.push_back(r.retry_at - now);
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{120, 240, 300, 300}));
  EXPECT_EQ(r.last_error, "still down");
  // The next scheduled time wins over a later retry.
  r.retry_at = kMidnight + 13 * kH;
  EXPECT_EQ(NextRun(Every6h(), r), kMidnight + 12 * kH);
  MarkStarted(Every6h(), r, kMidnight + 12 * kH);
  MarkFinished(r, kMidnight + 12 * kH + 5, true, "", 0, minutes(1), minutes(5));
  EXPECT_EQ(r.consecutive_failures, 0);
  EXPECT_EQ(r.retry_at, 0);
  EXPECT_EQ(r.last_error, "");
  EXPECT_EQ(NextRun(Every6h(), r), kMidnight + 18 * kH);
}

TEST(JobRecord, RetryDelayDoublesUpToTheCap) {
  EXPECT_EQ(RetryDelay(1, seconds(30), hours(1)), seconds(30));
  EXPECT_EQ(RetryDelay(2, seconds(30), hours(1)), seconds(60));
  EXPECT_EQ(RetryDelay(40, seconds(30), hours(1)), hours(1));
}

TEST(JobRecord, RoundTripsThroughJsonAndRefusesDamage) {
  JobRecord r;
  r.last_scheduled = 5;
  r.last_start = 6;
  r.last_end = 7;
  r.last_outcome = "failed";
  r.last_error = "x";
  r.last_duration_seconds = 1.5;
  r.consecutive_failures = 2;
  r.retry_at = 9;
  r.last_bytes = 10;
  r.last_success = 4;
  auto back = RecordFromJson(RecordToJson(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(RecordToJson(*back), RecordToJson(r));
  auto bad = RecordFromJson(nlohmann::json{{"last_scheduled", "soon"}});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace drctl::daemon
