// drctl wal stream: a physical replication client that keeps the repositories within
// [wal] partial_interval of the primary (doc/commands/wal-stream.md).
//
// It streams from the replication slot [wal] slot (created when missing) into
// <[wal] spool>/stream/ (fsynced; "<segment>.partial" while current, "<segment>" once complete),
// stores every completed segment in every selected repository (then removes its local file and
// the repository's "<segment>.partial"), and every partial_interval stores the current segment's
// written prefix as "<segment>.partial". Synchronous modes ([wal] synchronous) hold back the
// flush position it reports until the WAL is fsynced locally (local) or stored (repository).
//
// What an earlier run left in the spool is stored first (before connecting), and the current
// partial segment is stored whenever the connection is lost, so the spool reaches the
// repositories even when the server never comes back.
//
// It runs until SIGINT/SIGTERM: then it fsyncs, stores the partial segment and returns its
// output (exit 0). A lost connection or a restarting server is retried with backoff (1 s doubling
// to 30 s) for ever, each failure logged; errors that retrying cannot fix (login or replication
// refused, a repository of another cluster, different content under a stored segment, a spool
// used by another wal stream) end it with their code. Progress: an info log line and
// <spool>/stream/status.json every partial_interval.
#pragma once

#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

struct WalStreamOptions {
  std::string repo;  // only this repository (empty: every configured one)
};

Result<CommandOutput> WalStream(const Config& config, const WalStreamOptions& options);

}  // namespace drctl::command
