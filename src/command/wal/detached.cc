#include "command/wal/detached.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include <spdlog/spdlog.h>

namespace drctl::command {

FileLock::FileLock(const std::filesystem::path& path)
    : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

bool FileLock::Try() { return fd_ >= 0 && ::flock(fd_, LOCK_EX | LOCK_NB) == 0; }

bool FileLock::Lock() {
  if (fd_ < 0) return false;
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return false;
  }
  return true;
}

bool FileLock::Wait(std::chrono::steady_clock::duration limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!Try()) {
    if (fd_ < 0 || std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

bool StartDetached(const std::filesystem::path& lock,
                   const std::optional<std::filesystem::path>& log, const char* title,
                   const std::function<void()>& work) {
  // The lock belongs to the open file description, which the detached process inherits; this
  // process closes its descriptor (`held` goes) and the lock lives on there until that process
  // exits (it never returns from here: _exit, no destructors).
  FileLock held(lock);
  if (!held.Try()) return false;
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child > 0) {
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  ::setsid();
  const pid_t grandchild = ::fork();
  if (grandchild != 0) ::_exit(grandchild > 0 ? 0 : 1);
  ::prctl(PR_SET_NAME, title, 0, 0, 0);
  if (log) {  // one older generation is kept
    std::error_code ec;
    constexpr std::uintmax_t kLogLimit = 1U << 20;
    if (std::filesystem::file_size(*log, ec) > kLogLimit && !ec) {
      std::filesystem::rename(*log, log->string() + ".1", ec);
    }
  }
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int err = log ? ::open(log->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600) : -1;
  if (null >= 0) {
    ::dup2(null, STDIN_FILENO);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(err >= 0 ? err : null, STDERR_FILENO);
  }
  if (err < 0) spdlog::set_level(spdlog::level::off);
  work();
  ::_exit(0);
}

bool WaitForDetached(const std::filesystem::path& lock) { return FileLock(lock).Lock(); }

}  // namespace drctl::command
