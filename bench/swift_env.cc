// A Swift s3api endpoint for benchmark scripts (bench/wal_bench.sh): starts the integration
// harness's Swift (testing::SwiftServer: memcached, account/container/object/proxy servers on
// loopback ports, children of this process), optionally with TLS on the proxy (a self-signed
// certificate for 127.0.0.1), creates the bucket asked for, and prints ONE line of settings to
// stdout, words of the form KEY=VALUE (no value contains a space or a quote):
//
//   SWIFT_ENDPOINT=https://127.0.0.1:PORT SWIFT_HOST=127.0.0.1 SWIFT_PORT=PORT SWIFT_TLS=1
//   SWIFT_REGION=us-east-1 SWIFT_ACCESS_KEY=... SWIFT_SECRET_KEY=... SWIFT_CA_FILE=/path/cert.pem
//   SWIFT_BUCKET=name SWIFT_PIDS=pid,pid,...
//
// (SWIFT_CA_FILE is empty without TLS; it lies in the server's 0700 temporary directory, so copy
// it for other users. The credentials are the harness's fixed test account; they go to stdout,
// a pipe to the script, never to argv.) Then it waits until stdin reaches end-of-file or it
// gets SIGTERM, SIGINT or SIGHUP, stops every Swift process by PID (proxy first), removes the
// temporary directory and exits 0 (1 if something failed). If this process is killed, the servers
// die by their parent-death signal. Progress and errors go to stderr. (A stdin at end-of-file from
// the start, such as /dev/null, stops it at once: give it a pipe that stays open.)
//
//   drctl_swift_env [--tls] [--bucket NAME] [--timeout SECONDS (90)]
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "harness/swift_server.h"

namespace {

using drctl::testing::SwiftServer;

void Usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--tls] [--bucket NAME] [--timeout SECONDS]\n", argv0);
}

bool ValidBucket(const std::string& name) {
  if (name.size() < 3 || name.size() > 63) return false;
  for (const char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

// Returns the signal that ended the wait, or 0 at end-of-file on stdin.
int WaitForEnd(int signal_fd) {
  bool stdin_open = true;
  while (true) {
    pollfd fds[2] = {{signal_fd, POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int n = poll(fds, stdin_open ? 2 : 1, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "drctl_swift_env: poll: %s\n", std::strerror(errno));
      return SIGTERM;
    }
    if ((fds[0].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        return static_cast<int>(info.ssi_signo);
      }
    }
    if (stdin_open && (fds[1].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) != 0) {
      char buffer[4096];
      const ssize_t got = read(STDIN_FILENO, buffer, sizeof(buffer));
      if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) return 0;
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  SwiftServer::Options options;
  std::string bucket;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--tls") {
      options.tls = true;
    } else if (flag == "--bucket" && i + 1 < argc && ValidBucket(argv[i + 1])) {
      bucket = argv[++i];
    } else if (flag == "--timeout" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      options.timeout = std::chrono::seconds(std::atoi(argv[++i]));
    } else {
      Usage(argv[0]);
      return 2;
    }
  }

  // Blocked before anything starts (the children unblock them): a signal during the start-up is
  // taken once Swift is up, and then stops it.
  sigset_t set;
  sigemptyset(&set);
  for (const int sig : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, sig);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  const int signal_fd = signalfd(-1, &set, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::fprintf(stderr, "drctl_swift_env: signalfd: %s\n", std::strerror(errno));
    return 1;
  }

  std::fprintf(stderr, "drctl_swift_env: starting Swift%s\n", options.tls ? " (TLS)" : "");
  auto swift = SwiftServer::Start(options);
  if (!swift) {
    std::fprintf(stderr, "drctl_swift_env: starting Swift: %s\n", swift.error().ToString().c_str());
    return 1;
  }
  int rc = 0;
  if (!bucket.empty()) {
    auto made = drctl::testing::RunAwsCli(
        swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
        {"s3api", "create-bucket", "--bucket", bucket}, swift->ca_file());
    if (!made || (made->exit_status != 0 &&
                  made->err.find("BucketAlreadyOwnedByYou") == std::string::npos)) {
      std::fprintf(stderr, "drctl_swift_env: create-bucket %s: %s\n", bucket.c_str(),
                   made ? made->err.c_str() : made.error().ToString().c_str());
      rc = 1;
    }
  }

  int sig = 0;
  if (rc == 0) {
    // The reader of stdout may be gone; stopping must go on. (Set only now: the servers and
    // commands started above must not inherit it.)
    signal(SIGPIPE, SIG_IGN);
    std::string pids;
    for (const pid_t pid : swift->pids()) {
      pids += (pids.empty() ? "" : ",") + std::to_string(pid);
    }
    std::printf(
        "SWIFT_ENDPOINT=%s SWIFT_HOST=127.0.0.1 SWIFT_PORT=%d SWIFT_TLS=%d SWIFT_REGION=%s "
        "SWIFT_ACCESS_KEY=%s SWIFT_SECRET_KEY=%s SWIFT_CA_FILE=%s SWIFT_BUCKET=%s "
        "SWIFT_PIDS=%s\n",
        swift->endpoint().c_str(), swift->port(), swift->tls() ? 1 : 0, SwiftServer::kRegion,
        SwiftServer::kAccessKey, SwiftServer::kSecretKey, swift->ca_file().c_str(), bucket.c_str(),
        pids.c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "drctl_swift_env: Swift at %s (pids %s); waiting for EOF on stdin\n",
                 swift->endpoint().c_str(), pids.c_str());
    sig = WaitForEnd(signal_fd);
  }

  std::fprintf(stderr, "drctl_swift_env: %s, stopping Swift\n",
               rc != 0 ? "failed" : (sig == 0 ? "end of input" : strsignal(sig)));
  auto stopped = swift->Stop();
  if (!stopped) {
    std::fprintf(stderr, "drctl_swift_env: stopping Swift: %s\n",
                 stopped.error().ToString().c_str());
    rc = 1;
  }
  close(signal_fd);
  return rc;
}
