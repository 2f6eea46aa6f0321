#include "catalog/retention.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <tuple>

namespace drctl::catalog {
namespace {

constexpr std::uint32_t kAnyTimeline = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint64_t kEndOfWal = std::numeric_limits<std::uint64_t>::max();

bool IsUpperHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

std::uint64_t ParseHex(std::string_view s) {
  std::uint64_t v = 0;
  for (const char c : s) v = v * 16 + static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'A' + 10);
  return v;
}

// A segment's place: its timeline and (log, segment) number as one ordered value.
struct WalPosition {
  std::uint32_t timeline = 0;
  std::uint64_t position = 0;
};

std::optional<WalPosition> ParseSegment(std::string_view name) {
  if (name.size() != 24 || !IsUpperHex(name)) return std::nullopt;
  const auto timeline = static_cast<std::uint32_t>(ParseHex(name.substr(0, 8)));
  if (timeline == 0) return std::nullopt;
  return WalPosition{timeline, (ParseHex(name.substr(8, 8)) << 32) | ParseHex(name.substr(16, 8))};
}

// The position of a segment, partial segment or backup history file; nullopt for timeline
// history files and anything else (never deleted).
std::optional<WalPosition> ParseDeletableWal(std::string_view name) {
  if (name.size() == 24) return ParseSegment(name);
  if (name.size() == 32 && name.substr(24) == ".partial") return ParseSegment(name.substr(0, 24));
  if (name.size() == 40 && name[24] == '.' && name.substr(33) == ".backup" &&
      IsUpperHex(name.substr(25, 8))) {
    return ParseSegment(name.substr(0, 24));
  }
  return std::nullopt;
}

// WAL something needs: timelines [first_timeline, last_timeline], positions [first, last].
struct WalNeed {
  std::uint32_t first_timeline = 0;
  std::uint32_t last_timeline = kAnyTimeline;
  std::uint64_t first = 0;
  std::uint64_t last = kEndOfWal;
  bool Covers(const WalPosition& p) const {
    return p.timeline >= first_timeline && p.timeline <= last_timeline && p.position >= first &&
           p.position <= last;
  }
};

bool IsComplete(const RetentionBackup& b) { return b.status != RetentionStatus::kIncomplete; }

auto OrderKey(const RetentionBackup& b) { return std::tie(b.start_time, b.start_lsn, b.backup_id); }

constexpr std::array<std::string_view, 5> kPeriodRules = {"hourly", "daily", "weekly", "monthly",
                                                          "yearly"};

std::optional<int> PeriodCount(const RetentionConfig& rules, std::string_view rule) {
  if (rule == "hourly") return rules.hourly;
  if (rule == "daily") return rules.daily;
  if (rule == "weekly") return rules.weekly;
  if (rule == "monthly") return rules.monthly;
  return rules.yearly;
}

}  // namespace

std::string RetentionPeriod(std::string_view rule, std::int64_t t) {
  using std::chrono::days;
  using std::chrono::floor;
  using std::chrono::seconds;
  using std::chrono::sys_days;
  const std::chrono::sys_seconds tp{seconds(t)};
  const sys_days day = floor<days>(tp);
  const std::chrono::year_month_day ymd{day};
  const int y = static_cast<int>(ymd.year());
  const unsigned m = static_cast<unsigned>(ymd.month());
  const unsigned d = static_cast<unsigned>(ymd.day());
  if (rule == "hourly") {
    const auto hour = floor<std::chrono::hours>(tp - day).count();
    return fmt::format("{:04}-{:02}-{:02}T{:02}", y, m, d, hour);
  }
  if (rule == "daily") return fmt::format("{:04}-{:02}-{:02}", y, m, d);
  if (rule == "weekly") {
    // ISO 8601: the week belongs to the year of its Thursday; week 1 holds the first Thursday.
    const unsigned iso_weekday = std::chrono::weekday{day}.iso_encoding();  // Monday = 1
    const sys_days thursday = day + days(4 - static_cast<int>(iso_weekday));
    const std::chrono::year iso_year = std::chrono::year_month_day{thursday}.year();
    const sys_days jan1 = sys_days{iso_year / std::chrono::January / 1};
    const auto week = (thursday - jan1).count() / 7 + 1;
    return fmt::format("{:04}-W{:02}", static_cast<int>(iso_year), week);
  }
  if (rule == "monthly") return fmt::format("{:04}-{:02}", y, m);
  return fmt::format("{:04}", y);
}

bool HasRetentionRule(const RetentionConfig& rules) {
  return rules.keep_last || rules.hourly || rules.daily || rules.weekly || rules.monthly ||
         rules.yearly || rules.pitr;
}

