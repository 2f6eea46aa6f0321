#include "command/restore/recoverable_window.h"

#include <gtest/gtest.h>

namespace drctl::command {
namespace {

constexpr std::uint64_t kSeg = pg::kDefaultWalSegmentSize;

catalog::Manifest Backup(const std::string& id, std::uint32_t tli, std::uint64_t start_lsn,
                         std::uint64_t stop_lsn, std::int64_t stop_time) {
  catalog::Manifest m;
  m.backup_id = id;
  m.start_lsn = start_lsn;
  m.stop_lsn = stop_lsn;
  m.stop_time = stop_time;
  m.start_wal = pg::SegmentFileName(tli, pg::SegmentOf(start_lsn));
  m.stop_wal = pg::SegmentFileName(tli, pg::SegmentOf(stop_lsn));
  return m;
}

std::vector<StoredWal> Segments(std::uint32_t tli, std::uint64_t first, std::uint64_t last,
                                std::int64_t mtime0) {
  std::vector<StoredWal> out;
  for (std::uint64_t s = first; s <= last; ++s) {
    out.push_back({pg::SegmentFileName(tli, s), mtime0 + static_cast<std::int64_t>(s)});
  }
  return out;
}

TEST(RecoverableWindows, OneBackupToTheEndOfItsContinuousWal) {
  auto stored = Segments(1, 2, 6, 1000);
  stored.push_back({"000000010000000000000008", 2000});  // after a gap at 7
  const auto w =
      RecoverableWindows({Backup("b1", 1, 3 * kSeg + 40, 4 * kSeg + 256, 500)}, stored, {});
  ASSERT_EQ(w.size(), 1U);
  EXPECT_EQ(w[0].timeline, 1U);
  EXPECT_EQ(w[0].from_lsn, 4 * kSeg + 256);
  EXPECT_EQ(w[0].from_time, 500);
  EXPECT_EQ(w[0].from, "backup b1");
  EXPECT_EQ(w[0].to_lsn, 7 * kSeg);
  EXPECT_EQ(w[0].to_archived, 1006);
  EXPECT_EQ(w[0].gap_after, "000000010000000000000007");
}

TEST(RecoverableWindows, OverlappingBackupsMergeAndAGapSplits) {
  auto stored = Segments(1, 1, 5, 0);
  auto later = Segments(1, 8, 12, 0);
  stored.insert(stored.end(), later.begin(), later.end());
  const auto w = RecoverableWindows(
      {Backup("b3", 1, 9 * kSeg, 9 * kSeg + 10, 300), Backup("b1", 1, 1 * kSeg, 2 * kSeg, 100),
       Backup("b2", 1, 3 * kSeg, 3 * kSeg + 10, 200)},
      stored, {});
  ASSERT_EQ(w.size(), 2U);
  EXPECT_EQ(w[0].from, "backup b1");
  EXPECT_EQ(w[0].to_lsn, 6 * kSeg) << "b2's window is inside b1's";
  EXPECT_EQ(w[0].gap_after, "000000010000000000000006");
  EXPECT_EQ(w[1].from, "backup b3");
  EXPECT_EQ(w[1].from_lsn, 9 * kSeg + 10);
  EXPECT_EQ(w[1].to_lsn, 13 * kSeg);
  EXPECT_EQ(w[1].gap_after, "");
}

TEST(RecoverableWindows, ABackupWithoutItsWalIsNoWindow) {
  // The stop segment (4) is missing: the backup never becomes consistent.
  auto stored = Segments(1, 3, 3, 0);
  auto after = Segments(1, 5, 6, 0);
  stored.insert(stored.end(), after.begin(), after.end());
  EXPECT_TRUE(RecoverableWindows({Backup("b", 1, 3 * kSeg, 4 * kSeg + 1, 1)}, stored, {}).empty());
  EXPECT_TRUE(RecoverableWindows({}, stored, {}).empty()) << "no backup, nothing recoverable";
}

TEST(RecoverableWindows, ATimelineIsReachedFromItsParentAtTheSwitchWithItsPartial) {
  auto stored = Segments(1, 2, 9, 0);
  auto tl2 = Segments(2, 9, 10, 0);
  stored.insert(stored.end(), tl2.begin(), tl2.end());
  stored.push_back({"00000002.history", 0});
  stored.push_back({"00000002000000000000000B.partial", 0});
  const std::map<std::uint32_t, std::vector<pg::TimelineSwitch>> histories = {
      {2, {{1, 9 * kSeg + 0x800, "before 2026"}}}};
  const auto w = RecoverableWindows({Backup("b", 1, 2 * kSeg, 3 * kSeg, 10)}, stored, histories);
  ASSERT_EQ(w.size(), 2U);
  EXPECT_EQ(w[1].timeline, 2U);
  EXPECT_EQ(w[1].from_lsn, 9 * kSeg + 0x800);
  EXPECT_EQ(w[1].from, "switch from timeline 1");
  EXPECT_EQ(w[1].from_time, 0);
  EXPECT_EQ(w[1].to_lsn, 11 * kSeg);
  EXPECT_EQ(w[1].partial, "00000002000000000000000B.partial");
  // The parent's WAL ends before the switch: the new timeline cannot be reached.
  auto short_parent = Segments(1, 2, 5, 0);
  short_parent.insert(short_parent.end(), tl2.begin(), tl2.end());
  const auto cut =
      RecoverableWindows({Backup("b", 1, 2 * kSeg, 3 * kSeg, 10)}, short_parent, histories);
  ASSERT_EQ(cut.size(), 1U);
  EXPECT_EQ(cut[0].timeline, 1U);
}

}  // namespace
}  // namespace drctl::command
