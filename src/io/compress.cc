#include "io/compress.h"

#include <lz4.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

namespace drctl::io {
namespace {

constexpr const char* kDamagedHint =
    "the stored object is damaged or was written by a faulty drctl; `drctl verify` lists damaged "
    "objects";

struct ZstdFree {
  void operator()(ZSTD_CCtx* ctx) const { ZSTD_freeCCtx(ctx); }
  void operator()(ZSTD_DCtx* ctx) const { ZSTD_freeDCtx(ctx); }
};

ZSTD_CCtx* ThreadCompressor() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdFree> ctx(ZSTD_createCCtx());
  if (!ctx) std::abort();
  return ctx.get();
}

ZSTD_DCtx* ThreadDecompressor() {
  thread_local std::unique_ptr<ZSTD_DCtx, ZstdFree> ctx(ZSTD_createDCtx());
  if (!ctx) std::abort();
  return ctx.get();
}

std::string AlgoName(CompressionAlgo algo) {
  switch (algo) {
    case CompressionAlgo::kNone:
      return "uncompressed";
    case CompressionAlgo::kLz4:
      return "lz4";
    case CompressionAlgo::kZstd:
      return "zstd";
  }
  return "unknown";
}

// Appends at most `capacity` bytes to `output` through `write(destination) -> bytes written`;
// nothing when `write` reports failure (a negative value). The callback's size argument of
// resize_and_overwrite is not used: libstdc++ 12 passes the grown capacity there.
template <typename Write>
long long AppendWith(std::string& output, std::size_t capacity, Write write) {
  const std::size_t old_size = output.size();
  long long written = -1;
  output.resize_and_overwrite(old_size + capacity, [&](char* buffer, std::size_t /*capacity*/) {
    written = write(buffer + old_size);
    return written < 0 ? old_size : old_size + static_cast<std::size_t>(written);
  });
  return written;
}

Status CompressZstd(int level, std::string_view input, std::string& output) {
  if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
    return Fail(ErrorCode::kInternal, "zstd level " + std::to_string(level) + " is not supported");
  }
  std::size_t error = 0;
  AppendWith(output, ZSTD_compressBound(input.size()), [&](char* dst) -> long long {
    const std::size_t n =
        ZSTD_compressCCtx(ThreadCompressor(), dst, ZSTD_compressBound(input.size()), input.data(),
                          input.size(), level);
    if (ZSTD_isError(n) != 0U) {
      error = n;
      return -1;
    }
    return static_cast<long long>(n);
  });
  if (error != 0) {
    return Fail(ErrorCode::kInternal,
                std::string("zstd compression failed: ") + ZSTD_getErrorName(error));
  }
  return Ok();
}

Status CompressLz4(std::string_view input, std::string& output) {
  const int bound = LZ4_compressBound(static_cast<int>(input.size()));
  const long long n = AppendWith(output, static_cast<std::size_t>(bound), [&](char* dst) {
    const int r = LZ4_compress_default(input.data(), dst, static_cast<int>(input.size()), bound);
    return r > 0 ? static_cast<long long>(r) : -1LL;
  });
  if (n < 0) return Fail(ErrorCode::kInternal, "lz4 compression failed");
  return Ok();
}

Status SizeMismatch(CompressionAlgo algo, std::size_t actual, std::size_t expected) {
  return Fail(ErrorCode::kCorrupt,
              AlgoName(algo) +
                  (algo == CompressionAlgo::kNone ? " data has " : " data decompresses to ") +
                  std::to_string(actual) + " bytes, expected " + std::to_string(expected),
              kDamagedHint);
}

Status DecompressZstd(std::string_view input, std::size_t expected_size, std::string& output) {
  std::size_t result = 0;
  AppendWith(output, expected_size, [&](char* dst) -> long long {
    result =
        ZSTD_decompressDCtx(ThreadDecompressor(), dst, expected_size, input.data(), input.size());
    return ZSTD_isError(result) != 0U || result != expected_size ? -1
                                                                 : static_cast<long long>(result);
  });
  if (ZSTD_isError(result) != 0U) {
    if (ZSTD_getErrorCode(result) == ZSTD_error_dstSize_tooSmall) {
      return Fail(ErrorCode::kCorrupt,
                  "zstd data decompresses to more than the expected " +
                      std::to_string(expected_size) + " bytes",
                  kDamagedHint);
    }
    return Fail(ErrorCode::kCorrupt,
                std::string("zstd data is corrupt: ") + ZSTD_getErrorName(result), kDamagedHint);
  }
  if (result != expected_size) return SizeMismatch(CompressionAlgo::kZstd, result, expected_size);
  return Ok();
}

