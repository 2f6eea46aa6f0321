#include "catalog/wal_store.h"

#include <gtest/gtest.h>

#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

std::string Segment(int seed) {
  std::string s(16U << 20, '\0');
  for (std::size_t i = 0; i < s.size(); i += 4096)
    s[i] = static_cast<char>(seed + static_cast<int>(i / 4096));
  return s;
}

class WalStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Storage> storage_ = storage::NewMemoryStorage();
  MasterKey master_ = MasterKey::Generate();
  Compression zstd_{CompressionAlgo::kZstd, 3};
};

TEST_F(WalStoreTest, PushFetchRoundTrip) {
  const std::string seg = Segment(1);
  auto pushed = PushWal(*storage_, master_, "000000010000000000000003", seg, zstd_);
  ASSERT_TRUE(pushed.has_value()) << pushed.error().ToString();
  EXPECT_FALSE(pushed->already_stored);
  EXPECT_LT(pushed->stored_bytes, seg.size() / 10) << "mostly zeros compress";
  EXPECT_EQ(FetchWal(*storage_, master_, "000000010000000000000003").value(), seg);
  EXPECT_EQ(WalObjectKey("000000010000000000000003"), "wal/00000001/000000010000000000000003");
  EXPECT_EQ(WalObjectKey("00000002.history"), "wal/00000002/00000002.history");
}

TEST_F(WalStoreTest, SamePushTwiceSucceedsDifferentContentIsRefused) {
  ASSERT_TRUE(PushWal(*storage_, master_, "000000010000000000000004", Segment(2), zstd_));
  auto again = PushWal(*storage_, master_, "000000010000000000000004", Segment(2), zstd_);
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->already_stored);
  auto other = PushWal(*storage_, master_, "000000010000000000000004", Segment(3), zstd_);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kConflict);
  EXPECT_NE(other.error().message().find("not replaced"), std::string::npos);
  EXPECT_EQ(FetchWal(*storage_, master_, "000000010000000000000004").value(), Segment(2));
}

TEST_F(WalStoreTest, AnObjectOfVersionOneIsReadAndComparedByContent) {
  const std::string name = "000000010000000000000007";
  ASSERT_TRUE(
      storage_->Write(WalObjectKey(name), SealWalObjectV1(master_, name, Segment(7))).has_value());
  EXPECT_EQ(FetchWal(*storage_, master_, name).value(), Segment(7));
  auto again = PushWal(*storage_, master_, name, Segment(7), zstd_);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  EXPECT_TRUE(again->already_stored);
  auto other = PushWal(*storage_, master_, name, Segment(8), zstd_);
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code(), ErrorCode::kConflict);
}

TEST_F(WalStoreTest, NewObjectsAreVersionTwoWithoutAContentId) {
  const std::string name = "000000010000000000000008";
  ASSERT_TRUE(PushWal(*storage_, master_, name, Segment(8), zstd_));
  const std::string object = storage_->Read(WalObjectKey(name)).value();
  ASSERT_GT(object.size(), 5U);
  EXPECT_EQ(object.substr(0, 4), "DRWL");
  EXPECT_EQ(object[4], 2);
  // An unknown version is refused as such, not as damage.
  std::string future = object;
  future[4] = 3;
  ASSERT_TRUE(storage_->Write(WalObjectKey(name), future).has_value());
  EXPECT_EQ(FetchWal(*storage_, master_, name).error().code(), ErrorCode::kUnsupported);
}

TEST_F(WalStoreTest, APartialSegmentIsReplacedByItsNewerUpload) {
  const std::string name = "000000010000000000000005.partial";
  ASSERT_TRUE(PushWal(*storage_, master_, name, Segment(4), zstd_));
  auto newer = PushWal(*storage_, master_, name, Segment(5), zstd_);
  ASSERT_TRUE(newer.has_value()) << newer.error().ToString();
  EXPECT_EQ(FetchWal(*storage_, master_, name).value(), Segment(5));
}

