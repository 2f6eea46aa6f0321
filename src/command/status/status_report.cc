#include "command/status/status_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>

#include "catalog/backup_catalog.h"
#include "catalog/json_fields.h"
#include "catalog/manifest.h"
#include "command/drill/drill_report.h"
#include "command/repo/info_windows.h"
#include "command/repo/repo_open.h"
#include "postgres/connection.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

constexpr double kWarnRatio = 0.75;

ObjectiveCheck Judge(std::string name, std::optional<double> value, Seconds objective,
                     bool warn_near) {
  ObjectiveCheck c;
  c.name = std::move(name);
  c.value_seconds = value;
  c.objective_seconds = static_cast<double>(objective.count());
  if (!value || *value > c.objective_seconds) {
    c.health = Health::kFail;
  } else if (warn_near && *value > c.objective_seconds * kWarnRatio) {
    c.health = Health::kWarn;
  }
  return c;
}

std::string OfObjective(const ObjectiveCheck& c) {
  return HumanDuration(*c.value_seconds) + " of " + HumanDuration(c.objective_seconds);
}

ObjectiveCheck JudgeRpo(const RepoFacts& repo, const PostgresPosition& pg, Seconds objective,
                        std::int64_t now, std::optional<double>& exposure) {
  if (repo.newest_wal_time) {
    const bool caught_up = pg.reachable && pg.current_lsn <= repo.stored_end_lsn;
    exposure = caught_up
                   ? 0.0
                   : static_cast<double>(std::max<std::int64_t>(0, now - *repo.newest_wal_time));
  }
  ObjectiveCheck c = Judge("rpo", exposure, objective, true);
  if (!repo.newest_wal_time) {
    c.detail = repo.reachable ? "no WAL stored: configure archive_command = 'drctl wal push %p' "
                                "or run drctl wal stream (drctl doctor checks it)"
                              : "repository unreachable and no WAL seen: " + repo.error;
    return c;
  }
  std::string basis;
  if (*exposure == 0.0) {
    basis = "PostgreSQL's current WAL position is stored";
  } else if (!repo.reachable) {
    basis = "repository unreachable (" + repo.error + "); newest WAL seen stored at " +
            catalog::FormatUtc(*repo.newest_wal_time);
  } else {
    basis = "newest WAL " + repo.newest_wal + " stored at " +
            catalog::FormatUtc(*repo.newest_wal_time) +
            (pg.reachable ? "" : " (PostgreSQL unreachable: " + pg.error + ")");
  }
  c.detail = "exposure " + OfObjective(c) + ": " + basis;
  if (c.health == Health::kFail) {
    c.detail += "; WAL is not reaching the repository: check drctl wal push / wal stream logs";
  }
  return c;
}

ObjectiveCheck JudgeBackupAge(const RepoFacts& repo, Seconds objective, std::int64_t now) {
  std::optional<double> age;
  if (!repo.backups.empty()) {
    age = static_cast<double>(std::max<std::int64_t>(0, now - repo.backups.back().stop_time));
  }
  ObjectiveCheck c = Judge("backup_age", age, objective, false);
  c.detail = age ? "newest backup " + repo.backups.back().id + " is " + OfObjective(c) + " old"
                 : "no complete backup: run drctl backup";
  if (age && c.health == Health::kFail) c.detail += ": run drctl backup, check the schedule";
  return c;
}

ObjectiveCheck JudgeDrill(const RepoFacts& repo, Seconds objective, std::int64_t now,
                          const DrillPoint*& passed) {
  passed = nullptr;
  for (const auto& d : repo.drills) {
    if (d.ok) {
      passed = &d;
      break;
    }
  }
  std::optional<double> age;
  if (passed != nullptr) age = static_cast<double>(std::max<std::int64_t>(0, now - passed->time));
  ObjectiveCheck c = Judge("drill_age", age, objective, false);
  c.detail = passed != nullptr ? "last passed drill " + passed->id + " " + OfObjective(c) + " ago"
                               : "no passed drill: run drctl drill";
  if (!repo.drills.empty() && !repo.drills.front().ok) {
    c.detail += "; the newest drill " + repo.drills.front().id + " FAILED at " +
                repo.drills.front().failed_step;
    c.health = Worst(c.health, Health::kWarn);
  }
  return c;
}

