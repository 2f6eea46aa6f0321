// drctl drill: the weekly restore test, automated (doc/commands/drill.md). Restores a backup
// (latest by default; --random: a random backup and a random moment of its recoverable window)
// into a scratch directory, starts an isolated PostgreSQL there (no archiving, no TCP listener, a
// free port), waits for recovery, and checks it: pg_amcheck (heap and btree, every database),
// the row counts the backup's manifest recorded, and the operator's [[drill.check]] queries. It
// measures the restore and the recovery: the measured RTO, against [objectives] rto. The report
// goes into the repository (drill_report.h) and to the output; the instance is stopped and
// removed unless --keep.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

struct DrillOptions {
  std::string repo;                   // read only this repository (default: every one)
  std::string backup = "latest";      // backup id or latest (ignored with random)
  bool random = false;                // a random backup and a random point of its window
  std::optional<std::uint64_t> seed;  // for random (printed in the report)
  bool immediate = false;    // recover only to the backup's consistency point (counts compared)
  bool keep = false;         // leave the instance running for a human
  std::string drctl_binary;  // the binary the instance's restore_command runs (empty: this one)
};

// The report; a failed check or step gives a kVerifyFailed failure (exit 17) after the report.
Result<CommandOutput> Drill(const Config& config, const DrillOptions& options);

}  // namespace drctl::command
