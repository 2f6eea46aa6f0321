// Fixed-size chunking of a byte stream (a relation file, a WAL segment). PostgreSQL rewrites
// 8 KiB pages in place and never shifts data within a file, so chunks aligned to page multiples
// deduplicate well without content-defined chunking (ARCHITECTURE.md, "The repository").
//
// A Chunker takes the stream in pieces of any size (Feed) and hands each complete chunk of
// exactly chunk_size() bytes to a sink, then the final shorter chunk at Finish. Every byte is
// copied once, from the piece into the chunk's own buffer, and the buffer is moved to the sink,
// so a consumer can queue it (e.g. to a WorkerPool) without copying again.
//
// Not thread-safe: one stream at a time from one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl::io {

inline constexpr std::size_t kPageSize = 8192;  // PostgreSQL's BLCKSZ
inline constexpr std::size_t kSmallestChunkSize = std::size_t{64} << 10;
inline constexpr std::size_t kLargestChunkSize = std::size_t{16} << 20;

class Chunker {
 public:
  // Receives the chunks in stream order. An error it returns stops Feed or Finish, which return
  // it; the stream is then abandoned (call Reset before reusing the chunker).
  using Sink = std::function<Status(std::string chunk)>;

  // kInternal unless chunk_size is a multiple of kPageSize within
  // [kSmallestChunkSize, kLargestChunkSize].
  static Result<Chunker> Create(std::size_t chunk_size);

  // Appends `data` to the stream, handing every chunk it completes to `sink`.
  Status Feed(std::string_view data, const Sink& sink);

  // Ends the stream: hands the pending bytes (fewer than chunk_size) to `sink` as the last chunk,
  // if there are any. An empty stream, or one that ends on a chunk boundary, has no short chunk.
  // The chunker is then ready for a new stream.
  Status Finish(const Sink& sink);

  // Drops pending bytes and starts a new stream.
  void Reset();

  std::size_t chunk_size() const { return chunk_size_; }
  std::uint64_t stream_size() const { return stream_size_; }  // bytes fed in this stream

 private:
  explicit Chunker(std::size_t chunk_size) : chunk_size_(chunk_size) {}

  std::size_t chunk_size_;
  std::string pending_;  // the chunk being filled; capacity chunk_size_ once used
  std::uint64_t stream_size_ = 0;
};

}  // namespace drctl::io
