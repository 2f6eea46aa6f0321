#include "catalog/gc.h"

#include <gtest/gtest.h>

#include "catalog/lock.h"
#include "storage/fault/fault_storage.h"
#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

constexpr std::int64_t kLater = 4102444800;  // 2100-01-01: every object is past the grace period

class GcTest : public ::testing::Test {
 protected:
  // Writes `n` chunks in their own session (own packs and index); returns their ids.
  std::vector<ChunkId> Session(int first, int n) {
    ChunkStore store(*storage_, master_, {CompressionAlgo::kZstd, 1}, 1 << 14);
    EXPECT_TRUE(store.LoadIndexes().has_value());
    std::vector<ChunkId> ids;
    for (int i = first; i < first + n; ++i) ids.push_back(store.Put(Data(i)).value());
    EXPECT_TRUE(store.Commit().has_value());
    return ids;
  }
  static std::string Data(int i) {
    std::string s(12000, '\0');
    for (std::size_t k = 0; k < s.size(); ++k)
      s[k] = static_cast<char>((k * 131 + static_cast<std::size_t>(i) * 7919) % 251);
    return s;
  }
  std::size_t Count(const std::string& prefix) {
    std::size_t n = 0;
    (void)storage_->List(prefix, [&](const storage::ObjectInfo&) {
      ++n;
      return Ok();
    });
    return n;
  }
  std::unique_ptr<storage::Storage> storage_ = storage::NewMemoryStorage();
  MasterKey master_ = MasterKey::Generate();
};

TEST_F(GcTest, DeletesOnlyPacksWithoutLiveChunks) {
  auto kept = Session(0, 5);
  auto dropped = Session(100, 5);
  const std::size_t packs_before = Count("packs/");
  ChunkSet live(kept.begin(), kept.end());
  auto stats = CollectGarbage(*storage_, master_, live, {.now = kLater});
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_GT(stats->packs_deleted, 0U);
  EXPECT_EQ(Count("packs/"), packs_before - stats->packs_deleted);
  EXPECT_EQ(stats->chunks_dropped, 5U);
  ChunkStore reader(*storage_, master_, {CompressionAlgo::kZstd, 1});
  ASSERT_TRUE(reader.LoadIndexes().has_value());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(reader.Get(kept[i]).value(), Data(static_cast<int>(i)));
  }
  for (const auto& id : dropped) EXPECT_FALSE(reader.Contains(id)) << "dedup must not trust it";
  EXPECT_EQ(Count("locks/"), 0U);
}

TEST_F(GcTest, TheMarkRunsUnderTheExclusiveLockSoNoBackupCommitsBeforeTheSweep) {
  auto kept = Session(0, 5);
  Session(100, 5);
  bool backup_refused = false;
  auto stats = MarkAndCollectGarbage(
      *storage_, master_,
      [&]() -> Result<ChunkSet> {
        // A backup starting now (shared lock) is refused until the sweep is over.
        auto backup = RepoLock::Acquire(*storage_, LockKind::kShared, "backup");
        backup_refused = !backup && backup.error().code() == ErrorCode::kLocked;
        return ChunkSet(kept.begin(), kept.end());
      },
      {.now = kLater});
  ASSERT_TRUE(stats.has_value()) << stats.error().ToString();
  EXPECT_TRUE(backup_refused);
  EXPECT_EQ(stats->chunks_dropped, 5U);
  // A mark that fails stops GC before anything is deleted.
  const std::size_t packs = Count("packs/");
  auto failed = MarkAndCollectGarbage(
      *storage_, master_,
      []() -> Result<ChunkSet> { return Fail(ErrorCode::kCorrupt, "manifest damaged"); },
      {.now = kLater});
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(Count("packs/"), packs);
  EXPECT_EQ(Count("locks/"), 0U);
}

