// A redis-server that drctl runs itself (tests, restore rehearsals). The server is drctl's child,
// stopped by PID and killed if drctl dies.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/result.h"

namespace drctl::redis {

struct ServerOptions {
  std::filesystem::path dir;          // working directory (RDB/AOF files), must exist
  int port = 0;                       // 0: a free loopback port
  std::vector<std::string> settings;  // extra "--name value" pairs, e.g. {"--appendonly", "no"}
  std::string binary = "redis-server";
};

class LocalServer {
 public:
  static Result<LocalServer> Start(ServerOptions options,
                                   std::chrono::seconds timeout = std::chrono::seconds(30));
  LocalServer(LocalServer&&) noexcept = default;
  LocalServer& operator=(LocalServer&&) noexcept = default;
  ~LocalServer();

  Status Stop(std::chrono::seconds grace = std::chrono::seconds(20));
  bool Running() { return process_.Running(); }
  pid_t pid() const { return process_.pid(); }
  int port() const { return options_.port; }

 private:
  LocalServer(ServerOptions options, Process process)
      : options_(std::move(options)), process_(std::move(process)) {}
  ServerOptions options_;
  Process process_;
  bool stopped_ = false;
};

}  // namespace drctl::redis
