// Runs the built drctl binary the way an operator does, for end-to-end tests of the CLI.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/process.h"

namespace drctl::testing {

// Runs `binary` (a copy of drctl) with `args`. Tests run a copy in their workspace whenever
// drctl will start a PostgreSQL that runs drctl again (a drill's or a restore's
// restore_command, archive_command): the postgres user cannot reach a build directory under a
// private checkout.
inline CommandResult RunDrctlAt(const std::string& binary, std::vector<std::string> args,
                                std::vector<std::string> env = {}) {
  SpawnOptions o;
  o.argv = {binary};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = std::move(env);
  auto r = RunCommand(o, std::chrono::minutes(10));
  if (!r) return CommandResult{-1, "", r.error().ToString()};
  return *r;
}

inline CommandResult RunDrctl(std::vector<std::string> args, std::vector<std::string> env = {}) {
  return RunDrctlAt(DRCTL_BINARY, std::move(args), std::move(env));
}

// What a command did, for failure messages: its exit status, stdout and stderr.
inline std::string Describe(const CommandResult& r) {
  return "exit " + std::to_string(r.exit_status) + "\n--- stdout:\n" + r.out + "\n--- stderr:\n" +
         r.err;
}

// A loopback port nothing listens on (bound, then released).
inline int ClosedPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace drctl::testing
