#include "daemon/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>
#include <vector>

namespace drctl::daemon {
namespace {

using command::Health;
using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// One metric family: its samples are written together, after its # HELP and # TYPE lines, as the
// text format requires. A family without samples is left out entirely.
class Family {
 public:
  Family(std::string_view name, std::string_view type, std::string_view help)
      : name_(name), type_(type), help_(help) {}

  void Add(Labels labels, double value) {
    if (std::isfinite(value)) AddFormatted(labels, fmt::format("{}", value));
  }
  void Add(Labels labels, std::int64_t value) { AddFormatted(labels, fmt::format("{}", value)); }
  void Add(Labels labels, std::uint64_t value) { AddFormatted(labels, fmt::format("{}", value)); }
  void Add(Labels labels, bool value) { AddFormatted(labels, value ? "1" : "0"); }
  void Add(Labels labels, int value) { Add(labels, static_cast<std::int64_t>(value)); }

  void WriteTo(std::string& out) const {
    if (samples_.empty()) return;
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, help_, name_, type_);
    for (const auto& sample : samples_) out += sample;
  }

 private:
  void AddFormatted(Labels labels, std::string_view value) {
    std::string line(name_);
    if (labels.size() > 0) {
      line += '{';
      bool first = true;
      for (const auto& [key, label_value] : labels) {
        if (!first) line += ',';
        first = false;
        line += fmt::format("{}=\"{}\"", key, EscapeLabelValue(label_value));
      }
      line += '}';
    }
    line += fmt::format(" {}\n", value);
    samples_.push_back(std::move(line));
  }