TEST_F(WalStoreTest, MissingIsNotFoundDamageIsCorrupt) {
  auto missing = FetchWal(*storage_, master_, "000000010000000000000009");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(PushWal(*storage_, master_, "00000002.history", "1\t0/3000158\treason\n", zstd_));
  const std::string key = WalObjectKey("00000002.history");
  std::string object = storage_->Read(key).value();
  object[object.size() - 5] ^= 0x01;
  ASSERT_TRUE(storage_->Write(key, object).has_value());
  auto damaged = FetchWal(*storage_, master_, "00000002.history");
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(damaged.error().message().find(key), std::string::npos);

  auto wrong_key = FetchWal(*storage_, MasterKey::Generate(), "00000002.history");
  EXPECT_EQ(wrong_key.error().code(), ErrorCode::kCorrupt);
  ASSERT_TRUE(storage_->Write(key, object.substr(0, 10)).has_value());
  EXPECT_EQ(FetchWal(*storage_, master_, "00000002.history").error().code(), ErrorCode::kCorrupt);
  auto repush = PushWal(*storage_, master_, "00000002.history", "x", zstd_);
  ASSERT_FALSE(repush.has_value()) << "a damaged stored object is never overwritten blindly";
}

TEST_F(WalStoreTest, AnObjectMovedToAnotherNameDoesNotOpen) {
  ASSERT_TRUE(PushWal(*storage_, master_, "000000010000000000000005", Segment(5), zstd_));
  const std::string moved = storage_->Read(WalObjectKey("000000010000000000000005")).value();
  ASSERT_TRUE(storage_->Write(WalObjectKey("000000010000000000000006"), moved).has_value());
  EXPECT_EQ(FetchWal(*storage_, master_, "000000010000000000000006").error().code(),
            ErrorCode::kCorrupt);
}

TEST_F(WalStoreTest, ListsByTimelineThenName) {
  // Byte order: a timeline's history file ("00000002.history") sorts before its segments.
  for (const char* name : {"000000020000000000000007", "00000002.history",
                           "000000010000000000000006", "000000010000000000000005"}) {
    ASSERT_TRUE(PushWal(*storage_, master_, name, "content", zstd_)) << name;
  }
  EXPECT_EQ(ListWal(*storage_).value(),
            (std::vector<std::string>{"000000010000000000000005", "000000010000000000000006",
                                      "00000002.history", "000000020000000000000007"}));
}

// A storage whose if_absent is not atomic (like S3), recording how each write was asked.
class CheckedStorage final : public storage::StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;
  std::uint32_t Features() const override {
    return StorageWrapper::Features() & ~storage::kFeatureAtomicIfAbsent;
  }
  Status Write(std::string_view key, std::string_view data,
               const storage::WriteOptions& options) override {
    if_absent.push_back(options.if_absent);
    return StorageWrapper::Write(key, data, options);
  }
  std::vector<bool> if_absent;
};

TEST_F(WalStoreTest,
       ANameTheCallerFoundFreeIsWrittenWithoutCheckingAgainOnlyWhereChecksAreNotAtomic) {
  const std::string name = "000000010000000000000009";
  const std::string seg = Segment(9);
  const PackedWal packed = PackWal(seg, zstd_, 2);
  CheckedStorage s3_like(storage_.get());
  ASSERT_TRUE(PushWal(s3_like, master_, name, seg, packed, {.checked_free = true}).has_value());
  ASSERT_TRUE(PushWal(s3_like, master_, name, seg, packed).has_value());
  EXPECT_EQ(s3_like.if_absent, (std::vector<bool>{false, true}))
      << "checked just before: the upload goes at once; otherwise the write checks";
  EXPECT_EQ(FetchWal(*storage_, master_, name).value(), seg);
  // Where the check is atomic (posix, memory) it stays: a caller's claim never overwrites.
  const std::string other = Segment(10);
  auto refused =
      PushWal(*storage_, master_, name, other, PackWal(other, zstd_), {.checked_free = true});
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(FetchWal(*storage_, master_, name).value(), seg);
}

}  // namespace
}  // namespace drctl::catalog
