#include "daemon/snapshot.h"

namespace drctl::daemon {
namespace {

nlohmann::json OptionalTime(const std::optional<std::int64_t>& t) {
  return t ? nlohmann::json(*t) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json SnapshotJson(const DaemonSnapshot& s) {
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : s.jobs) {
    jobs.push_back({{"name", j.name},
                    {"schedule", j.schedule},
                    {"running", j.running},
                    {"last_start", OptionalTime(j.last_start)},
                    {"last_end", OptionalTime(j.last_end)},
                    {"last_outcome", j.last_outcome},
                    {"last_error", j.last_error},
                    {"last_duration_seconds", j.last_duration_seconds},
                    {"consecutive_failures", j.consecutive_failures},
                    {"next_run", j.next_run},
                    {"runs_ok", j.runs_ok},
                    {"runs_failed", j.runs_failed},
                    {"last_bytes", j.last_bytes},
                    {"last_success", OptionalTime(j.last_success)}});
  }
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& r : s.recent) {
    recent.push_back({{"job", r.job},
                      {"start", r.start},
                      {"end", r.end},
                      {"outcome", r.outcome},
                      {"detail", r.detail}});
  }
  nlohmann::json alerts = nlohmann::json::array();
  for (const auto& a : s.alerts) {
    alerts.push_back({{"key", a.key}, {"message", a.message}, {"since", a.since}});
  }
  return {{"started_at", s.started_at},
          {"now", s.now},
          {"version", s.version},
          {"status", command::StatusJson(s.status)},
          {"jobs", jobs},
          {"recent", recent},
          {"alerts", alerts},
          {"stream",
           {{"enabled", s.stream.enabled},
            {"running", s.stream.running},
            {"restarts", s.stream.restarts},
            {"last_exit", s.stream.last_exit}}}};
}

}  // namespace drctl::daemon
