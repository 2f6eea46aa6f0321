// Garbage collection: mark and sweep over the chunk store (doc/format/repository.md, "Garbage
// collection"). The caller marks: `live` holds every chunk some manifest references. GC takes the
// exclusive lock (so no writer runs meanwhile), refuses to run unless every index reads and
// authenticates (a damaged index must not make data look unreferenced), and deletes in an order
// that leaves the repository valid if it is interrupted: new index, then old indexes, then packs.
// Objects younger than the grace period are never deleted.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_set>

#include "catalog/chunk_store.h"
#include "catalog/keys.h"
#include "storage/storage.h"

namespace drctl::catalog {

using ChunkSet = std::unordered_set<ChunkId, ChunkIdHash>;

struct GcOptions {
  std::chrono::seconds grace = std::chrono::hours(1);
  bool dry_run = false;
  std::optional<std::int64_t> now;  // injectable clock (Unix seconds) for tests
};

struct GcStats {
  std::uint64_t packs_total = 0;
  std::uint64_t packs_deleted = 0;
  std::uint64_t packs_young_kept = 0;  // unreferenced but within the grace period
  std::uint64_t bytes_freed = 0;
  std::uint64_t indexes_replaced = 0;
  std::uint64_t chunks_dropped = 0;  // index entries of deleted packs
  std::uint64_t locks_expired_removed = 0;
};

// `mark` computes the live set once GC holds its exclusive lock, so that no backup can commit
// between the mark and the sweep (a backup that committed in between could reuse chunks a mark
// taken earlier missed). Use this one.
Result<GcStats> MarkAndCollectGarbage(storage::Storage& storage, const MasterKey& master,
                                      const std::function<Result<ChunkSet>()>& mark,
                                      const GcOptions& options = {});

// With a live set computed by the caller beforehand: only safe when nothing can commit a backup
// meanwhile (tests, dry runs).
Result<GcStats> CollectGarbage(storage::Storage& storage, const MasterKey& master,
                               const ChunkSet& live, const GcOptions& options = {});

}  // namespace drctl::catalog
