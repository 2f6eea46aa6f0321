// drctl info's recoverable windows (restore/recoverable_window.h) of one repository.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "catalog/repository.h"
#include "command/restore/recoverable_window.h"

namespace drctl::command {

struct LoadedWindows {
  std::vector<RecoverableWindow> windows;
  std::vector<Error> history_errors;  // history files that could not be read or parsed
};

// The recoverable windows of `repo` from its complete backups among `backups` and its stored WAL
// `stored` (history files are fetched and parsed). An unreadable history file is reported in
// history_errors, and its timeline then has only the windows of its own backups.
Result<LoadedWindows> LoadWindows(catalog::Repository& repo,
                                  const std::vector<catalog::Manifest>& backups,
                                  const std::vector<StoredWal>& stored);

// Adds j["windows"] (one object per window) and lines to `text`. History files that cannot be
// read or parsed are reported in the text and j["history_errors"]; their timelines then have
// only the windows of their own backups.
Status DescribeWindows(catalog::Repository& repo, const std::vector<catalog::Manifest>& backups,
                       nlohmann::json& j, std::string& text);

}  // namespace drctl::command
