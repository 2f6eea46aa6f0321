#include "storage/posix/posix_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "common/temp_dir.h"

namespace drctl::storage {
namespace {

class PosixStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("drctl-posix-");
    ASSERT_TRUE(dir.has_value());
    root_ = dir->path() / "repo";
    dir_.emplace(std::move(*dir));
    auto s = OpenPosixStorage(root_);
    ASSERT_TRUE(s.has_value());
    storage_ = std::move(*s);
  }
  std::optional<TempDir> dir_;
  std::filesystem::path root_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(PosixStorageTest, ObjectsAreFilesUnderTheRoot) {
  ASSERT_TRUE(storage_->Write("a/b", "data").has_value());
  std::ifstream in(root_ / "a" / "b");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "data");
}

TEST_F(PosixStorageTest, TemporaryFilesOfACrashedWriterAreNotListed) {
  ASSERT_TRUE(storage_->Write("w/real", "x").has_value());
  // What a writer that died before its rename leaves behind.
  std::ofstream(root_ / "w" / "other.drctl-tmp-123-0-42") << "partial";
  std::vector<std::string> keys;
  ASSERT_TRUE(storage_
                  ->List("w/",
                         [&](const ObjectInfo& i) {
                           keys.push_back(i.key);
                           return Ok();
                         })
                  .has_value());
  EXPECT_EQ(keys, std::vector<std::string>{"w/real"});
  EXPECT_TRUE(IsPosixTempName("other.drctl-tmp-123-0-42"));
  EXPECT_FALSE(IsPosixTempName("other"));
}

TEST_F(PosixStorageTest, AbandonedWriterRemovesItsTemporaryFile) {
  {
    auto w = storage_->OpenWrite("t/obj");
    ASSERT_TRUE(w.has_value());
    ASSERT_TRUE((*w)->Write("abc").has_value());
  }
  EXPECT_TRUE(std::filesystem::is_empty(root_ / "t"));
}

TEST_F(PosixStorageTest, KeysUsingTheTemporaryMarkerAreRefused) {
  auto r = storage_->Write("x.drctl-tmp-1", "x");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
}

TEST_F(PosixStorageTest, UnwritableDirectoryIsAnIoErrorWithAHint) {
  if (geteuid() == 0) {
    // root ignores permissions: use a file where a directory must go instead.
    std::ofstream(root_ / "blocker") << "file";
    auto r = storage_->Write("blocker/obj", "x");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kIo);
    EXPECT_NE(r.error().message().find((root_ / "blocker").string()), std::string::npos);
    return;
  }
  std::filesystem::permissions(
      root_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  auto r = storage_->Write("obj", "x");
  std::filesystem::permissions(root_, std::filesystem::perms::owner_all);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_NE(r.error().hint().find("permissions"), std::string::npos);
}

TEST(OpenPosixStorage, RelativeRootIsAConfigError) {
  auto r = OpenPosixStorage("relative/repo");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
}

TEST(OpenPosixStorage, MissingRootWithoutCreateIsNotFound) {
  auto r = OpenPosixStorage("/nonexistent/drctl/repo", false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("/nonexistent/drctl/repo"), std::string::npos);
}

}  // namespace
}  // namespace drctl::storage
