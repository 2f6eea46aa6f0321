#include "catalog/retention.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace drctl::catalog {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::int64_t kMinute = 60;
constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 24 * kHour;
// Simulated WAL: one 16 MiB segment per 30 minutes, 256 segments per log id.
constexpr std::int64_t kSegmentSeconds = 1800;
constexpr std::uint64_t kSegmentBytes = std::uint64_t{16} << 20;
// 2026-11-25T00:00:00Z, a Wednesday.
constexpr std::int64_t kT0 = 1795564800;

std::string Segment(std::uint64_t seg, std::uint32_t timeline = 1) {
  return fmt::format("{:08X}{:08X}{:08X}", timeline, seg / 256, seg % 256);
}

std::uint64_t SegmentAt(std::int64_t t) { return static_cast<std::uint64_t>(t / kSegmentSeconds); }

RetentionBackup Backup(std::string id, std::int64_t start, std::int64_t stop,
                       RetentionStatus status = RetentionStatus::kComplete) {
  RetentionBackup b;
  b.backup_id = std::move(id);
  b.status = status;
  b.start_time = start;
  b.stop_time = stop;
  b.start_lsn = SegmentAt(start) * kSegmentBytes + 40;
  b.start_wal = Segment(SegmentAt(start));
  b.stop_wal = Segment(SegmentAt(stop));
  return b;
}

std::vector<std::string> KeptIds(const RetentionPlan& plan) {
  std::vector<std::string> ids;
  ids.reserve(plan.keep.size());
  for (const auto& k : plan.keep) ids.push_back(k.backup_id);
  return ids;
}

std::map<std::string, std::vector<std::string>> Reasons(const RetentionPlan& plan) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& k : plan.keep) out[k.backup_id] = k.reasons;
  return out;
}

TEST(RetentionPeriodTest, LabelsInUtcWithIsoWeeks) {
  EXPECT_EQ(RetentionPeriod("hourly", kT0 + 18 * kHour + 59 * kMinute), "2026-11-25T18");
  EXPECT_EQ(RetentionPeriod("daily", kT0 + kDay - 1), "2026-11-25");
  EXPECT_EQ(RetentionPeriod("daily", kT0 + kDay), "2026-11-26");
  EXPECT_EQ(RetentionPeriod("monthly", kT0), "2026-11");
  EXPECT_EQ(RetentionPeriod("yearly", kT0), "2026");
  EXPECT_EQ(RetentionPeriod("weekly", kT0), "2026-W48");
  // ISO weeks across a year end: 2026-12-31 (Thu) .. 2027-01-03 (Sun) are 2026-W53.
  EXPECT_EQ(RetentionPeriod("weekly", 1798675200), "2026-W53");
  EXPECT_EQ(RetentionPeriod("weekly", 1798934400 + kDay - 1), "2026-W53");
  EXPECT_EQ(RetentionPeriod("weekly", 1799020800), "2027-W01");
  // 2024-12-30 (Mon) is 2025-W01; 2021-01-03 (Sun) is 2020-W53.
  EXPECT_EQ(RetentionPeriod("weekly", 1735516800), "2025-W01");
  EXPECT_EQ(RetentionPeriod("weekly", 1609632000), "2020-W53");
  EXPECT_EQ(RetentionPeriod("weekly", 1609632000 - 1), "2020-W53");
}

TEST(RetentionTest, NoBackupsPlansNothingAndKeepsAllWal) {
  const std::vector<std::string> wal = {Segment(1), Segment(2), "00000002.history"};
  const auto plan = PlanRetention({}, wal, {.keep_last = 1}, kT0);
  EXPECT_THAT(plan.keep, IsEmpty());
  EXPECT_THAT(plan.expire, IsEmpty());
  EXPECT_THAT(plan.wal_delete, IsEmpty());
  EXPECT_FALSE(plan.pitr_base.has_value());
}

TEST(RetentionTest, OnlyIncompleteBackupsAreKeptAndNoWalIsDeleted) {
  const std::vector<RetentionBackup> backups = {
      Backup("a", kT0, kT0 + 600, RetentionStatus::kIncomplete),
      Backup("b", kT0 + kDay, kT0 + kDay + 600, RetentionStatus::kIncomplete)};
  const std::vector<std::string> wal = {Segment(SegmentAt(kT0))};
  const auto plan = PlanRetention(backups, wal, {.keep_last = 1}, kT0 + 2 * kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("a", "b"));
  EXPECT_EQ(plan.keep[0].reasons, std::vector<std::string>{"incomplete"});
  EXPECT_THAT(plan.expire, IsEmpty());
  EXPECT_THAT(plan.wal_delete, IsEmpty());
}

