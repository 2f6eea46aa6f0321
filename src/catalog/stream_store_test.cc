#include "catalog/stream_store.h"

#include <gtest/gtest.h>

#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

ReadFn FromString(const std::string& data, std::size_t piece) {
  auto pos = std::make_shared<std::size_t>(0);
  return [&data, pos, piece](std::string& out, std::size_t max) -> Result<std::size_t> {
    const std::size_t n = std::min({max, piece, data.size() - *pos});
    out.append(data, *pos, n);
    *pos += n;
    return n;
  };
}

std::string Data(std::size_t size) {
  std::string s(size, '\0');
  std::uint32_t x = 7;
  for (auto& c : s) {
    x = x * 1664525U + 1013904223U;
    c = static_cast<char>((x >> 28) + 'a');
  }
  return s;
}

TEST(StreamStore, RoundTripsStreamsOfEverySizeInOrder) {
  auto s = storage::NewMemoryStorage();
  ChunkStore store(*s, MasterKey::Generate(), {CompressionAlgo::kZstd, 3}, 1 << 20);
  io::WorkerPool pool(3, 4);
  constexpr std::size_t kChunk = 65536;
  for (const std::size_t size :
       {std::size_t{0}, std::size_t{1}, kChunk - 1, kChunk, kChunk + 1, 5 * kChunk + 12345}) {
    const std::string data = Data(size);
    auto stored = StoreStream(FromString(data, 10007), kChunk, store, pool);
    ASSERT_TRUE(stored.has_value()) << stored.error().ToString();
    EXPECT_EQ(stored->size, size);
    EXPECT_EQ(stored->chunks.size(), (size + kChunk - 1) / kChunk);
    ASSERT_TRUE(store.Commit().has_value());
    std::string back;
    auto n = RestoreStream(stored->chunks, store, [&](std::string_view piece) {
      back.append(piece);
      return Ok();
    });
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    EXPECT_EQ(back, data) << size;
  }
}

TEST(StreamStore, ReadErrorStopsAndIsReturned) {
  auto s = storage::NewMemoryStorage();
  ChunkStore store(*s, MasterKey::Generate(), {CompressionAlgo::kLz4, 0});
  io::WorkerPool pool(2, 2);
  int calls = 0;
  auto r = StoreStream(
      [&](std::string& out, std::size_t max) -> Result<std::size_t> {
        if (++calls > 3) return Fail(ErrorCode::kIo, "disk went away");
        out.append(std::min<std::size_t>(max, 40000), 'x');
        return std::min<std::size_t>(max, 40000);
      },
      65536, store, pool);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace drctl::catalog
