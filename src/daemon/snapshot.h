// What the daemon knows at one moment: the measured objectives (command/status), its jobs, its
// active alerts and the WAL stream it supervises. The HTTP endpoint renders it as /status (JSON),
// /metrics (Prometheus text) and the status page. A value: copied out under the daemon's lock.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "command/status/status_report.h"

namespace drctl::daemon {

struct JobView {
  std::string name;      // "backup", "expire", "verify", "drill", "sync"
  std::string schedule;  // its cron expression
  bool running = false;
  std::optional<std::int64_t> last_start;  // Unix seconds
  std::optional<std::int64_t> last_end;
  std::string last_outcome;  // "ok", "failed", "" (never ran)
  std::string last_error;    // the failed run's error line
  double last_duration_seconds = 0;
  int consecutive_failures = 0;
  std::int64_t next_run = 0;  // Unix seconds: the next scheduled run or retry
  std::uint64_t runs_ok = 0;  // since the daemon started
  std::uint64_t runs_failed = 0;
  std::uint64_t last_bytes = 0;  // bytes the last successful run stored (backup: new bytes)
  std::optional<std::int64_t> last_success;  // when the last successful run ended
};

struct AlertView {
  std::string key;      // "objective:rpo:s3", "job:backup"
  std::string message;  // what is wrong, for a human
  std::int64_t since = 0;
};

struct StreamView {
  bool enabled = false;
  bool running = false;
  int restarts = 0;
  std::string last_exit;  // "exit 3: <error line>" of the last run that ended
};

struct RecentRun {
  std::string job;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::string outcome;  // "ok" | "failed"
  std::string detail;   // summary or error line
};

struct DaemonSnapshot {
  std::int64_t started_at = 0;  // Unix seconds
  std::int64_t now = 0;
  std::string version;
  command::StatusReport status;  // measured_at == 0: not measured yet
  std::vector<JobView> jobs;
  std::vector<RecentRun> recent;  // newest first, at most 20
  std::vector<AlertView> alerts;  // active
  StreamView stream;
};

nlohmann::json SnapshotJson(const DaemonSnapshot& snapshot);

}  // namespace drctl::daemon
