#include "io/compress.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>
#include <thread>
#include <vector>

#include "io/random.h"

namespace drctl::io {
namespace {

const Compression kNone{CompressionAlgo::kNone, 0};
const Compression kLz4{CompressionAlgo::kLz4, 0};
const Compression kZstd3{CompressionAlgo::kZstd, 3};
const Compression kAll[] = {
    kNone, kLz4, {CompressionAlgo::kZstd, 1}, kZstd3, {CompressionAlgo::kZstd, 19}};

std::string RandomString(std::size_t n) {
  const auto bytes = RandomBytes(n);
  return {bytes.begin(), bytes.end()};
}

// Something like PostgreSQL heap pages: repeated tuples with a few varying bytes.
std::string PageLike(std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t i = 0; out.size() < n; ++i) {
    out += "tuple " + std::to_string(i) + " |customer@example.com|2024-01-01|ACTIVE|";
  }
  out.resize(n);
  return out;
}

std::string MustCompress(const Compression& c, std::string_view input) {
  std::string out;
  auto status = Compress(c, input, out);
  EXPECT_TRUE(status.has_value()) << status.error().ToString();
  return out;
}

void ExpectCorrupt(const Status& status, std::string_view fragment) {
  ASSERT_FALSE(status.has_value()) << "expected: " << fragment;
  EXPECT_EQ(status.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(status.error().message().find(fragment), std::string::npos)
      << "message: " << status.error().message();
  EXPECT_NE(status.error().hint().find("drctl verify"), std::string::npos);
}

TEST(Compress, RoundTripsEveryAlgorithm) {
  const std::string inputs[] = {"", "a", PageLike(1 << 20), RandomString(1 << 20)};
  for (const Compression& c : kAll) {
    for (const std::string& input : inputs) {
      std::string compressed = "prefix";
      ASSERT_TRUE(Compress(c, input, compressed).has_value());
      ASSERT_EQ(compressed.substr(0, 6), "prefix");
      EXPECT_LE(compressed.size() - 6, MaxCompressedSize(c.algo, input.size()));
      std::string raw = "raw";
      auto status = Decompress(c.algo, std::string_view(compressed).substr(6), input.size(), raw);
      ASSERT_TRUE(status.has_value()) << c.ToString() << ": " << status.error().ToString();
      EXPECT_EQ(raw, "raw" + input) << c.ToString();
    }
  }
}

TEST(Compress, CompressesPageLikeData) {
  const std::string input = PageLike(1 << 20);
  EXPECT_LT(MustCompress(kZstd3, input).size(), input.size() / 4);
  EXPECT_LT(MustCompress(kLz4, input).size(), input.size() / 2);
}

TEST(Compress, RefusesInputOverTheLimitAsInternal) {
  const std::string input(kMaxChunkSize + 1, 'x');
  for (const Compression& c : kAll) {
    std::string out;
    auto status = Compress(c, input, out);
    ASSERT_FALSE(status.has_value());
    EXPECT_EQ(status.error().code(), ErrorCode::kInternal);
    EXPECT_NE(status.error().message().find("the limit is 67108864 bytes"), std::string::npos);
    EXPECT_TRUE(out.empty());
  }
  std::string out;
  auto bad_level = Compress(Compression{CompressionAlgo::kZstd, 99}, "x", out);
  ASSERT_FALSE(bad_level.has_value());
  EXPECT_EQ(bad_level.error().code(), ErrorCode::kInternal);
  EXPECT_EQ(bad_level.error().message(), "zstd level 99 is not supported");
}

TEST(Decompress, RefusesExpectedSizeOverTheLimitWithoutAllocating) {
  const std::string compressed = MustCompress(kZstd3, "abc");
  for (CompressionAlgo algo :
       {CompressionAlgo::kNone, CompressionAlgo::kLz4, CompressionAlgo::kZstd}) {
    std::string out;
    ExpectCorrupt(Decompress(algo, compressed, kMaxChunkSize + 1, out),
                  "claims a size of 67108865 bytes, more than the limit of 67108864");
    EXPECT_LT(out.capacity(), 1024U);
  }
}

TEST(Decompress, CorruptInputNamesTheAlgorithm) {
  std::string out;
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, "not zstd at all", 100, out),
                "zstd data is corrupt: ");
  ExpectCorrupt(Decompress(CompressionAlgo::kLz4, "\xff\xff\xff\xff not lz4", 100, out),
                "lz4 data is corrupt");
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, "", 0, out), "zstd data is empty");
  ExpectCorrupt(Decompress(CompressionAlgo::kLz4, "", 0, out), "lz4 data is empty");
  EXPECT_TRUE(out.empty());
}

TEST(Decompress, EveryTruncationIsCorrupt) {
  const std::string input = PageLike(4096) + RandomString(512);
  for (const Compression& c : {kLz4, kZstd3}) {
    const std::string compressed = MustCompress(c, input);
    const std::string name = c.algo == CompressionAlgo::kLz4 ? "lz4 data" : "zstd data";
    for (std::size_t n = 0; n < compressed.size(); ++n) {
      std::string out = "kept";
      ExpectCorrupt(Decompress(c.algo, compressed.substr(0, n), input.size(), out), name);
      EXPECT_EQ(out, "kept");
    }
  }
}

