// drctl restore: a backup into a data directory that starts with plain `pg_ctl start` and
// reaches consistency with the WAL the backup stored (written into pg_wal), with no other
// configuration. Everything that could make it fail is checked first (restore_plan.h); then the
// files are written in parallel, backup_label and the WAL added, and every filesystem synced.
#pragma once

#include <string>

#include "command/command_output.h"
#include "command/restore/restore_plan.h"
#include "common/config.h"

namespace drctl::command {

struct RestoreOptions {
  RestoreRequest request;
  std::string owner;  // --owner USER: chown the result (root only); empty: see restore_command.cc
  bool progress = true;
};

Result<CommandOutput> Restore(const Config& config, const RestoreOptions& options);

}  // namespace drctl::command
