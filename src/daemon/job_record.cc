#include "daemon/job_record.h"

#include <algorithm>

namespace drctl::daemon {

std::int64_t NextRun(const CronExpr& schedule, const JobRecord& record) {
  const std::int64_t scheduled =
      schedule.Next(CronExpr::TimePoint(std::chrono::seconds(record.last_scheduled)))
          .time_since_epoch()
          .count();
  if (record.consecutive_failures > 0 && record.retry_at > 0) {
    return std::min(scheduled, record.retry_at);
  }
  return scheduled;
}

std::chrono::seconds RetryDelay(int failures, std::chrono::seconds retry,
                                std::chrono::seconds retry_max) {
  std::chrono::seconds delay = retry;
  for (int i = 1; i < failures && delay < retry_max; ++i) delay *= 2;
  return std::min(delay, retry_max);
}

void MarkStarted(const CronExpr& schedule, JobRecord& record, std::int64_t now) {
  const std::int64_t scheduled =
      schedule.Next(CronExpr::TimePoint(std::chrono::seconds(record.last_scheduled)))
          .time_since_epoch()
          .count();
  if (scheduled <= now) record.last_scheduled = now;  // a scheduled or catch-up run
  record.retry_at = 0;
  record.last_start = now;
}

void MarkFinished(JobRecord& record, std::int64_t now, bool ok, const std::string& error,
                  std::uint64_t bytes, std::chrono::seconds retry, std::chrono::seconds retry_max) {
  record.last_end = now;
  record.last_duration_seconds =
      static_cast<double>(std::max<std::int64_t>(0, now - record.last_start));
  record.last_outcome = ok ? "ok" : "failed";
  record.last_error = ok ? "" : error;
  if (ok) {
    record.consecutive_failures = 0;
    record.retry_at = 0;
    record.last_bytes = bytes;
    record.last_success = now;
  } else {
    record.consecutive_failures += 1;
    record.retry_at = now + RetryDelay(record.consecutive_failures, retry, retry_max).count();
  }
}

nlohmann::json RecordToJson(const JobRecord& r) {
  return {{"last_scheduled", r.last_scheduled},
          {"last_start", r.last_start},
          {"last_end", r.last_end},
          {"last_outcome", r.last_outcome},
          {"last_error", r.last_error},
          {"last_duration_seconds", r.last_duration_seconds},
          {"consecutive_failures", r.consecutive_failures},
          {"retry_at", r.retry_at},
          {"last_bytes", r.last_bytes},
          {"last_success", r.last_success}};
}

Result<JobRecord> RecordFromJson(const nlohmann::json& j) {
  try {
    JobRecord r;
    r.last_scheduled = j.at("last_scheduled").get<std::int64_t>();
    r.last_start = j.at("last_start").get<std::int64_t>();
    r.last_end = j.at("last_end").get<std::int64_t>();
    r.last_outcome = j.at("last_outcome").get<std::string>();
    r.last_error = j.at("last_error").get<std::string>();
    r.last_duration_seconds = j.at("last_duration_seconds").get<double>();
    r.consecutive_failures = j.at("consecutive_failures").get<int>();
    r.retry_at = j.at("retry_at").get<std::int64_t>();
    r.last_bytes = j.at("last_bytes").get<std::uint64_t>();
    r.last_success = j.value("last_success", std::int64_t{0});
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Fail(ErrorCode::kCorrupt, std::string("job record: ") + e.what());
  }
}

}  // namespace drctl::daemon