TEST(RetentionTest, KeepLastKeepsTheNewestCompleteBackups) {
  std::vector<RetentionBackup> backups;
  backups.reserve(5);
  for (int i = 0; i < 5; ++i) {
    backups.push_back(Backup(fmt::format("b{}", i), kT0 + i * kDay, kT0 + i * kDay + 600));
  }
  std::reverse(backups.begin(), backups.end());  // input order does not matter
  const auto plan = PlanRetention(backups, {}, {.keep_last = 2}, kT0 + 10 * kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("b3", "b4"));
  EXPECT_THAT(plan.expire, ElementsAre("b0", "b1", "b2"));
  EXPECT_EQ(Reasons(plan)["b4"], std::vector<std::string>{"keep_last"});
}

TEST(RetentionTest, IncompleteBackupsNeverCountAndGoWhenOlderThanTheNewestComplete) {
  const std::vector<RetentionBackup> backups = {
      Backup("a", kT0, kT0 + 600),
      Backup("b", kT0 + kHour, kT0 + kHour + 60, RetentionStatus::kIncomplete),
      Backup("c", kT0 + 2 * kHour, kT0 + 2 * kHour + 60,
             RetentionStatus::kCompleteWithChecksumFailures),
      Backup("d", kT0 + 3 * kHour, kT0 + 3 * kHour + 60, RetentionStatus::kIncomplete)};
  const auto plan = PlanRetention(backups, {}, {.keep_last = 2}, kT0 + kDay);
  // c (checksum failures) counts as complete; b is older than c, d newer (it may be running).
  EXPECT_THAT(KeptIds(plan), ElementsAre("a", "c", "d"));
  EXPECT_THAT(plan.expire, ElementsAre("b"));
  EXPECT_EQ(Reasons(plan)["d"], std::vector<std::string>{"incomplete"});
}

TEST(RetentionTest, DailyKeepsTheNewestOfEachOfTheLastDaysThatHaveABackup) {
  std::vector<RetentionBackup> backups;
  // Days 0, 1 and 9 (days 2..8 have no backup), three backups a day.
  for (const int day : {0, 1, 9}) {
    for (int h = 0; h < 3; ++h) {
      const std::int64_t t = kT0 + day * kDay + h * (6 * kHour);
      backups.push_back(Backup(fmt::format("d{}h{}", day, h), t, t + 600));
    }
  }
  const auto plan = PlanRetention(backups, {}, {.daily = 3}, kT0 + 10 * kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("d0h2", "d1h2", "d9h2"));
  EXPECT_EQ(Reasons(plan)["d0h2"], std::vector<std::string>{"daily 2026-11-25"});
  EXPECT_EQ(Reasons(plan)["d9h2"], std::vector<std::string>{"daily 2026-12-04"});
  EXPECT_EQ(plan.expire.size(), 6U);
}

TEST(RetentionTest, EveryPeriodRuleAndItsReasons) {
  std::vector<RetentionBackup> backups;
  // One backup a day at 12:00 for 400 days.
  for (int day = 0; day < 400; ++day) {
    const std::int64_t t = kT0 + day * kDay + 12 * kHour;
    backups.push_back(Backup(fmt::format("{:03}", day), t, t + 600));
  }
  const std::int64_t now = kT0 + 400 * kDay;
  const auto hourly = PlanRetention(backups, {}, {.hourly = 2}, now);
  EXPECT_THAT(KeptIds(hourly), ElementsAre("398", "399"));
  EXPECT_EQ(Reasons(hourly)["399"], std::vector<std::string>{"hourly 2027-12-29T12"});
  const auto weekly = PlanRetention(backups, {}, {.weekly = 2}, now);
  // 2027-12-29 is a Wednesday: the newest of the previous week is its Sunday, 2027-12-26.
  EXPECT_THAT(KeptIds(weekly), ElementsAre("396", "399"));
  EXPECT_EQ(Reasons(weekly)["396"], std::vector<std::string>{"weekly 2027-W51"});
  const auto monthly = PlanRetention(backups, {}, {.monthly = 3}, now);
  EXPECT_THAT(KeptIds(monthly), ElementsAre("340", "370", "399"));  // Oct 31, Nov 30, Dec 29
  EXPECT_EQ(Reasons(monthly)["370"], std::vector<std::string>{"monthly 2027-11"});
  const auto yearly = PlanRetention(backups, {}, {.yearly = 5}, now);
  EXPECT_THAT(KeptIds(yearly), ElementsAre("036", "399"));  // 2026-12-31, and the newest
  EXPECT_EQ(Reasons(yearly)["036"], std::vector<std::string>{"yearly 2026"});
  // Rules combine; each backup lists every rule that keeps it.
  const auto combined = PlanRetention(backups, {}, {.keep_last = 1, .daily = 2, .yearly = 1}, now);
  EXPECT_THAT(KeptIds(combined), ElementsAre("398", "399"));
  EXPECT_EQ(Reasons(combined)["399"],
            (std::vector<std::string>{"keep_last", "daily 2027-12-29", "yearly 2027"}));
}

