#include "postgres/page_checksum.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <string_view>

namespace drctl::pg {
namespace {

using ::testing::ElementsAre;
using PageBytes = std::array<std::uint8_t, kPageSize>;

// Block 0 of a heap table from a real PostgreSQL 15 cluster (initdb --data-checksums) after
//   CREATE TABLE one(id int, name text); INSERT INTO one VALUES (42, 'drctl'), (7, 'page
//   checksum'); CHECKPOINT;
// Its first 32 and last 96 bytes; everything between is zero. pd_checksum (offset 8) is 0xC4AF,
// pd_lsn is 0/1764328.
constexpr std::string_view kRealPageHead =
    "0000000028437601afc400002000a81f0020042000000000d89f4400a89f5400";
constexpr std::string_view kRealPageTail =
    "0000000000000000d40200000000000005000000000000000200020002081800070000001d7061676520636865636b"
    "73756d000000000000d402000000000000050000000000000001000200020818002a0000000d647263746c00000000"
    "0000";
constexpr std::uint16_t kRealChecksum = 0xC4AF;
constexpr std::uint64_t kRealLsn = 0x1764328;

void PutHex(std::string_view hex, PageBytes& page, std::size_t offset) {
  auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    page[offset + i / 2] = static_cast<std::uint8_t>((nibble(hex[i]) << 4) | nibble(hex[i + 1]));
  }
}

PageBytes RealPage() {
  PageBytes page{};
  PutHex(kRealPageHead, page, 0);
  PutHex(kRealPageTail, page, kPageSize - kRealPageTail.size() / 2);
  return page;
}

std::uint16_t StoredChecksum(const PageBytes& page) {
  return static_cast<std::uint16_t>(page[8] | (page[9] << 8));
}

void StoreChecksum(PageBytes& page, std::uint16_t checksum) {
  page[8] = static_cast<std::uint8_t>(checksum & 0xFF);
  page[9] = static_cast<std::uint8_t>(checksum >> 8);
}

// The real page, re-stamped as if it had been written at `block`.
PageBytes PageAt(std::uint32_t block) {
  PageBytes page = RealPage();
  StoreChecksum(page, PageChecksum(page, block));
  return page;
}

TEST(PageChecksum, MatchesPostgresOnARealPage) {
  const PageBytes page = RealPage();
  ASSERT_EQ(StoredChecksum(page), kRealChecksum);
  EXPECT_EQ(PageChecksum(page, 0), kRealChecksum);
  const PageCheck check = VerifyPage(page, 0);
  EXPECT_EQ(check.status, PageStatus::kOk);
  EXPECT_EQ(check.expected, kRealChecksum);
  EXPECT_EQ(check.found, kRealChecksum);
  EXPECT_FALSE(check.failed());
}

TEST(PageChecksum, IgnoresTheStoredChecksum) {
  PageBytes page = RealPage();
  StoreChecksum(page, 0);
  EXPECT_EQ(PageChecksum(page, 0), kRealChecksum);
  StoreChecksum(page, 0xFFFF);
  EXPECT_EQ(PageChecksum(page, 0), kRealChecksum);
  const PageCheck check = VerifyPage(page, 0);
  EXPECT_EQ(check.status, PageStatus::kMismatch);
  EXPECT_EQ(check.expected, kRealChecksum);
  EXPECT_EQ(check.found, 0xFFFF);
  EXPECT_TRUE(check.failed());
}

TEST(PageChecksum, MixesInTheBlockNumber) {
  const PageBytes page = RealPage();
  for (std::uint32_t block : {1U, 2U, kBlocksPerSegment, 0xFFFFFFFEU}) {
    const PageCheck check = VerifyPage(page, block);
    EXPECT_EQ(check.status, PageStatus::kMismatch) << block;
    EXPECT_EQ(check.found, kRealChecksum) << block;
    EXPECT_EQ(check.expected, PageChecksum(page, block)) << block;
    EXPECT_NE(check.expected, kRealChecksum) << block;
  }
}

TEST(PageChecksum, DetectsAnyFlippedByte) {
  // The LSN, the header fields, a line pointer, the zeroed middle, tuple data, the last byte.
  for (std::size_t offset : {0UL, 5UL, 12UL, 14UL, 24UL, 4000UL, 8104UL, 8150UL, 8191UL}) {
    PageBytes page = RealPage();
    page[offset] ^= 0x01;
    const PageCheck check = VerifyPage(page, 0);
    EXPECT_EQ(check.status, PageStatus::kMismatch) << offset;
    EXPECT_EQ(check.found, kRealChecksum) << offset;
  }
}

TEST(PageChecksum, AllZeroPageIsNewAndValid) {
  const PageBytes page{};
  const PageCheck check = VerifyPage(page, 7);
  EXPECT_EQ(check.status, PageStatus::kNew);
  EXPECT_FALSE(check.failed());
}

TEST(PageChecksum, NewPageWithDataIsCorrupt) {
  PageBytes page = RealPage();
  page[14] = 0;  // pd_upper = 0 claims a new page, but the rest is not zero
  page[15] = 0;
  const PageCheck check = VerifyPage(page, 0);
  EXPECT_EQ(check.status, PageStatus::kNewNotZeroed);
  EXPECT_TRUE(check.failed());
  PageBytes almost_zero{};
  almost_zero[8191] = 1;
  EXPECT_EQ(VerifyPage(almost_zero, 0).status, PageStatus::kNewNotZeroed);
}

TEST(PageChecksum, SkipsPagesAtOrPastTheLsnLimit) {
  PageBytes page = RealPage();
  page[100] = 0xFF;  // a torn write
  EXPECT_EQ(VerifyPage(page, 0, kRealLsn).status, PageStatus::kSkippedRecent);
  EXPECT_EQ(VerifyPage(page, 0, kRealLsn - 1).status, PageStatus::kSkippedRecent);
  EXPECT_EQ(VerifyPage(page, 0, kRealLsn + 1).status, PageStatus::kMismatch);
  EXPECT_FALSE(VerifyPage(page, 0, kRealLsn).failed());
}

// Pages of a segment file: `pages[i]` at file page i.
std::vector<std::uint8_t> Concat(const std::vector<PageBytes>& pages, std::size_t extra = 0) {
  std::vector<std::uint8_t> out;
  for (const auto& p : pages) out.insert(out.end(), p.begin(), p.end());
  out.resize(out.size() + extra, 0xAB);
  return out;
}

TEST(PageChecksum, FailedBlocksOfTheFirstSegment) {
  PageBytes corrupt = PageAt(3);
  corrupt[5000] ^= 0x80;
  PageBytes zero{};
  const auto data = Concat({PageAt(0), zero, PageAt(2), corrupt, PageAt(4)}, 100);
  EXPECT_THAT(FailedBlocks(data, 0), ElementsAre(3U));
  EXPECT_THAT(FailedBlocks(std::span(data).subspan(2 * kPageSize), 0, 2), ElementsAre(3U));
  EXPECT_THAT(FailedBlocks(std::span(data).first(3 * kPageSize), 0), ElementsAre());
  EXPECT_THAT(FailedBlocks({}, 0), ElementsAre());
}

TEST(PageChecksum, FailedBlocksContinueAcrossSegments) {
  // File "<relfilenode>.2": its page i is relation block 2 * 131072 + i.
  const std::uint32_t base = 2 * kBlocksPerSegment;
  PageBytes corrupt = PageAt(base + 1);
  corrupt[20] ^= 0x10;
  const auto data = Concat({PageAt(base), corrupt, PageAt(base + 2), PageAt(3)});
  EXPECT_THAT(FailedBlocks(data, 2), ElementsAre(base + 1, base + 3));
  // The real page is valid at block 0 only, not as the first page of segment 1.
  EXPECT_THAT(FailedBlocks(RealPage(), 1), ElementsAre(kBlocksPerSegment));
  EXPECT_THAT(FailedBlocks(RealPage(), 0), ElementsAre());
}

}  // namespace
}  // namespace drctl::pg
