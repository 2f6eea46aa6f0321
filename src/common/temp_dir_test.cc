#include "common/temp_dir.h"

#include <gtest/gtest.h>

#include <fstream>

namespace drctl {
namespace {

TEST(TempDir, RemovedWithContentsUnlessKept) {
  std::filesystem::path removed;
  std::filesystem::path kept;
  {
    auto a = TempDir::Create("drctl-test-");
    ASSERT_TRUE(a.has_value());
    removed = a->path();
    std::filesystem::create_directories(removed / "sub");
    std::ofstream(removed / "sub" / "f") << "x";
    auto b = TempDir::Create("drctl-test-");
    ASSERT_TRUE(b.has_value());
    kept = b->path();
    b->Keep();
  }
  EXPECT_FALSE(std::filesystem::exists(removed));
  EXPECT_TRUE(std::filesystem::exists(kept));
  std::filesystem::remove_all(kept);
}

TEST(TempDir, UnwritableParentIsAnIoError) {
  auto r = TempDir::Create("x", "/proc/drctl-nonexistent");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_NE(r.error().message().find("/proc/drctl-nonexistent"), std::string::npos);
}

TEST(FreeLoopbackPort, ReturnsAPortInRange) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  EXPECT_GT(*port, 0);
  EXPECT_LT(*port, 65536);
}

}  // namespace
}  // namespace drctl