ObjectiveCheck JudgeRto(const DrillPoint* passed, Seconds objective) {
  std::optional<double> rto;
  if (passed != nullptr) rto = passed->rto_seconds;
  ObjectiveCheck c = Judge("rto", rto, objective, true);
  if (!rto) {
    c.health = Health::kWarn;
    c.detail = "never measured: a drill measures it (drctl drill)";
  } else {
    c.detail = "measured " + OfObjective(c) + " by drill " + passed->id;
  }
  return c;
}

// The end of the newest whole segment on the highest timeline with segments.
void NewestWal(const std::vector<StoredWal>& stored, RepoFacts& facts) {
  pg::TimelineId best_tli = 0;
  for (const auto& s : stored) {
    auto parsed = pg::ParseWalFileName(s.name);
    if (!parsed) continue;
    if (parsed->kind != pg::WalFileKind::kSegment && parsed->kind != pg::WalFileKind::kPartial) {
      continue;
    }
    if (!facts.newest_wal_time || s.mtime > *facts.newest_wal_time ||
        (s.mtime == *facts.newest_wal_time && s.name > facts.newest_wal)) {
      facts.newest_wal_time = s.mtime;
      facts.newest_wal = s.name;
    }
    if (parsed->kind != pg::WalFileKind::kSegment) continue;
    const std::uint64_t end = (parsed->segment + 1) * pg::kDefaultWalSegmentSize;
    if (parsed->timeline > best_tli ||
        (parsed->timeline == best_tli && end > facts.stored_end_lsn)) {
      best_tli = parsed->timeline;
      facts.stored_end_lsn = end;
    }
  }
}

}  // namespace

RepoFacts MeasureRepo(const Config& config, const RepoConfig& rc, catalog::KekCache* cache) {
  RepoFacts facts;
  facts.repo = rc.name;
  facts.url = rc.url;
  auto fail = [&](const Error& e) {
    facts.error = e.message();
    return facts;
  };
  auto repo = OpenRepo(config, rc, cache);
  if (!repo) return fail(repo.error());
  std::vector<Error> damaged;
  auto manifests = catalog::LoadManifests(repo->storage(), repo->master(),
                                          {.damaged = &damaged, .without_files = true});
  if (!manifests) return fail(manifests.error());
  auto stored = ListStoredWal(repo->storage());
  if (!stored) return fail(stored.error());
  std::vector<std::string> damaged_drills;
  auto drills = LatestDrillReports(repo->storage(), repo->master(), 20, &damaged_drills);
  if (!drills) return fail(drills.error());
  auto windows = LoadWindows(*repo, *manifests, *stored);
  if (!windows) return fail(windows.error());
  facts.reachable = true;

  for (const auto& m : *manifests) {
    if (m.status != catalog::BackupStatus::kComplete &&
        m.status != catalog::BackupStatus::kCompleteWithChecksumFailures) {
      continue;
    }
    facts.backups.push_back(BackupPoint{
        .id = m.backup_id,
        .start_time = m.start_time,
        .stop_time = m.stop_time,
        .logical_size = m.stats.logical_size,
        .new_bytes = m.stats.new_bytes,
        .checksum_failures = m.status == catalog::BackupStatus::kCompleteWithChecksumFailures});
  }
  std::ranges::stable_sort(facts.backups, {}, &BackupPoint::stop_time);
  NewestWal(*stored, facts);
  for (const auto& r : *drills) {
    DrillPoint d;
    d.id = r.value("drill_id", "");
    auto t = catalog::ParseUtc(r.value("started_utc", ""));
    d.time = t ? *t : 0;
    d.ok = r.value("ok", false);
    d.rto_seconds = r.value("timings", nlohmann::json::object()).value("rto_seconds", 0.0);
    if (!d.ok) {
      for (const auto& c : r.value("checks", nlohmann::json::array())) {
        if (!c.value("ok", true)) {
          d.failed_step = c.value("name", "");
          break;
        }
      }
    }
    facts.drills.push_back(std::move(d));
  }
  for (const auto& w : windows->windows) {
    facts.windows.push_back(WindowSpan{.timeline = w.timeline,
                                       .from_time = w.from_time,
                                       .to_time = w.to_archived,
                                       .from = w.from,
                                       .from_lsn = pg::FormatLsn(w.from_lsn),
                                       .to_lsn = pg::FormatLsn(w.to_lsn)});
  }
  return facts;
}

