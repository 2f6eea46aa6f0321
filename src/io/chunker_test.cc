#include "io/chunker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace drctl::io {
namespace {

constexpr std::size_t kChunk = kSmallestChunkSize;

std::string Stream(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<char>((i * 2654435761U) >> 13);
  return out;
}

// Feeds `stream` in pieces of `piece` bytes and returns the chunks.
std::vector<std::string> ChunkInPieces(const std::string& stream, std::size_t piece) {
  auto chunker = Chunker::Create(kChunk).value();
  std::vector<std::string> chunks;
  const Chunker::Sink sink = [&chunks](std::string chunk) -> Status {
    chunks.push_back(std::move(chunk));
    return Ok();
  };
  for (std::size_t at = 0; at < stream.size(); at += piece) {
    EXPECT_TRUE(chunker.Feed(std::string_view(stream).substr(at, piece), sink).has_value());
  }
  EXPECT_EQ(chunker.stream_size(), stream.size());
  EXPECT_TRUE(chunker.Finish(sink).has_value());
  EXPECT_EQ(chunker.stream_size(), 0U);
  return chunks;
}

TEST(Chunker, AnyPieceSizeGivesTheSameChunks) {
  const std::string stream = Stream(3 * kChunk + kChunk / 2 + 3);
  for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{8191}, std::size_t{8192},
                            kChunk - 1, kChunk, kChunk + 1, 3 * kChunk + 5, stream.size()}) {
    const auto chunks = ChunkInPieces(stream, piece);
    ASSERT_EQ(chunks.size(), 4U) << "piece " << piece;
    std::string joined;
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(chunks[i].size(), kChunk) << "piece " << piece;
      joined += chunks[i];
    }
    EXPECT_EQ(chunks[3].size(), kChunk / 2 + 3);
    joined += chunks[3];
    EXPECT_EQ(joined, stream) << "piece " << piece;
  }
}

TEST(Chunker, StreamOnAChunkBoundaryHasNoShortChunk) {
  const auto chunks = ChunkInPieces(Stream(2 * kChunk), 7);
  ASSERT_EQ(chunks.size(), 2U);
  EXPECT_EQ(chunks[1].size(), kChunk);
}

TEST(Chunker, EmptyStreamHasNoChunks) {
  EXPECT_TRUE(ChunkInPieces("", 1).empty());
  const auto one = ChunkInPieces("x", 1);
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0], "x");
}

TEST(Chunker, IsReusableAfterFinishAndReset) {
  auto chunker = Chunker::Create(kChunk).value();
  std::vector<std::string> chunks;
  const Chunker::Sink sink = [&chunks](std::string chunk) -> Status {
    chunks.push_back(std::move(chunk));
    return Ok();
  };
  ASSERT_TRUE(chunker.Feed("first", sink).has_value());
  ASSERT_TRUE(chunker.Finish(sink).has_value());
  ASSERT_TRUE(chunker.Feed("dropped", sink).has_value());
  chunker.Reset();
  ASSERT_TRUE(chunker.Feed("second", sink).has_value());
  ASSERT_TRUE(chunker.Finish(sink).has_value());
  EXPECT_EQ(chunks, (std::vector<std::string>{"first", "second"}));
}

TEST(Chunker, SinkErrorStopsFeed) {
  auto chunker = Chunker::Create(kChunk).value();
  int calls = 0;
  const Chunker::Sink sink = [&calls](const std::string& /*chunk*/) -> Status {
    if (++calls == 2) return Fail(ErrorCode::kIo, "disk full");
    return Ok();
  };
  auto status = chunker.Feed(Stream(5 * kChunk), sink);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kIo);
  EXPECT_EQ(status.error().message(), "disk full");
  EXPECT_EQ(calls, 2);
}

TEST(Chunker, ValidatesTheChunkSize) {
  for (std::size_t size :
       {std::size_t{0}, std::size_t{8192}, kSmallestChunkSize - kPageSize, kSmallestChunkSize + 1,
        kLargestChunkSize + kPageSize, std::size_t{1} << 30}) {
    auto chunker = Chunker::Create(size);
    ASSERT_FALSE(chunker.has_value()) << size;
    EXPECT_EQ(chunker.error().code(), ErrorCode::kInternal);
    EXPECT_EQ(chunker.error().message(),
              "chunk size " + std::to_string(size) +
                  " is not a multiple of 8192 between 65536 and 16777216 bytes");
  }
  for (std::size_t size : {kSmallestChunkSize, kSmallestChunkSize + kPageSize, std::size_t{1} << 20,
                           kLargestChunkSize}) {
    auto chunker = Chunker::Create(size);
    ASSERT_TRUE(chunker.has_value()) << size;
    EXPECT_EQ(chunker->chunk_size(), size);
  }
}

}  // namespace
}  // namespace drctl::io