Status DecompressLz4(std::string_view input, std::size_t expected_size, std::string& output) {
  // Larger input cannot be a compressed chunk (and would overflow LZ4's int sizes).
  if (input.size() > static_cast<std::size_t>(LZ4_COMPRESSBOUND(kMaxChunkSize))) {
    return Fail(ErrorCode::kCorrupt,
                "lz4 data of " + std::to_string(input.size()) +
                    " bytes is larger than any compressed chunk",
                kDamagedHint);
  }
  int result = 0;
  AppendWith(output, expected_size, [&](char* dst) -> long long {
    result = LZ4_decompress_safe(input.data(), dst, static_cast<int>(input.size()),
                                 static_cast<int>(expected_size));
    return result < 0 || static_cast<std::size_t>(result) != expected_size ? -1 : result;
  });
  if (result < 0) {
    return Fail(ErrorCode::kCorrupt,
                "lz4 data is corrupt or decompresses to more than the expected " +
                    std::to_string(expected_size) + " bytes",
                kDamagedHint);
  }
  if (static_cast<std::size_t>(result) != expected_size) {
    return SizeMismatch(CompressionAlgo::kLz4, static_cast<std::size_t>(result), expected_size);
  }
  return Ok();
}

}  // namespace

std::size_t MaxCompressedSize(CompressionAlgo algo, std::size_t input_size) {
  switch (algo) {
    case CompressionAlgo::kNone:
      return input_size;
    case CompressionAlgo::kLz4:
      return input_size > kMaxChunkSize
                 ? 0
                 : static_cast<std::size_t>(LZ4_compressBound(static_cast<int>(input_size)));
    case CompressionAlgo::kZstd:
      return ZSTD_compressBound(input_size);
  }
  return 0;
}

Status Compress(const Compression& compression, std::string_view input, std::string& output) {
  if (input.size() > kMaxChunkSize) {
    return Fail(ErrorCode::kInternal, "cannot compress " + std::to_string(input.size()) +
                                          " bytes at once: the limit is " +
                                          std::to_string(kMaxChunkSize) + " bytes");
  }
  switch (compression.algo) {
    case CompressionAlgo::kNone:
      output.append(input);
      return Ok();
    case CompressionAlgo::kLz4:
      return CompressLz4(input, output);
    case CompressionAlgo::kZstd:
      return CompressZstd(compression.level, input, output);
  }
  return Fail(ErrorCode::kInternal, "unknown compression algorithm");
}

Status CompressInFrames(const Compression& compression, std::string_view input, std::size_t threads,
                        std::string& output) {
  std::size_t parts = std::min(threads, input.size() / kMinFrameSize);
  if (compression.algo != CompressionAlgo::kZstd || parts < 2) {
    return Compress(compression, input, output);
  }
  if (input.size() > kMaxChunkSize) return Compress(compression, input, output);  // its error
  const std::size_t part_size = (input.size() + parts - 1) / parts;
  std::vector<std::string> frames(parts);
  std::vector<Status> results(parts, Ok());
  {
    std::vector<std::jthread> workers;
    workers.reserve(parts - 1);
    for (std::size_t i = 1; i < parts; ++i) {
      workers.emplace_back([&, i] {
        const std::string_view part = input.substr(i * part_size, part_size);
        results[i] = CompressZstd(compression.level, part, frames[i]);
      });
    }
    results[0] = CompressZstd(compression.level, input.substr(0, part_size), output);
  }
  for (std::size_t i = 1; i < parts; ++i) {
    if (!results[i]) return results[i];
    output.append(frames[i]);
  }
  return results[0];
}

Status Decompress(CompressionAlgo algo, std::string_view input, std::size_t expected_size,
                  std::string& output) {
  if (expected_size > kMaxChunkSize) {
    return Fail(ErrorCode::kCorrupt,
                AlgoName(algo) + " data claims a size of " + std::to_string(expected_size) +
                    " bytes, more than the limit of " + std::to_string(kMaxChunkSize),
                kDamagedHint);
  }
  if (algo == CompressionAlgo::kNone) {
    if (input.size() != expected_size) return SizeMismatch(algo, input.size(), expected_size);
    output.append(input);
    return Ok();
  }
  if (input.empty()) {
    return Fail(ErrorCode::kCorrupt, AlgoName(algo) + " data is empty", kDamagedHint);
  }
  if (algo == CompressionAlgo::kLz4) return DecompressLz4(input, expected_size, output);
  if (algo == CompressionAlgo::kZstd) return DecompressZstd(input, expected_size, output);
  return Fail(ErrorCode::kInternal, "unknown compression algorithm");
}

}  // namespace drctl::io