TEST(RetentionTest, SameSecondBackupsAreOrderedByLsnThenId) {
  RetentionBackup first = Backup("20261125T120000Z-ffff", kT0, kT0 + 60);
  RetentionBackup second = Backup("20261125T120000Z-0000", kT0, kT0 + 60);
  second.start_lsn = first.start_lsn + 1;  // started later in the same second
  const std::vector<RetentionBackup> backups = {first, second};
  const auto plan = PlanRetention(backups, {}, {.keep_last = 1}, kT0 + kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("20261125T120000Z-0000"));
  const auto daily = PlanRetention(backups, {}, {.daily = 1}, kT0 + kDay);
  EXPECT_THAT(KeptIds(daily), ElementsAre("20261125T120000Z-0000"));
  // Full ties (same time and LSN) fall back to the id.
  second.start_lsn = first.start_lsn;
  const std::vector<RetentionBackup> tied = {second, first};
  EXPECT_THAT(KeptIds(PlanRetention(tied, {}, {.keep_last = 1}, kT0 + kDay)),
              ElementsAre("20261125T120000Z-ffff"));
}

TEST(RetentionTest, TheNewestCompleteBackupIsAlwaysKept) {
  const std::vector<RetentionBackup> backups = {Backup("a", kT0, kT0 + 60),
                                                Backup("b", kT0 + kDay, kT0 + kDay + 60)};
  const auto plan = PlanRetention(backups, {}, {.hourly = 0, .daily = 0}, kT0 + 2 * kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("b"));
  EXPECT_EQ(Reasons(plan)["b"], std::vector<std::string>{"newest"});
  EXPECT_THAT(plan.expire, ElementsAre("a"));
}

TEST(RetentionTest, WalOfKeptBackupsAndTheLiveArchiveStays) {
  // Backups at day 0, 1, 2 (each 1 h long); WAL continuous from day 0 to day 3.
  std::vector<RetentionBackup> backups;
  for (int day = 0; day < 3; ++day) {
    const std::int64_t t = kT0 + day * kDay;
    backups.push_back(Backup(fmt::format("b{}", day), t, t + kHour));
  }
  std::vector<std::string> wal;
  for (std::uint64_t s = SegmentAt(kT0); s <= SegmentAt(kT0 + 3 * kDay); ++s) {
    wal.push_back(Segment(s));
  }
  wal.push_back(Segment(SegmentAt(kT0)) + ".00000028.backup");
  wal.push_back(Segment(SegmentAt(kT0) + 5) + ".partial");
  wal.push_back("00000002.history");
  wal.push_back("cluster.json");
  const auto plan = PlanRetention(backups, wal, {.keep_last = 2}, kT0 + 3 * kDay);
  EXPECT_THAT(KeptIds(plan), ElementsAre("b1", "b2"));
  std::set<std::string> deleted(plan.wal_delete.begin(), plan.wal_delete.end());
  // Everything before b1's start goes (b0's WAL, its backup history file, the partial) ...
  for (std::uint64_t s = SegmentAt(kT0); s < SegmentAt(kT0 + kDay); ++s) {
    EXPECT_TRUE(deleted.contains(Segment(s))) << Segment(s);
  }
  EXPECT_TRUE(deleted.contains(Segment(SegmentAt(kT0)) + ".00000028.backup"));
  EXPECT_TRUE(deleted.contains(Segment(SegmentAt(kT0) + 5) + ".partial"));
  // ... b1 keeps its own start..stop, the segments between b1's stop and b2's start go, and
  // everything from the newest backup's start is the live archive.
  for (std::uint64_t s = SegmentAt(kT0 + kDay); s <= SegmentAt(kT0 + kDay + kHour); ++s) {
    EXPECT_FALSE(deleted.contains(Segment(s))) << Segment(s);
  }
  for (std::uint64_t s = SegmentAt(kT0 + kDay + kHour) + 1; s < SegmentAt(kT0 + 2 * kDay); ++s) {
    EXPECT_TRUE(deleted.contains(Segment(s))) << Segment(s);
  }
  for (std::uint64_t s = SegmentAt(kT0 + 2 * kDay); s <= SegmentAt(kT0 + 3 * kDay); ++s) {
    EXPECT_FALSE(deleted.contains(Segment(s))) << Segment(s);
  }
  EXPECT_FALSE(deleted.contains("00000002.history"));
  EXPECT_FALSE(deleted.contains("cluster.json"));
}

