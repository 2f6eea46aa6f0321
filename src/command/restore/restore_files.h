// Writing a backup's files into the target directories: directories and tablespace links first
// (by the calling thread, in manifest order), then every chunk of every file fetched, verified,
// decrypted and decompressed on the worker pool and written at its offset (FileWriter: whole
// pages with O_DIRECT where the filesystem allows it). With `delta`, a chunk whose bytes are
// already in place (same chunk id) is neither fetched nor written, files are cut to their size,
// and files and directories the backup does not have are removed. Durability is the caller's
// (syncfs once per filesystem at the end).
#pragma once

#include <cstdint>

#include "catalog/fallback_reader.h"
#include "command/progress.h"
#include "command/restore/restore_plan.h"
#include "io/worker_pool.h"

namespace drctl::command {

struct RestoreFileStats {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;  // logical size of the restored files
  std::uint64_t chunks_fetched = 0;
  std::uint64_t chunks_kept = 0;    // delta: already in place
  std::uint64_t files_removed = 0;  // delta: not in the backup
};

// kCorrupt if a chunk does not have the size its position needs; the reader's error otherwise.
Result<RestoreFileStats> RestoreFiles(const RestorePlan& plan, bool delta,
                                      catalog::FallbackReader& reader, io::WorkerPool& pool,
                                      Progress& progress);

}  // namespace drctl::command
