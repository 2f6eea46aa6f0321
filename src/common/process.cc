#include "common/process.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <thread>

extern char** environ;

namespace drctl {
namespace {

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

struct Credentials {
  uid_t uid;
  gid_t gid;
  std::string name;
};

Result<std::optional<Credentials>> LookUpUser(const std::string& user) {
  if (user.empty() || geteuid() != 0) return std::optional<Credentials>();
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return Fail(ErrorCode::kPrecondition, "user '" + user + "' does not exist",
                "create it (useradd --system " + user + ") or configure another user");
  }
  return Credentials{pw.pw_uid, pw.pw_gid, user};
}

int StatusToExit(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void ExecChild(const SpawnOptions& o, const std::optional<Credentials>& cred,
                            char* const* argv, char* const* envp, int out_fd, int err_fd,
                            pid_t parent) {
  if (o.new_process_group) setpgid(0, 0);
  const int in_fd = o.stdin_fd >= 0 ? o.stdin_fd : open("/dev/null", O_RDONLY);
  if (in_fd >= 0) dup2(in_fd, 0);
  if (out_fd >= 0) dup2(out_fd, 1);
  if (err_fd >= 0) dup2(err_fd, 2);
  if (cred) {
    if (initgroups(cred->name.c_str(), cred->gid) != 0 || setgid(cred->gid) != 0 ||
        setuid(cred->uid) != 0) {
      _exit(126);
    }
  }
  // After the credential change: changing credentials clears the parent-death signal.
  if (o.parent_death_signal != 0) {
    prctl(PR_SET_PDEATHSIG, o.parent_death_signal);
    if (getppid() != parent) _exit(125);  // parent already gone
  }
  if (!o.cwd.empty() && chdir(o.cwd.c_str()) != 0) _exit(126);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execvpe(argv[0], argv, envp);
  _exit(127);
}

int OpenAppend(const std::string& path) {
  if (path.empty()) return -1;
  return open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

}  // namespace

Result<Process> Process::Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return Fail(ErrorCode::kInternal, "Spawn with an empty argv");
  auto cred = LookUpUser(options.user);
  if (!cred) return std::unexpected(cred.error());

  std::vector<char*> argv;
  argv.reserve(options.argv.size() + 1);
  for (const auto& a : options.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Extra entries replace inherited ones of the same name (getenv returns the first match).
  std::vector<std::string> env_storage = options.env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    const auto name = entry.substr(0, entry.find('=') + 1);
    bool replaced = false;
    for (const auto& extra : options.env) replaced = replaced || extra.starts_with(name);
    if (!replaced) env_storage.emplace_back(entry);
  }
  std::vector<char*> envp;
  envp.reserve(env_storage.size() + 1);
  for (const auto& e : env_storage) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  const int out_fd = options.stdout_fd >= 0 ? options.stdout_fd : OpenAppend(options.stdout_path);
  const int err_fd = options.stderr_fd >= 0 ? options.stderr_fd : OpenAppend(options.stderr_path);
  if ((!options.stdout_path.empty() && out_fd < 0) ||
      (!options.stderr_path.empty() && err_fd < 0)) {
    return Fail(ErrorCode::kIo, Errno("cannot open output file for " + options.argv[0]));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) ExecChild(options, *cred, argv.data(), envp.data(), out_fd, err_fd, parent);
  const int fork_errno = errno;
  if (out_fd >= 0 && out_fd != options.stdout_fd) close(out_fd);
  if (err_fd >= 0 && err_fd != options.stderr_fd) close(err_fd);
  if (pid < 0) {
    errno = fork_errno;
    return Fail(ErrorCode::kIo, Errno("cannot start " + options.argv[0]));
  }
  return Process(pid, options.argv[0]);
}

Process::Process(Process&& other) noexcept
    : pid_(other.pid_), name_(std::move(other.name_)), status_(other.status_) {
  other.pid_ = -1;
}

Process& Process::operator=(Process&& other) noexcept {
  pid_ = other.pid_;
  name_ = std::move(other.name_);
  status_ = other.status_;
  other.pid_ = -1;
  return *this;
}

bool Process::Running() {
  if (pid_ <= 0 || status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = StatusToExit(status);
    return false;
  }
  return r == 0;
}

Result<int> Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto delay = std::chrono::milliseconds(1);
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(ErrorCode::kTimeout, name_ + " (pid " + std::to_string(pid_) +
                                           ") still running after " +
                                           std::to_string(timeout.count()) + " ms");
    }
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(50));
  }
  if (!status_) return Fail(ErrorCode::kInternal, "lost track of " + name_);
  return *status_;
}