TEST(RetentionTest, WalOnAHigherTimelineThanTheNewestBackupIsLive) {
  // A restore to day 0.5 was promoted onto timeline 2, after the newest backup (on timeline 1).
  const std::vector<RetentionBackup> backups = {Backup("a", kT0, kT0 + kHour),
                                                Backup("b", kT0 + kDay, kT0 + kDay + kHour)};
  const std::uint64_t fork = SegmentAt(kT0 + kDay / 2);
  const std::vector<std::string> wal = {Segment(fork - 1), Segment(fork, 2), Segment(fork + 1, 2),
                                        "00000002.history"};
  const auto plan = PlanRetention(backups, wal, {.keep_last = 1}, kT0 + 2 * kDay);
  EXPECT_THAT(plan.wal_delete, ElementsAre(Segment(fork - 1)));
}

TEST(RetentionTest, PitrKeepsTheWindowBaseAndAllWalFromItsStart) {
  std::vector<RetentionBackup> backups;
  for (int day = 0; day < 30; ++day) {
    const std::int64_t t = kT0 + day * kDay;
    backups.push_back(Backup(fmt::format("{:02}", day), t, t + kHour));
  }
  std::vector<std::string> wal;
  for (std::uint64_t s = SegmentAt(kT0); s <= SegmentAt(kT0 + 30 * kDay); ++s) {
    wal.push_back(Segment(s));
  }
  // now - 7d falls 30 minutes after backup 22 stopped (22d 01:30): 22 is the window's base.
  const std::int64_t now = kT0 + 29 * kDay + kHour + 30 * kMinute;
  RetentionConfig rules{.keep_last = 1};
  rules.pitr = std::chrono::days(7);
  const auto plan = PlanRetention(backups, wal, rules, now);
  EXPECT_EQ(plan.pitr_from, now - 7 * kDay);
  ASSERT_TRUE(plan.pitr_base.has_value());
  EXPECT_EQ(*plan.pitr_base, "22");
  // 23..29 ended inside the window: each becomes the base as the window slides.
  EXPECT_THAT(KeptIds(plan), ElementsAre("22", "23", "24", "25", "26", "27", "28", "29"));
  EXPECT_EQ(Reasons(plan)["22"], std::vector<std::string>{"pitr"});
  EXPECT_EQ(Reasons(plan)["23"], std::vector<std::string>{"pitr window"});
  EXPECT_EQ(Reasons(plan)["29"], (std::vector<std::string>{"keep_last", "pitr window"}));
  std::set<std::string> deleted(plan.wal_delete.begin(), plan.wal_delete.end());
  EXPECT_EQ(deleted.size(), SegmentAt(kT0 + 22 * kDay) - SegmentAt(kT0));
  EXPECT_FALSE(deleted.contains(Segment(SegmentAt(kT0 + 22 * kDay))));
  EXPECT_TRUE(deleted.contains(Segment(SegmentAt(kT0 + 22 * kDay) - 1)));

  // A window reaching before every backup keeps the oldest as its base.
  rules.pitr = std::chrono::days(60);
  const auto wide = PlanRetention(backups, wal, rules, now);
  EXPECT_EQ(wide.pitr_base, "00");
  EXPECT_THAT(wide.wal_delete, IsEmpty());
}