RetentionPlan PlanRetention(std::span<const RetentionBackup> backups,
                            std::span<const std::string> wal_names, const RetentionConfig& rules,
                            std::int64_t now) {
  std::vector<const RetentionBackup*> sorted;
  sorted.reserve(backups.size());
  for (const auto& b : backups) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return OrderKey(*a) < OrderKey(*b); });
  std::vector<const RetentionBackup*> complete;  // oldest first
  for (const auto* b : sorted) {
    if (IsComplete(*b)) complete.push_back(b);
  }

  RetentionPlan plan;
  if (rules.pitr) plan.pitr_from = now - rules.pitr->count();
  std::map<const RetentionBackup*, std::vector<std::string>> reasons;
  if (rules.keep_last) {
    const auto n = static_cast<std::size_t>(std::max(*rules.keep_last, 0));
    for (std::size_t i = complete.size() > n ? complete.size() - n : 0; i < complete.size(); ++i) {
      reasons[complete[i]].emplace_back("keep_last");
    }
  }
  for (const std::string_view rule : kPeriodRules) {
    const auto count = PeriodCount(rules, rule);
    if (!count || *count <= 0) continue;
    std::set<std::string> periods;
    // Newest first: the first backup met in a period is that period's newest.
    for (auto it = complete.rbegin(); it != complete.rend(); ++it) {
      std::string period = RetentionPeriod(rule, (*it)->start_time);
      if (periods.contains(period)) continue;
      if (periods.size() == static_cast<std::size_t>(*count)) break;
      periods.insert(period);
      reasons[*it].push_back(fmt::format("{} {}", rule, period));
    }
  }
  const RetentionBackup* pitr_base = nullptr;
  if (rules.pitr && !complete.empty()) {
    pitr_base = complete.front();
    for (const auto* b : complete) {
      if (b->stop_time <= plan.pitr_from) pitr_base = b;
    }
    reasons[pitr_base].emplace_back("pitr");
    plan.pitr_base = pitr_base->backup_id;
    // The backups that ended inside the window become its base as it slides: without them the
    // base could never advance, and the WAL kept would grow without bound.
    for (const auto* b : complete) {
      if (b->stop_time > plan.pitr_from && b != pitr_base) reasons[b].emplace_back("pitr window");
    }
  }
  const RetentionBackup* newest = complete.empty() ? nullptr : complete.back();
  if (newest != nullptr && reasons[newest].empty()) reasons[newest].emplace_back("newest");

  bool newest_seen = false;
  for (const auto* b : sorted) {
    newest_seen = newest_seen || b == newest;
    if (!IsComplete(*b)) {
      // An incomplete backup newer than every complete one may still be running.
      if (newest == nullptr || newest_seen) {
        plan.keep.push_back({b->backup_id, {"incomplete"}});
      } else {
        plan.expire.push_back(b->backup_id);
      }
      continue;
    }
    auto it = reasons.find(b);
    if (it != reasons.end() && !it->second.empty()) {
      plan.keep.push_back({b->backup_id, it->second});
    } else {
      plan.expire.push_back(b->backup_id);
    }
  }
  if (newest == nullptr) return plan;  // nothing anchors the archive: delete no WAL

  // The WAL that stays: what kept backups need, the PITR window, and the live archive.
  std::vector<WalNeed> needs;
  const auto need_backup = [&](const RetentionBackup& b) {
    const auto start = ParseSegment(b.start_wal);
    const auto stop = ParseSegment(b.stop_wal);
    if (!start || !stop) return false;
    needs.push_back({start->timeline, std::max(start->timeline, stop->timeline), start->position,
                     stop->position});
    return true;
  };
  for (const auto* b : complete) {
    auto it = reasons.find(b);
    if (it == reasons.end() || it->second.empty()) continue;
    if (!need_backup(*b)) return plan;  // a kept backup's WAL is unknown: delete no WAL
  }
  const auto newest_start = ParseSegment(newest->start_wal);
  if (!newest_start) return plan;
  needs.push_back({0, kAnyTimeline, newest_start->position, kEndOfWal});
  if (newest_start->timeline < kAnyTimeline) needs.push_back({newest_start->timeline + 1});
  if (pitr_base != nullptr) {
    const auto base_start = ParseSegment(pitr_base->start_wal);
    if (!base_start) return plan;
    needs.push_back({base_start->timeline, kAnyTimeline, base_start->position, kEndOfWal});
  }
  for (const auto& name : wal_names) {
    const auto pos = ParseDeletableWal(name);
    if (!pos) continue;
    const bool needed =
        std::any_of(needs.begin(), needs.end(), [&](const WalNeed& n) { return n.Covers(*pos); });
    if (!needed) plan.wal_delete.push_back(name);
  }
  return plan;
}

}  // namespace drctl::catalog
