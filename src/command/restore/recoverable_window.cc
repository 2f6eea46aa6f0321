#include "command/restore/recoverable_window.h"

#include <algorithm>
#include <set>

namespace drctl::command {
namespace {

constexpr std::uint64_t kSegmentSize = pg::kDefaultWalSegmentSize;

struct Run {
  std::uint64_t last = 0;  // last segment of the continuous run
  std::int64_t archived = 0;
  bool any = false;
  std::string partial;
  std::string gap_after;
};

// The continuous run of whole segments on `timeline` from segment `first`.
Run ContinuousFrom(std::uint32_t timeline, std::uint64_t first,
                   const std::map<std::uint64_t, std::int64_t>& segments,
                   const std::set<std::uint64_t>& partials) {
  Run run;
  std::uint64_t seg = first;
  for (auto it = segments.find(seg); it != segments.end() && it->first == seg; ++it, ++seg) {
    run.any = true;
    run.last = seg;
    run.archived = it->second;
  }
  if (partials.contains(seg)) run.partial = pg::SegmentFileName(timeline, seg) + ".partial";
  if (segments.upper_bound(seg) != segments.end()) {
    run.gap_after = pg::SegmentFileName(timeline, seg);
  }
  return run;
}

}  // namespace

std::vector<RecoverableWindow> RecoverableWindows(
    const std::vector<catalog::Manifest>& backups, const std::vector<StoredWal>& stored,
    const std::map<std::uint32_t, std::vector<pg::TimelineSwitch>>& histories) {
  std::map<std::uint32_t, std::map<std::uint64_t, std::int64_t>> segments;
  std::map<std::uint32_t, std::set<std::uint64_t>> partials;
  std::set<std::uint32_t> timelines;
  for (const auto& s : stored) {
    auto parsed = pg::ParseWalFileName(s.name);
    if (!parsed) continue;
    if (parsed->kind == pg::WalFileKind::kSegment) {
      segments[parsed->timeline][parsed->segment] = s.mtime;
      timelines.insert(parsed->timeline);
    } else if (parsed->kind == pg::WalFileKind::kPartial) {
      partials[parsed->timeline].insert(parsed->segment);
    }
  }
  std::vector<const catalog::Manifest*> sorted;
  sorted.reserve(backups.size());
  for (const auto& b : backups) sorted.push_back(&b);
  std::sort(sorted.begin(), sorted.end(),
            [](const auto* a, const auto* b) { return a->stop_lsn < b->stop_lsn; });

  std::map<std::uint32_t, std::vector<RecoverableWindow>> by_timeline;
  auto add = [&](RecoverableWindow w) {
    auto& list = by_timeline[w.timeline];
    if (!list.empty() && w.from_lsn <= list.back().to_lsn) {
      auto& last = list.back();  // overlapping: one window, the earlier start, the later end
      if (w.to_lsn > last.to_lsn) {
        last.to_lsn = w.to_lsn;
        last.to_archived = w.to_archived;
        last.partial = w.partial;
        last.gap_after = w.gap_after;
      }
      return;
    }
    list.push_back(std::move(w));
  };
  for (std::uint32_t timeline : timelines) {
    const auto& segs = segments[timeline];
    const auto& parts = partials[timeline];
    // From the parent at the switch point, when the parent's windows reach it.
    auto history = histories.find(timeline);
    if (history != histories.end() && !history->second.empty()) {
      const auto& sw = history->second.back();
      bool reached = false;
      for (const auto& w : by_timeline[sw.parent]) {
        reached = reached || (w.from_lsn <= sw.switch_lsn && sw.switch_lsn <= w.to_lsn);
      }
      const Run run = ContinuousFrom(timeline, pg::SegmentOf(sw.switch_lsn), segs, parts);
      if (reached && run.any) {
        add({timeline, sw.switch_lsn, 0, "switch from timeline " + std::to_string(sw.parent),
             (run.last + 1) * kSegmentSize, run.archived, run.partial, run.gap_after});
      }
    }
    for (const auto* b : sorted) {
      auto start = pg::ParseWalFileName(b->start_wal);
      if (!start || start->timeline != timeline) continue;
      const Run run = ContinuousFrom(timeline, start->segment, segs, parts);
      // Consistent only once the WAL up to its stop point is there.
      if (!run.any || run.last < pg::SegmentOf(b->stop_lsn)) continue;
      add({timeline, b->stop_lsn, b->stop_time, "backup " + b->backup_id,
           (run.last + 1) * kSegmentSize, run.archived, run.partial, run.gap_after});
    }
  }
  std::vector<RecoverableWindow> out;
  for (auto& [timeline, list] : by_timeline) {
    std::sort(list.begin(), list.end(),
              [](const auto& a, const auto& b) { return a.from_lsn < b.from_lsn; });
    for (auto& w : list) out.push_back(std::move(w));
  }
  return out;
}

}  // namespace drctl::command