TEST(RetentionTest, AKeptBackupWithUnknownWalDeletesNoWal) {
  std::vector<RetentionBackup> backups = {Backup("a", kT0, kT0 + kHour),
                                          Backup("b", kT0 + kDay, kT0 + kDay + kHour)};
  backups[1].stop_wal = "garbage";
  const std::vector<std::string> wal = {Segment(SegmentAt(kT0))};
  const auto plan = PlanRetention(backups, wal, {.keep_last = 1}, kT0 + 2 * kDay);
  EXPECT_THAT(plan.expire, ElementsAre("a"));
  EXPECT_THAT(plan.wal_delete, IsEmpty());
}

TEST(RetentionTest, HasRetentionRule) {
  EXPECT_FALSE(HasRetentionRule({}));
  EXPECT_TRUE(HasRetentionRule({.weekly = 0}));
  RetentionConfig pitr;
  pitr.pitr = std::chrono::hours(1);
  EXPECT_TRUE(HasRetentionRule(pitr));
}

// ---- Property test: two simulated years, expire after every backup, against an oracle. ----

// The oracle's periods, computed differently from the planner: numbers, not labels.
std::int64_t OraclePeriod(int rule, std::int64_t t) {
  const std::int64_t day = t >= 0 ? t / kDay : (t - kDay + 1) / kDay;
  std::tm tm{};
  const std::time_t tt = t;
  gmtime_r(&tt, &tm);
  switch (rule) {
    case 0:
      return t / kHour;
    case 1:
      return day;
    case 2:
      return (day + 3) / 7;  // 1970-01-01 was a Thursday: weeks start on Monday, day -3
    case 3:
      return static_cast<std::int64_t>(tm.tm_year) * 12 + tm.tm_mon;
    default:
      return tm.tm_year;
  }
}

struct Simulated {
  RetentionBackup backup;
  std::uint64_t start_seg = 0;
  std::uint64_t stop_seg = 0;
};

// What must be kept, straight from the rules' definitions.
std::set<std::string> OracleKept(const std::vector<Simulated>& repo, const RetentionConfig& rules,
                                 std::int64_t now, const Simulated** base) {
  auto order = [](const Simulated* a, const Simulated* b) {
    return std::tie(a->backup.start_time, a->backup.start_lsn, a->backup.backup_id) <
           std::tie(b->backup.start_time, b->backup.start_lsn, b->backup.backup_id);
  };
  std::vector<const Simulated*> complete;
  std::vector<const Simulated*> incomplete;
  for (const auto& s : repo) {
    (s.backup.status == RetentionStatus::kIncomplete ? incomplete : complete).push_back(&s);
  }
  std::sort(complete.begin(), complete.end(), order);
  std::set<std::string> kept;
  *base = nullptr;
  if (complete.empty()) {
    for (const auto* s : incomplete) kept.insert(s->backup.backup_id);
    return kept;
  }
  if (rules.keep_last) {
    for (int i = 0; i < *rules.keep_last && i < static_cast<int>(complete.size()); ++i) {
      kept.insert(complete[complete.size() - 1 - static_cast<std::size_t>(i)]->backup.backup_id);
    }
  }
  const std::optional<int> counts[] = {rules.hourly, rules.daily, rules.weekly, rules.monthly,
                                       rules.yearly};
  for (int rule = 0; rule < 5; ++rule) {
    if (!counts[rule]) continue;
    std::map<std::int64_t, const Simulated*> best;  // period -> newest backup in it
    for (const auto* s : complete) {
      auto& b = best[OraclePeriod(rule, s->backup.start_time)];
      if (b == nullptr || order(b, s)) b = s;
    }
    int taken = 0;
    for (auto it = best.rbegin(); it != best.rend() && taken < *counts[rule]; ++it, ++taken) {
      kept.insert(it->second->backup.backup_id);
    }
  }
  if (rules.pitr) {
    for (const auto* s : complete) {
      if (s->backup.stop_time <= now - rules.pitr->count()) *base = s;
    }
    if (*base == nullptr) *base = complete.front();
    kept.insert((*base)->backup.backup_id);
    for (const auto* s : complete) {
      if (s->backup.stop_time > now - rules.pitr->count()) kept.insert(s->backup.backup_id);
    }
  }
  kept.insert(complete.back()->backup.backup_id);
  for (const auto* s : incomplete) {
    if (order(complete.back(), s)) kept.insert(s->backup.backup_id);
  }
  return kept;
}

