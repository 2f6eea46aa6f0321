// The recoverable windows of a repository, per timeline (drctl info): the spans of WAL positions
// a point-in-time restore can reach. A window starts where a backup becomes consistent (its stop
// point) and ends where the WAL stored continuously after the backup's start ends; windows of
// several backups that overlap are merged. A timeline without a backup of its own is reachable
// from its parent's window when that contains the switch point (its history file), from the
// switch point on.
//
// Thread-safety: a pure function over values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "command/restore/recovery_target.h"
#include "postgres/wal_names.h"

namespace drctl::command {

struct RecoverableWindow {
  std::uint32_t timeline = 0;
  pg::Lsn from_lsn = 0;
  std::int64_t from_time = 0;    // Unix seconds; 0 when it starts at a timeline switch
  std::string from;              // "backup <id>" or "switch from timeline <N>"
  pg::Lsn to_lsn = 0;            // the end of the last continuous whole segment
  std::int64_t to_archived = 0;  // Unix seconds that segment was stored: its times are earlier
  std::string partial;  // "<next segment>.partial" stored after the run (reaches a little further)
  std::string gap_after;  // the first missing segment after the run, when more WAL follows it
};

// `backups`: complete ones (any order). `stored`: the repository's WAL objects with mtimes.
// `histories`: parsed history files by timeline. Result: by timeline, then position.
std::vector<RecoverableWindow> RecoverableWindows(
    const std::vector<catalog::Manifest>& backups, const std::vector<StoredWal>& stored,
    const std::map<std::uint32_t, std::vector<pg::TimelineSwitch>>& histories);

}  // namespace drctl::command
