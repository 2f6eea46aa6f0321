// The content-addressed chunk store of one repository: chunks in packs, located through index
// objects (doc/format/repository.md). A chunk already stored (by any backup, file or time) is
// never stored again.
//
// Writing: Put() from any number of threads; each thread fills its own pack (at most one open pack
// per concurrent caller, each at most pack_size bytes: memory stays bounded) and uploads it when
// full. Commit() uploads the open packs, then writes one index object naming every chunk stored
// since the previous Commit: packs first, index last, so a crash before the index leaves only
// unreferenced packs (garbage for GC), never an index pointing at a missing pack.
//
// Reading: Get() fetches the blob with a range read and verifies it (authentication and chunk id).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "catalog/index.h"
#include "catalog/keys.h"
#include "catalog/pack.h"
#include "common/config.h"
#include "storage/storage.h"

namespace drctl::catalog {

struct ChunkIdHash {
  std::size_t operator()(const ChunkId& id) const {
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(h); ++i) h = (h << 8) | id[i];
    return h;
  }
};

struct ChunkLocation {
  PackId pack_id{};
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

struct ChunkStoreStats {
  std::uint64_t chunks_put = 0;    // Put calls
  std::uint64_t chunks_new = 0;    // chunks actually stored
  std::uint64_t bytes_put = 0;     // plaintext bytes passed to Put
  std::uint64_t bytes_new = 0;     // plaintext bytes of new chunks
  std::uint64_t bytes_stored = 0;  // sealed bytes written to packs
  std::uint64_t packs_written = 0;
  std::uint64_t indexes_written = 0;
};

class ChunkStore {
 public:
  static constexpr std::size_t kDefaultPackSize = 32U << 20;

  // `storage` must outlive the store.
  ChunkStore(storage::Storage& storage, const MasterKey& master, Compression compression,
             std::size_t pack_size = kDefaultPackSize);
  ~ChunkStore();
  ChunkStore(const ChunkStore&) = delete;
  ChunkStore& operator=(const ChunkStore&) = delete;

  // Reads every index object. Any unreadable or damaged index is an error: a partial view could
  // make data look absent (and a later GC delete it).
  Status LoadIndexes();

  bool Contains(const ChunkId& id) const;
  // Where the indexes say a chunk is (nullopt if no index names it).
  std::optional<ChunkLocation> Locate(const ChunkId& id) const;
  std::size_t size() const;

  // Stores `chunk` unless the repository has it; returns its id. Thread-safe.
  Result<ChunkId> Put(std::string_view chunk);

  // Makes every chunk Put since the last Commit durable and visible (packs, then an index).
  Status Commit();

  // When on, every uploaded pack gets its own index object at once, so a process killed mid-way
  // loses at most the packs still open (one per thread): a backup that is cut off leaves its
  // uploaded chunks visible, and the next one reuses them. Call before any Put.
  void set_index_every_pack(bool on) { index_every_pack_ = on; }

  // Fetches and verifies one chunk. Thread-safe.
  Result<std::string> Get(const ChunkId& id);

  ChunkStoreStats stats() const;
  const MasterKey& master() const { return master_; }

 private:
  Result<std::unique_ptr<PackBuilder>> TakeBuilder();
  Status UploadPack(std::unique_ptr<PackBuilder> builder);
  Status WriteIndex(std::vector<IndexEntry> entries);

  storage::Storage& storage_;
  MasterKey master_;
  Compression compression_;
  std::size_t pack_size_;
  bool index_every_pack_ = false;

  mutable std::mutex mu_;
  std::unordered_map<ChunkId, ChunkLocation, ChunkIdHash> known_;  // committed or uploaded
  std::unordered_set<ChunkId, ChunkIdHash> in_flight_;             // sealed, pack not uploaded
  std::vector<std::unique_ptr<PackBuilder>> idle_builders_;
  std::vector<IndexEntry> uncommitted_;  // in uploaded packs, not yet in an index
  ChunkStoreStats stats_;
};

}  // namespace drctl::catalog