RetentionConfig RandomRules(std::mt19937_64& random) {
  auto maybe = [&](int lo, int hi) -> std::optional<int> {
    if (random() % 2 == 0) return std::nullopt;
    return std::uniform_int_distribution<int>(lo, hi)(random);
  };
  RetentionConfig rules;
  rules.keep_last = maybe(1, 6);
  rules.hourly = maybe(0, 30);
  rules.daily = maybe(0, 14);
  rules.weekly = maybe(0, 8);
  rules.monthly = maybe(0, 12);
  rules.yearly = maybe(0, 3);
  if (random() % 2 == 0) {
    rules.pitr =
        std::chrono::seconds(std::uniform_int_distribution<std::int64_t>(kHour, 10 * kDay)(random));
  }
  if (!HasRetentionRule(rules)) rules.keep_last = 1;
  return rules;
}

std::string DescribeRules(const RetentionConfig& r) {
  auto v = [](const std::optional<int>& x) { return x ? std::to_string(*x) : std::string("-"); };
  return fmt::format("keep_last={} hourly={} daily={} weekly={} monthly={} yearly={} pitr={}s",
                     v(r.keep_last), v(r.hourly), v(r.daily), v(r.weekly), v(r.monthly),
                     v(r.yearly), r.pitr ? r.pitr->count() : -1);
}

