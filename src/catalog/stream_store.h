// Storing a byte stream of any size in the chunk store: cut into fixed-size chunks, each hashed,
// compressed, sealed and packed on a worker pool. Memory stays bounded: at most the pool's queue
// capacity plus one chunk per thread is in flight, plus one open pack per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catalog/chunk_store.h"
#include "io/worker_pool.h"

namespace drctl::catalog {

// Appends up to `max` bytes to `out`; returns how many (0 at the end).
using ReadFn = std::function<Result<std::size_t>(std::string& out, std::size_t max)>;

struct StoredStream {
  std::vector<ChunkId> chunks;  // in stream order
  std::uint64_t size = 0;
};

// Reads `read` to its end and stores it; returns the chunk list that reproduces it. Does not
// Commit: the caller commits once for many streams.
Result<StoredStream> StoreStream(const ReadFn& read, std::size_t chunk_size, ChunkStore& store,
                                 io::WorkerPool& pool);

// Writes the chunks of a stored stream, in order, to `write` (parallel fetching arrives with
// restore).
Result<std::uint64_t> RestoreStream(const std::vector<ChunkId>& chunks, ChunkStore& store,
                                    const std::function<Status(std::string_view)>& write);

}  // namespace drctl::catalog
