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

TEST_F(PosixStorageTest, AsRootNewObjectsTakeTheOwnerOfTheRepository) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  const uid_t uid = 65534;  // nobody
  const gid_t gid = 65534;
  ASSERT_EQ(chown(root_.c_str(), uid, gid), 0);
  auto s = OpenPosixStorage(root_);  // the owner is read when the storage opens
  ASSERT_TRUE(s.has_value());
  ASSERT_TRUE((*s)->Write("wal/00000001/seg", "data").has_value());
  for (const auto& p : {root_ / "wal", root_ / "wal" / "00000001", root_ / "wal/00000001/seg"}) {
    struct stat st {};
    ASSERT_EQ(stat(p.c_str(), &st), 0) << p;
    EXPECT_EQ(st.st_uid, uid) << p;
    EXPECT_EQ(st.st_gid, gid) << p;
  }
  // A repository owned by root stays root's.
  ASSERT_EQ(chown(root_.c_str(), 0, 0), 0);
  auto r = OpenPosixStorage(root_);
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE((*r)->Write("x/y", "data").has_value());
  struct stat st {};
  ASSERT_EQ(stat((root_ / "x/y").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0U);
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
