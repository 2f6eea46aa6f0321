// The file pipeline of a backup: every entry of the PGDATA walk becomes a manifest entry. Regular
// files are read by the calling thread in chunks of the repository's chunk size; each chunk goes
// to the worker pool, which checks its pages' checksums (relation files), then hashes,
// compresses, seals and packs it (ChunkStore::Put). Memory is the pool's queue of chunks.
//
// A file whose size and modification time (nanoseconds) equal the previous backup's record, and
// whose time is older than that backup's start by more than kReuseMarginSeconds, cannot have
// changed since it was read (any write moves mtime past the previous start): its chunk list is
// reused without reading it. `read_all` turns this off (filesystems that do not keep mtime).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "catalog/chunk_store.h"
#include "catalog/manifest.h"
#include "command/progress.h"
#include "io/worker_pool.h"
#include "postgres/pgdata_walk.h"

namespace drctl::command {

inline constexpr std::int64_t kReuseMarginSeconds = 2;

struct FileStoreOptions {
  std::size_t chunk_size = 1U << 20;
  bool verify_checksums = true;          // the cluster has data checksums
  std::uint64_t checksum_lsn_limit = 0;  // pages at or past this LSN are not checked
  // Files recorded by the previous backup of this cluster (null: none), and its start time.
  const std::unordered_map<std::string, const catalog::ManifestFile*>* previous = nullptr;
  std::int64_t previous_start_time = 0;
  bool read_all = false;
  // Called by the reading thread between files (e.g. to refresh the repository lock); an error
  // stops the backup.
  std::function<Status()> heartbeat;
};

struct FileStoreStats {
  std::uint64_t files = 0;  // regular files in the manifest
  std::uint64_t files_read = 0;
  std::uint64_t files_reused = 0;  // unchanged since the previous backup: not read
  std::uint64_t bytes_read = 0;
  std::uint64_t bytes_reused = 0;
  std::uint64_t files_vanished = 0;     // removed by the server between walk and read
  std::uint64_t checksum_failures = 0;  // pages
  bool interrupted = false;             // SIGINT/SIGTERM: stopped early, the result is incomplete
};

// Turns the walk into manifest entries, storing what must be read. Does not Commit the store.
// kIo naming the file for read errors other than a vanished file; the store's error if a chunk
// cannot be stored. On interruption (InterruptScope) it returns what it has with
// stats->interrupted set, after every submitted chunk is stored.
Result<std::vector<catalog::ManifestFile>> StoreFiles(const std::vector<pg::PgFile>& files,
                                                      const FileStoreOptions& options,
                                                      catalog::ChunkStore& store,
                                                      io::WorkerPool& pool, Progress& progress,
                                                      FileStoreStats* stats);

}  // namespace drctl::command