void SimulateTwoYears(std::mt19937_64& random, const RetentionConfig& rules) {
  SCOPED_TRACE(DescribeRules(rules));
  std::vector<Simulated> repo;
  std::set<std::uint64_t> wal;  // stored segments (timeline 1)
  std::uint64_t next_seg = SegmentAt(kT0);
  std::int64_t first_complete_stop = -1;
  int counter = 0;
  const auto archive_until = [&](std::int64_t t) {
    for (; next_seg <= SegmentAt(t); ++next_seg) wal.insert(next_seg);
  };
  for (std::int64_t slot = kT0; slot < kT0 + 730 * kDay; slot += 6 * kHour) {
    archive_until(slot);
    if (random() % 100 < 15) continue;              // no backup this time (scheduler down)
    const int copies = random() % 100 < 3 ? 2 : 1;  // sometimes two in one second
    const std::int64_t start = slot + std::uniform_int_distribution<std::int64_t>(0, 1200)(random);
    std::int64_t now = start;
    for (int c = 0; c < copies; ++c) {
      const std::int64_t stop =
          start + std::uniform_int_distribution<std::int64_t>(30, 5000)(random);
      const auto roll = random() % 100;
      const RetentionStatus status = roll < 10   ? RetentionStatus::kIncomplete
                                     : roll < 14 ? RetentionStatus::kCompleteWithChecksumFailures
                                                 : RetentionStatus::kComplete;
      Simulated s{Backup(fmt::format("{:06}", counter++), start, stop, status), SegmentAt(start),
                  SegmentAt(stop)};
      s.backup.start_lsn += static_cast<std::uint64_t>(c);
      archive_until(stop);
      now = std::max(now, stop + 60);
      if (status != RetentionStatus::kIncomplete && first_complete_stop < 0) {
        first_complete_stop = stop;
      }
      repo.push_back(std::move(s));
    }
    archive_until(now);

    std::vector<RetentionBackup> input;
    input.reserve(repo.size());
    for (const auto& s : repo) input.push_back(s.backup);
    std::vector<std::string> names;
    names.reserve(wal.size());
    for (const auto seg : wal) names.push_back(Segment(seg));
    const RetentionPlan plan = PlanRetention(input, names, rules, now);

    const Simulated* base = nullptr;
    const std::set<std::string> expected = OracleKept(repo, rules, now, &base);
    const std::vector<std::string> kept_ids = KeptIds(plan);
    const std::set<std::string> kept(kept_ids.begin(), kept_ids.end());
    ASSERT_EQ(kept, expected) << "at " << now;
    ASSERT_EQ(kept.size() + plan.expire.size(), repo.size());
    // (Erasing below moves the elements `base` points into.)
    const bool has_base = base != nullptr;
    // The window's base slides with it: the WAL kept stays bounded (backups here are at most a
    // few days apart).
    if (has_base && base->backup.stop_time <= now - rules.pitr->count()) {
      ASSERT_LE(now - rules.pitr->count() - base->backup.stop_time, 3 * kDay) << "at " << now;
    }
    const std::uint64_t base_start = has_base ? base->start_seg : 0;

    // Apply the plan.
    std::erase_if(repo, [&](const Simulated& s) { return !kept.contains(s.backup.backup_id); });
    for (const auto& name : plan.wal_delete) {
      wal.erase(static_cast<std::uint64_t>(std::stoull(name.substr(8, 8), nullptr, 16) * 256 +
                                           std::stoull(name.substr(16, 8), nullptr, 16)));
    }

    // The newest complete backup is kept; every kept complete backup has its WAL.
    const Simulated* newest = nullptr;
    for (const auto& s : repo) {
      if (s.backup.status == RetentionStatus::kIncomplete) continue;
      if (newest == nullptr ||
          std::tie(newest->backup.start_time, newest->backup.start_lsn, newest->backup.backup_id) <
              std::tie(s.backup.start_time, s.backup.start_lsn, s.backup.backup_id)) {
        newest = &s;
      }
      for (std::uint64_t seg = s.start_seg; seg <= s.stop_seg; ++seg) {
        ASSERT_TRUE(wal.contains(seg)) << s.backup.backup_id << " lost segment " << seg;
      }
    }
    if (first_complete_stop >= 0) {
      ASSERT_NE(newest, nullptr);
    }
    // Exactly the WAL needed stays: kept backups' own, the live archive, the PITR window.
    if (newest != nullptr) {
      const std::uint64_t live_from =
          has_base ? std::min(newest->start_seg, base_start) : newest->start_seg;
      std::set<std::uint64_t> needed;  // below live_from: only what kept backups need
      for (const auto& s : repo) {
        if (s.backup.status == RetentionStatus::kIncomplete) continue;
        for (std::uint64_t seg = s.start_seg; seg <= s.stop_seg; ++seg) needed.insert(seg);
      }
      for (const auto seg : wal) {
        if (seg >= live_from) break;
        ASSERT_TRUE(needed.contains(seg)) << "segment " << seg << " kept for nothing at " << now;
      }
    }
    // Every moment of the PITR window (once some backup had ended) is restorable: some kept
    // backup ended at or before it, with continuous WAL from that backup's start to it.
    if (rules.pitr && first_complete_stop >= 0) {
      // The continuous run of WAL that ends at the archive's end starts at `run_start`.
      std::uint64_t run_start = SegmentAt(now);
      while (wal.contains(run_start - 1)) --run_start;
      ASSERT_TRUE(wal.contains(SegmentAt(now)));
      for (std::int64_t t = std::max(now - rules.pitr->count(), first_complete_stop); t <= now;
           t += kSegmentSeconds / 2) {
        // The newest backup that ended by t needs the least WAL: [its start, t].
        const Simulated* from = nullptr;
        for (const auto& s : repo) {
          if (s.backup.status != RetentionStatus::kIncomplete && s.backup.stop_time <= t &&
              (from == nullptr || s.start_seg > from->start_seg)) {
            from = &s;
          }
        }
        ASSERT_NE(from, nullptr) << "no backup to restore " << t << " from (now " << now << ")";
        ASSERT_GE(from->start_seg, run_start)
            << "moment " << t << " not restorable: WAL from " << from->backup.backup_id
            << " is not continuous (now " << now << ")";
      }
    }
  }
}

TEST(RetentionPropertyTest, TwoYearsOfBackupsAgainstAnOracle) {
  std::uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("DRCTL_TEST_SEED")) seed = std::stoull(env);
  std::cout << "[ seed     ] DRCTL_TEST_SEED=" << seed << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 random(seed);
  for (int run = 0; run < 3; ++run) {
    const RetentionConfig rules = RandomRules(random);
    ASSERT_NO_FATAL_FAILURE(SimulateTwoYears(random, rules));
  }
  // The customer's policy, every seed.
  RetentionConfig customer{.keep_last = 2, .daily = 7, .weekly = 4, .monthly = 12};
  customer.pitr = std::chrono::days(7);
  ASSERT_NO_FATAL_FAILURE(SimulateTwoYears(random, customer));
}

}  // namespace
}  // namespace drctl::catalog
