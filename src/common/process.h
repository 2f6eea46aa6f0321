// Child processes: server binaries (postgres, redis-server), external commands (secret commands,
// hooks). Every child can be stopped by its PID, and by default dies with its parent (Linux
// PR_SET_PDEATHSIG), so a crashed drctl or test never leaves a server behind.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::vector<std::string> env;   // extra "NAME=value" entries on top of the environment
  std::string cwd;                // empty: inherit
  std::string user;               // when running as root: switch to this user first
  std::string stdout_path;        // empty: inherit; else appended to this file
  std::string stderr_path;        // empty: inherit; else appended to this file
  int stdin_fd = -1;              // if >= 0, the child's stdin (not closed); else /dev/null
  int stdout_fd = -1;             // if >= 0, used instead of stdout_path (not closed)
  int stderr_fd = -1;             // if >= 0, used instead of stderr_path (not closed)
  int parent_death_signal = 9;    // sent to the child when this process dies; 0: none
  bool new_process_group = true;  // its own group, so Ctrl-C on a terminal skips it
};

// A running or finished child. Movable, not copyable. The destructor does NOT stop the child; call
// Stop() (servers) or Wait() (commands). Not thread-safe.
class Process {
 public:
  static Result<Process> Spawn(const SpawnOptions& options);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process() = default;

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }

  // True while the child has not exited (reaps it if it has).
  bool Running();

  // Waits up to `timeout` for the exit; returns the exit status (128+N when killed by signal N).
  // kTimeout when still running at the deadline.
  Result<int> Wait(std::chrono::milliseconds timeout);

  // Sends `sig`, waits up to `grace`, then SIGKILLs and waits. Returns the exit status.
  // Safe to call when the child has exited already.
  Result<int> Stop(int sig, std::chrono::milliseconds grace);

 private:
  Process(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
  pid_t pid_ = -1;
  std::string name_;
  std::optional<int> status_;
};

struct CommandResult {
  int exit_status = 0;
  std::string out;  // standard output
  std::string err;  // standard error (last 64 KiB)
};

// Runs argv to completion (stdin from /dev/null), capturing its output; kTimeout (child killed)
// past `timeout`. A non-zero exit is not an error here: callers decide.
Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const std::string& user = {});

// The same with full control over the child (env, cwd, user); its output streams are replaced.
// A non-empty `input` is written to its standard input, which is then closed (a child that exits
// or closes it without reading everything is not an error); empty: stdin from /dev/null. On
// timeout the child's whole process group is killed when it has its own (new_process_group).
Result<CommandResult> RunCommand(SpawnOptions options, std::chrono::milliseconds timeout,
                                 std::string_view input = {});

// True if a process with this PID exists (and is not a zombie we own).
bool PidAlive(pid_t pid);

}  // namespace drctl
