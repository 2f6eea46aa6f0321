#include "command/restore/recovery_target.h"

#include <gtest/gtest.h>

namespace drctl::command {
namespace {

Result<RecoveryTarget> Time(const std::string& t, bool exclusive = false) {
  return ParseRecoveryTarget(t, "", "", "", false, exclusive, "latest", "promote");
}

TEST(RecoveryTargetTest, TimesNeedAZoneAndAreNormalisedToUtc) {
  auto t = Time("2026-11-25 21:00:00+02");
  ASSERT_TRUE(t.has_value()) << t.error().ToString();
  EXPECT_EQ(t->kind, TargetKind::kTime);
  EXPECT_EQ(t->value, "2026-11-25 19:00:00.000000+00");
  auto z = Time("2026-11-25T21:00:00.25Z");
  ASSERT_TRUE(z.has_value());
  EXPECT_EQ(z->value, "2026-11-25 21:00:00.250000+00");
  EXPECT_EQ(z->time_micros, 1795640400250000);
  auto m = Time("2026-11-25 21:00:00-05:30");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->value, "2026-11-26 02:30:00.000000+00");
  for (const char* bad : {"2026-11-25 21:00:00", "2026-11-25", "2026-02-31 10:00:00Z",
                          "2026-11-25 25:00:00Z", "2026-11-25 21:00:00+2", "2026-11-25 21:00:00Zx",
                          "2026-11-25 21:00:00.1234567Z", "yesterday",
                          // fuzz_recovery_target: a year before 1970 did not format back
                          "0622-11-25 21:00:00.65+02:30", "1969-12-31 23:59:59Z"}) {
    auto r = Time(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kUsage) << bad;
  }
}

TEST(RecoveryTargetTest, OneTargetAtATimeAndValidOptions) {
  EXPECT_FALSE(
      ParseRecoveryTarget("2026-11-25 21:00:00Z", "800", "", "", false, false, "latest", "promote")
          .has_value());
  EXPECT_FALSE(ParseRecoveryTarget("", "", "", "", true, true, "latest", "promote").has_value())
      << "--exclusive needs a time, xid or lsn";
  EXPECT_FALSE(
      ParseRecoveryTarget("", "12", "", "", false, false, "newest", "promote").has_value());
  EXPECT_FALSE(ParseRecoveryTarget("", "12", "", "", false, false, "latest", "stop").has_value());
  EXPECT_FALSE(
      ParseRecoveryTarget("", "x1", "", "", false, false, "latest", "promote").has_value());
  EXPECT_FALSE(
      ParseRecoveryTarget("", "", "0/ZZ", "", false, false, "latest", "promote").has_value());
  auto lsn = ParseRecoveryTarget("", "", "1/a0", "", false, true, "2", "pause");
  ASSERT_TRUE(lsn.has_value());
  EXPECT_EQ(lsn->lsn, 0x1000000A0U);
  EXPECT_EQ(DescribeTarget(*lsn), "LSN 1/A0 (exclusive)");
  auto none = ParseRecoveryTarget("", "", "", "", false, false, "latest", "promote");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(none->kind, TargetKind::kEndOfArchive);
}

catalog::Manifest Backup(std::int64_t stop_time, std::uint64_t stop_lsn, std::uint64_t xmin) {
  catalog::Manifest m;
  m.stop_time = stop_time;
  m.stop_lsn = stop_lsn;
  m.stop_xmin = xmin;
  m.start_wal = "000000010000000000000002";
  return m;
}

TEST(RecoveryTargetTest, PicksTheNewestBackupThatEndsBeforeTheTarget) {
  const std::vector<catalog::Manifest> backups = {Backup(1000, 0x1000, 700),
                                                  Backup(2000, 0x5000, 900)};
  RecoveryTarget t;
  t.kind = TargetKind::kTime;
  t.time_micros = 1500 * 1000000LL;
  EXPECT_EQ(PickBackup(backups, t), 0U);
  t.time_micros = 2001 * 1000000LL;
  EXPECT_EQ(PickBackup(backups, t), 1U);
  t.time_micros = 2000 * 1000000LL + 500000;  // within the stop second: not safe
  EXPECT_EQ(PickBackup(backups, t), 0U);
  t.time_micros = 999 * 1000000LL;
  EXPECT_FALSE(PickBackup(backups, t).has_value());
  t.kind = TargetKind::kLsn;
  t.lsn = 0x4000;
  EXPECT_EQ(PickBackup(backups, t), 0U);
  t.kind = TargetKind::kXid;
  t.xid = 900;
  EXPECT_EQ(PickBackup(backups, t), 1U);
  t.xid = 899;
  EXPECT_EQ(PickBackup(backups, t), 0U) << "899 may have ended before the second backup stopped";
  t.xid = 650;
  EXPECT_FALSE(PickBackup(backups, t).has_value());
  t.kind = TargetKind::kName;
  EXPECT_EQ(PickBackup(backups, t), 1U);
}

TEST(RecoveryTargetTest, AStreamedPartialSegmentExtendsTheWindow) {
  const catalog::Manifest b = Backup(1000, 0x2000100, 700);
  const std::vector<StoredWal> stored = {{"000000010000000000000002", 1001},
                                         {"000000010000000000000003", 1100},
                                         {"000000010000000000000004.partial", 1500}};
  const WalWindow w = ContinuousWal(b, stored);
  EXPECT_EQ(w.last_segment, "000000010000000000000004.partial");
  EXPECT_EQ(w.last_archived, 1500);
  RecoveryTarget t;
  t.kind = TargetKind::kTime;
  t.time_micros = 1450 * 1000000LL;
  EXPECT_TRUE(CheckWindow(b, t, w, "local").has_value());
  t.kind = TargetKind::kLsn;
  t.lsn = 0x4000100;
  EXPECT_TRUE(CheckWindow(b, t, w, "local").has_value());
  t.lsn = 0x5000100;
  EXPECT_FALSE(CheckWindow(b, t, w, "local").has_value());
}

TEST(RecoveryTargetTest, WindowEndsAtTheFirstGapAndRefusesTargetsPastIt) {
  const catalog::Manifest b = Backup(1000, 0x2000100, 700);
  const std::vector<StoredWal> stored = {
      {"000000010000000000000001", 900},  {"000000010000000000000002", 1001},
      {"000000010000000000000003", 1100}, {"000000010000000000000005", 1300},
      {"000000020000000000000004", 1200}, {"cluster.json", 10}};
  const WalWindow w = ContinuousWal(b, stored);
  EXPECT_EQ(w.last_segment, "000000010000000000000003");
  EXPECT_EQ(w.last_archived, 1100);
  EXPECT_EQ(w.gap_after, "000000010000000000000004");
  RecoveryTarget t;
  t.kind = TargetKind::kTime;
  t.time_micros = 1050 * 1000000LL;
  EXPECT_TRUE(CheckWindow(b, t, w, "local").has_value());
  t.time_micros = 1200 * 1000000LL;
  auto late = CheckWindow(b, t, w, "local");
  ASSERT_FALSE(late.has_value());
  EXPECT_EQ(late.error().code(), ErrorCode::kPrecondition);
  EXPECT_NE(late.error().message().find("000000010000000000000004 is missing"), std::string::npos)
      << late.error().message();
  t.kind = TargetKind::kLsn;
  t.lsn = 0x3FFFFFF;
  EXPECT_TRUE(CheckWindow(b, t, w, "local").has_value());
  t.lsn = 0x4000000;
  EXPECT_FALSE(CheckWindow(b, t, w, "local").has_value());
}

TEST(RecoveryTargetTest, SettingsQuoteValuesAndNameEveryChoice) {
  auto t = ParseRecoveryTarget("", "", "", "before 'release'", false, false, "current", "pause");
  ASSERT_TRUE(t.has_value());
  const std::string s = RecoverySettings(*t, "'/usr/bin/drctl' wal get %f %p");
  EXPECT_NE(s.find("restore_command = '''/usr/bin/drctl'' wal get %f %p'\n"), std::string::npos)
      << s;
  EXPECT_NE(s.find("recovery_target_name = 'before ''release'''\n"), std::string::npos) << s;
  EXPECT_NE(s.find("recovery_target_inclusive = on\n"), std::string::npos) << s;
  EXPECT_NE(s.find("recovery_target_action = 'pause'\n"), std::string::npos) << s;
  EXPECT_NE(s.find("recovery_target_timeline = 'current'\n"), std::string::npos) << s;
  RecoveryTarget end;
  const std::string e = RecoverySettings(end, "x");
  EXPECT_EQ(e.find("recovery_target_action"), std::string::npos) << "no target, no action";
}

}  // namespace
}  // namespace drctl::command
