// The WAL that makes a backup consistent (from the segment of its start LSN to the segment that
// holds its stop LSN), copied from the server's pg_wal into the repository before the backup is
// listed. The backup's temporary replication slot keeps these segments in pg_wal until then; a
// segment the archiver already stored through drctl is identical and is not written again.
#pragma once

#include <cstdint>
#include <filesystem>

#include "catalog/keys.h"
#include "common/config.h"
#include "io/worker_pool.h"
#include "postgres/wal_names.h"
#include "storage/storage.h"

namespace drctl::command {

struct BackupWalRange {
  pg::TimelineId timeline = 1;
  pg::Lsn start_lsn = 0;
  pg::Lsn stop_lsn = 0;
  std::uint64_t segment_size = pg::kDefaultWalSegmentSize;
};

struct BackupWalStats {
  std::uint64_t segments = 0;
  std::uint64_t stored_bytes = 0;  // 0 for segments that were already in the repository
};

// First and last segment names of the range (the last holds the byte before stop_lsn).
std::string FirstSegment(const BackupWalRange& range);
std::string LastSegment(const BackupWalRange& range);

// Stores every segment of `range` (and the backup history file, if pg_wal still has it) from
// `pgdata`/pg_wal, on `pool`. kNotFound naming the segment if pg_wal lacks one.
Result<BackupWalStats> StoreBackupWal(storage::Storage& storage, const catalog::MasterKey& master,
                                      const std::filesystem::path& pgdata,
                                      const BackupWalRange& range, const Compression& compression,
                                      io::WorkerPool& pool);

}  // namespace drctl::command
