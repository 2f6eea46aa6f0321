// Copying between sibling repositories (same master key): what one lacks is copied from the
// other byte for byte, without decrypting. Packs go first, then indexes (an index only ever
// arrives after its packs), then WAL, then manifests (a backup only ever arrives after its chunks
// and WAL), so a copy interrupted at any point leaves the target valid.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/result.h"
#include "storage/storage.h"

namespace drctl::catalog {

struct SyncStats {
  std::uint64_t objects_copied = 0;
  std::uint64_t bytes_copied = 0;
  std::uint64_t objects_missing = 0;  // what the target lacked (copied unless dry_run)
};

// Copies every pack, index, WAL object and manifest `from` has and `to` lacks (by key; a partial
// segment also when its size differs: a newer upload). With `dry_run`, only counts. `progress` (may
// be empty) is told each key as it is copied.
Result<SyncStats> CopyMissing(storage::Storage& from, storage::Storage& to, bool dry_run,
                              const std::function<void(const std::string&)>& progress = {});

}  // namespace drctl::catalog
