// What WAL a repository holds, summarised for an operator (drctl info): per timeline, the runs of
// consecutive stored segments, the gaps between them, whether the timeline's history file is
// stored, and how many partial segments and backup history files there are. A gap inside a
// timeline breaks point-in-time recovery across it; `drctl info` shows gaps so nobody has to
// infer them from a list of names.
//
// The names are file names as ListWal returns them (no directory). The catalog layer does not
// depend on postgres/, so WAL file names are parsed here with the same strict rules as
// postgres/wal_names.h: uppercase hex only, timeline >= 1, and a segment part below the number of
// segments per log id (0x100 for 16 MiB segments). Anything else is reported, never guessed at.
//
// Thread-safety: a pure function over values.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace drctl::catalog {

// PostgreSQL's default wal_segment_size; a repository does not record the cluster's.
inline constexpr std::uint64_t kDefaultWalSegmentSize = std::uint64_t{16} << 20;

// Consecutive segments `first` .. `last` (segment file names, inclusive): `count` segments.
struct WalRange {
  std::string first;
  std::string last;
  std::uint64_t count = 0;
  bool operator==(const WalRange&) const = default;
};

struct TimelineWal {
  std::uint32_t timeline = 0;
  std::vector<WalRange> ranges;      // stored segments: ascending, disjoint, never adjacent
  std::vector<WalRange> gaps;        // the missing segments between consecutive ranges (one fewer)
  bool history = false;              // "<timeline>.history" is stored
  std::uint64_t partial = 0;         // "<segment>.partial" files of this timeline
  std::uint64_t backup_history = 0;  // "<segment>.<offset>.backup" files of this timeline
  bool operator==(const TimelineWal&) const = default;
};

struct WalSummary {
  // Every timeline with at least one stored file (segment, partial, history or backup history),
  // ascending. A timeline may have a history file and no segment yet (ranges empty).
  std::vector<TimelineWal> timelines;
  std::uint64_t partial = 0;         // over all timelines
  std::uint64_t backup_history = 0;  // over all timelines
  // Names that are not WAL file names (e.g. "cluster.json", the cluster identity object under
  // wal/), in input order.
  std::vector<std::string> unrecognized;
  bool operator==(const WalSummary&) const = default;
};

// Summarises `names` (any order; duplicates count once). `segment_size` is the cluster's
// wal_segment_size: a power of two from 1 MiB to 1 GiB (the caller's guarantee).
WalSummary SummarizeWal(std::span<const std::string> names,
                        std::uint64_t segment_size = kDefaultWalSegmentSize);

}  // namespace drctl::catalog
