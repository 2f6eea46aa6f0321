#include "command/status/status_command.h"

#include "command/status/status_report.h"

namespace drctl::command {

Result<CommandOutput> StatusCommand(const Config& config, const std::string& repo) {
  auto report = MeasureStatus(config, repo);
  if (!report) return std::unexpected(report.error());
  CommandOutput out;
  out.text = StatusText(*report);
  out.json = StatusJson(*report);
  if (report->health == Health::kFail) {
    std::string breached;
    for (const auto& r : report->repos) {
      for (const auto& c : r.objectives) {
        if (c.health != Health::kFail) continue;
        if (!breached.empty()) breached += ", ";
        breached += c.name + " of " + r.facts.repo;
      }
    }
    out.failure = Error(ErrorCode::kObjectiveBreached, "objectives breached: " + breached,
                        "each FAIL line above says what was measured and what to do");
  }
  return out;
}

}  // namespace drctl::command
