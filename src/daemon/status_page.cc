#include "daemon/status_page.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <optional>
#include <set>
#include <vector>

#include "command/progress.h"
#include "common/markup.h"

namespace drctl::daemon {

using command::HumanDuration;
namespace {

using command::Health;

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kTimelineMaxSpan = 14 * kDay;

constexpr std::string_view kStyle = R"css(
:root { --ok: #1a7f37; --warn: #9a6700; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif;
       color: #1f2328; background: #f6f8fa; }
main { max-width: 1240px; margin: 0 auto; padding: 16px 20px 32px; }
h1 { font-size: 22px; margin: 0; } h2 { font-size: 18px; margin: 0 0 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
.banner { color: #fff; padding: 14px 20px; }
.banner p { margin: 4px 0 0; }
.banner.ok { background: var(--ok); } .banner.warn { background: var(--warn); }
.banner.fail { background: var(--fail); } .banner.unknown { background: var(--muted); }
.meta { color: var(--muted); margin: 8px 0 16px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
        margin: 0 0 16px; }
.repo.ok { border-top: 4px solid var(--ok); } .repo.warn { border-top: 4px solid var(--warn); }
.repo.fail { border-top: 4px solid var(--fail); }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; color: #fff; font-size: 12px;
         vertical-align: middle; }
.badge.ok { background: var(--ok); } .badge.warn { background: var(--warn); }
.badge.fail { background: var(--fail); }
.url, .facts { color: var(--muted); margin: 0 0 8px; }
.error { color: var(--fail); font-weight: 600; }
.objectives { list-style: none; padding: 0; margin: 8px 0; display: grid;
              grid-template-columns: repeat(4, 1fr); gap: 8px; }
.objective { border: 1px solid var(--line); border-left: 6px solid; border-radius: 6px;
             padding: 6px 10px; }
.objective.ok { border-left-color: var(--ok); } .objective.warn { border-left-color: var(--warn); }
.objective.fail { border-left-color: var(--fail); background: #fff5f5; }
.objective-name { font-weight: 600; }
.objective-state { float: right; font-weight: 700; }
.objective.ok .objective-state { color: var(--ok); }
.objective.warn .objective-state { color: var(--warn); }
.objective.fail .objective-state { color: var(--fail); }
.objective-value { display: block; font-size: 16px; }
.objective-detail { display: block; color: var(--muted); font-size: 12px; }
svg.timeline { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--line); } svg .axis, svg .row-label { fill: var(--muted); font-size: 11px; }
svg .window { fill: #54aeff; } svg .window.unknown-start { fill: #9ecbff; }
svg .backup { fill: #0969da; stroke: #fff; }
svg .backup.checksum-failures { fill: var(--warn); }
svg .drill.passed { fill: var(--ok); } svg .drill.failed { fill: var(--fail); }
svg .now { stroke: var(--fail); stroke-dasharray: 4 3; } svg .now-label { fill: var(--fail); font-size: 11px; }
.legend { color: var(--muted); font-size: 12px; }
.legend span { margin-right: 14px; } .swatch { display: inline-block; width: 10px; height: 10px;
  margin-right: 4px; vertical-align: middle; border-radius: 2px; }
.swatch.window { background: #54aeff; } .swatch.backup { background: #0969da; border-radius: 50%; }
.swatch.passed { background: var(--ok); } .swatch.failed { background: var(--fail); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
.good { color: var(--ok); } .bad { color: var(--fail); } .busy { color: #0969da; }
.alerts li { color: var(--fail); }
)css";

std::string HealthClass(Health health) {
  switch (health) {
    case Health::kOk:
      return "ok";
    case Health::kWarn:
      return "warn";
    case Health::kFail:
      return "fail";
  }
  return "fail";
}

// The repository name as an id: characters outside [A-Za-z0-9_-] become '_'.
std::string DomId(std::string_view name) {
  std::string id(name);
  for (char& c : id) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
    if (!keep) c = '_';
  }
  return id;
}

std::string FormatTime(std::int64_t unix_seconds, const char* format = "%Y-%m-%d %H:%M") {
  const time_t t = unix_seconds;
  struct tm tm {};
  gmtime_r(&t, &tm);
  std::array<char, 64> buffer{};
  const std::size_t n = strftime(buffer.data(), buffer.size(), format, &tm);
  return std::string(buffer.data(), n);
}

// "2024-05-04 12:34Z (3h 2m ago)"; "never" for 0.
std::string TimeAndAge(std::int64_t t, std::int64_t now) {
  if (t == 0) return "never";
  std::string text = FormatTime(t) + "Z";
  if (now >= t) {
    text += " (" + HumanDuration(static_cast<double>(now - t)) + " ago)";
  } else {
    text += " (in " + HumanDuration(static_cast<double>(t - now)) + ")";
  }
  return text;
}

std::string_view ObjectiveTitle(std::string_view name) {
  if (name == "rpo") return "RPO";
  if (name == "rto") return "RTO";
  if (name == "backup_age") return "Backup age";
  if (name == "drill_age") return "Drill age";
  return name;
}

// --- The banner -------------------------------------------------------------------------------

void RenderBanner(const DaemonSnapshot& s, std::string& out) {
  const command::StatusReport& report = s.status;
  if (report.measured_at == 0) {
    out += R"(<header id="health" class="banner unknown"><h1>drctl: not measured yet</h1>)";
    out += "<p>The daemon has not measured the objectives yet.</p></header>\n";
    return;
  }
  std::vector<std::string> failing;
  std::vector<std::string> warning;
  for (const auto& repo : report.repos) {
    for (const auto& check : repo.objectives) {
      const std::string what = EscapeMarkup(repo.facts.repo) + " " + EscapeMarkup(check.name);
      if (check.health == Health::kFail) failing.push_back(what);
      if (check.health == Health::kWarn) warning.push_back(what);
    }
  }
  // Active alerts (e.g. a failing job) make the page at least WARN even when objectives are met.
  const Health health =
      s.alerts.empty() ? report.health : command::Worst(report.health, Health::kWarn);
  out += fmt::format(R"(<header id="health" class="banner {}"><h1>drctl: {}</h1><p>)",
                     HealthClass(health), command::HealthName(health));
  if (failing.empty() && warning.empty()) out += "All objectives are met.";
  if (!failing.empty()) out += fmt::format("FAIL: {}. ", fmt::join(failing, ", "));
  if (!warning.empty()) out += fmt::format("WARN: {}. ", fmt::join(warning, ", "));
  if (!s.alerts.empty()) out += fmt::format(" {} active alert(s).", s.alerts.size());
  out += "</p></header>\n";
}

// --- One repository: objectives and timeline --------------------------------------------------

void RenderObjectives(const command::RepoStatus& repo, std::string& out) {
  out += fmt::format(R"(<ul class="objectives" id="objectives-{}">)", DomId(repo.facts.repo));
  for (const auto& check : repo.objectives) {
    const std::string value =
        check.value_seconds ? HumanDuration(*check.value_seconds) : std::string("not measured");
    out += fmt::format(
        R"(<li class="objective {}" data-objective="{}"><span class="objective-name">{}</span>)"
        R"(<span class="objective-state">{}</span>)"
        R"(<span class="objective-value">{} of {}</span><span class="objective-detail">{}</span></li>)",
        HealthClass(check.health), EscapeMarkup(check.name),
        EscapeMarkup(ObjectiveTitle(check.name)), command::HealthName(check.health), value,
        HumanDuration(check.objective_seconds), EscapeMarkup(check.detail));
  }
  out += "</ul>\n";
}

// Maps time to x in the SVG's coordinates.
struct TimeAxis {
  std::int64_t start = 0;
  std::int64_t end = 0;
  double x0 = 90;
  double x1 = 950;

  double X(std::int64_t t) const {
    const double f = static_cast<double>(t - start) / static_cast<double>(end - start);
    return x0 + std::clamp(f, 0.0, 1.0) * (x1 - x0);
  }
};

// The span the data covers, at most kTimelineMaxSpan up to `now`, at least an hour.
TimeAxis ChooseAxis(const command::RepoFacts& f, std::int64_t now) {
  std::int64_t earliest = now;
  for (const auto& w : f.windows) {
    if (w.from_time != 0) earliest = std::min(earliest, w.from_time);
  }
  for (const auto& b : f.backups) earliest = std::min(earliest, b.start_time);
  for (const auto& d : f.drills) earliest = std::min(earliest, d.time);
  std::int64_t start = std::max(earliest, now - kTimelineMaxSpan);
  start = std::min(start, now - kHour);
  const std::int64_t pad = std::max<std::int64_t>((now - start) / 40, 60);
  return TimeAxis{.start = start - pad, .end = now + pad};
}

void RenderTicks(const TimeAxis& axis, double bottom, std::string& out) {
  static constexpr std::array<std::int64_t, 8> kSteps = {kHour, 3 * kHour, 6 * kHour, 12 * kHour,
                                                         kDay,  2 * kDay,  7 * kDay,  14 * kDay};
  std::int64_t step = kSteps.back();
  for (const std::int64_t candidate : kSteps) {
    if ((axis.end - axis.start) / candidate <= 8) {
      step = candidate;
      break;
    }
  }
  for (std::int64_t t = (axis.start / step + 1) * step; t < axis.end; t += step) {
    const double x = axis.X(t);
    const bool midnight = t % kDay == 0;
    out += fmt::format(R"(<line class="grid" x1="{:.1f}" y1="16" x2="{:.1f}" y2="{:.1f}"/>)"
                       R"(<text class="axis" x="{:.1f}" y="12" text-anchor="middle">{}</text>)",
                       x, x, bottom, x, FormatTime(t, midnight ? "%b %d" : "%H:%M"));
  }
}

// Where a window whose start time is unknown (it begins at a timeline switch) is drawn from: the
// end of the parent timelines' windows, else the left edge.
std::int64_t WindowStart(const command::RepoFacts& f, const command::WindowSpan& w,
                         const TimeAxis& axis) {
  if (w.from_time != 0) return w.from_time;
  std::int64_t start = axis.start;
  for (const auto& other : f.windows) {
    if (other.timeline < w.timeline) start = std::max(start, other.to_time);
  }
  return std::min(start, w.to_time);
}

void RenderWindows(const command::RepoFacts& f, const TimeAxis& axis,
                   const std::vector<std::uint32_t>& timelines, std::string& out) {
  for (std::size_t row = 0; row < timelines.size(); ++row) {
    out += fmt::format(R"(<text class="row-label" x="4" y="{}">timeline {}</text>)", 36 + 24 * row,
                       timelines[row]);
  }
  for (const auto& w : f.windows) {
    if (w.to_time < axis.start) continue;
    const auto row =
        static_cast<std::size_t>(std::ranges::find(timelines, w.timeline) - timelines.begin());
    const double x = axis.X(WindowStart(f, w, axis));
    const double width = std::max(axis.X(w.to_time) - x, 2.0);
    const std::string from = w.from_time != 0 ? FormatTime(w.from_time) + "Z" : "timeline switch";
    out += fmt::format(
        R"(<rect class="window{}" data-timeline="{}" x="{:.1f}" y="{}" width="{:.1f}" height="16" rx="3">)"
        R"(<title>timeline {}: {} ({}, {}) to {}Z ({})</title></rect>)",
        w.from_time == 0 ? " unknown-start" : "", w.timeline, x, 24 + 24 * row, width, w.timeline,
        from, EscapeMarkup(w.from), EscapeMarkup(w.from_lsn), FormatTime(w.to_time),
        EscapeMarkup(w.to_lsn));
  }
}

void RenderBackups(const command::RepoFacts& f, const TimeAxis& axis, double y, std::string& out) {
  out += fmt::format(R"(<text class="row-label" x="4" y="{:.0f}">backups</text>)", y + 4);
  for (const auto& b : f.backups) {
    if (b.stop_time < axis.start) continue;
    out += fmt::format(
        R"(<circle class="backup{}" cx="{:.1f}" cy="{:.0f}" r="6"><title>backup {}: {}Z to {}Z, )"
        R"({}, {} new{}</title></circle>)",
        b.checksum_failures ? " checksum-failures" : "", axis.X(b.stop_time), y, EscapeMarkup(b.id),
        FormatTime(b.start_time), FormatTime(b.stop_time),
        command::HumanBytes(static_cast<double>(b.logical_size)),
        command::HumanBytes(static_cast<double>(b.new_bytes)),
        b.checksum_failures ? ", page checksum failures" : "");
  }
}

void RenderDrills(const command::RepoFacts& f, const TimeAxis& axis, double y, std::string& out) {
  out += fmt::format(R"(<text class="row-label" x="4" y="{:.0f}">drills</text>)", y + 4);
  for (const auto& d : f.drills) {
    if (d.time < axis.start) continue;
    const double x = axis.X(d.time);
    const std::string outcome = d.ok ? "passed, RTO " + HumanDuration(d.rto_seconds)
                                     : "failed at " + EscapeMarkup(d.failed_step);
    out += fmt::format(
        R"(<path class="drill {}" d="M{:.1f} {:.0f} l7 12 h-14 z"><title>drill {}: {}Z, {}</title></path>)",
        d.ok ? "passed" : "failed", x, y - 7, EscapeMarkup(d.id), FormatTime(d.time), outcome);
  }
}

void RenderTimeline(const command::RepoFacts& f, std::int64_t now, std::string& out) {
  const TimeAxis axis = ChooseAxis(f, now);
  std::vector<std::uint32_t> timelines;
  timelines.reserve(f.windows.size());
  for (const auto& w : f.windows) timelines.push_back(w.timeline);
  std::ranges::sort(timelines);
  timelines.erase(std::unique(timelines.begin(), timelines.end()), timelines.end());
  const double backups_y = 36.0 + 24.0 * static_cast<double>(timelines.size());
  const double drills_y = backups_y + 24;
  const double height = drills_y + 18;
  const std::string id = DomId(f.repo);
  out +=
      fmt::format(R"(<svg class="timeline" id="timeline-{}" )"
                  R"(viewBox="0 0 960 {:.0f}" role="img" aria-label="recoverable window of {}">)",
                  id, height, EscapeMarkup(f.repo));
  RenderTicks(axis, height - 4, out);
  RenderWindows(f, axis, timelines, out);
  RenderBackups(f, axis, backups_y, out);
  RenderDrills(f, axis, drills_y, out);
  const double x = axis.X(now);
  out += fmt::format(
      R"(<line class="now" x1="{:.1f}" y1="16" x2="{:.1f}" y2="{:.0f}"/>)"
      R"(<text class="now-label" x="{:.1f}" y="{:.0f}" text-anchor="end">now</text></svg>)",
      x, x, height - 4, x - 3, height - 2);
  out += R"(<p class="legend"><span><i class="swatch window"></i>recoverable window</span>)"
         R"(<span><i class="swatch backup"></i>backup</span>)"
         R"(<span><i class="swatch passed"></i>drill passed</span>)"
         R"(<span><i class="swatch failed"></i>drill failed</span>)";
  out += fmt::format("<span>{}Z to {}Z (UTC)</span></p>\n", FormatTime(axis.start),
                     FormatTime(axis.end));
}

void RenderFacts(const command::RepoStatus& repo, std::int64_t now, std::string& out) {
  const command::RepoFacts& f = repo.facts;
  std::vector<std::string> facts;
  facts.push_back(fmt::format("{} backup(s)", f.backups.size()));
  if (!f.backups.empty()) {
    facts.push_back("newest " + TimeAndAge(f.backups.back().stop_time, now));
  }
  if (f.newest_wal_time) {
    facts.push_back("newest WAL " + EscapeMarkup(f.newest_wal) + " stored " +
                    TimeAndAge(*f.newest_wal_time, now));
  }
  if (repo.rpo_exposure_seconds) {
    facts.push_back("RPO exposure " + HumanDuration(*repo.rpo_exposure_seconds));
  }
  out += fmt::format("<p class=\"facts\">{}</p>\n", fmt::join(facts, " · "));
}

void RenderRepo(const command::RepoStatus& repo, std::int64_t now, std::string& out) {
  const command::RepoFacts& f = repo.facts;
  const std::string health = HealthClass(repo.health);
  out += fmt::format(
      R"(<section class="card repo {}" id="repo-{}"><h2>{} <span class="badge {}">{}</span></h2>)"
      R"(<p class="url">{}</p>)",
      health, DomId(f.repo), EscapeMarkup(f.repo), health, command::HealthName(repo.health),
      EscapeMarkup(f.url));
  if (!f.reachable) {
    out += fmt::format("<p class=\"error\">Unreachable: {}</p>\n", EscapeMarkup(f.error));
  }
  RenderObjectives(repo, out);
  RenderFacts(repo, now, out);
  RenderTimeline(f, now, out);
  out += "</section>\n";
}

// --- Jobs, runs, alerts, stream ---------------------------------------------------------------

void RenderJobs(const DaemonSnapshot& s, std::string& out) {
  out += R"(<section class="card" id="jobs"><h2>Jobs</h2><table><thead><tr><th>Job</th>)"
         "<th>Schedule (UTC)</th><th>State</th><th>Last run</th><th>Took</th><th>Next run</th>"
         "<th>Runs ok / failed</th><th>Last error</th></tr></thead><tbody>\n";
  for (const auto& j : s.jobs) {
    std::string state_class = j.last_outcome == "ok" ? "good" : "bad";
    std::string state = j.last_outcome;
    if (j.running) {
      state_class = "busy";
      state = "running";
    } else if (j.last_outcome.empty()) {
      state_class = "";
      state = "never ran";
    } else if (j.consecutive_failures > 1) {
      state += fmt::format(" ({} in a row)", j.consecutive_failures);
    }
    const bool ran = !j.last_outcome.empty();
    out += fmt::format(
        "<tr><td>{}</td><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{} / {}</td><td>{}</td></tr>\n",
        EscapeMarkup(j.name), EscapeMarkup(j.schedule), state_class, EscapeMarkup(state),
        TimeAndAge(j.last_start.value_or(0), s.now),
        ran ? HumanDuration(j.last_duration_seconds) : "", TimeAndAge(j.next_run, s.now), j.runs_ok,
        j.runs_failed, EscapeMarkup(j.last_error));
  }
  out += "</tbody></table></section>\n";
}

void RenderRecent(const DaemonSnapshot& s, std::string& out) {
  out += R"(<section class="card" id="recent"><h2>Recent runs</h2>)";
  if (s.recent.empty()) {
    out += "<p>No runs since the daemon started.</p></section>\n";
    return;
  }
  out +=
      "<table><thead><tr><th>Job</th><th>Started</th><th>Took</th><th>Outcome</th>"
      "<th>Detail</th></tr></thead><tbody>\n";
  for (const auto& r : s.recent) {
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td></tr>\n",
        EscapeMarkup(r.job), TimeAndAge(r.start, s.now),
        HumanDuration(static_cast<double>(r.end - r.start)), r.outcome == "ok" ? "good" : "bad",
        EscapeMarkup(r.outcome), EscapeMarkup(r.detail));
  }
  out += "</tbody></table></section>\n";
}

void RenderAlerts(const DaemonSnapshot& s, std::string& out) {
  out += R"(<section class="card" id="alerts"><h2>Active alerts</h2>)";
  if (s.alerts.empty()) {
    out += "<p>No active alerts.</p></section>\n";
    return;
  }
  out += "<ul class=\"alerts\">";
  for (const auto& a : s.alerts) {
    out += fmt::format("<li data-key=\"{}\">{} <small>since {}</small></li>", EscapeMarkup(a.key),
                       EscapeMarkup(a.message), TimeAndAge(a.since, s.now));
  }
  out += "</ul></section>\n";
}

void RenderStream(const DaemonSnapshot& s, std::string& out) {
  out += R"(<section class="card" id="stream"><h2>WAL stream</h2><p>)";
  if (!s.stream.enabled) {
    out +=
        "Not supervised (<code>[daemon] wal_stream = false</code>): WAL reaches the "
        "repositories through <code>archive_command</code> only.";
  } else {
    out += fmt::format("<strong class=\"{}\">{}</strong>, {} restart(s)",
                       s.stream.running ? "good" : "bad", s.stream.running ? "running" : "stopped",
                       s.stream.restarts);
    if (!s.stream.last_exit.empty()) {
      out += fmt::format("; last exit: <code>{}</code>", EscapeMarkup(s.stream.last_exit));
    }
  }
  out += "</p></section>\n";
}

}  // namespace

std::string RenderStatusPage(const DaemonSnapshot& s) {
  const command::StatusReport& report = s.status;
  const std::int64_t now = s.now != 0 ? s.now : report.measured_at;
  std::string out;
  out.reserve(std::size_t{32} * 1024);
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"refresh\" content=\"30\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">";
  out += fmt::format("<title>drctl status: {}</title><style>{}</style></head><body>\n",
                     report.measured_at == 0 ? "not measured" : command::HealthName(report.health),
                     kStyle);
  RenderBanner(s, out);
  out += "<main>\n";
  std::string postgres = "not asked yet";
  if (report.measured_at != 0) {
    postgres = report.postgres.reachable ? "reachable"
                                         : "unreachable: " + EscapeMarkup(report.postgres.error);
  }
  out += fmt::format(
      "<p class=\"meta\">drctl {} · daemon up since {} · objectives measured {} · PostgreSQL {}"
      " · page refreshes every 30 s</p>\n",
      EscapeMarkup(s.version), TimeAndAge(s.started_at, now), TimeAndAge(report.measured_at, now),
      postgres);
  for (const auto& repo : report.repos) RenderRepo(repo, now, out);
  RenderAlerts(s, out);
  RenderJobs(s, out);
  RenderRecent(s, out);
  RenderStream(s, out);
  out += "</main></body></html>\n";
  return out;
}

}  // namespace drctl::daemon
