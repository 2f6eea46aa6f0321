// No server started by the harness outlives the test binary, when a test fails (the environment's
// TearDown stops them) and when the binary crashes (parent-death signal).
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "common/process.h"
#include "common/temp_dir.h"

namespace drctl::testing {
namespace {

struct Started {
  std::string name;
  pid_t pid;
};

std::vector<Started> ReadPids(const std::filesystem::path& path) {
  std::vector<Started> out;
  std::ifstream in(path);
  std::string name;
  pid_t pid = 0;
  while (in >> name >> pid) out.push_back({name, pid});
  return out;
}

// Runs the selftest binary in `mode` and returns the servers it started. `workspace` receives the
// directory holding the selftest's files: the caller keeps it until the servers are gone, since a
// dying server may still write there.
std::vector<Started> RunSelftest(const std::string& mode, int& exit_status,
                                 std::optional<TempDir>& workspace) {
  auto dir = TempDir::Create("drctl-cleanup-");
  EXPECT_TRUE(dir.has_value());
  if (!dir) return {};
  const auto pid_file = dir->path() / "pids";
  // The selftest's temporary directories go here, so a crashed run leaves none behind. The
  // PostgreSQL server user must be able to traverse it.
  const auto tmp = dir->path() / "tmp";
  std::filesystem::create_directories(tmp);
  const auto traversable = std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                           std::filesystem::perms::others_exec;
  std::filesystem::permissions(dir->path(), traversable);
  std::filesystem::permissions(tmp, traversable);
  SpawnOptions o;
  o.argv = {DRCTL_SELFTEST_BINARY};
  o.env = {"DRCTL_SELFTEST_MODE=" + mode, "DRCTL_HARNESS_PID_FILE=" + pid_file.string(),
           "TMPDIR=" + tmp.string()};
  auto r = RunCommand(o, std::chrono::minutes(5));
  EXPECT_TRUE(r.has_value()) << r.error().ToString();
  exit_status = r ? r->exit_status : -1;
  auto started = ReadPids(pid_file);
  workspace.emplace(std::move(*dir));
  return started;
}

void ExpectAllGone(const std::vector<Started>& started) {
  // A parent-death signal is delivered asynchronously: allow a few seconds.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (const auto& s : started) {
    while (PidAlive(s.pid) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_FALSE(PidAlive(s.pid)) << s.name << " (pid " << s.pid << ") is still running";
    if (PidAlive(s.pid)) kill(s.pid, SIGKILL);
  }
}

TEST(HarnessCleanup, FailingTestStillStopsEveryServer) {
  int status = 0;
  std::optional<TempDir> workspace;
  auto started = RunSelftest("fail", status, workspace);
  EXPECT_EQ(status, 1) << "the selftest's deliberate failure should fail it";
  // postgres, redis-server, memcached and the four Swift servers.
  EXPECT_EQ(started.size(), 7U);
  ExpectAllGone(started);
}

TEST(HarnessCleanup, CrashedTestBinaryLeavesNoServer) {
  int status = 0;
  std::optional<TempDir> workspace;
  auto started = RunSelftest("crash", status, workspace);
  EXPECT_EQ(status, 128 + SIGABRT);
  EXPECT_EQ(started.size(), 7U);
  ExpectAllGone(started);
}

}  // namespace
}  // namespace drctl::testing
