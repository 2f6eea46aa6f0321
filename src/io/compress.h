// Compression of chunks and WAL segments: zstd (a level), lz4 (LZ4_compress_default) or none.
// Each call compresses or decompresses one whole buffer; the raw size is stored by the caller
// (chunk index, manifest) and passed back to Decompress, which allocates exactly that and never
// more, whatever the compressed bytes claim: compressed input is treated as hostile.
//
// Thread-safety: all functions may be called concurrently. Each thread keeps one zstd
// compression and one decompression context (thread_local) and reuses them.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/config.h"
#include "common/result.h"

namespace drctl::io {

// Hard limit on one buffer's raw size, well above the largest chunk (16 MiB): a stored size
// beyond it is damage, not data, and is refused before anything is allocated.
inline constexpr std::size_t kMaxChunkSize = std::size_t{64} << 20;

// The most bytes Compress can append for `input_size` bytes of input (for reserve()).
std::size_t MaxCompressedSize(CompressionAlgo algo, std::size_t input_size);

// Appends the compressed form of `input` to `output` (`input` must not alias `output`).
// kInternal (a caller's bug) when input is larger than kMaxChunkSize, since Decompress would
// refuse it, or when the zstd level is outside what libzstd supports.
Status Compress(const Compression& compression, std::string_view input, std::string& output);

// Inputs of at least this size per thread are worth a thread of their own in CompressInFrames.
inline constexpr std::size_t kMinFrameSize = std::size_t{4} << 20;

// As Compress, but zstd input of 2 * kMinFrameSize bytes or more is cut into up to `threads`
// equal parts, compressed at the same level as independent frames on as many threads and
// appended in order: one archive_command process per 16 MiB WAL segment then uses both cores.
// Decompress reads the concatenated frames as one (the zstd format allows it); the ratio loses
// only the back-references across the cut. Other algorithms, and smaller inputs, as Compress.
Status CompressInFrames(const Compression& compression, std::string_view input, std::size_t threads,
                        std::string& output);

// Appends exactly `expected_size` bytes, the decompressed form of `input`, to `output` (`input`
// must not alias `output`). kCorrupt, with a message naming the algorithm, when expected_size
// exceeds kMaxChunkSize, when input is not valid compressed data (including empty or truncated
// input), or when it decompresses to any size but expected_size; `output` then keeps its size
// (bytes beyond it in its capacity may have been overwritten).
Status Decompress(CompressionAlgo algo, std::string_view input, std::size_t expected_size,
                  std::string& output);

}  // namespace drctl::io
