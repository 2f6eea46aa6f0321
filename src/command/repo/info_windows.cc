#include "command/repo/info_windows.h"

#include <fmt/format.h>

#include "catalog/json_fields.h"
#include "catalog/wal_store.h"
#include "command/restore/recoverable_window.h"

namespace drctl::command {

Result<LoadedWindows> LoadWindows(catalog::Repository& repo,
                                  const std::vector<catalog::Manifest>& backups,
                                  const std::vector<StoredWal>& stored) {
  LoadedWindows out;
  std::map<std::uint32_t, std::vector<pg::TimelineSwitch>> histories;
  for (const auto& s : stored) {
    auto parsed = pg::ParseWalFileName(s.name);
    if (!parsed || parsed->kind != pg::WalFileKind::kHistory) continue;
    auto content = catalog::FetchWal(repo.storage(), repo.master(), s.name);
    Result<std::vector<pg::TimelineSwitch>> history =
        content ? pg::ParseTimelineHistory(*content, s.name)
                : Result<std::vector<pg::TimelineSwitch>>(std::unexpected(content.error()));
    if (!history) {
      out.history_errors.push_back(history.error());
      continue;
    }
    histories[parsed->timeline] = std::move(*history);
  }
  std::vector<catalog::Manifest> usable;
  for (const auto& b : backups) {
    if (b.status == catalog::BackupStatus::kComplete ||
        b.status == catalog::BackupStatus::kCompleteWithChecksumFailures) {
      usable.push_back(b);
    }
  }
  out.windows = RecoverableWindows(usable, stored, histories);
  return out;
}

Status DescribeWindows(catalog::Repository& repo, const std::vector<catalog::Manifest>& backups,
                       nlohmann::json& j, std::string& text) {
  auto stored = ListStoredWal(repo.storage());
  if (!stored) return std::unexpected(stored.error());
  auto loaded = LoadWindows(repo, backups, *stored);
  if (!loaded) return std::unexpected(loaded.error());
  nlohmann::json history_errors = nlohmann::json::array();
  for (const auto& e : loaded->history_errors) {
    history_errors.push_back(e.message());
    text += "    " + e.ToString() + "\n";
  }
  const auto& list = loaded->windows;
  nlohmann::json windows = nlohmann::json::array();
  if (list.empty()) text += "  recoverable: nothing (no backup with its WAL)\n";
  for (const auto& w : list) {
    nlohmann::json entry = {{"timeline", w.timeline},
                            {"from_lsn", pg::FormatLsn(w.from_lsn)},
                            {"from", w.from},
                            {"to_lsn", pg::FormatLsn(w.to_lsn)},
                            {"to_archived_utc", catalog::FormatUtc(w.to_archived)},
                            {"partial", w.partial},
                            {"gap_after", w.gap_after}};
    entry["from_time_utc"] =
        w.from_time > 0 ? nlohmann::json(catalog::FormatUtc(w.from_time)) : nlohmann::json(nullptr);
    windows.push_back(entry);
    text += fmt::format(
        "  recoverable on timeline {}: from {}{} ({}) to {} (WAL archived by {}){}{}\n", w.timeline,
        w.from_time > 0 ? catalog::FormatUtc(w.from_time) + " " : std::string(),
        pg::FormatLsn(w.from_lsn), w.from, pg::FormatLsn(w.to_lsn),
        catalog::FormatUtc(w.to_archived), w.partial.empty() ? "" : ", then " + w.partial,
        w.gap_after.empty() ? "" : "; " + w.gap_after + " is missing");
  }
  j["windows"] = windows;
  j["history_errors"] = history_errors;
  return Ok();
}

}  // namespace drctl::command
