// What `drctl status` and the daemon measure: per repository, the RPO exposure (what a disaster
// right now would lose), the newest backup's age, the time since the last successful drill and
// the last measured RTO, each against [objectives] with OK / WARN / FAIL (doc/commands/status.md).
//
// Measuring (reading repositories and PostgreSQL) is separate from judging (EvaluateObjectives, a
// pure function), so the rules are unit-tested without servers.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/key_slot.h"
#include "common/config.h"

namespace drctl::command {

// A duration for humans, in its two most significant units, rounded to seconds: 252 -> "4m 12s",
// 900 -> "15m", 90061 -> "1d 1h", 0.4 -> "0s".
std::string HumanDuration(double seconds);

enum class Health : std::uint8_t { kOk, kWarn, kFail };
std::string_view HealthName(Health health);  // "OK", "WARN", "FAIL"
Health Worst(Health a, Health b);

// One objective of one repository, judged.
struct ObjectiveCheck {
  std::string name;  // "rpo", "backup_age", "drill_age", "rto"
  Health health = Health::kOk;
  std::optional<double> value_seconds;  // nullopt: not measurable (never happened, unreachable)
  double objective_seconds = 0;
  std::string detail;  // one line for an operator: what was measured and, if not OK, what to do
};

struct BackupPoint {
  std::string id;
  std::int64_t start_time = 0;  // Unix seconds
  std::int64_t stop_time = 0;
  std::uint64_t logical_size = 0;
  std::uint64_t new_bytes = 0;
  bool checksum_failures = false;
};

struct DrillPoint {
  std::string id;
  std::int64_t time = 0;  // Unix seconds it started
  bool ok = false;
  double rto_seconds = 0;
  std::string failed_step;  // empty when ok
};

// A span a point-in-time restore can reach (restore/recoverable_window.h), in wall-clock terms.
struct WindowSpan {
  std::uint32_t timeline = 0;
  std::int64_t from_time = 0;  // Unix seconds (0: starts at a timeline switch, time unknown)
  std::int64_t to_time = 0;    // Unix seconds the last continuous WAL was stored
  std::string from;            // "backup <id>" or "switch from timeline <N>"
  std::string from_lsn;        // "0/3000028"
  std::string to_lsn;
};

// What was read from one repository (facts, before judging).
struct RepoFacts {
  std::string repo;
  std::string url;
  bool reachable = false;
  std::string error;  // why not reachable (the error's one-line form)
  // The newest WAL object (segment or partial): its name and when it was stored.
  std::string newest_wal;
  std::optional<std::int64_t> newest_wal_time;
  std::uint64_t stored_end_lsn = 0;  // end of the newest whole segment on the newest timeline
  std::vector<BackupPoint> backups;  // complete backups, oldest first
  std::vector<DrillPoint> drills;    // newest first (at most 20)
  std::vector<WindowSpan> windows;
};

struct RepoStatus {
  RepoFacts facts;
  std::optional<double> rpo_exposure_seconds;
  std::vector<ObjectiveCheck> objectives;
  Health health = Health::kOk;
};

// What was read from PostgreSQL: its current WAL position, if it could be asked.
struct PostgresPosition {
  bool reachable = false;
  std::string error;
  std::uint64_t current_lsn = 0;  // pg_current_wal_lsn() (or the replay position on a standby)
  std::uint32_t timeline = 0;
};

struct StatusReport {
  std::int64_t measured_at = 0;  // Unix seconds
  PostgresPosition postgres;
  std::vector<RepoStatus> repos;
  Health health = Health::kOk;  // the worst of all
};

// Judges `repo` against `objectives` at `now`:
// - rpo: 0 when PostgreSQL is reachable and its current position is inside the stored WAL;
//   otherwise now minus the newest stored WAL's time. WARN above 3/4 of the objective, FAIL above
//   it or when nothing was ever stored or the repository cannot be read.
// - backup_age: now minus the newest backup's stop time; FAIL above the objective or with none.
// - drill_age: now minus the newest passed drill's start; FAIL above the objective or with none;
//   WARN when the newest drill failed.
// - rto: the newest passed drill's RTO; WARN above 3/4, FAIL above the objective; WARN if never
//   measured.
RepoStatus EvaluateObjectives(const RepoFacts& repo, const PostgresPosition& postgres,
                              const ObjectivesConfig& objectives, std::int64_t now);

// Reads one repository's facts; a repository that cannot be read gives reachable=false and error.
// `cache` (optional) keeps unwrapped key-slot keys between calls (catalog/memory_kek_cache.h).
RepoFacts MeasureRepo(const Config& config, const RepoConfig& repo,
                      catalog::KekCache* cache = nullptr);

// Reads PostgreSQL's current WAL position ([postgres] conninfo); never fatal.
PostgresPosition MeasurePostgres(const Config& config);

// Measures PostgreSQL ([postgres] conninfo; never fatal) and every configured repository (or the
// one `repo` names), then judges them. A repository that cannot be read is reported, not fatal.
Result<StatusReport> MeasureStatus(const Config& config, const std::string& repo = {});

nlohmann::json StatusJson(const StatusReport& report);
std::string StatusText(const StatusReport& report);

}  // namespace drctl::command
