// drctl restore: a backup into a data directory that starts with plain `pg_ctl start` and
// reaches consistency with the WAL the backup stored (written into pg_wal), with no other
// configuration. Everything that could make it fail is checked first (restore_plan.h); then the
// files are written in parallel, backup_label and the WAL added, and every filesystem synced.
// Recovery settings (recovery_target.h) make the server replay archived WAL through
// `drctl wal get` up to the target (default: the end of the archive), when the server's user can
// run drctl with this config; otherwise (no target given) it stops at the backup's consistency
// point and the output says why.
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
  bool start = false;  // --start: start the server and wait until recovery reaches its target
  int port = 0;        // --port (with --start)
  // The drctl binary restore_command runs (empty: this one, /proc/self/exe). The server's user
  // must be able to run it: the demo passes a copy in its workspace.
  std::string drctl_binary;
  // Lines appended to postgresql.auto.conf before the server starts (drctl drill isolates its
  // instance: no archiving, no TCP). Empty: none.
  std::string extra_settings;
};

Result<CommandOutput> Restore(const Config& config, const RestoreOptions& options);

}  // namespace drctl::command
