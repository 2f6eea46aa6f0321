// When the daemon's jobs run (doc/commands/daemon.md, "Schedule"): the persisted record of each
// job and the pure rules that turn it into the next start time.
// - A run stands for a scheduled time (`last_scheduled`); the next run is the schedule's first
//   time after it. When that time has passed while nobody ran the job (daemon down, machine
//   asleep), it is due at once, and running it moves `last_scheduled` to now: one catch-up run,
//   however many were missed.
// - A failed run is retried after `retry`, doubling per consecutive failure up to `retry_max`,
//   or at the next scheduled time if that comes first. A success clears the failures.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/cron.h"
#include "common/result.h"

namespace drctl::daemon {

struct JobRecord {
  std::int64_t last_scheduled = 0;  // Unix seconds: the scheduled time the last run stood for
  std::int64_t last_start = 0;      // 0: never ran
  std::int64_t last_end = 0;
  std::string last_outcome;  // "ok" | "failed" | ""
  std::string last_error;
  double last_duration_seconds = 0;
  int consecutive_failures = 0;
  std::int64_t retry_at = 0;  // Unix seconds; 0: no retry pending
  std::uint64_t last_bytes = 0;
  std::int64_t last_success = 0;  // Unix seconds the last successful run ended
};

// The next start time of a job with `record` under `schedule`.
std::int64_t NextRun(const CronExpr& schedule, const JobRecord& record);

// The wait before retry number `failures` (1 = first retry): retry * 2^(failures-1), capped.
std::chrono::seconds RetryDelay(int failures, std::chrono::seconds retry,
                                std::chrono::seconds retry_max);

// Marks a run started at `now`: a scheduled (or catch-up) run moves last_scheduled to now; a
// retry (now >= retry_at, before the next scheduled time) keeps it.
void MarkStarted(const CronExpr& schedule, JobRecord& record, std::int64_t now);

// Records the end of a run. `bytes` is what it stored (0 if unknown).
void MarkFinished(JobRecord& record, std::int64_t now, bool ok, const std::string& error,
                  std::uint64_t bytes, std::chrono::seconds retry, std::chrono::seconds retry_max);

nlohmann::json RecordToJson(const JobRecord& record);
Result<JobRecord> RecordFromJson(const nlohmann::json& j);

}  // namespace drctl::daemon
