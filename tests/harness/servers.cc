#include "harness/servers.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <optional>

#include "common/temp_dir.h"
#include "harness/pid_log.h"

namespace drctl::testing {
namespace {

struct SharedPostgresState {
  std::optional<TempDir> dir;
  std::optional<pg::LocalCluster> cluster;
  std::optional<Error> failure;
};

struct SharedRedisState {
  std::optional<TempDir> dir;
  std::optional<redis::LocalServer> server;
  std::optional<Error> failure;
};

struct SharedSwiftState {
  std::optional<SwiftServer> server;
  std::optional<Error> failure;
};

SharedPostgresState& PostgresState() {
  static SharedPostgresState state;
  return state;
}
SharedRedisState& RedisState() {
  static SharedRedisState state;
  return state;
}
SharedSwiftState& SwiftState() {
  static SharedSwiftState state;
  return state;
}

Status StartPostgres(SharedPostgresState& s) {
  auto dir = TempDir::Create("drctl-pg-");
  if (!dir) return std::unexpected(dir.error());
  s.dir = std::move(*dir);
  DRCTL_TRY(ChownToUser(s.dir->path(), "postgres"));
  pg::ClusterOptions o;
  o.pgdata = s.dir->path() / "pgdata";
  o.settings = {"wal_level=replica", "archive_mode=on", "max_wal_senders=10", "fsync=off"};
  DRCTL_TRY(pg::LocalCluster::InitDb(o));
  // In the file, not on the command line: tests change it with ALTER SYSTEM (command-line settings
  // would override that).
  std::ofstream(o.pgdata / "postgresql.conf", std::ios::app) << "archive_command = '/bin/true'\n";
  auto cluster = pg::LocalCluster::Start(o);
  if (!cluster) return std::unexpected(cluster.error());
  RecordPid("postgres", cluster->pid());
  s.cluster = std::move(*cluster);
  return Ok();
}

Status StartRedis(SharedRedisState& s) {
  auto dir = TempDir::Create("drctl-redis-");
  if (!dir) return std::unexpected(dir.error());
  s.dir = std::move(*dir);
  redis::ServerOptions o;
  o.dir = s.dir->path();
  auto server = redis::LocalServer::Start(o);
  if (!server) return std::unexpected(server.error());
  RecordPid("redis-server", server->pid());
  s.server = std::move(*server);
  return Ok();
}

// Starts once; a failure is remembered and reported to every test that asks.
template <typename State, typename Value, typename Start>
Value* GetOrStart(State& state, std::optional<Value>& slot, const char* what, Start start) {
  if (!slot && !state.failure) {
    if (auto started = start(state); !started) state.failure = started.error();
  }
  if (state.failure) {
    ADD_FAILURE() << "cannot start " << what << ": " << state.failure->ToString();
    return nullptr;
  }
  return slot ? &*slot : nullptr;
}

class SharedServersEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { StopSharedServers(); }
};

}  // namespace

pg::LocalCluster* SharedPostgres() {
  auto& s = PostgresState();
  return GetOrStart(s, s.cluster, "PostgreSQL", StartPostgres);
}

redis::LocalServer* SharedRedis() {
  auto& s = RedisState();
  return GetOrStart(s, s.server, "Redis", StartRedis);
}

SwiftServer* SharedSwift() {
  auto& s = SwiftState();
  return GetOrStart(s, s.server, "Swift s3api", [](SharedSwiftState& st) -> Status {
    auto server = SwiftServer::Start();
    if (!server) return std::unexpected(server.error());
    st.server = std::move(*server);
    return Ok();
  });
}

void StopSharedServers() {
  if (auto& s = SwiftState(); s.server) {
    (void)s.server->Stop();
    s.server.reset();
  }
  if (auto& s = RedisState(); s.server) {
    (void)s.server->Stop();
    s.server.reset();
    s.dir.reset();
  }
  if (auto& s = PostgresState(); s.cluster) {
    (void)s.cluster->Stop();
    s.cluster.reset();
    s.dir.reset();
  }
}

void RegisterSharedServersEnvironment() {
  ::testing::AddGlobalTestEnvironment(new SharedServersEnvironment);
}

}  // namespace drctl::testing
