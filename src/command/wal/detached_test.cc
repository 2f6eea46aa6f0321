#include "command/wal/detached.h"

#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/temp_dir.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Waits (in the detached process) until the test creates `go`: so the work provably goes on
// after StartDetached returned.
void AwaitGo(const fs::path& go) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!fs::exists(go) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

class DetachedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-detached-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    root_ = dir_->path();
  }
  std::optional<TempDir> dir_;
  fs::path root_;
};

TEST_F(DetachedTest, WorkRunsInItsOwnSessionAfterTheCallReturnedAndHoldsTheLock) {
  const fs::path lock = root_ / "lock";
  const fs::path go = root_ / "go";
  const fs::path done = root_ / "done";
  ASSERT_TRUE(StartDetached(lock, std::nullopt, "drctl-test", [&] {
    AwaitGo(go);
    char title[16] = {};
    ::prctl(PR_GET_NAME, title, 0, 0, 0);
    std::ofstream(done) << ::getpid() << " " << ::getsid(0) << " " << title << "\n";
  }));
  EXPECT_FALSE(fs::exists(done)) << "the work waits for the test";
  // While it runs, a second one with the same lock does not start, and its work never runs.
  const fs::path second = root_ / "second";
  EXPECT_FALSE(
      StartDetached(lock, std::nullopt, "drctl-test", [&] { std::ofstream(second) << "ran"; }));
  std::ofstream(go) << "go";
  ASSERT_TRUE(WaitForDetached(lock));
  EXPECT_FALSE(fs::exists(second));
  std::istringstream ids(ReadAll(done));
  pid_t pid = 0;
  pid_t sid = 0;
  std::string title;
  ids >> pid >> sid >> title;
  EXPECT_EQ(title, "drctl-test") << "named for ps and pkill";
  EXPECT_GT(pid, 0);
  EXPECT_NE(pid, ::getpid());
  EXPECT_NE(sid, ::getsid(0)) << "detached: a session of its own";
  // The lock is free again: the next one starts.
  EXPECT_TRUE(StartDetached(lock, std::nullopt, "drctl-test", [] {}));
  ASSERT_TRUE(WaitForDetached(lock));
}

TEST_F(DetachedTest, StandardErrorGoesToTheLogWhichKeepsOneOlderGeneration) {
  const fs::path lock = root_ / "lock";
  const fs::path log = root_ / "work.log";
  std::ofstream(log) << std::string((1U << 20) + 1, 'x');
  ASSERT_TRUE(StartDetached(lock, log, "drctl-test", [] {
    std::fputs("what went wrong\n", stderr);
    std::fflush(stderr);
  }));
  ASSERT_TRUE(WaitForDetached(lock));
  EXPECT_EQ(ReadAll(log), "what went wrong\n");
  EXPECT_EQ(fs::file_size(root_ / "work.log.1"), (1U << 20) + 1);
  // Below the limit it appends.
  ASSERT_TRUE(StartDetached(lock, log, "drctl-test", [] { std::fputs("and again\n", stderr); }));
  ASSERT_TRUE(WaitForDetached(lock));
  EXPECT_EQ(ReadAll(log), "what went wrong\nand again\n");
}

TEST_F(DetachedTest, AnUnwritableLockPlaceStartsNothing) {
  const fs::path ran = root_ / "ran";
  EXPECT_FALSE(StartDetached(root_ / "missing" / "lock", std::nullopt, "drctl-test",
                             [&] { std::ofstream(ran) << "ran"; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // a wrongly started one would write
  EXPECT_FALSE(fs::exists(ran));
  EXPECT_FALSE(WaitForDetached(root_ / "missing" / "lock"));
}

}  // namespace
}  // namespace drctl::command
