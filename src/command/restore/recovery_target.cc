#include "command/restore/recovery_target.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "common/atomic_file.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

bool Digits(std::string_view s, std::size_t at, std::size_t n, int* out) {
  if (at + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (std::isdigit(static_cast<unsigned char>(s[i])) == 0) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// "YYYY-MM-DD[ T]HH:MM:SS[.f...](Z|+HH|+HH:MM|+HHMM|-...)" → Unix microseconds.
std::optional<std::int64_t> ParseTimestamp(std::string_view s) {
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!Digits(s, 0, 4, &year) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != ' ' && s[10] != 'T') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &min) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  // No WAL predates 1970; earlier years would also not format back as four digits.
  if (year < 1970 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 ||
      sec > 59) {
    return std::nullopt;
  }
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < s.size() && s[at] == '.') {
    ++at;
    std::int64_t scale = 100000;
    const std::size_t start = at;
    while (at < s.size() && std::isdigit(static_cast<unsigned char>(s[at])) != 0) {
      micros += (s[at] - '0') * scale;
      scale /= 10;
      ++at;
    }
    if (at == start || at - start > 6) return std::nullopt;
  }
  std::int64_t offset = 0;
  bool zoned = false;
  if (at < s.size() && s[at] == 'Z' && at + 1 == s.size()) {
    zoned = true;
    at = s.size();
  } else if (at < s.size() && (s[at] == '+' || s[at] == '-')) {
    const int sign = s[at] == '-' ? -1 : 1;
    int oh = 0, om = 0;
    if (!Digits(s, at + 1, 2, &oh)) return std::nullopt;
    std::size_t next = at + 3;
    if (next < s.size() && s[next] == ':') ++next;
    if (next < s.size()) {
      if (!Digits(s, next, 2, &om) || next + 2 != s.size()) return std::nullopt;
    }
    if (oh > 15 || om > 59) return std::nullopt;
    offset = static_cast<std::int64_t>(sign) * (oh * 3600 + om * 60);
    zoned = true;
    at = s.size();
  }
  if (at != s.size() || !zoned) return std::nullopt;  // trailing bytes, or no zone
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_mday != day) return std::nullopt;  // 2026-02-31
  return (static_cast<std::int64_t>(t) - offset) * 1000000 + micros;
}

std::string FormatMicros(std::int64_t micros) {
  const std::time_t t = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:06d}+00", buf, micros % 1000000);
}

std::string Quote(std::string_view value) {
  std::string out = "'";
  for (const char c : value) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

std::string Iso(std::int64_t seconds) { return FormatMicros(seconds * 1000000); }

}  // namespace

Result<RecoveryTarget> ParseRecoveryTarget(const std::string& time, const std::string& xid,
                                           const std::string& lsn, const std::string& name,
                                           bool immediate, bool exclusive,
                                           const std::string& timeline, const std::string& action) {
  RecoveryTarget t;
  const int given = static_cast<int>(!time.empty()) + static_cast<int>(!xid.empty()) +
                    static_cast<int>(!lsn.empty()) + static_cast<int>(!name.empty()) +
                    static_cast<int>(immediate);
  if (given > 1) {
    return Fail(ErrorCode::kUsage,
                "give at most one of --target-time, --target-xid, --target-lsn, --target-name, "
                "--immediate");
  }
  t.exclusive = exclusive;
  if (timeline != "latest" && timeline != "current") {
    std::uint32_t tli = 0;
    auto [ptr, ec] = std::from_chars(timeline.data(), timeline.data() + timeline.size(), tli);
    if (ec != std::errc() || ptr != timeline.data() + timeline.size() || tli == 0) {
      return Fail(ErrorCode::kUsage, "--target-timeline '" + timeline +
                                         "' is not latest, "
                                         "current or a timeline number");
    }
  }
  t.timeline = timeline;
  if (action != "promote" && action != "pause" && action != "shutdown") {
    return Fail(ErrorCode::kUsage, "--target-action must be promote, pause or shutdown");
  }
  t.action = action;
  if (!time.empty()) {
    auto micros = ParseTimestamp(time);
    if (!micros) {
      return Fail(ErrorCode::kUsage, "--target-time '" + time + "' is not a timestamp with a zone",
                  "write it as 2026-11-25 21:00:00+00 or 2026-11-25T21:00:00.250Z");
    }
    t.kind = TargetKind::kTime;
    t.time_micros = *micros;
    t.value = FormatMicros(*micros);
  } else if (!xid.empty()) {
    auto [ptr, ec] = std::from_chars(xid.data(), xid.data() + xid.size(), t.xid);
    if (ec != std::errc() || ptr != xid.data() + xid.size() || t.xid < 3) {
      return Fail(ErrorCode::kUsage, "--target-xid '" + xid + "' is not a transaction id");
    }
    t.kind = TargetKind::kXid;
    t.value = xid;
  } else if (!lsn.empty()) {
    auto parsed = pg::ParseLsn(lsn);
    if (!parsed) return Fail(ErrorCode::kUsage, "--target-lsn '" + lsn + "' is not an LSN (X/Y)");
    t.kind = TargetKind::kLsn;
    t.lsn = *parsed;
    t.value = pg::FormatLsn(*parsed);
  } else if (!name.empty()) {
    if (name.size() >= 64) return Fail(ErrorCode::kUsage, "--target-name is over 63 bytes");
    t.kind = TargetKind::kName;
    t.value = name;
  } else if (immediate) {
    t.kind = TargetKind::kImmediate;
  }
  if (exclusive && (t.kind == TargetKind::kEndOfArchive || t.kind == TargetKind::kImmediate ||
                    t.kind == TargetKind::kName)) {
    return Fail(ErrorCode::kUsage, "--exclusive needs --target-time, --target-xid or --target-lsn");
  }
  return t;
}

