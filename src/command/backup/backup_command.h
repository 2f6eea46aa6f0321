// drctl backup: an online physical backup of the configured PostgreSQL 15 into one repository.
//
// Order (each step durable before the next; doc/commands/backup.md):
//   shared repository lock → temporary replication slot + pg_backup_start → PGDATA and
//   tablespaces through the chunk store (unchanged files reused, pages' checksums checked) →
//   pg_backup_stop → chunks committed → the WAL from start to stop copied from pg_wal into the
//   repository → catalog snapshot → manifest written last (the backup becomes visible).
// Interrupted (SIGINT/SIGTERM) or failed: pg_backup_stop is still called, the chunks stored so
// far are committed (the next backup reuses them), no manifest is written, exit kInterrupted.
#pragma once

#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

struct BackupOptions {
  std::string repo;       // --repo: empty = the first configured repository
  std::string label;      // --label
  bool read_all = false;  // --read-all: read every file, even those unchanged since the last backup
  bool progress = true;   // draw a progress line when stderr is a terminal
};

Result<CommandOutput> Backup(const Config& config, const BackupOptions& options);

}  // namespace drctl::command
