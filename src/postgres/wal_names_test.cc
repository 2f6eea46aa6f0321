#include "postgres/wal_names.h"

#include <gtest/gtest.h>

namespace drctl::pg {
namespace {

TEST(Lsn, ParsesAndFormats) {
  EXPECT_EQ(ParseLsn("0/0").value(), 0U);
  EXPECT_EQ(ParseLsn("16/B374D848").value(), 0x16B374D848ULL);
  EXPECT_EQ(ParseLsn("ffffffff/FFFFFFFF").value(), ~0ULL);
  EXPECT_EQ(FormatLsn(0x16B374D848ULL), "16/B374D848");
  EXPECT_EQ(FormatLsn(0), "0/0");
  for (const char* bad : {"", "16", "/1", "1/", "1/2/3", "G/0", "100000000/0", " 1/2", "1/-2"}) {
    auto r = ParseLsn(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kUsage);
  }
}

TEST(WalFileName, Segments) {
  auto s = ParseWalFileName("000000010000000000000003");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->kind, WalFileKind::kSegment);
  EXPECT_EQ(s->timeline, 1U);
  EXPECT_EQ(s->segment, 3U);
  auto high = ParseWalFileName("0000000A00000002000000FF");
  ASSERT_TRUE(high.has_value());
  EXPECT_EQ(high->timeline, 10U);
  EXPECT_EQ(high->segment, 2U * 256 + 255);
  EXPECT_EQ(SegmentFileName(10, 2U * 256 + 255), "0000000A00000002000000FF");
  EXPECT_EQ(SegmentFileName(1, SegmentOf(0x16B374D848ULL)), "0000000100000016000000B3");
}

TEST(WalFileName, OtherSegmentSizes) {
  // 64 MiB segments: 64 per "log" file.
  auto s = ParseWalFileName("00000001000000010000003F", 64U << 20);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->segment, 64U + 63);
  EXPECT_FALSE(ParseWalFileName("000000010000000100000040", 64U << 20).has_value());
  EXPECT_EQ(SegmentFileName(1, 127, 64U << 20), "00000001000000010000003F");
}

TEST(WalFileName, PartialHistoryAndBackupHistory) {
  EXPECT_EQ(ParseWalFileName("000000020000000000000004.partial").value().kind,
            WalFileKind::kPartial);
  auto h = ParseWalFileName("00000002.history");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, WalFileKind::kHistory);
  EXPECT_EQ(h->timeline, 2U);
  EXPECT_EQ(HistoryFileName(2), "00000002.history");
  auto b = ParseWalFileName("000000010000000000000003.00000028.backup");
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->kind, WalFileKind::kBackupHistory);
  EXPECT_EQ(b->backup_offset, 0x28U);
}

TEST(WalFileName, RejectsEverythingElse) {
  for (const char* bad :
       {"", "00000001000000000000000", "0000000100000000000000033", "000000010000000000000003.gz",
        "00000000000000000000003", "000000000000000000000003", "000000010000000000000100",
        "00000001000000000000000g", "00000000.history", "0000000G.history", "1.history",
        "000000010000000000000003.00000028.backupx", "000000010000000000000003.01000000.backup",
        "../000000010000000000000003", "RECOVERYHISTORY", "archive_status"}) {
    auto r = ParseWalFileName(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code(), ErrorCode::kUsage) << bad;
  }
}

TEST(TimelineHistory, ParsesPostgresFormat) {
  const std::string text =
      "1\t0/3000158\tno recovery target specified\n"
      "\n"
      "2\t0/5000000\tat restore point \"before_bad_tx\"\n";
  auto h = ParseTimelineHistory(text, "00000003.history");
  ASSERT_TRUE(h.has_value()) << h.error().ToString();
  ASSERT_EQ(h->size(), 2U);
  EXPECT_EQ((*h)[0].parent, 1U);
  EXPECT_EQ((*h)[0].switch_lsn, 0x3000158U);
  EXPECT_EQ((*h)[0].reason, "no recovery target specified");
  EXPECT_EQ((*h)[1].reason, "at restore point \"before_bad_tx\"");
}

TEST(TimelineHistory, DamageIsCorruptWithLine) {
  for (const auto& [text, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"x\t0/1\treason\n", ":1: bad parent timeline"},
           {"1\tnot-an-lsn\treason\n", ":1: bad switch LSN"},
           {"1\n", ":1: no switch point"},
           {"2\t0/5\ta\n1\t0/6\tb\n", ":2: timelines or switch points do not increase"}}) {
    auto r = ParseTimelineHistory(text, "f.history");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
    EXPECT_NE(r.error().message().find("f.history" + fragment), std::string::npos)
        << r.error().message();
  }
}

}  // namespace
}  // namespace drctl::pg
