#include "catalog/fallback_reader.h"

#include <gtest/gtest.h>

#include "storage/fault/fault_storage.h"
#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

TEST(FallbackReader, ReadsFromASiblingWhenTheFirstFails) {
  const MasterKey master = MasterKey::Generate();
  auto backing_a = storage::NewMemoryStorage("a");
  auto backing_b = storage::NewMemoryStorage("b");
  for (auto* s : {backing_a.get(), backing_b.get()}) {
    ChunkStore w(*s, master, {CompressionAlgo::kZstd, 3});
    ASSERT_TRUE(w.Put("payload").has_value());
    ASSERT_TRUE(w.Commit().has_value());
  }
  storage::FaultStorage a(backing_a.get());
  ChunkStore store_a(a, master, {CompressionAlgo::kZstd, 3});
  ChunkStore store_b(*backing_b, master, {CompressionAlgo::kZstd, 3});
  ASSERT_TRUE(store_a.LoadIndexes().has_value());
  ASSERT_TRUE(store_b.LoadIndexes().has_value());
  FallbackReader reader({&store_a, &store_b});
  const ChunkId id = master.IdOf("payload");

  EXPECT_EQ(reader.Get(id).value(), "payload");
  EXPECT_EQ(reader.fallbacks(), 0U);
  a.AddRule({.op = storage::Op::kRead, .key_prefix = "packs/", .code = ErrorCode::kUnavailable});
  EXPECT_EQ(reader.Get(id).value(), "payload");
  EXPECT_EQ(reader.fallbacks(), 1U);
  a.ClearRules();
  a.AddRule({.op = storage::Op::kRead, .key_prefix = "packs/", .truncate = true});
  EXPECT_EQ(reader.Get(id).value(), "payload") << "a damaged copy falls back too";
  EXPECT_EQ(reader.fallbacks(), 2U);
}

TEST(FallbackReader, ReportsEveryFailure) {
  const MasterKey master = MasterKey::Generate();
  auto s1 = storage::NewMemoryStorage("one");
  auto s2 = storage::NewMemoryStorage("two");
  ChunkStore c1(*s1, master, {CompressionAlgo::kNone, 0});
  ChunkStore c2(*s2, master, {CompressionAlgo::kNone, 0});
  FallbackReader reader({&c1, &c2});
  auto r = reader.Get(master.IdOf("absent"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("memory://one"), std::string::npos);
  EXPECT_NE(r.error().message().find("memory://two"), std::string::npos);
}

}  // namespace
}  // namespace drctl::catalog
