// Retention planning (drctl expire, doc/commands/expire.md): which backups a repository keeps
// under the [retention] rules, which it deletes, and which WAL objects are no longer needed by
// anything kept. A pure function over values: no storage, no clock (the caller passes `now`), so
// the whole policy is unit-tested and replayable.
//
// The rules, precisely (the contract the tests check):
// - Only complete backups count for the rules ("complete" and "complete with checksum failures":
//   the latter restore to what PostgreSQL itself had, so they count). An incomplete backup is
//   deleted when it started before the newest complete backup, kept (as "incomplete") otherwise.
// - Backups are ordered by start time, then start LSN, then backup id (as LoadManifests sorts).
// - keep_last = N: the N newest complete backups.
// - hourly/daily/weekly/monthly/yearly = N: a backup's period is that of its start time in UTC
//   (ISO 8601 weeks, Monday to Sunday). Of the N most recent periods that HAVE a complete backup,
//   the newest complete backup of each is kept. Periods without a backup do not count: a backup
//   outage never makes retention delete more. 0 keeps nothing by that rule.
// - pitr = D: every moment of [now - D, end of the archive] stays restorable. The window's base
//   is the newest complete backup whose stop time is <= now - D (or the oldest complete backup if
//   none is); it is kept ("pitr"), and so is all WAL from its start segment on, on its timeline
//   and every higher one. Every complete backup that ended inside the window (stop time >
//   now - D) is kept too ("pitr window"): it becomes the base as the window slides, so the WAL
//   kept stays bounded by about D plus the time between backups.
// - The newest complete backup is always kept (rule "newest" if no other rule keeps it).
// - WAL: a segment (or partial segment, or backup history file) is kept if a kept complete
//   backup needs it to be consistent (its start segment to its stop segment, on the timelines
//   from its start to its stop timeline), if the PITR window needs it, or if it belongs to the
//   live archive: at or after the newest complete backup's start segment (any timeline), or on a
//   timeline higher than that backup's. Everything else is deleted. Timeline history files and
//   names that are not WAL file names are never deleted. With no complete backup, no WAL is
//   deleted.
// Segments are compared by (log, segment) number, so any wal_segment_size orders correctly.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/config.h"

namespace drctl::catalog {

enum class RetentionStatus : std::uint8_t {
  kComplete,
  kCompleteWithChecksumFailures,  // counts as complete
  kIncomplete,                    // failed or still running: never counts for a rule
};

struct RetentionBackup {
  std::string backup_id;
  RetentionStatus status = RetentionStatus::kComplete;
  std::int64_t start_time = 0;  // Unix seconds
  std::int64_t stop_time = 0;
  std::uint64_t start_lsn = 0;
  std::string start_wal;  // segment names (24 uppercase hex digits); timelines are in the names
  std::string stop_wal;
};

struct KeptBackup {
  std::string backup_id;
  // Why it is kept, in rule order: "keep_last", "hourly 2026-11-25T18", "daily 2026-11-25",
  // "weekly 2026-W48", "monthly 2026-11", "yearly 2026", "pitr", "pitr window", "newest",
  // "incomplete".
  std::vector<std::string> reasons;
  bool operator==(const KeptBackup&) const = default;
};

struct RetentionPlan {
  std::vector<KeptBackup> keep;     // oldest first
  std::vector<std::string> expire;  // backup ids to delete, oldest first
  // WAL file names (as ListWal gives them) to delete, in input order.
  std::vector<std::string> wal_delete;
  std::optional<std::string> pitr_base;  // the PITR window's base backup, when pitr is set
  std::int64_t pitr_from = 0;            // now - pitr (when pitr is set)
};

// True if at least one rule is set (a plan without any rule keeps only the newest backup: the
// expire command refuses that rather than guess).
bool HasRetentionRule(const RetentionConfig& rules);

// Plans retention for `backups` (any order; ids distinct) and the stored WAL `wal_names` at Unix
// time `now`. Never expires the newest complete backup; never deletes WAL a kept complete backup
// needs.
RetentionPlan PlanRetention(std::span<const RetentionBackup> backups,
                            std::span<const std::string> wal_names, const RetentionConfig& rules,
                            std::int64_t now);

// The period label of Unix time `t` (UTC) for a rule: "hourly" → "2026-11-25T18",
// "daily" → "2026-11-25", "weekly" → "2026-W48" (ISO week-numbering year), "monthly" →
// "2026-11", "yearly" → "2026". Labels of one rule sort like their periods.
std::string RetentionPeriod(std::string_view rule, std::int64_t t);

}  // namespace drctl::catalog
