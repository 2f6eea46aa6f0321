#include "common/process.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

namespace drctl {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RunCommand, CapturesOutputAndStatus) {
  auto r = RunCommand({"/bin/sh", "-c", "echo out; echo err >&2; exit 4"}, seconds(10));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->exit_status, 4);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(RunCommand, ExtraEnvironmentOverridesInherited) {
  setenv("DRCTL_PROCESS_TEST", "inherited", 1);
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", "printf %s \"$DRCTL_PROCESS_TEST\""};
  o.env = {"DRCTL_PROCESS_TEST=override"};
  auto r = RunCommand(o, seconds(10));
  unsetenv("DRCTL_PROCESS_TEST");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->out, "override");
}

TEST(RunCommand, TimesOutAndKills) {
  auto r = RunCommand({"/bin/sleep", "30"}, milliseconds(200));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
}

TEST(RunCommand, WritesInputToStdin) {
  std::string input(1 << 20, 'x');  // larger than a socket buffer: written as the child reads
  input += "end";
  auto r = RunCommand(SpawnOptions{.argv = {"/bin/sh", "-c", "cat"}}, seconds(10), input);
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->exit_status, 0);
  EXPECT_EQ(r->out, input);
}

TEST(RunCommand, ChildThatDoesNotReadItsInputIsNotAnError) {
  auto r = RunCommand(SpawnOptions{.argv = {"/bin/sh", "-c", "exit 3"}}, seconds(10),
                      std::string(1 << 20, 'x'));
  ASSERT_TRUE(r.has_value()) << r.error().message();  // no SIGPIPE, no error
  EXPECT_EQ(r->exit_status, 3);
}

TEST(RunCommand, WithoutInputStdinIsEmpty) {
  auto r = RunCommand(SpawnOptions{.argv = {"/bin/sh", "-c", "wc -c"}}, seconds(10));
  ASSERT_TRUE(r.has_value()) << r.error().message();
  EXPECT_EQ(r->out.substr(r->out.find_first_not_of(' ')), "0\n");
}

TEST(RunCommand, TimeoutKillsTheWholeProcessGroup) {
  const std::string pid_file = ::testing::TempDir() + "/drctl_group_" + std::to_string(getpid());
  std::filesystem::remove(pid_file);
  auto r = RunCommand(
      SpawnOptions{.argv = {"/bin/sh", "-c", "sleep 30 & echo $! > " + pid_file + "; wait"}},
      milliseconds(500));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
  std::ifstream in(pid_file);
  pid_t sleeper = 0;
  ASSERT_TRUE(in >> sleeper) << "the shell did not start its background command";
  for (int i = 0; i < 500 && PidAlive(sleeper); ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(PidAlive(sleeper));
  std::filesystem::remove(pid_file);
}

TEST(RunCommand, MissingBinaryExits127) {
  auto r = RunCommand({"drctl-no-such-binary"}, seconds(10));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->exit_status, 127);
}

TEST(Process, StopEscalatesToSigkill) {
  const std::string marker = ::testing::TempDir() + "/drctl_trap_" + std::to_string(getpid());
  std::filesystem::remove(marker);
  auto p = Process::Spawn(
      {.argv = {"/bin/sh", "-c", "trap '' TERM; touch " + marker + "; sleep 30 & wait"}});
  ASSERT_TRUE(p.has_value());
  const pid_t pid = p->pid();
  for (int i = 0; i < 1000 && !std::filesystem::exists(marker); ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(std::filesystem::exists(marker)) << "the shell did not set its trap";
  EXPECT_TRUE(PidAlive(pid));
  auto status = p->Stop(SIGTERM, milliseconds(200));
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 128 + SIGKILL);
  EXPECT_FALSE(PidAlive(pid));
  std::filesystem::remove(marker);
}

TEST(Process, WaitReportsExitStatus) {
  auto p = Process::Spawn({.argv = {"/bin/sh", "-c", "exit 9"}});
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->Wait(seconds(10)).value(), 9);
  EXPECT_FALSE(p->Running());
}

TEST(Process, UnknownUserIsAnError) {
  if (geteuid() != 0) GTEST_SKIP() << "switching users needs root";
  auto p = Process::Spawn({.argv = {"/bin/true"}, .user = "drctl-no-such-user"});
  ASSERT_FALSE(p.has_value());
  EXPECT_EQ(p.error().code(), ErrorCode::kPrecondition);
}

}  // namespace
}  // namespace drctl