Result<int> Process::Stop(int sig, std::chrono::milliseconds grace) {
  if (!Running()) return status_.value_or(0);
  kill(pid_, sig);
  if (auto status = Wait(grace)) return status;
  kill(pid_, SIGKILL);
  return Wait(std::chrono::seconds(10));
}

Result<CommandResult> RunCommand(const std::vector<std::string>& argv,
                                 std::chrono::milliseconds timeout, const std::string& user) {
  SpawnOptions options;
  options.argv = argv;
  options.user = user;
  return RunCommand(std::move(options), timeout);
}

Result<CommandResult> RunCommand(SpawnOptions options, std::chrono::milliseconds timeout,
                                 std::string_view input) {
  if (options.argv.empty()) return Fail(ErrorCode::kInternal, "RunCommand with an empty argv");
  const std::string name = options.argv[0];
  std::array<int, 2> out_pipe{};
  std::array<int, 2> err_pipe{};
  // Standard input is a socket, not a pipe: send() with MSG_NOSIGNAL reports a child that stopped
  // reading as EPIPE instead of raising SIGPIPE in drctl.
  std::array<int, 2> in_sock{-1, -1};
  if (pipe2(out_pipe.data(), O_CLOEXEC) != 0) return Fail(ErrorCode::kIo, Errno("pipe"));
  if (pipe2(err_pipe.data(), O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Fail(ErrorCode::kIo, Errno("pipe"));
  }
  if (!input.empty() && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_sock.data()) != 0) {
    auto error = Fail(ErrorCode::kIo, Errno("socketpair"));
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) close(fd);
    return error;
  }
  options.stdin_fd = in_sock[1];
  options.stdout_fd = out_pipe[1];
  options.stderr_fd = err_pipe[1];
  auto child = Process::Spawn(options);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (in_sock[1] >= 0) close(in_sock[1]);
  if (!child) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    if (in_sock[0] >= 0) close(in_sock[0]);
    return std::unexpected(child.error());
  }
  // Whatever the child started in its group (a shell's commands) dies with it.
  const auto kill_child = [&child, &options] {
    if (options.new_process_group) kill(-child->pid(), SIGKILL);
    (void)child->Stop(SIGKILL, std::chrono::milliseconds(0));
  };
  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // 0: stdout, 1: stderr, 2: stdin (-1 without input; poll ignores it).
  std::array<pollfd, 3> fds{
      {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}, {in_sock[0], POLLOUT, 0}}};
  int open_outputs = 2;
  std::size_t written = 0;
  std::array<char, 65536> buf{};
  bool timed_out = false;
  while (open_outputs > 0 || fds[2].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    if (poll(fds.data(), fds.size(), static_cast<int>(left.count())) < 0 && errno != EINTR) break;
    for (std::size_t i = 0; i < 2; ++i) {
      auto& fd = fds[i];
      if (fd.fd < 0 || fd.revents == 0) continue;
      ssize_t n = read(fd.fd, buf.data(), buf.size());
      if (n <= 0) {
        close(fd.fd);
        fd.fd = -1;
        --open_outputs;
        continue;
      }
      std::string& sink = i == 0 ? result.out : result.err;
      sink.append(buf.data(), static_cast<std::size_t>(n));
      if (i == 1 && sink.size() > 65536) sink.erase(0, sink.size() - 65536);
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      const ssize_t n = send(fds[2].fd, input.data() + written, input.size() - written,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (written == input.size() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        close(fds[2].fd);  // all sent, or the child stopped reading (EPIPE)
        fds[2].fd = -1;
      }
    }
  }
  for (auto& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  if (timed_out) {
    kill_child();
    return Fail(ErrorCode::kTimeout,
                "command " + name + " did not finish within " +
                    std::to_string(timeout.count() / 1000) + " s",
                "check that it does not wait for input; it was killed");
  }
  // Output closed: the child is exiting (or closed its streams); give it a moment to finish.
  auto status = child->Wait(std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         deadline - std::chrono::steady_clock::now()),
                                     std::chrono::milliseconds(1000)));
  if (!status) {
    kill_child();
    return std::unexpected(status.error());
  }
  result.exit_status = *status;
  return result;
}

bool PidAlive(pid_t pid) {
  if (pid <= 0) return false;
  if (kill(pid, 0) != 0) return errno == EPERM;
  // A zombie still answers kill(0); look at its state.
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  std::array<char, 512> buf{};
  ssize_t n = read(fd, buf.data(), buf.size() - 1);
  close(fd);
  if (n <= 0) return false;
  std::string_view stat(buf.data(), static_cast<std::size_t>(n));
  auto paren = stat.rfind(')');
  return paren == std::string_view::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

}  // namespace drctl
