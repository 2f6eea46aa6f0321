// Records every server PID the harness starts in the file named by $DRCTL_HARNESS_PID_FILE (one
// "name pid" line each), so a test can check afterwards that none is left running.
#pragma once

#include <sys/types.h>

#include <string>

namespace drctl::testing {

void RecordPid(const std::string& name, pid_t pid);

}  // namespace drctl::testing
