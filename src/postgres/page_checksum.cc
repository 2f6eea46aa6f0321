#include "postgres/page_checksum.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace drctl::pg {
namespace {

// The page is hashed as kLanes interleaved columns of 32-bit words (word i goes to lane
// i % kLanes), each a FNV-1a variant with its own start value; the lanes are xor-folded at the end.
constexpr std::size_t kLanes = 32;
constexpr std::uint32_t kFnvPrime = 16777619U;
constexpr std::array<std::uint32_t, kLanes> kLaneSeeds = {
    0x5B1F36E9, 0xB8525960, 0x02AB50AA, 0x1DE66D2A, 0x79FF467A, 0x9BB9F8A3, 0x217E7CD2, 0x83E13D2C,
    0xF8D4474F, 0xE39EB970, 0x42C6AE16, 0x993216FA, 0x7B093B5D, 0x98DAFF3C, 0xF718902A, 0x0B1C9CDB,
    0xE58F764B, 0x187636BC, 0x5D7B3BB1, 0xE73DE7DE, 0x92BEC979, 0xCCA6C0B2, 0x304A0979, 0x85AA43D4,
    0x783125BB, 0x6CA8EAA2, 0xE407EAC6, 0x4B5CFC3E, 0x9FBF8C76, 0x15CA20BE, 0xF2CA9FD3, 0x959BD756};

// Page header fields used here (PageHeaderData).
constexpr std::size_t kLsnOffset = 0;       // pd_lsn: {uint32 xlogid; uint32 xrecoff}
constexpr std::size_t kChecksumOffset = 8;  // pd_checksum: uint16
constexpr std::size_t kUpperOffset = 14;    // pd_upper: uint16

// One round: mix `value` into `lane`; the shifted xor spreads high bits into low ones.
constexpr std::uint32_t Mix(std::uint32_t lane, std::uint32_t value) {
  const std::uint32_t x = lane ^ value;
  return (x * kFnvPrime) ^ (x >> 17);
}

template <typename T>
T Load(Page page, std::size_t offset) {
  T value;
  std::memcpy(&value, page.data() + offset, sizeof(T));
  return value;
}

std::uint64_t PageLsn(Page page) {
  const auto hi = Load<std::uint32_t>(page, kLsnOffset);
  const auto lo = Load<std::uint32_t>(page, kLsnOffset + 4);
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

}  // namespace

// Row by row (one word per lane), so that the compiler can run the lanes in vector registers;
// AVX2 where the CPU has it.
__attribute__((target_clones("avx2", "default"))) std::uint16_t PageChecksum(
    Page page, std::uint32_t block_number) {
  std::array<std::uint32_t, kLanes> lanes = kLaneSeeds;
  constexpr std::size_t kRows = kPageSize / sizeof(std::uint32_t) / kLanes;
  std::array<std::uint32_t, kLanes> row{};
  for (std::size_t r = 0; r < kRows; ++r) {
    std::memcpy(row.data(), page.data() + (r * sizeof(row)), sizeof(row));
    if (r == 0) {
      // pd_checksum counts as zero: the low or high half of word 2, by the machine's byte order.
      std::array<std::uint8_t, sizeof(std::uint32_t)> bytes{};
      std::memcpy(bytes.data(), &row[kChecksumOffset / 4], bytes.size());
      bytes[kChecksumOffset % 4] = 0;
      bytes[(kChecksumOffset % 4) + 1] = 0;
      std::memcpy(&row[kChecksumOffset / 4], bytes.data(), bytes.size());
    }
    for (std::size_t lane = 0; lane < kLanes; ++lane) lanes[lane] = Mix(lanes[lane], row[lane]);
  }
  std::uint32_t folded = 0;
  for (std::uint32_t& lane : lanes) {
    lane = Mix(Mix(lane, 0), 0);  // two rounds of zeros mix in the last words
    folded ^= lane;
  }
  folded ^= block_number;  // a page written at the wrong place fails
  return static_cast<std::uint16_t>((folded % 65535U) + 1U);
}

PageCheck VerifyPage(Page page, std::uint32_t block_number, std::uint64_t lsn_limit) {
  PageCheck check;
  if (Load<std::uint16_t>(page, kUpperOffset) == 0) {
    const bool zeroed =
        std::all_of(page.begin(), page.end(), [](std::uint8_t b) { return b == 0; });
    check.status = zeroed ? PageStatus::kNew : PageStatus::kNewNotZeroed;
    return check;
  }
  if (PageLsn(page) >= lsn_limit) {
    check.status = PageStatus::kSkippedRecent;
    return check;
  }
  check.expected = PageChecksum(page, block_number);
  check.found = Load<std::uint16_t>(page, kChecksumOffset);
  check.status = check.expected == check.found ? PageStatus::kOk : PageStatus::kMismatch;
  return check;
}

std::vector<std::uint32_t> FailedBlocks(std::span<const std::uint8_t> data, std::uint32_t segment,
                                        std::uint32_t first_page, std::uint64_t lsn_limit) {
  std::vector<std::uint32_t> failed;
  const std::size_t pages = data.size() / kPageSize;
  for (std::size_t i = 0; i < pages; ++i) {
    const auto block = static_cast<std::uint32_t>(segment * kBlocksPerSegment + first_page + i);
    if (VerifyPage(Page(data.subspan(i * kPageSize, kPageSize)), block, lsn_limit).failed()) {
      failed.push_back(block);
    }
  }
  return failed;
}

}  // namespace drctl::pg