  std::string_view name_;
  std::string_view type_;
  std::string_view help_;
  std::vector<std::string> samples_;
};

constexpr std::string_view kGauge = "gauge";
constexpr std::string_view kCounter = "counter";

// 0 OK, 1 WARN, 2 FAIL: larger is worse, so `max by (repo)` gives a repository's state.
std::int64_t HealthValue(Health health) {
  switch (health) {
    case Health::kOk:
      return 0;
    case Health::kWarn:
      return 1;
    case Health::kFail:
      return 2;
  }
  return 2;
}

void WriteAll(std::string& out, std::initializer_list<const Family*> families) {
  for (const Family* family : families) family->WriteTo(out);
}

void RenderDaemon(const DaemonSnapshot& s, std::string& out) {
  Family build("drctl_build_info", kGauge, "The running drctl daemon's version (always 1).");
  Family started("drctl_daemon_start_time_seconds", kGauge, "When the daemon started (Unix time).");
  Family alerts("drctl_alerts_active", kGauge, "Alerts currently active.");
  Family stream_enabled("drctl_wal_stream_enabled", kGauge,
                        "1 when the daemon supervises a WAL stream ([daemon] wal_stream).");
  Family stream_up("drctl_wal_stream_up", kGauge, "1 while the supervised WAL stream runs.");
  Family stream_restarts("drctl_wal_stream_restarts_total", kCounter,
                         "Restarts of the WAL stream since the daemon started.");
  build.Add({{"version", s.version}}, true);
  started.Add({}, s.started_at);
  alerts.Add({}, static_cast<std::uint64_t>(s.alerts.size()));
  stream_enabled.Add({}, s.stream.enabled);
  if (s.stream.enabled) {
    stream_up.Add({}, s.stream.running);
    stream_restarts.Add({}, s.stream.restarts);
  }
  WriteAll(out, {&build, &started, &alerts, &stream_enabled, &stream_up, &stream_restarts});
}

void RenderObjectives(const command::StatusReport& report, std::string& out) {
  Family measured("drctl_status_measured_timestamp_seconds", kGauge,
                  "When the objectives were last measured (Unix time).");
  Family health("drctl_health", kGauge,
                "Worst state of all objectives of all repositories: 0 OK, 1 WARN, 2 FAIL.");
  Family postgres_up("drctl_postgres_up", kGauge,
                     "1 when PostgreSQL answered at the last measurement.");
  Family ok("drctl_objective_ok", kGauge, "1 when the objective is met (OK), 0 on WARN or FAIL.");
  Family state("drctl_objective_health", kGauge, "State of the objective: 0 OK, 1 WARN, 2 FAIL.");
  Family value("drctl_objective_value_seconds", kGauge,
               "Measured value of the objective (absent when it could not be measured).");
  Family target("drctl_objective_target_seconds", kGauge,
                "The configured objective ([objectives]).");
  if (report.measured_at != 0) {
    measured.Add({}, report.measured_at);
    health.Add({}, HealthValue(report.health));
    postgres_up.Add({}, report.postgres.reachable);
  }
  for (const auto& repo : report.repos) {
    for (const auto& check : repo.objectives) {
      const Labels labels = {{"repo", repo.facts.repo}, {"objective", check.name}};
      ok.Add(labels, check.health == Health::kOk);
      state.Add(labels, HealthValue(check.health));
      if (check.value_seconds) value.Add(labels, *check.value_seconds);
      target.Add(labels, check.objective_seconds);
    }
  }
  WriteAll(out, {&measured, &health, &postgres_up, &ok, &state, &value, &target});
}

const command::DrillPoint* NewestPassedDrill(const command::RepoFacts& facts) {
  // Drills are listed newest first.
  const auto it = std::ranges::find_if(facts.drills, [](const auto& d) { return d.ok; });
  return it == facts.drills.end() ? nullptr : &*it;
}

void RenderRepositories(const DaemonSnapshot& s, std::string& out) {
  const command::StatusReport& report = s.status;
  const std::int64_t now = s.now != 0 ? s.now : report.measured_at;
  Family up("drctl_repository_up", kGauge, "1 when the repository could be read.");
  Family health("drctl_repository_health", kGauge,
                "Worst objective state of the repository: 0 OK, 1 WARN, 2 FAIL.");
  Family exposure("drctl_rpo_exposure_seconds", kGauge,
                  "Data a disaster now would lose: 0 when the stored WAL reaches PostgreSQL's "
                  "position, else the age of the newest stored WAL.");
  Family lag("drctl_wal_lag_bytes", kGauge,
             "PostgreSQL's current WAL position minus the end of the newest stored segment.");
  Family newest_wal("drctl_newest_wal_timestamp_seconds", kGauge,
                    "When the newest WAL object was stored (Unix time).");
  Family backups("drctl_backups", kGauge, "Complete backups in the repository.");
  Family backup_time("drctl_newest_backup_timestamp_seconds", kGauge,
                     "When the newest backup finished (Unix time).");
  Family backup_age("drctl_newest_backup_age_seconds", kGauge,
                    "Age of the newest backup (since it finished).");
  Family backup_size("drctl_newest_backup_size_bytes", kGauge,
                     "Logical size of the newest backup (what a restore writes).");
  Family backup_new("drctl_newest_backup_new_bytes", kGauge,
                    "Bytes the newest backup added to the repository (after deduplication).");
  Family drill_rto("drctl_last_drill_rto_seconds", kGauge,
                   "Restore time measured by the newest successful drill.");
  Family drill_time("drctl_last_drill_success_timestamp_seconds", kGauge,
                    "When the newest successful drill started (Unix time).");
  Family drill_ok("drctl_last_drill_ok", kGauge,
                  "1 when the newest drill passed, 0 when it failed.");
  Family windows("drctl_recoverable_windows", kGauge,
                 "Continuous spans a point-in-time restore can reach (more than one per timeline "
                 "means a gap in the WAL).");
  Family since("drctl_recoverable_since_timestamp_seconds", kGauge,
               "The oldest point in time a restore can reach (Unix time).");
  Family until("drctl_recoverable_until_timestamp_seconds", kGauge,
               "The newest point in time a restore can reach (Unix time).");
  for (const auto& repo : report.repos) {
    const command::RepoFacts& f = repo.facts;
    const Labels labels = {{"repo", f.repo}};
    up.Add(labels, f.reachable);
    health.Add(labels, HealthValue(repo.health));
    if (repo.rpo_exposure_seconds) exposure.Add(labels, *repo.rpo_exposure_seconds);
    if (f.reachable && report.postgres.reachable && f.stored_end_lsn != 0) {
      const std::uint64_t current = report.postgres.current_lsn;
      lag.Add(labels, current > f.stored_end_lsn ? current - f.stored_end_lsn : std::uint64_t{0});
    }
    if (f.newest_wal_time) newest_wal.Add(labels, *f.newest_wal_time);
    if (f.reachable) backups.Add(labels, static_cast<std::uint64_t>(f.backups.size()));
    if (!f.backups.empty()) {
      const command::BackupPoint& newest = f.backups.back();
      backup_time.Add(labels, newest.stop_time);
      if (now != 0) backup_age.Add(labels, std::max<std::int64_t>(0, now - newest.stop_time));
      backup_size.Add(labels, newest.logical_size);
      backup_new.Add(labels, newest.new_bytes);
    }
    if (const command::DrillPoint* drill = NewestPassedDrill(f)) {
      drill_rto.Add(labels, drill->rto_seconds);
      drill_time.Add(labels, drill->time);
    }
    if (!f.drills.empty()) drill_ok.Add(labels, f.drills.front().ok);
    if (f.reachable) windows.Add(labels, static_cast<std::uint64_t>(f.windows.size()));
    std::optional<std::int64_t> oldest;
    std::optional<std::int64_t> newest;
    for (const auto& w : f.windows) {
      if (w.from_time != 0) oldest = std::min(oldest.value_or(w.from_time), w.from_time);
      newest = std::max(newest.value_or(w.to_time), w.to_time);
    }
    if (oldest) since.Add(labels, *oldest);
    if (newest) until.Add(labels, *newest);
  }
  WriteAll(out, {&up, &health, &exposure, &lag, &newest_wal, &backups, &backup_time, &backup_age,
                 &backup_size, &backup_new, &drill_rto, &drill_time, &drill_ok, &windows, &since,
                 &until});
}

void RenderJobs(const std::vector<JobView>& jobs, std::string& out) {
  Family running("drctl_job_running", kGauge, "1 while the job runs.");
  Family runs("drctl_job_runs_total", kCounter, "Finished runs since the daemon started.");
  Family failures("drctl_job_consecutive_failures", kGauge,
                  "Failed runs in a row (0 after a success).");
  Family duration("drctl_job_last_duration_seconds", kGauge, "How long the last run took.");
  Family last_end("drctl_job_last_run_timestamp_seconds", kGauge,
                  "When the last run ended (Unix time).");
  Family last_success("drctl_job_last_success_timestamp_seconds", kGauge,
                      "When the last successful run ended (Unix time).");
  Family bytes("drctl_job_last_bytes", kGauge,
               "Bytes the last successful run stored (backup: new bytes after deduplication).");
  Family next("drctl_job_next_run_timestamp_seconds", kGauge,
              "When the job runs next, scheduled or as a retry (Unix time).");
  for (const auto& job : jobs) {
    const Labels labels = {{"job", job.name}};
    running.Add(labels, job.running);
    runs.Add({{"job", job.name}, {"outcome", "ok"}}, job.runs_ok);
    runs.Add({{"job", job.name}, {"outcome", "failed"}}, job.runs_failed);
    failures.Add(labels, job.consecutive_failures);
    const bool ran = !job.last_outcome.empty() && job.last_end.has_value();
    if (ran) {
      duration.Add(labels, job.last_duration_seconds);
      last_end.Add(labels, *job.last_end);
    }
    if (job.last_success) last_success.Add(labels, *job.last_success);
    if (job.last_outcome == "ok" || job.runs_ok > 0 || job.last_bytes > 0) {
      bytes.Add(labels, job.last_bytes);
    }
    if (job.next_run != 0) next.Add(labels, job.next_run);
  }
  WriteAll(out, {&running, &runs, &failures, &duration, &last_end, &last_success, &bytes, &next});
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderMetrics(const DaemonSnapshot& s) {
  std::string out;
  RenderDaemon(s, out);
  RenderObjectives(s.status, out);
  RenderRepositories(s, out);
  RenderJobs(s.jobs, out);
  return out;
}

}  // namespace drctl::daemon
