// Runs the built drctl binary the way an operator does, for end-to-end tests of the CLI.
#pragma once

#include <string>
#include <vector>

#include "common/process.h"

namespace drctl::testing {

inline CommandResult RunDrctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
  SpawnOptions o;
  o.argv = {DRCTL_BINARY};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  auto r = RunCommand(o, std::chrono::minutes(10));
  if (!r) return CommandResult{-1, "", r.error().ToString()};
  return *r;
}

}  // namespace drctl::testing
