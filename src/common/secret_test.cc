#include "common/secret.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace drctl {
namespace {

TEST(Secret, FromEnvironment) {
  setenv("DRCTL_TEST_SECRET", "s3cret", 1);
  EXPECT_EQ(ResolveSecret({SecretKind::kEnv, "DRCTL_TEST_SECRET"}).value(), "s3cret");
  EXPECT_EQ(SecretRef({SecretKind::kEnv, "DRCTL_TEST_SECRET"}).Describe(),
            "env DRCTL_TEST_SECRET (set)");
  unsetenv("DRCTL_TEST_SECRET");
  auto missing = ResolveSecret({SecretKind::kEnv, "DRCTL_TEST_SECRET"});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(missing.error().message(), "environment variable DRCTL_TEST_SECRET is not set");
}

TEST(Secret, FromFileWithoutTrailingNewline) {
  const std::string path = ::testing::TempDir() + "/drctl_secret_test";
  std::ofstream(path) << "from-file\n";
  EXPECT_EQ(ResolveSecret({SecretKind::kFile, path}).value(), "from-file");
  std::filesystem::remove(path);
  auto missing = ResolveSecret({SecretKind::kFile, path});
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kIo);
}

TEST(Secret, FromCommand) {
  EXPECT_EQ(ResolveSecret({SecretKind::kCommand, "printf 'from-command\\n'"}).value(),
            "from-command");
}

TEST(Secret, FailingCommandDoesNotLeakItsOutput) {
  auto r = ResolveSecret({SecretKind::kCommand, "echo partial-secret; echo oops >&2; exit 3"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCommandFailed);
  EXPECT_NE(r.error().message().find("status 3"), std::string::npos);
  EXPECT_NE(r.error().message().find("oops"), std::string::npos);
  EXPECT_EQ(r.error().ToString().find("partial-secret"), std::string::npos);
}

}  // namespace
}  // namespace drctl
