#include "catalog/sync.h"

#include <gtest/gtest.h>

#include "catalog/repository.h"
#include "storage/fault/fault_storage.h"
#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

TEST(CopyMissing, SiblingRepositoryReadsCopiedChunksWithoutDecryptingThem) {
  const MasterKey master = MasterKey::Generate();
  auto a = storage::NewMemoryStorage("a");
  auto b = storage::NewMemoryStorage("b");
  ChunkStore writer(*a, master, {CompressionAlgo::kZstd, 3}, 1 << 16);
  std::vector<ChunkId> ids;
  ids.reserve(20);
  for (int i = 0; i < 20; ++i)
    ids.push_back(writer.Put(std::string(10000, static_cast<char>('a' + i))).value());
  ASSERT_TRUE(writer.Commit().has_value());

  auto dry = CopyMissing(*a, *b, /*dry_run=*/true);
  ASSERT_TRUE(dry.has_value());
  EXPECT_GT(dry->objects_missing, 1U);
  EXPECT_EQ(dry->objects_copied, 0U);

  std::vector<std::string> order;
  auto copied = CopyMissing(*a, *b, false, [&](const std::string& key) { order.push_back(key); });
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(copied->objects_copied, dry->objects_missing);
  ASSERT_FALSE(order.empty());
  EXPECT_TRUE(order.back().starts_with("index/")) << "indexes are copied after the packs";
  EXPECT_TRUE(order.front().starts_with("packs/"));

  ChunkStore reader(*b, master, {CompressionAlgo::kZstd, 3});
  ASSERT_TRUE(reader.LoadIndexes().has_value());
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(reader.Get(ids[static_cast<std::size_t>(i)]).value(),
              std::string(10000, static_cast<char>('a' + i)));
  }
  auto again = CopyMissing(*a, *b, false);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->objects_missing, 0U) << "nothing left to copy";
}

TEST(CopyMissing, WalThenManifestsAfterTheChunksAndAGrownPartialAgain) {
  auto a = storage::NewMemoryStorage("a");
  auto b = storage::NewMemoryStorage("b");
  const storage::WriteOptions w{.durable = true};
  ASSERT_TRUE(a->Write("packs/00/0011", "pack", w).has_value());
  ASSERT_TRUE(a->Write("index/0011", "index", w).has_value());
  ASSERT_TRUE(a->Write("backups/20261126T000000Z-abcd.manifest", "manifest", w).has_value());
  ASSERT_TRUE(a->Write("wal/00000001/000000010000000000000003", "segment", w).has_value());
  ASSERT_TRUE(a->Write("wal/00000001/000000010000000000000004.partial", "short", w).has_value());
  std::vector<std::string> order;
  ASSERT_TRUE(CopyMissing(*a, *b, false, [&](const std::string& k) { order.push_back(k); }));
  EXPECT_EQ(order, (std::vector<std::string>{"packs/00/0011", "index/0011",
                                             "wal/00000001/000000010000000000000003",
                                             "wal/00000001/000000010000000000000004.partial",
                                             "backups/20261126T000000Z-abcd.manifest"}));
  // The partial grows in a: copied again; an equal one is not.
  ASSERT_TRUE(
      a->Write("wal/00000001/000000010000000000000004.partial", "longer now", w).has_value());
  auto again = CopyMissing(*a, *b, false);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->objects_copied, 1U);
  EXPECT_EQ(b->Read("wal/00000001/000000010000000000000004.partial").value(), "longer now");
}

TEST(CopyMissing, InterruptedCopyLeavesTheTargetValid) {
  const MasterKey master = MasterKey::Generate();
  auto a = storage::NewMemoryStorage("a");
  auto b = storage::NewMemoryStorage("b");
  ChunkStore writer(*a, master, {CompressionAlgo::kLz4, 0}, 1 << 16);
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(writer.Put(std::string(20000, static_cast<char>(i))).has_value());
  ASSERT_TRUE(writer.Commit().has_value());
  storage::FaultStorage faulty(b.get());
  faulty.AddRule({.op = storage::Op::kWrite, .skip = 1, .code = ErrorCode::kUnavailable});
  auto r = CopyMissing(*a, faulty, false);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  ChunkStore reader(*b, master, {CompressionAlgo::kLz4, 0});
  ASSERT_TRUE(reader.LoadIndexes().has_value()) << "no index arrived before its packs";
  EXPECT_EQ(reader.size(), 0U);
  faulty.ClearRules();
  ASSERT_TRUE(CopyMissing(*a, faulty, false).has_value());
  ChunkStore complete(*b, master, {CompressionAlgo::kLz4, 0});
  ASSERT_TRUE(complete.LoadIndexes().has_value());
  EXPECT_EQ(complete.size(), 10U);
}

}  // namespace
}  // namespace drctl::catalog
