#include "harness/pid_log.h"

#include <cstdlib>
#include <fstream>

namespace drctl::testing {

void RecordPid(const std::string& name, pid_t pid) {
  const char* path = std::getenv("DRCTL_HARNESS_PID_FILE");
  if (path == nullptr || *path == '\0') return;
  std::ofstream(path, std::ios::app) << name << " " << pid << "\n" << std::flush;
}

}  // namespace drctl::testing
