// `drctl demo`: drctl's main job on embedded defaults, on a throwaway PostgreSQL it creates
// itself, with drctl as its archive_command and an encrypted local repository in a scratch
// directory: sample ERP data, a backup, a workload, an accidental DROP TABLE, a point-in-time
// restore to just before the dropping transaction, a start of the restored copy, and a check that
// the data equals the moment before the drop. Each step is timed and reported; the first failing
// step stops the run.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"

namespace drctl::command {

struct DemoOptions {
  std::filesystem::path workdir;  // empty: a fresh directory under $TMPDIR, removed afterwards
  bool keep = false;              // leave the workspace (and its files) for inspection
  int users = 1000;               // rows in the sample "User" table
};

struct DemoStep {
  std::string name;
  std::string detail;
  bool ok = false;
  double seconds = 0;
};

struct DemoReport {
  std::filesystem::path workdir;
  std::vector<DemoStep> steps;
  bool ok = false;
};

// Runs the demo; `progress` (may be empty) is called as each step finishes. The report lists
// every step run; a failing step's detail is its error message.
DemoReport RunDemo(const DemoOptions& options,
                   const std::function<void(const DemoStep&)>& progress = {});

}  // namespace drctl::command