PostgresPosition MeasurePostgres(const Config& config) {
  PostgresPosition facts;
  auto conn = pg::Connection::Open(config.postgres.conninfo, std::chrono::seconds(5));
  if (!conn) {
    facts.error = conn.error().message();
    return facts;
  }
  auto rows = conn->Query(
      "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
      "ELSE pg_current_wal_lsn() END, "
      "(SELECT timeline_id FROM pg_control_checkpoint())");
  if (!rows || rows->size() != 1 || (*rows)[0].size() != 2 || !(*rows)[0][0]) {
    facts.error = rows ? "no WAL position from " + conn->Where() : rows.error().message();
    return facts;
  }
  auto lsn = pg::ParseLsn(*(*rows)[0][0]);
  if (!lsn) {
    facts.error = lsn.error().message();
    return facts;
  }
  facts.reachable = true;
  facts.current_lsn = *lsn;
  facts.timeline = static_cast<std::uint32_t>(std::stoul((*rows)[0][1].value_or("0")));
  return facts;
}

namespace {

nlohmann::json OptionalNumber(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

std::string HumanDuration(double seconds) {
  constexpr std::int64_t kHour = 3600;
  constexpr std::int64_t kDay = 24 * kHour;
  if (!std::isfinite(seconds)) return "?";
  if (seconds < 0) return "-" + HumanDuration(-seconds);
  static constexpr std::array<std::pair<std::int64_t, char>, 4> kUnits = {
      {{kDay, 'd'}, {kHour, 'h'}, {60, 'm'}, {1, 's'}}};
  const auto total = static_cast<std::int64_t>(std::llround(std::min(seconds, 1e15)));
  for (std::size_t i = 0; i + 1 < kUnits.size(); ++i) {
    const auto [unit, name] = kUnits[i];
    if (total < unit) continue;
    const auto [next_unit, next_name] = kUnits[i + 1];
    const std::int64_t rest = (total % unit) / next_unit;
    return rest == 0 ? fmt::format("{}{}", total / unit, name)
                     : fmt::format("{}{} {}{}", total / unit, name, rest, next_name);
  }
  return fmt::format("{}s", total);
}

std::string_view HealthName(Health health) {
  switch (health) {
    case Health::kOk:
      return "OK";
    case Health::kWarn:
      return "WARN";
    case Health::kFail:
      return "FAIL";
  }
  return "FAIL";
}

Health Worst(Health a, Health b) { return static_cast<int>(a) >= static_cast<int>(b) ? a : b; }

RepoStatus EvaluateObjectives(const RepoFacts& repo, const PostgresPosition& postgres,
                              const ObjectivesConfig& objectives, std::int64_t now) {
  RepoStatus s;
  s.facts = repo;
  s.objectives.push_back(JudgeRpo(repo, postgres, objectives.rpo, now, s.rpo_exposure_seconds));
  s.objectives.push_back(JudgeBackupAge(repo, objectives.backup_age, now));
  const DrillPoint* passed = nullptr;
  s.objectives.push_back(JudgeDrill(repo, objectives.drill_age, now, passed));
  s.objectives.push_back(JudgeRto(passed, objectives.rto));
  if (!repo.reachable) {
    // Judged on what was last read from it (the daemon keeps that); what was never read fails.
    for (auto& c : s.objectives) {
      if (c.name == "rpo") continue;
      if (c.value_seconds) {
        c.detail += " (last known; repository unreachable: " + repo.error + ")";
      } else {
        c.health = Health::kFail;
        c.detail = "repository unreachable: " + repo.error;
      }
    }
  }
  for (const auto& c : s.objectives) s.health = Worst(s.health, c.health);
  return s;
}

Result<StatusReport> MeasureStatus(const Config& config, const std::string& repo) {
  if (!repo.empty() && config.FindRepo(repo) == nullptr) {
    return Fail(ErrorCode::kUsage, "no repository named \"" + repo + "\" in the config",
                "see drctl config check for the configured ones");
  }
  if (config.repos.empty()) {
    return Fail(ErrorCode::kConfig, "no [[repo]] in the config: nothing to measure",
                "add a [[repo]] table (doc/config.md)");
  }
  StatusReport report;
  report.postgres = MeasurePostgres(config);
  report.measured_at = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  for (const auto& rc : config.repos) {
    if (!repo.empty() && rc.name != repo) continue;
    RepoFacts facts = MeasureRepo(config, rc);
    report.repos.push_back(
        EvaluateObjectives(facts, report.postgres, config.objectives, report.measured_at));
    report.health = Worst(report.health, report.repos.back().health);
  }
  return report;
}

nlohmann::json StatusJson(const StatusReport& report) {
  nlohmann::json repos = nlohmann::json::array();
  for (const auto& r : report.repos) {
    const auto& f = r.facts;
    nlohmann::json objectives = nlohmann::json::array();
    for (const auto& c : r.objectives) {
      objectives.push_back({{"name", c.name},
                            {"health", HealthName(c.health)},
                            {"value_seconds", OptionalNumber(c.value_seconds)},
                            {"objective_seconds", c.objective_seconds},
                            {"detail", c.detail}});
    }
    nlohmann::json backups = nlohmann::json::array();
    for (const auto& b : f.backups) {
      backups.push_back({{"id", b.id},
                         {"start_time", b.start_time},
                         {"stop_time", b.stop_time},
                         {"logical_size", b.logical_size},
                         {"new_bytes", b.new_bytes},
                         {"checksum_failures", b.checksum_failures}});
    }
    nlohmann::json drills = nlohmann::json::array();
    for (const auto& d : f.drills) {
      drills.push_back({{"id", d.id},
                        {"time", d.time},
                        {"ok", d.ok},
                        {"rto_seconds", d.rto_seconds},
                        {"failed_step", d.failed_step}});
    }
    nlohmann::json windows = nlohmann::json::array();
    for (const auto& w : f.windows) {
      windows.push_back({{"timeline", w.timeline},
                         {"from_time", w.from_time},
                         {"to_time", w.to_time},
                         {"from", w.from},
                         {"from_lsn", w.from_lsn},
                         {"to_lsn", w.to_lsn}});
    }
    repos.push_back(
        {{"repo", f.repo},
         {"url", f.url},
         {"health", HealthName(r.health)},
         {"reachable", f.reachable},
         {"error", f.error},
         {"rpo_exposure_seconds", OptionalNumber(r.rpo_exposure_seconds)},
         {"newest_wal", f.newest_wal},
         {"newest_wal_time", f.newest_wal_time ? nlohmann::json(*f.newest_wal_time) : nullptr},
         {"stored_end_lsn", pg::FormatLsn(f.stored_end_lsn)},
         {"objectives", objectives},
         {"backups", backups},
         {"drills", drills},
         {"windows", windows}});
  }
  return {{"measured_at", report.measured_at},
          {"measured_at_utc", catalog::FormatUtc(report.measured_at)},
          {"health", HealthName(report.health)},
          {"postgres",
           {{"reachable", report.postgres.reachable},
            {"error", report.postgres.error},
            {"current_lsn", pg::FormatLsn(report.postgres.current_lsn)},
            {"timeline", report.postgres.timeline}}},
          {"repos", repos}};
}

std::string StatusText(const StatusReport& report) {
  std::string text = fmt::format("status {} at {}\n", HealthName(report.health),
                                 catalog::FormatUtc(report.measured_at));
  text += report.postgres.reachable
              ? fmt::format("  postgres: WAL position {} on timeline {}\n",
                            pg::FormatLsn(report.postgres.current_lsn), report.postgres.timeline)
              : "  postgres: unreachable (" + report.postgres.error + ")\n";
  for (const auto& r : report.repos) {
    text +=
        fmt::format("repository {} ({}): {}\n", r.facts.repo, r.facts.url, HealthName(r.health));
    if (!r.facts.reachable) text += "  unreachable: " + r.facts.error + "\n";
    for (const auto& c : r.objectives) {
      text += fmt::format("  {:<4} {:<10} {}\n", HealthName(c.health), c.name, c.detail);
    }
  }
  return text;
}

}  // namespace drctl::command
