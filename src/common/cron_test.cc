#include "common/cron.h"

#include <gtest/gtest.h>

#include <ctime>

namespace drctl {
namespace {

CronExpr::TimePoint At(int y, int mo, int d, int h, int mi) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  return CronExpr::TimePoint(std::chrono::seconds(timegm(&tm)));
}

CronExpr Parse(std::string_view text) {
  auto r = CronExpr::Parse(text);
  EXPECT_TRUE(r.has_value()) << text << ": " << (r ? "" : r.error().message());
  return r.value_or(CronExpr::Parse("* * * * *").value());
}

TEST(Cron, EverySixHours) {
  auto c = Parse("0 */6 * * *");
  EXPECT_EQ(c.Next(At(2026, 11, 25, 17, 56)), At(2026, 11, 25, 18, 0));
  EXPECT_EQ(c.Next(At(2026, 11, 25, 18, 0)), At(2026, 11, 26, 0, 0));
}

TEST(Cron, EveryDurationFiresAtMultiplesSinceTheEpoch) {
  auto c = Parse("@every 20s");
  const auto t = At(2026, 11, 26, 4, 0);  // a multiple of 20 s
  EXPECT_EQ(c.Next(t), t + std::chrono::seconds(20));
  EXPECT_EQ(c.Next(t + std::chrono::seconds(7)), t + std::chrono::seconds(20));
  EXPECT_EQ(c.Next(t - std::chrono::seconds(1)), t);
  EXPECT_TRUE(c.Matches(t));
  EXPECT_FALSE(c.Matches(t + std::chrono::seconds(1)));
  EXPECT_EQ(Parse("@every 1h30m").Next(t), At(2026, 11, 26, 4, 30));
  EXPECT_EQ(c.text(), "@every 20s");
  for (const char* bad : {"@every", "@every 0s", "@every 5", "@every -1m", "@every soon"}) {
    EXPECT_FALSE(CronExpr::Parse(bad).has_value()) << bad;
  }
}

TEST(Cron, EveryFifteenMinutes) {
  auto c = Parse("*/15 * * * *");
  EXPECT_EQ(c.Next(At(2026, 1, 1, 0, 0)), At(2026, 1, 1, 0, 15));
  EXPECT_EQ(c.Next(At(2026, 12, 31, 23, 59)), At(2027, 1, 1, 0, 0));
}

TEST(Cron, WeeklyOnSundayAndSevenIsSunday) {
  // 2026-11-29 is a Sunday.
  EXPECT_EQ(Parse("0 3 * * 0").Next(At(2026, 11, 25, 12, 0)), At(2026, 11, 29, 3, 0));
  EXPECT_EQ(Parse("0 3 * * 7").Next(At(2026, 11, 25, 12, 0)), At(2026, 11, 29, 3, 0));
  EXPECT_EQ(Parse("0 3 * * sun").Next(At(2026, 11, 25, 12, 0)), At(2026, 11, 29, 3, 0));
}

TEST(Cron, DailyAtOneThirty) {
  EXPECT_EQ(Parse("30 1 * * *").Next(At(2026, 11, 25, 1, 30)), At(2026, 11, 26, 1, 30));
}

TEST(Cron, ListsRangesStepsAndNames) {
  auto c = Parse("10-50/20 8,12 * jan-mar mon-fri");
  // 2027-01-01 is a Friday.
  EXPECT_EQ(c.Next(At(2026, 11, 25, 0, 0)), At(2027, 1, 1, 8, 10));
  EXPECT_EQ(c.Next(At(2027, 1, 1, 8, 10)), At(2027, 1, 1, 8, 30));
  EXPECT_EQ(c.Next(At(2027, 1, 1, 8, 50)), At(2027, 1, 1, 12, 10));
  EXPECT_EQ(c.Next(At(2027, 1, 1, 12, 50)), At(2027, 1, 4, 8, 10));  // Monday
}

TEST(Cron, StartWithStepRunsToEnd) {
  auto c = Parse("5/20 * * * *");
  EXPECT_EQ(c.Next(At(2026, 1, 1, 0, 6)), At(2026, 1, 1, 0, 25));
  EXPECT_EQ(c.Next(At(2026, 1, 1, 0, 45)), At(2026, 1, 1, 1, 5));
}

TEST(Cron, BothDayFieldsRestrictedMatchEither) {
  // Day 13 or any Friday: after Wed 2026-11-11 comes the 13th (Friday too); after that Fri 20th.
  auto c = Parse("0 0 13 * fri");
  EXPECT_EQ(c.Next(At(2026, 11, 11, 0, 0)), At(2026, 11, 13, 0, 0));
  EXPECT_EQ(c.Next(At(2026, 11, 13, 0, 0)), At(2026, 11, 20, 0, 0));
  EXPECT_EQ(Parse("0 0 1 * mon").Next(At(2026, 11, 25, 0, 0)), At(2026, 11, 30, 0, 0));
}

TEST(Cron, LeapDay) {
  EXPECT_EQ(Parse("0 0 29 2 *").Next(At(2026, 3, 1, 0, 0)), At(2028, 2, 29, 0, 0));
}

TEST(Cron, RareCombinationMoreThanEightYearsAway) {
  // Saturdays in August on days 1, 8, 15, 22 or 29 ("*/7" counts as unrestricted, so both day
  // fields must match): after August 2026 the next is 2037-08-01. Found by fuzz_cron.
  EXPECT_EQ(Parse("0 1 */7 8 6").Next(At(2026, 9, 1, 0, 0)), At(2037, 8, 1, 1, 0));
}

TEST(Cron, Macros) {
  EXPECT_EQ(Parse("@daily").Next(At(2026, 11, 25, 17, 0)), At(2026, 11, 26, 0, 0));
  EXPECT_EQ(Parse("@hourly").Next(At(2026, 11, 25, 17, 0)), At(2026, 11, 25, 18, 0));
  EXPECT_EQ(Parse("@monthly").Next(At(2026, 11, 25, 17, 0)), At(2026, 12, 1, 0, 0));
}

TEST(Cron, MatchesOnlyWholeMinutes) {
  auto c = Parse("0 */6 * * *");
  EXPECT_TRUE(c.Matches(At(2026, 11, 25, 6, 0)));
  EXPECT_FALSE(c.Matches(At(2026, 11, 25, 7, 0)));
  EXPECT_FALSE(c.Matches(At(2026, 11, 25, 6, 0) + std::chrono::seconds(1)));
}

void ExpectBad(std::string_view text, std::string_view fragment) {
  auto r = CronExpr::Parse(text);
  ASSERT_FALSE(r.has_value()) << text;
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
}

TEST(Cron, RejectsBadExpressions) {
  ExpectBad("", "has 0 fields");
  ExpectBad("0 */6 * *", "has 4 fields");
  ExpectBad("0 0 * * * *", "has 6 fields");
  ExpectBad("60 * * * *", "minute field \"60\": 60 is outside 0-59");
  ExpectBad("* 24 * * *", "hour field");
  ExpectBad("* * 0 * *", "day-of-month field");
  ExpectBad("* * * 13 *", "month field");
  ExpectBad("* * * * 8", "day-of-week field");
  ExpectBad("*/0 * * * *", "bad step");
  ExpectBad("5-1 * * * *", "range runs backwards");
  ExpectBad("1,,2 * * * *", "empty list element");
  ExpectBad("x * * * *", "\"x\" is not a value");
  ExpectBad("* * * foo *", "\"foo\" is not a value");
  ExpectBad("0 0 30 2 *", "never fires");
  ExpectBad("@sometimes", "has 1 fields");
}

}  // namespace
}  // namespace drctl
