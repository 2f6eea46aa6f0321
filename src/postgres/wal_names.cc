#include "postgres/wal_names.h"

#include <charconv>
#include <cstdio>

namespace drctl::pg {
namespace {

bool IsUpperHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

bool ParseHex(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out, 16);
  return ec == std::errc() && ptr == s.data() + s.size();
}

bool ValidSegmentSize(std::uint64_t size) {
  return size >= (1U << 20) && size <= (1U << 30) && (size & (size - 1)) == 0;
}

std::string Hex8(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%08llX", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

Result<Lsn> ParseLsn(std::string_view text) {
  const auto slash = text.find('/');
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  if (slash == std::string_view::npos || !ParseHex(text.substr(0, slash), hi) ||
      !ParseHex(text.substr(slash + 1), lo) || hi > 0xFFFFFFFFULL || lo > 0xFFFFFFFFULL) {
    return Fail(ErrorCode::kUsage, "\"" + std::string(text) + "\" is not an LSN",
                "write it as PostgreSQL prints it, e.g. 16/B374D848");
  }
  return (hi << 32) | lo;
}

std::string FormatLsn(Lsn lsn) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%X/%X", static_cast<unsigned>(lsn >> 32),
                static_cast<unsigned>(lsn & 0xFFFFFFFFULL));
  return buf;
}

std::string SegmentFileName(TimelineId tli, std::uint64_t segment, std::uint64_t segment_size) {
  const std::uint64_t per_log = 0x100000000ULL / segment_size;
  return Hex8(tli) + Hex8(segment / per_log) + Hex8(segment % per_log);
}

std::string HistoryFileName(TimelineId tli) { return Hex8(tli) + ".history"; }

Result<WalFileName> ParseWalFileName(std::string_view name, std::uint64_t segment_size) {
  auto bad = [&]() {
    return Fail(ErrorCode::kUsage, "\"" + std::string(name) + "\" is not a WAL file name",
                "expected a segment (24 hex digits), a .partial segment, a timeline .history "
                "file or a .backup history file");
  };
  if (!ValidSegmentSize(segment_size)) {
    return Fail(ErrorCode::kInternal, "invalid WAL segment size " + std::to_string(segment_size));
  }
  WalFileName out;
  std::uint64_t tli = 0;
  if (name.size() == 16 && name.ends_with(".history")) {
    const auto hex = name.substr(0, 8);
    if (!IsUpperHex(hex) || !ParseHex(hex, tli) || tli == 0) return bad();
    out.kind = WalFileKind::kHistory;
    out.timeline = static_cast<TimelineId>(tli);
    return out;
  }
  if (name.size() < 24 || !IsUpperHex(name.substr(0, 24))) return bad();
  std::uint64_t log = 0;
  std::uint64_t seg = 0;
  ParseHex(name.substr(0, 8), tli);
  ParseHex(name.substr(8, 8), log);
  ParseHex(name.substr(16, 8), seg);
  const std::uint64_t per_log = 0x100000000ULL / segment_size;
  if (tli == 0 || seg >= per_log) return bad();
  out.timeline = static_cast<TimelineId>(tli);
  out.segment = log * per_log + seg;
  const std::string_view rest = name.substr(24);
  if (rest.empty()) {
    out.kind = WalFileKind::kSegment;
  } else if (rest == ".partial") {
    out.kind = WalFileKind::kPartial;
  } else if (rest.size() == 16 && rest.starts_with(".") && rest.ends_with(".backup") &&
             IsUpperHex(rest.substr(1, 8))) {
    std::uint64_t offset = 0;
    ParseHex(rest.substr(1, 8), offset);
    if (offset >= segment_size) return bad();
    out.kind = WalFileKind::kBackupHistory;
    out.backup_offset = static_cast<std::uint32_t>(offset);
  } else {
    return bad();
  }
  return out;
}

Result<std::vector<TimelineSwitch>> ParseTimelineHistory(std::string_view text,
                                                         const std::string& where) {
  std::vector<TimelineSwitch> out;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    auto bad = [&](std::string_view why) {
      std::string message = where;
      message += ":" + std::to_string(line_no) + ": ";
      message += why;
      return Fail(ErrorCode::kCorrupt, std::move(message),
                  "a timeline history file has lines \"parent<TAB>switch LSN<TAB>reason\"");
    };
    const auto tab1 = line.find_first_of(" \t");
    if (tab1 == std::string_view::npos) return bad("no switch point");
    std::uint64_t parent = 0;
    auto [ptr, ec] = std::from_chars(line.data(), line.data() + tab1, parent);
    if (ec != std::errc() || ptr != line.data() + tab1 || parent == 0 || parent > 0xFFFFFFFFULL) {
      return bad("bad parent timeline");
    }
    std::string_view rest = line.substr(tab1);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    const auto tab2 = rest.find_first_of(" \t");
    auto lsn = ParseLsn(rest.substr(0, tab2));
    if (!lsn) return bad("bad switch LSN");
    TimelineSwitch sw;
    sw.parent = static_cast<TimelineId>(parent);
    sw.switch_lsn = *lsn;
    if (tab2 != std::string_view::npos) {
      std::string_view reason = rest.substr(tab2);
      while (!reason.empty() && (reason.front() == ' ' || reason.front() == '\t')) {
        reason.remove_prefix(1);
      }
      sw.reason = std::string(reason);
    }
    if (!out.empty() && (sw.parent <= out.back().parent || sw.switch_lsn < out.back().switch_lsn)) {
      return bad("timelines or switch points do not increase");
    }
    out.push_back(std::move(sw));
  }
  return out;
}

}  // namespace drctl::pg