std::string DescribeTarget(const RecoveryTarget& t) {
  std::string what;
  switch (t.kind) {
    case TargetKind::kEndOfArchive:
      return "the end of the archive";
    case TargetKind::kImmediate:
      return "the backup's consistency point";
    case TargetKind::kTime:
      what = "time " + t.value;
      break;
    case TargetKind::kXid:
      what = "transaction " + t.value;
      break;
    case TargetKind::kLsn:
      what = "LSN " + t.value;
      break;
    case TargetKind::kName:
      what = "restore point '" + t.value + "'";
      break;
  }
  return what + (t.exclusive ? " (exclusive)" : " (inclusive)");
}

std::optional<std::size_t> PickBackup(const std::vector<catalog::Manifest>& backups,
                                      const RecoveryTarget& target) {
  for (std::size_t i = backups.size(); i-- > 0;) {
    const catalog::Manifest& m = backups[i];
    switch (target.kind) {
      case TargetKind::kTime:
        // stop_time is rounded down to the second: the backup ended before stop_time + 1.
        if ((m.stop_time + 1) * 1000000 <= target.time_micros) return i;
        break;
      case TargetKind::kLsn:
        if (m.stop_lsn <= target.lsn) return i;
        break;
      case TargetKind::kXid: {
        // A 32-bit xid is taken in the epoch of the backup's xmin.
        const std::uint64_t full =
            target.xid >> 32 != 0 ? target.xid : ((m.stop_xmin >> 32) << 32) | target.xid;
        if (m.stop_xmin != 0 && m.stop_xmin <= full) return i;
        break;
      }
      default:
        return i;
    }
  }
  return std::nullopt;
}

Result<std::vector<StoredWal>> ListStoredWal(storage::Storage& storage) {
  std::vector<StoredWal> out;
  DRCTL_TRY(storage.List("wal/", [&](const storage::ObjectInfo& info) {
    out.push_back({info.key.substr(info.key.rfind('/') + 1), info.mtime});
    return Ok();
  }));
  return out;
}

