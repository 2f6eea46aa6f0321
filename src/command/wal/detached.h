// Work that outlives the command that starts it: wal get's prefetcher and wal push's push-ahead
// run in a detached process, so that PostgreSQL (which waits for its restore_command or
// archive_command process only) gets its answer while they go on.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>

namespace drctl::command {

// Runs `work` in a detached grandchild (its own session; stdin and stdout on /dev/null, stderr
// appended to `log`, kept under 1 MiB plus one older generation `log`.1, or /dev/null) that
// holds an exclusive flock on `lock` until it exits: one such process per lock at a time.
// Returns false, and runs nothing, when another holds the lock or the fork fails. Call it while
// this process is single-threaded (no threads, no open connections the child would share).
// `title` names the process for ps and pkill (at most 15 characters: "drctl-prefetch",
// "drctl-pushahead").
bool StartDetached(const std::filesystem::path& lock,
                   const std::optional<std::filesystem::path>& log, const char* title,
                   const std::function<void()>& work);

// Blocks until no detached process holds `lock` (for tests and for callers that must see its
// work finished). Returns false when the lock file cannot be opened.
bool WaitForDetached(const std::filesystem::path& lock);

}  // namespace drctl::command
