// Runs the built drctl binary the way an operator does, for end-to-end tests of the CLI.
#pragma once

#include <string>
#include <vector>

#include "common/process.h"

namespace drctl::testing {

// Runs `binary` (a copy of drctl) with `args`. Tests run a copy in their workspace whenever
// drctl will start a PostgreSQL that runs drctl again (a drill's or a restore's
// restore_command, archive_command): the postgres user cannot reach a build directory under a
// private checkout.
inline CommandResult RunDrctlAt(const std::string& binary, std::vector<std::string> args,
                                std::vector<std::string> env = {}) {
  SpawnOptions o;
  o.argv = {binary};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  auto r = RunCommand(o, std::chrono::minutes(10));
  if (!r) return CommandResult{-1, "", r.error().ToString()};
  return *r;
}

inline CommandResult RunDrctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
  return RunDrctlAt(DRCTL_BINARY, std::move(args), std::move(env));
}

}  // namespace drctl::testing
