// The daemon's state file, <state>/state.json (doc/commands/daemon.md, "State"): each job's
// record, the active alerts and the undelivered alert events, written atomically after every
// change so that a restart (or a crash) continues from it: no job runs twice for one scheduled
// time, no alert fires twice for one outage.
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "daemon/job_record.h"

namespace drctl::daemon {

struct DaemonState {
  std::map<std::string, JobRecord> jobs;  // by job name
  nlohmann::json alerts = nullptr;        // AlertTracker::ToJson (null: none yet)
  nlohmann::json outbox = nullptr;        // AlertOutbox::ToJson
};

// A missing file is an empty state; a damaged one is kCorrupt naming the file (the operator
// decides: moving it away starts afresh).
Result<DaemonState> LoadDaemonState(const std::filesystem::path& file);
// The same from the file's text (`file` names it in errors).
Result<DaemonState> ParseDaemonState(std::string_view text, const std::filesystem::path& file);
Status SaveDaemonState(const std::filesystem::path& file, const DaemonState& state);

}  // namespace drctl::daemon
