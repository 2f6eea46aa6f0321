// Work that outlives the command that starts it: wal get's prefetcher and wal push's push-ahead
// run in a detached process, so that PostgreSQL (which waits for its restore_command or
// archive_command process only) gets its answer while they go on.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>

namespace drctl::command {

// An exclusive flock on a file (created 0600 when missing), released when the object goes or its
// holder exits, even killed. wal push holds "<spool>/archive/<name>.lock" while it pushes that
// file, so that a call and the push-ahead process never push one file at once.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&&) = delete;
  FileLock& operator=(FileLock&&) = delete;

  // Takes the lock if it is free.
  bool Try();
  // Waits for it as long as it takes.
  bool Lock();
  // Waits for the holder, at most `limit` (false then, or when the file cannot be opened).
  bool Wait(std::chrono::steady_clock::duration limit);

 private:
  int fd_;
};

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