TEST_F(GcTest, YoungObjectsSurviveTheGracePeriod) {
  Session(0, 5);
  auto stats = CollectGarbage(*storage_, master_, {}, {.grace = std::chrono::hours(1)});
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->packs_deleted, 0U);
  EXPECT_GT(stats->packs_young_kept, 0U);
}

TEST_F(GcTest, DryRunDeletesNothing) {
  Session(0, 5);
  const std::size_t packs = Count("packs/");
  auto stats = CollectGarbage(*storage_, master_, {}, {.dry_run = true, .now = kLater});
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->packs_deleted, packs);
  EXPECT_EQ(Count("packs/"), packs);
}

TEST_F(GcTest, RefusesToRunWithADamagedIndex) {
  auto ids = Session(0, 5);
  std::string key;
  (void)storage_->List("index/", [&](const storage::ObjectInfo& i) {
    key = i.key;
    return Ok();
  });
  std::string data = storage_->Read(key).value();
  data[data.size() / 2] ^= 1;
  ASSERT_TRUE(storage_->Write(key, data).has_value());
  const std::size_t packs = Count("packs/");
  auto stats = CollectGarbage(*storage_, master_, {}, {.now = kLater});
  ASSERT_FALSE(stats.has_value());
  EXPECT_EQ(stats.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(stats.error().message().find("gc refuses to run"), std::string::npos);
  EXPECT_EQ(Count("packs/"), packs) << "nothing deleted";
}

TEST_F(GcTest, WaitsForWriters) {
  Session(0, 2);
  auto writer = RepoLock::Acquire(*storage_, LockKind::kShared, "backup");
  ASSERT_TRUE(writer.has_value());
  auto stats = CollectGarbage(*storage_, master_, {});
  ASSERT_FALSE(stats.has_value());
  EXPECT_EQ(stats.error().code(), ErrorCode::kLocked);
}

TEST_F(GcTest, UnindexedPacksOfACrashedWriterGoAfterTheGrace) {
  storage::FaultStorage faulty(storage_.get());
  faulty.AddRule({.op = storage::Op::kWrite, .key_prefix = "index/", .drop_write = true});
  ChunkStore store(faulty, master_, {CompressionAlgo::kZstd, 1});
  ASSERT_TRUE(store.Put(Data(1)).has_value());
  ASSERT_TRUE(store.Commit().has_value());
  ASSERT_EQ(Count("packs/"), 1U);
  ASSERT_EQ(Count("index/"), 0U);
  EXPECT_EQ(CollectGarbage(*storage_, master_, {}).value().packs_deleted, 0U);
  EXPECT_EQ(CollectGarbage(*storage_, master_, {}, {.now = kLater}).value().packs_deleted, 1U);
  EXPECT_EQ(Count("packs/"), 0U);
}

TEST_F(GcTest, InterruptedGcLeavesAReadableRepository) {
  auto kept = Session(0, 5);
  Session(100, 5);
  storage::FaultStorage faulty(storage_.get());
  // Dies right after writing the replacement index: old indexes and packs still there.
  faulty.AddRule(
      {.op = storage::Op::kDelete, .key_prefix = "index/", .code = ErrorCode::kInterrupted});
  ChunkSet live(kept.begin(), kept.end());
  ASSERT_FALSE(CollectGarbage(faulty, master_, live, {.now = kLater}).has_value());
  ChunkStore reader(*storage_, master_, {CompressionAlgo::kZstd, 1});
  ASSERT_TRUE(reader.LoadIndexes().has_value());
  for (std::size_t i = 0; i < kept.size(); ++i) {
    EXPECT_EQ(reader.Get(kept[i]).value(), Data(static_cast<int>(i)));
  }
  faulty.ClearRules();
  auto again = CollectGarbage(faulty, master_, live, {.now = kLater});
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
  ChunkStore after(*storage_, master_, {CompressionAlgo::kZstd, 1});
  ASSERT_TRUE(after.LoadIndexes().has_value());
  EXPECT_EQ(after.size(), 5U);
}

}  // namespace
}  // namespace drctl::catalog
