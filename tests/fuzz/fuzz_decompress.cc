// Decompression of arbitrary bytes with every algorithm: never crashes and never allocates more
// than the stated size; anything but kCorrupt is a bug; what decompresses has exactly the stated
// size and survives a round trip through Compress.
//
// Input: 3 bytes of stated size (little-endian; bit 23 set means "over the limit", which must be
// refused), then the compressed bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "io/compress.h"

namespace {

using drctl::CompressionAlgo;

constexpr std::size_t kSizeBytes = 3;
constexpr std::uint32_t kOverLimitBit = 1U << 23;
constexpr std::uint32_t kSizeMask = (1U << 20) - 1;  // stated sizes up to 1 MiB keep runs fast

void Check(CompressionAlgo algo, std::string_view input, std::size_t expected_size) {
  std::string out;
  auto status = drctl::io::Decompress(algo, input, expected_size, out);
  if (!status) {
    if (status.error().code() != drctl::ErrorCode::kCorrupt || !out.empty()) std::abort();
    return;
  }
  if (expected_size > drctl::io::kMaxChunkSize || out.size() != expected_size) std::abort();
  const drctl::Compression compression{algo, algo == CompressionAlgo::kZstd ? 1 : 0};
  std::string again;
  std::string back;
  if (!drctl::io::Compress(compression, out, again) ||
      !drctl::io::Decompress(algo, again, out.size(), back) || back != out) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kSizeBytes) return 0;
  const std::uint32_t stated =
      data[0] | (std::uint32_t{data[1]} << 8) | (std::uint32_t{data[2]} << 16);
  std::size_t expected_size = stated & kSizeMask;
  if ((stated & kOverLimitBit) != 0) expected_size += drctl::io::kMaxChunkSize + 1;
  const std::string_view input(reinterpret_cast<const char*>(data) + kSizeBytes, size - kSizeBytes);
  for (CompressionAlgo algo :
       {CompressionAlgo::kNone, CompressionAlgo::kLz4, CompressionAlgo::kZstd}) {
    Check(algo, input, expected_size);
  }
  return 0;
}
