#include "catalog/stream_store.h"

#include <deque>
#include <memory>

namespace drctl::catalog {

Result<StoredStream> StoreStream(const ReadFn& read, std::size_t chunk_size, ChunkStore& store,
                                 io::WorkerPool& pool) {
  StoredStream out;
  std::deque<ChunkId> ids;  // element addresses stay valid as it grows
  while (true) {
    auto chunk = std::make_shared<std::string>();
    chunk->reserve(chunk_size);
    while (chunk->size() < chunk_size) {
      auto n = read(*chunk, chunk_size - chunk->size());
      if (!n) {
        (void)pool.Wait();
        return std::unexpected(n.error());
      }
      if (*n == 0) break;
    }
    if (chunk->empty()) break;
    out.size += chunk->size();
    const bool last = chunk->size() < chunk_size;
    ChunkId* slot = &ids.emplace_back();
    auto submitted = pool.Submit([chunk, slot, &store]() -> Status {
      auto id = store.Put(*chunk);
      if (!id) return std::unexpected(id.error());
      *slot = *id;
      return Ok();
    });
    if (!submitted) {
      (void)pool.Wait();
      return std::unexpected(submitted.error());
    }
    if (last) break;
  }
  DRCTL_TRY(pool.Wait());
  out.chunks.assign(ids.begin(), ids.end());
  return out;
}

Result<std::uint64_t> RestoreStream(const std::vector<ChunkId>& chunks, ChunkStore& store,
                                    const std::function<Status(std::string_view)>& write) {
  std::uint64_t written = 0;
  for (const auto& id : chunks) {
    auto chunk = store.Get(id);
    if (!chunk) return std::unexpected(chunk.error());
    DRCTL_TRY(write(*chunk));
    written += chunk->size();
  }
  return written;
}

}  // namespace drctl::catalog
