#include "catalog/wal_ranges.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace drctl::catalog {
namespace {

WalSummary Summarize(const std::vector<std::string>& names) { return SummarizeWal(names); }

TEST(WalRangesTest, EmptyInputIsAnEmptySummary) { EXPECT_EQ(Summarize({}), WalSummary{}); }

TEST(WalRangesTest, OneContiguousRun) {
  const WalSummary s = Summarize(
      {"000000010000000000000001", "000000010000000000000002", "000000010000000000000003"});
  ASSERT_EQ(s.timelines.size(), 1U);
  const TimelineWal& t = s.timelines[0];
  EXPECT_EQ(t.timeline, 1U);
  EXPECT_EQ(t.ranges,
            (std::vector<WalRange>{{"000000010000000000000001", "000000010000000000000003", 3}}));
  EXPECT_TRUE(t.gaps.empty());
  EXPECT_FALSE(t.history);
  EXPECT_TRUE(s.unrecognized.empty());
}

TEST(WalRangesTest, GapsAreListedBetweenRuns) {
  const WalSummary s =
      Summarize({"000000010000000000000001", "000000010000000000000002", "000000010000000000000005",
                 "000000010000000000000007", "000000010000000000000008"});
  ASSERT_EQ(s.timelines.size(), 1U);
  const TimelineWal& t = s.timelines[0];
  EXPECT_EQ(t.ranges,
            (std::vector<WalRange>{{"000000010000000000000001", "000000010000000000000002", 2},
                                   {"000000010000000000000005", "000000010000000000000005", 1},
                                   {"000000010000000000000007", "000000010000000000000008", 2}}));
  EXPECT_EQ(t.gaps,
            (std::vector<WalRange>{{"000000010000000000000003", "000000010000000000000004", 2},
                                   {"000000010000000000000006", "000000010000000000000006", 1}}));
}

TEST(WalRangesTest, InputOrderAndDuplicatesDoNotMatter) {
  const WalSummary s = Summarize({"000000010000000000000003", "000000010000000000000001",
                                  "000000010000000000000002", "000000010000000000000003"});
  ASSERT_EQ(s.timelines.size(), 1U);
  EXPECT_EQ(s.timelines[0].ranges,
            (std::vector<WalRange>{{"000000010000000000000001", "000000010000000000000003", 3}}));
}

TEST(WalRangesTest, ARunCrossesALogIdBoundary) {
  // With 16 MiB segments a log id holds segments 00..FF: ...0000000000FF is followed by
  // ...000000010000000000, not by a segment ...00000100.
  const WalSummary s = Summarize({"0000000100000000000000FE", "0000000100000000000000FF",
                                  "000000010000000100000000", "000000010000000100000001"});
  ASSERT_EQ(s.timelines.size(), 1U);
  EXPECT_EQ(s.timelines[0].ranges,
            (std::vector<WalRange>{{"0000000100000000000000FE", "000000010000000100000001", 4}}));
  EXPECT_TRUE(s.timelines[0].gaps.empty());
}

TEST(WalRangesTest, AGapAcrossALogIdBoundaryNamesTheMissingSegments) {
  const WalSummary s = Summarize({"0000000100000000000000FE", "000000010000000100000001"});
  ASSERT_EQ(s.timelines.size(), 1U);
  EXPECT_EQ(s.timelines[0].gaps,
            (std::vector<WalRange>{{"0000000100000000000000FF", "000000010000000100000000", 2}}));
}

TEST(WalRangesTest, SegmentSizeSetsSegmentsPerLogId) {
  // 1 GiB segments: 4 per log id (00..03); ...04 is not a segment name.
  const std::vector<std::string> names = {"000000010000000000000003", "000000010000000100000000",
                                          "000000010000000000000004"};
  const WalSummary s = SummarizeWal(names, std::uint64_t{1} << 30);
  ASSERT_EQ(s.timelines.size(), 1U);
  EXPECT_EQ(s.timelines[0].ranges,
            (std::vector<WalRange>{{"000000010000000000000003", "000000010000000100000000", 2}}));
  EXPECT_EQ(s.unrecognized, std::vector<std::string>{"000000010000000000000004"});
}

TEST(WalRangesTest, TimelinesAreSeparateAndAscending) {
  // A timeline switch is not a gap: timeline 2 starts where it forked, in the middle of 1's range.
  const WalSummary s =
      Summarize({"00000002.history", "000000020000000000000005", "000000020000000000000006",
                 "000000010000000000000003", "000000010000000000000004", "000000010000000000000005",
                 "0000000A.history"});
  ASSERT_EQ(s.timelines.size(), 3U);
  EXPECT_EQ(s.timelines[0].timeline, 1U);
  EXPECT_FALSE(s.timelines[0].history);
  EXPECT_EQ(s.timelines[0].ranges,
            (std::vector<WalRange>{{"000000010000000000000003", "000000010000000000000005", 3}}));
  EXPECT_EQ(s.timelines[1].timeline, 2U);
  EXPECT_TRUE(s.timelines[1].history);
  EXPECT_EQ(s.timelines[1].ranges,
            (std::vector<WalRange>{{"000000020000000000000005", "000000020000000000000006", 2}}));
  EXPECT_TRUE(s.timelines[1].gaps.empty());
  // A history file alone (the timeline was created, nothing archived on it yet).
  EXPECT_EQ(s.timelines[2].timeline, 10U);
  EXPECT_TRUE(s.timelines[2].history);
  EXPECT_TRUE(s.timelines[2].ranges.empty());
}

TEST(WalRangesTest, PartialAndBackupHistoryFilesAreCountedNotRanged) {
  const WalSummary s =
      Summarize({"000000010000000000000001", "000000010000000000000002",
                 "000000010000000000000002.00000028.backup", "000000010000000000000003.partial",
                 "000000020000000000000003.partial", "000000020000000000000003.00FFFFFF.backup"});
  EXPECT_EQ(s.partial, 2U);
  EXPECT_EQ(s.backup_history, 2U);
  ASSERT_EQ(s.timelines.size(), 2U);
  EXPECT_EQ(s.timelines[0].ranges,
            (std::vector<WalRange>{{"000000010000000000000001", "000000010000000000000002", 2}}));
  EXPECT_EQ(s.timelines[0].partial, 1U);
  EXPECT_EQ(s.timelines[0].backup_history, 1U);
  EXPECT_TRUE(s.timelines[1].ranges.empty()) << "a partial segment is not a stored segment";
  EXPECT_EQ(s.timelines[1].partial, 1U);
  EXPECT_EQ(s.timelines[1].backup_history, 1U);
  EXPECT_TRUE(s.unrecognized.empty());
}

TEST(WalRangesTest, NamesThatAreNotWalFilesAreReportedNotGuessed) {
  const std::vector<std::string> bad = {
      "cluster.json",
      "00000001000000000000000a",                  // lowercase hex
      "000000000000000000000001",                  // timeline 0
      "000000010000000000000100",                  // segment part past 0xFF (16 MiB)
      "00000001000000000000001",                   // 23 digits
      "000000010000000000000001.part",             // unknown suffix
      "000000010000000000000001.01000000.backup",  // offset past the segment size
      "00000000.history",                          // timeline 0
      "0000000g.history",
  };
  const WalSummary s = Summarize(bad);
  EXPECT_TRUE(s.timelines.empty());
  EXPECT_EQ(s.partial, 0U);
  EXPECT_EQ(s.backup_history, 0U);
  EXPECT_EQ(s.unrecognized, bad);
}

}  // namespace
}  // namespace drctl::catalog
