// Not a test of drctl: a probe of the harness. Each test starts all three servers, then fails or
// crashes on purpose, as chosen by DRCTL_SELFTEST_MODE ("fail", "crash"); with no mode it does
// nothing. integration/cleanup_test.cc runs it and checks that no server outlives it.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "harness/servers.h"

namespace drctl::testing {
namespace {

TEST(HarnessSelftest, StartsServersThenMisbehaves) {
  const char* mode_env = std::getenv("DRCTL_SELFTEST_MODE");
  const std::string mode = mode_env != nullptr ? mode_env : "";
  if (mode.empty()) return;
  ASSERT_NE(SharedPostgres(), nullptr);
  ASSERT_NE(SharedRedis(), nullptr);
  ASSERT_NE(SharedSwift(), nullptr);
  if (mode == "crash") std::abort();
  FAIL() << "deliberate failure: the harness must still stop every server";
}

}  // namespace
}  // namespace drctl::testing
