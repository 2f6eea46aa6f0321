// Point-in-time recovery: the target an operator names (time, transaction, LSN, restore point,
// or the backup's consistency point), which backup can reach it, whether the stored WAL covers it,
// and the recovery settings that make PostgreSQL replay to it (restore_command = drctl wal get).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "common/result.h"
#include "storage/storage.h"

namespace drctl::command {

enum class TargetKind : std::uint8_t { kEndOfArchive, kImmediate, kTime, kXid, kLsn, kName };

struct RecoveryTarget {
  TargetKind kind = TargetKind::kEndOfArchive;
  std::string value;                // as given (time, xid, lsn, name)
  bool exclusive = false;           // stop just before the target instead of just after
  std::string timeline = "latest";  // latest | current | N
  std::string action = "promote";   // promote | pause | shutdown
  // Parsed forms (set by ParseRecoveryTarget).
  std::int64_t time_micros = 0;  // kTime: Unix microseconds (UTC)
  std::uint64_t xid = 0;         // kXid
  std::uint64_t lsn = 0;         // kLsn
};

// Builds the target from the CLI flags; at most one of time/xid/lsn/name/immediate may be set.
// Times need an explicit zone ("2026-11-25 21:00:00+00", "2026-11-25T21:00:00.5Z"): the
// restored server would otherwise read them in its own TimeZone. kUsage for anything invalid.
Result<RecoveryTarget> ParseRecoveryTarget(const std::string& time, const std::string& xid,
                                           const std::string& lsn, const std::string& name,
                                           bool immediate, bool exclusive,
                                           const std::string& timeline, const std::string& action);

// "time 2026-11-25 21:00:00+00 (exclusive)", for messages.
std::string DescribeTarget(const RecoveryTarget& target);

// The newest of `backups` (sorted oldest first) that ends before the target, so that replaying
// from it can reach the target; nullopt if none does. Name and end-of-archive targets take the
// newest backup.
std::optional<std::size_t> PickBackup(const std::vector<catalog::Manifest>& backups,
                                      const RecoveryTarget& target);

// The recoverable window from a backup on its timeline: the WAL stored continuously from the
// backup's first segment on (`names` as ListWal gives them, with the objects' mtimes).
struct WalWindow {
  std::string last_segment;        // the last segment of the run ("<seg>.partial" if it ends so)
  std::int64_t last_archived = 0;  // Unix seconds its object was stored (upper bound of its times)
  std::string gap_after;           // the first missing segment after the run ("" if none known)
};
struct StoredWal {
  std::string name;
  std::int64_t mtime = 0;
};
WalWindow ContinuousWal(const catalog::Manifest& backup, const std::vector<StoredWal>& stored);

// The WAL objects of a repository with their mtimes.
Result<std::vector<StoredWal>> ListStoredWal(storage::Storage& storage);

// Refuses (kPrecondition, naming the window) a time or LSN target the stored WAL cannot reach
// from `backup`.
Status CheckWindow(const catalog::Manifest& backup, const RecoveryTarget& target,
                   const WalWindow& window, const std::string& repo);

// The lines drctl appends to postgresql.auto.conf (after removing earlier recovery settings).
std::string RecoverySettings(const RecoveryTarget& target, const std::string& restore_command);

// Writes recovery.signal and the settings into `pgdata` (durably).
Status WriteRecoveryConfig(const std::filesystem::path& pgdata, const RecoveryTarget& target,
                           const std::string& restore_command);

}  // namespace drctl::command
