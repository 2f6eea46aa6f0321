// Drill reports in the repository (doc/format/repository.md, "drills/"): one sealed JSON object
// per drill, "drills/<drill id>.json", so that `drctl info` (and the daemon) can show the last
// drills and their measured RTO wherever the repository is read.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "catalog/keys.h"
#include "common/result.h"
#include "storage/storage.h"

namespace drctl::command {

// "drill-20261126T010203Z-1a2b" for a drill started at `unix_time`.
std::string NewDrillId(std::int64_t unix_time);

Status WriteDrillReport(storage::Storage& storage, const catalog::MasterKey& master,
                        const std::string& drill_id, const nlohmann::json& report);

// The newest `count` reports (newest first). Reports that do not authenticate are skipped and
// named in `damaged`.
Result<std::vector<nlohmann::json>> LatestDrillReports(storage::Storage& storage,
                                                       const catalog::MasterKey& master,
                                                       std::size_t count,
                                                       std::vector<std::string>* damaged);

}  // namespace drctl::command
