#include "common/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "common/temp_dir.h"

namespace drctl {
namespace {

TEST(AtomicFileTest, WritesContentAndModeAndLeavesNoTemporary) {
  auto dir = TempDir::Create("drctl-atomic-");
  ASSERT_TRUE(dir.has_value());
  const auto path = dir->path() / "backup_label";
  ASSERT_TRUE(WriteFileAtomically(path, "old").has_value());
  ASSERT_TRUE(WriteFileAtomically(path, "new content", 0640).has_value());
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), "new content");
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".drctl-tmp"));
}

TEST(AtomicFileTest, MissingDirectoryIsAnIoErrorNamingTheFile) {
  auto r = WriteFileAtomically("/nonexistent-drctl-dir/x", "data");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_NE(r.error().message().find("/nonexistent-drctl-dir/x"), std::string::npos);
}

}  // namespace
}  // namespace drctl
