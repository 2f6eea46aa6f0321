#include "catalog/wal_ranges.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <string_view>

namespace drctl::catalog {
namespace {

enum class WalKind : std::uint8_t { kSegment, kPartial, kHistory, kBackupHistory };

struct ParsedName {
  WalKind kind = WalKind::kSegment;
  std::uint32_t timeline = 0;
  std::uint64_t segment = 0;  // log * segments_per_log + seg (0 for history files)
};

bool IsUpperHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); });
}

// `s` is 8 uppercase hex digits (checked by the caller).
std::uint64_t Hex(std::string_view s) {
  std::uint64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v, 16);
  return v;
}

std::string Hex8(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%08llX", static_cast<unsigned long long>(v));
  return buf;
}

// The rules of pg::ParseWalFileName (postgres/wal_names.cc), which this layer cannot include.
std::optional<ParsedName> ParseName(std::string_view name, std::uint64_t segment_size) {
  const std::uint64_t per_log = 0x100000000ULL / segment_size;
  ParsedName out;
  if (name.size() == 16 && name.ends_with(".history")) {
    const auto hex = name.substr(0, 8);
    if (!IsUpperHex(hex) || Hex(hex) == 0) return std::nullopt;
    out.kind = WalKind::kHistory;
    out.timeline = static_cast<std::uint32_t>(Hex(hex));
    return out;
  }
  if (name.size() < 24 || !IsUpperHex(name.substr(0, 24))) return std::nullopt;
  const std::uint64_t tli = Hex(name.substr(0, 8));
  const std::uint64_t seg = Hex(name.substr(16, 8));
  if (tli == 0 || seg >= per_log) return std::nullopt;
  out.timeline = static_cast<std::uint32_t>(tli);
  out.segment = Hex(name.substr(8, 8)) * per_log + seg;
  const std::string_view rest = name.substr(24);
  if (rest.empty()) {
    out.kind = WalKind::kSegment;
  } else if (rest == ".partial") {
    out.kind = WalKind::kPartial;
  } else if (rest.size() == 16 && rest.starts_with(".") && rest.ends_with(".backup") &&
             IsUpperHex(rest.substr(1, 8)) && Hex(rest.substr(1, 8)) < segment_size) {
    out.kind = WalKind::kBackupHistory;
  } else {
    return std::nullopt;
  }
  return out;
}

}  // namespace

WalSummary SummarizeWal(std::span<const std::string> names, std::uint64_t segment_size) {
  const std::uint64_t per_log = 0x100000000ULL / segment_size;
  auto segment_name = [&](std::uint32_t tli, std::uint64_t segment) {
    return Hex8(tli) + Hex8(segment / per_log) + Hex8(segment % per_log);
  };
  WalSummary summary;
  std::map<std::uint32_t, TimelineWal> timelines;
  std::map<std::uint32_t, std::vector<std::uint64_t>> segments;
  std::set<std::string_view> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) continue;
    const auto parsed = ParseName(name, segment_size);
    if (!parsed) {
      summary.unrecognized.push_back(name);
      continue;
    }
    TimelineWal& t = timelines[parsed->timeline];
    t.timeline = parsed->timeline;
    switch (parsed->kind) {
      case WalKind::kSegment:
        segments[parsed->timeline].push_back(parsed->segment);
        break;
      case WalKind::kPartial:
        ++t.partial;
        ++summary.partial;
        break;
      case WalKind::kHistory:
        t.history = true;
        break;
      case WalKind::kBackupHistory:
        ++t.backup_history;
        ++summary.backup_history;
        break;
    }
  }
  for (auto& [tli, t] : timelines) {
    std::vector<std::uint64_t>& segs = segments[tli];
    std::sort(segs.begin(), segs.end());  // names were distinct, so the numbers are too
    // One pass over the sorted numbers: a run ends where the next number is not the successor;
    // the segments between one run's end and the next run's start are a gap.
    std::size_t run_start = 0;
    for (std::size_t i = 0; i < segs.size(); ++i) {
      if (i + 1 < segs.size() && segs[i + 1] == segs[i] + 1) continue;
      const std::uint64_t first = segs[run_start];
      if (!t.ranges.empty()) {
        const std::uint64_t after = segs[run_start - 1] + 1;
        t.gaps.push_back({segment_name(tli, after), segment_name(tli, first - 1), first - after});
      }
      t.ranges.push_back(
          {segment_name(tli, first), segment_name(tli, segs[i]), segs[i] - first + 1});
      run_start = i + 1;
    }
    summary.timelines.push_back(std::move(t));
  }
  return summary;
}

}  // namespace drctl::catalog
