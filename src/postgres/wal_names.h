// PostgreSQL's WAL vocabulary: LSNs ("16/B374D848"), WAL file names (segments
// "000000010000000000000003", partial segments "...03.partial", timeline history files
// "00000002.history", backup history files "...03.00000028.backup") and timeline history file
// contents. Every parser here reads bytes from outside drctl (archive_command arguments, object
// keys, files in pg_wal) and is strict: anything else is kCorrupt or kUsage, never a guess.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::pg {

using Lsn = std::uint64_t;
using TimelineId = std::uint32_t;

inline constexpr std::uint64_t kDefaultWalSegmentSize = 16U << 20;

// "X/Y" with X and Y hexadecimal, as pg_current_wal_lsn() prints.
Result<Lsn> ParseLsn(std::string_view text);
std::string FormatLsn(Lsn lsn);

enum class WalFileKind : std::uint8_t { kSegment, kPartial, kHistory, kBackupHistory };

struct WalFileName {
  WalFileKind kind = WalFileKind::kSegment;
  TimelineId timeline = 0;
  std::uint64_t segment = 0;        // segment number (log * segments_per_log + seg); 0 for history
  std::uint32_t backup_offset = 0;  // kBackupHistory: offset of the backup start in the segment
};

// Parses a file name (no directory). `segment_size` is the cluster's wal_segment_size (a power of
// two, 1 MiB to 1 GiB). kUsage for anything that is not a WAL file name.
Result<WalFileName> ParseWalFileName(std::string_view name,
                                     std::uint64_t segment_size = kDefaultWalSegmentSize);

// The segment file name for timeline `tli` holding `segment`.
std::string SegmentFileName(TimelineId tli, std::uint64_t segment,
                            std::uint64_t segment_size = kDefaultWalSegmentSize);
std::string HistoryFileName(TimelineId tli);

// The segment that holds `lsn`.
inline std::uint64_t SegmentOf(Lsn lsn, std::uint64_t segment_size = kDefaultWalSegmentSize) {
  return lsn / segment_size;
}

// One line of a timeline history file: "parent_tli<TAB>switch_lsn<TAB>reason".
struct TimelineSwitch {
  TimelineId parent = 0;
  Lsn switch_lsn = 0;
  std::string reason;
};

// Parses the contents of "<tli>.history"; comments (#) and blank lines are skipped. Parents must
// increase and the file must not be empty of entries for a timeline above 1.
Result<std::vector<TimelineSwitch>> ParseTimelineHistory(std::string_view text,
                                                         const std::string& where);

}  // namespace drctl::pg
