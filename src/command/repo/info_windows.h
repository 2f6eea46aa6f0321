// drctl info's recoverable windows (restore/recoverable_window.h) of one repository.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/manifest.h"
#include "catalog/repository.h"

namespace drctl::command {

// Adds j["windows"] (one object per window) and lines to `text`. History files that cannot be
// read or parsed are reported in the text and j["history_errors"]; their timelines then have
// only the windows of their own backups.
Status DescribeWindows(catalog::Repository& repo, const std::vector<catalog::Manifest>& backups,
                       nlohmann::json& j, std::string& text);

}  // namespace drctl::command
