// drctl status: the objectives of every repository (status_report.h), OK / WARN / FAIL, for a
// human or (--output json) a monitoring check. A breached objective (FAIL) makes the output's
// failure objective_breached (exit 15); WARN alone exits 0.
#pragma once

#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

Result<CommandOutput> StatusCommand(const Config& config, const std::string& repo);

}  // namespace drctl::command