TEST(Decompress, WrongExpectedSizeIsCorrupt) {
  const std::string input = PageLike(10000);
  std::string out;
  const std::string zstd = MustCompress(kZstd3, input);
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, zstd, 9999, out),
                "zstd data decompresses to more than the expected 9999 bytes");
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, zstd, 10001, out),
                "zstd data decompresses to 10000 bytes, expected 10001");
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, zstd, 0, out), "more than the expected 0");

  const std::string lz4 = MustCompress(kLz4, input);
  ExpectCorrupt(Decompress(CompressionAlgo::kLz4, lz4, 9999, out),
                "lz4 data is corrupt or decompresses to more than the expected 9999 bytes");
  ExpectCorrupt(Decompress(CompressionAlgo::kLz4, lz4, 10001, out), "lz4 data");

  ExpectCorrupt(Decompress(CompressionAlgo::kNone, input, 10001, out),
                "uncompressed data has 10000 bytes, expected 10001");
  EXPECT_TRUE(out.empty());
}

TEST(Decompress, SmallBombIsRefusedAtTheStatedSize) {
  const std::string zeros(16 << 20, '\0');
  const std::string bomb = MustCompress(kZstd3, zeros);
  ASSERT_LT(bomb.size(), 4096U);
  std::string out;
  ExpectCorrupt(Decompress(CompressionAlgo::kZstd, bomb, 4096, out),
                "more than the expected 4096 bytes");
  EXPECT_LT(out.capacity(), 8192U);
}

TEST(Compress, ConcurrentUseFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&failures, t] {
      for (int i = 0; i < 50; ++i) {
        const std::string input = PageLike(static_cast<std::size_t>(i) * 1000 + t);
        const Compression& c = i % 2 == 0 ? kZstd3 : kLz4;
        std::string compressed;
        std::string raw;
        if (!Compress(c, input, compressed) || !Decompress(c.algo, compressed, input.size(), raw) ||
            raw != input) {
          ++failures[t];
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST(CompressInFramesTest, LargeZstdInputIsCutIntoFramesThatDecompressAsOne) {
  const std::string input = PageLike(16U << 20);
  std::string framed = "head";
  ASSERT_TRUE(CompressInFrames(kZstd3, input, 2, framed).has_value());
  ASSERT_EQ(framed.substr(0, 4), "head") << "appends";
  const std::string_view body = std::string_view(framed).substr(4);
  // Two frames: the first one ends before the data does.
  const std::size_t first = ZSTD_findFrameCompressedSize(body.data(), body.size());
  ASSERT_EQ(ZSTD_isError(first), 0U);
  EXPECT_LT(first, body.size());
  EXPECT_EQ(ZSTD_findFrameCompressedSize(body.data() + first, body.size() - first),
            body.size() - first);
  std::string back;
  ASSERT_TRUE(Decompress(CompressionAlgo::kZstd, body, input.size(), back).has_value());
  EXPECT_EQ(back, input);
  // The same level: within a few percent of one frame.
  const std::string single = MustCompress(kZstd3, input);
  EXPECT_LT(body.size(), single.size() + single.size() / 20);
}

TEST(CompressInFramesTest, SmallInputsAndOtherAlgorithmsAreOneCompress) {
  const std::string small = PageLike((kMinFrameSize * 2) - 1);
  std::string out;
  ASSERT_TRUE(CompressInFrames(kZstd3, small, 2, out).has_value());
  EXPECT_EQ(out, MustCompress(kZstd3, small));
  const std::string large = PageLike(kMinFrameSize * 2);
  for (const Compression& c : {kNone, kLz4}) {
    std::string framed;
    ASSERT_TRUE(CompressInFrames(c, large, 2, framed).has_value());
    EXPECT_EQ(framed, MustCompress(c, large));
  }
  std::string one_thread;
  ASSERT_TRUE(CompressInFrames(kZstd3, large, 1, one_thread).has_value());
  EXPECT_EQ(one_thread, MustCompress(kZstd3, large));
}

TEST(CompressInFramesTest, ADamagedSecondFrameIsCorrupt) {
  const std::string input = PageLike(8U << 20);
  std::string framed;
  ASSERT_TRUE(CompressInFrames(kZstd3, input, 2, framed).has_value());
  const std::size_t first = ZSTD_findFrameCompressedSize(framed.data(), framed.size());
  ASSERT_LT(first, framed.size());
  std::string back;
  // Cut inside the second frame: truncated data is refused, not a short result.
  EXPECT_EQ(Decompress(CompressionAlgo::kZstd,
                       std::string_view(framed).substr(0, framed.size() - 7), input.size(), back)
                .error()
                .code(),
            ErrorCode::kCorrupt);
  // Only the first frame: too short.
  EXPECT_EQ(Decompress(CompressionAlgo::kZstd, std::string_view(framed).substr(0, first),
                       input.size(), back)
                .error()
                .code(),
            ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace drctl::io
