// Ctrl-C and SIGTERM for long commands (backup, restore): while an InterruptScope lives, the
// signals set a flag instead of killing the process, so the command can stop at a safe point
// (pg_backup_stop called, chunks committed, nothing half-listed) and exit with kInterrupted.
// A second signal of the same kind while the first is being handled is ignored: the command is
// already stopping. Not nestable; create one per command, from the main thread.
#pragma once

namespace drctl::command {

class InterruptScope {
 public:
  InterruptScope();   // installs the handlers and clears the flag
  ~InterruptScope();  // restores the previous handlers
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

  // Whether SIGINT or SIGTERM arrived since the scope began (async-signal-safe read).
  static bool Interrupted();
  // The signal that arrived (0 if none).
  static int Signal();
};

}  // namespace drctl::command
