// Throughput of the backup pipeline's per-chunk work on one core, next to zstd alone: how much
// chunking, the HMAC-SHA256 chunk id and AES-256-GCM add to compression. Input: 8 MiB of
// PostgreSQL-like heap pages (page headers, line pointers, tuples of repeated shape with
// counters, text and some random bytes, free space), cut into 1 MiB chunks.
//
// Run from a Release build: drctl_pipeline_bench [--benchmark_repetitions=N]
#include <benchmark/benchmark.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "io/chunker.h"
#include "io/cipher.h"
#include "io/compress.h"
#include "io/hash.h"
#include "io/random.h"

namespace drctl::io {
namespace {

constexpr std::size_t kDataSize = std::size_t{8} << 20;
constexpr std::size_t kChunkSize = std::size_t{1} << 20;
const Compression kZstd3{CompressionAlgo::kZstd, 3};

// One 8 KiB heap page: a 24-byte header, line pointers growing down from the front, tuples
// growing up from the back, and free space (zeros) in between on some pages.
void FillPage(std::mt19937_64& rng, std::uint64_t page_number, char* page) {
  std::memset(page, 0, kPageSize);
  const std::uint64_t lsn = 0x16B374D8ULL + page_number * 977;
  std::memcpy(page, &lsn, sizeof(lsn));
  static constexpr std::array<const char*, 4> kStatuses = {"ACTIVE", "SUSPENDED", "PENDING",
                                                           "CLOSED"};
  const std::size_t fill = 6000 + (rng() % 2193);  // bytes of tuples on this page
  std::size_t lower = 24;
  std::size_t upper = kPageSize;
  for (std::uint64_t row = page_number * 60; upper - lower > 8192 - fill; ++row) {
    char tuple[160];
    const std::uint64_t token = rng();  // e.g. a password hash or uuid column: incompressible
    const int n = std::snprintf(
        tuple, sizeof(tuple), "%08llx%04x|%llu|user%llu@example.com|%s|2024-%02llu-%02llu|",
        static_cast<unsigned long long>(token), static_cast<unsigned>(rng() & 0xffff),
        static_cast<unsigned long long>(row), static_cast<unsigned long long>(row),
        kStatuses[row % kStatuses.size()], static_cast<unsigned long long>(1 + row % 12),
        static_cast<unsigned long long>(1 + row % 28));
    const auto size = static_cast<std::size_t>(n) + 24;  // + a heap tuple header (zeros)
    if (upper - size < lower + 4) break;
    upper -= size;
    std::memcpy(page + upper + 24, tuple, static_cast<std::size_t>(n));
    const auto pointer = static_cast<std::uint32_t>(upper | (size << 17));
    std::memcpy(page + lower, &pointer, sizeof(pointer));
    lower += 4;
  }
}

const std::string& PostgresLikeData() {
  static const std::string kData = [] {
    std::string out(kDataSize, '\0');
    std::mt19937_64 rng(42);
    for (std::size_t page = 0; page < kDataSize / kPageSize; ++page) {
      FillPage(rng, page, out.data() + page * kPageSize);
    }
    return out;
  }();
  return kData;
}

void Zstd3Alone(benchmark::State& state) {
  const std::string& data = PostgresLikeData();
  std::string compressed;
  compressed.reserve(MaxCompressedSize(CompressionAlgo::kZstd, kChunkSize));
  std::size_t stored = 0;
  for (auto _ : state) {
    stored = 0;
    for (std::size_t at = 0; at < data.size(); at += kChunkSize) {
      compressed.clear();
      if (!Compress(kZstd3, std::string_view(data).substr(at, kChunkSize), compressed)) {
        state.SkipWithError("compress failed");
      }
      stored += compressed.size();
    }
    benchmark::DoNotOptimize(compressed.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(stored);
}

// What a backup worker does per chunk: cut, id = HMAC-SHA256(id key, plaintext), compress,
// seal with the id as associated data.
void ChunkHmacZstd3Seal(benchmark::State& state) {
  const std::string& data = PostgresLikeData();
  const auto id_key = RandomArray<32>();
  const auto data_key = RandomArray<kCipherKeySize>();
  auto chunker = Chunker::Create(kChunkSize).value();
  std::string compressed;
  std::string sealed;
  compressed.reserve(MaxCompressedSize(CompressionAlgo::kZstd, kChunkSize));
  sealed.reserve(compressed.capacity() + kSealOverhead);
  std::size_t stored = 0;
  const Chunker::Sink sink = [&](const std::string& chunk) -> Status {
    const Digest id = HmacSha256(id_key, chunk);
    compressed.clear();
    DRCTL_TRY(Compress(kZstd3, chunk, compressed));
    sealed.clear();
    Seal(data_key, compressed,
         std::string_view(reinterpret_cast<const char*>(id.data()), id.size()), sealed);
    stored += sealed.size();
    benchmark::DoNotOptimize(sealed.data());
    return Ok();
  };
  for (auto _ : state) {
    stored = 0;
    if (!chunker.Feed(data, sink) || !chunker.Finish(sink)) state.SkipWithError("failed");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
  state.counters["ratio"] = static_cast<double>(data.size()) / static_cast<double>(stored);
}

// The stages alone, to see where the time goes.
void HmacSha256Alone(benchmark::State& state) {
  const std::string& data = PostgresLikeData();
  const auto key = RandomArray<32>();
  for (auto _ : state) {
    for (std::size_t at = 0; at < data.size(); at += kChunkSize) {
      benchmark::DoNotOptimize(HmacSha256(key, std::string_view(data).substr(at, kChunkSize)));
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}

void SealAlone(benchmark::State& state) {
  const std::string& data = PostgresLikeData();
  const auto key = RandomArray<kCipherKeySize>();
  std::string sealed;
  sealed.reserve(kChunkSize + kSealOverhead);
  for (auto _ : state) {
    for (std::size_t at = 0; at < data.size(); at += kChunkSize) {
      sealed.clear();
      Seal(key, std::string_view(data).substr(at, kChunkSize), "id", sealed);
      benchmark::DoNotOptimize(sealed.data());
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(data.size()));
}

BENCHMARK(Zstd3Alone)->Unit(benchmark::kMillisecond);
BENCHMARK(ChunkHmacZstd3Seal)->Unit(benchmark::kMillisecond);
BENCHMARK(HmacSha256Alone)->Unit(benchmark::kMillisecond);
BENCHMARK(SealAlone)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace drctl::io

BENCHMARK_MAIN();
