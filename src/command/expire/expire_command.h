// drctl expire: applies the [retention] rules (doc/commands/expire.md) to every configured
// repository, or the one --repo names. The plan comes from catalog::PlanRetention; this command
// reads the repository, carries the plan out and reports it.
//
// Order, per repository (each step only once the previous one succeeded):
//   expire lock (shared, and no other expire) → every manifest and every index read and
//   authenticated (any damage: refuse, delete nothing) → plan → delete the expired manifests →
//   delete the WAL objects nothing needs → release → mark (every remaining manifest) and sweep
//   (catalog::CollectGarbage under its exclusive lock, with its grace period), refused if a
//   backup committed after the mark (then marked again).
// A backup may run meanwhile: it holds a shared lock, so the sweep waits for the next expire
// (reported as kLocked after the deletions), and the WAL it needs is newer than the newest
// complete backup's start, which is never deleted.
// --dry-run reads the same things, deletes nothing, and estimates the bytes freed (packs through
// CollectGarbage's dry run, which needs the exclusive lock for a moment).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

struct ExpireOptions {
  std::string repo;  // --repo: empty = every configured repository
  bool dry_run = false;
  std::optional<std::int64_t> now;  // Unix seconds; tests inject it (default: the clock)
};

// kConfig when [retention] sets no rule (expire refuses to guess). A repository that cannot be
// opened or read in full is reported with its error and left untouched; the others are expired;
// the output's failure is then the first error.
Result<CommandOutput> Expire(const Config& config, const ExpireOptions& options);

}  // namespace drctl::command