WalWindow ContinuousWal(const catalog::Manifest& backup, const std::vector<StoredWal>& stored) {
  std::map<std::uint64_t, std::int64_t> segments;  // on the backup's timeline
  std::map<std::uint64_t, std::int64_t> partials;  // wal stream's current segments
  auto start = pg::ParseWalFileName(backup.start_wal);
  WalWindow window;
  if (!start) return window;
  for (const auto& s : stored) {
    auto parsed = pg::ParseWalFileName(s.name);
    if (parsed && parsed->timeline == start->timeline) {
      if (parsed->kind == pg::WalFileKind::kSegment) segments[parsed->segment] = s.mtime;
      if (parsed->kind == pg::WalFileKind::kPartial) partials[parsed->segment] = s.mtime;
    }
  }
  std::uint64_t seg = start->segment;
  while (segments.contains(seg)) {
    window.last_segment = pg::SegmentFileName(start->timeline, seg);
    window.last_archived = segments[seg];
    ++seg;
  }
  if (auto partial = partials.find(seg); partial != partials.end()) {
    // wal get serves it in place of the missing segment: replay reaches into it.
    window.last_segment = pg::SegmentFileName(start->timeline, seg) + ".partial";
    window.last_archived = partial->second;
  }
  if (segments.upper_bound(seg) != segments.end()) {
    window.gap_after = pg::SegmentFileName(start->timeline, seg);
  }
  return window;
}

Status CheckWindow(const catalog::Manifest& backup, const RecoveryTarget& target,
                   const WalWindow& window, const std::string& repo) {
  if (target.kind != TargetKind::kTime && target.kind != TargetKind::kLsn) return Ok();
  const std::string describe =
      "the recoverable window of backup " + backup.backup_id + " in repo '" + repo +
      "', which runs from " + Iso(backup.stop_time) + " (LSN " + pg::FormatLsn(backup.stop_lsn) +
      ") to WAL segment " + (window.last_segment.empty() ? "(none)" : window.last_segment) +
      (window.last_archived > 0 ? ", archived " + Iso(window.last_archived) : std::string()) +
      (window.gap_after.empty() ? "" : "; segment " + window.gap_after + " is missing");
  bool reachable = !window.last_segment.empty();
  if (reachable && target.kind == TargetKind::kLsn) {
    auto last = pg::ParseWalFileName(window.last_segment);
    reachable = last && pg::SegmentOf(target.lsn) <= last->segment;
  }
  if (reachable && target.kind == TargetKind::kTime) {
    reachable = target.time_micros <= window.last_archived * std::int64_t{1000000};
  }
  if (reachable) return Ok();
  return Fail(ErrorCode::kPrecondition,
              DescribeTarget(target) + " is outside " + describe + "; nothing was written",
              "choose a target inside the window; a later target needs the WAL after it "
              "archived (check archive_command, or run drctl wal stream)");
}

std::string RecoverySettings(const RecoveryTarget& target, const std::string& restore_command) {
  std::string out = "# recovery settings written by drctl restore\n";
  out += "restore_command = " + Quote(restore_command) + "\n";
  switch (target.kind) {
    case TargetKind::kEndOfArchive:
      break;
    case TargetKind::kImmediate:
      out += "recovery_target = 'immediate'\n";
      break;
    case TargetKind::kTime:
      out += "recovery_target_time = " + Quote(target.value) + "\n";
      break;
    case TargetKind::kXid:
      out += "recovery_target_xid = " + Quote(target.value) + "\n";
      break;
    case TargetKind::kLsn:
      out += "recovery_target_lsn = " + Quote(target.value) + "\n";
      break;
    case TargetKind::kName:
      out += "recovery_target_name = " + Quote(target.value) + "\n";
      break;
  }
  if (target.kind != TargetKind::kEndOfArchive) {
    out += std::string("recovery_target_inclusive = ") + (target.exclusive ? "off" : "on") + "\n";
    out += "recovery_target_action = " + Quote(target.action) + "\n";
  }
  out += "recovery_target_timeline = " + Quote(target.timeline) + "\n";
  return out;
}

Status WriteRecoveryConfig(const std::filesystem::path& pgdata, const RecoveryTarget& target,
                           const std::string& restore_command) {
  const auto auto_conf = pgdata / "postgresql.auto.conf";
  std::string kept;
  {
    std::ifstream in(auto_conf);
    std::string line;
    while (std::getline(in, line)) {
      // Recovery settings of the source (or of an earlier restore) would fight with ours.
      std::string_view l = line;
      while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
      if (l.starts_with("restore_command") || l.starts_with("recovery_target") ||
          l.starts_with("# recovery settings written by drctl")) {
        continue;
      }
      kept += line + "\n";
    }
  }
  const std::string content = kept + RecoverySettings(target, restore_command);
  DRCTL_TRY(WriteFileAtomically(auto_conf, content));
  return WriteFileAtomically(pgdata / "recovery.signal", "");
}

}  // namespace drctl::command
