#include "redis/local_server.h"

#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"
#include "redis/client.h"

namespace drctl::redis {

Result<LocalServer> LocalServer::Start(ServerOptions options, std::chrono::seconds timeout) {
  if (options.port == 0) {
    auto port = FreeLoopbackPort();
    if (!port) return std::unexpected(port.error());
    options.port = *port;
  }
  const std::string log = (options.dir / "redis.log").string();
  SpawnOptions spawn;
  spawn.argv = {options.binary,
                "--port",
                std::to_string(options.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                options.dir.string(),
                "--daemonize",
                "no",
                "--save",
                "",
                "--logfile",
                log};
  spawn.argv.insert(spawn.argv.end(), options.settings.begin(), options.settings.end());
  spawn.parent_death_signal = SIGKILL;
  auto process = Process::Spawn(spawn);
  if (!process) return std::unexpected(process.error());
  LocalServer server(std::move(options), std::move(*process));

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (!server.Running()) {
      server.stopped_ = true;
      std::ifstream in(log);
      std::stringstream text;
      text << in.rdbuf();
      return Fail(ErrorCode::kRedis, "redis-server exited during start-up: " + text.str(),
                  "read " + log);
    }
    auto client = Client::Connect("127.0.0.1", server.port(), std::chrono::milliseconds(500));
    if (client && client->Ping()) return server;
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)server.Stop(std::chrono::seconds(5));
      return Fail(
          ErrorCode::kTimeout,
          "redis-server did not answer PING within " + std::to_string(timeout.count()) + " s",
          "read " + log);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

LocalServer::~LocalServer() {
  if (!stopped_ && process_.pid() > 0) (void)Stop(std::chrono::seconds(10));
}

Status LocalServer::Stop(std::chrono::seconds grace) {
  stopped_ = true;
  auto status = process_.Stop(SIGTERM, grace);
  if (!status) return std::unexpected(status.error().WithContext("stopping redis-server"));
  return Ok();
}

}  // namespace drctl::redis
