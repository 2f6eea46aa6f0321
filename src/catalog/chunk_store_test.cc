#include "catalog/chunk_store.h"

#include <gtest/gtest.h>

#include <thread>

#include "storage/fault/fault_storage.h"
#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

std::string Chunk(int seed, std::size_t size = 100000) {
  std::string out(size, '\0');
  std::uint32_t x = static_cast<std::uint32_t>(seed) * 2654435761U + 1;
  for (std::size_t i = 0; i < size; ++i) {
    x = x * 1103515245U + 12345U;
    // Half repetitive (compressible), half random, like database pages.
    out[i] = (i % 2 == 0) ? static_cast<char>('a' + (i / 64) % 7) : static_cast<char>(x >> 24);
  }
  return out;
}

class ChunkStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Storage> storage_ = storage::NewMemoryStorage();
  MasterKey master_ = MasterKey::Generate();
  Compression zstd_{CompressionAlgo::kZstd, 3};

  std::unique_ptr<ChunkStore> NewStore(storage::Storage& s, std::size_t pack_size = 1 << 20) {
    auto store = std::make_unique<ChunkStore>(s, master_, zstd_, pack_size);
    auto loaded = store->LoadIndexes();
    EXPECT_TRUE(loaded.has_value()) << loaded.error().ToString();
    return store;
  }

  std::vector<std::string> Keys(const std::string& prefix) {
    std::vector<std::string> keys;
    (void)storage_->List(prefix, [&](const storage::ObjectInfo& i) {
      keys.push_back(i.key);
      return Ok();
    });
    return keys;
  }
};

TEST_F(ChunkStoreTest, PutCommitGetAcrossStores) {
  auto writer = NewStore(*storage_);
  std::vector<ChunkId> ids;
  ids.reserve(30);
  for (int i = 0; i < 30; ++i) ids.push_back(writer->Put(Chunk(i)).value());
  ASSERT_TRUE(writer->Commit().has_value());
  EXPECT_GE(Keys("packs/").size(), 2U) << "1 MiB packs hold fewer than 30 chunks of 100 kB";
  EXPECT_EQ(Keys("index/").size(), 1U);
  auto reader = NewStore(*storage_);
  EXPECT_EQ(reader->size(), 30U);
  for (int i = 0; i < 30; ++i) {
    auto chunk = reader->Get(ids[static_cast<std::size_t>(i)]);
    ASSERT_TRUE(chunk.has_value()) << chunk.error().ToString();
    EXPECT_EQ(*chunk, Chunk(i));
  }
}

TEST_F(ChunkStoreTest, KnownChunksAreNeverStoredAgain) {
  auto first = NewStore(*storage_);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(first->Put(Chunk(i)).has_value());
  ASSERT_TRUE(first->Put(Chunk(3)).has_value());  // duplicate within one session
  ASSERT_TRUE(first->Commit().has_value());
  EXPECT_EQ(first->stats().chunks_new, 10U);
  auto second = NewStore(*storage_);
  const auto packs_before = Keys("packs/").size();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(second->Put(Chunk(i)).has_value());
  ASSERT_TRUE(second->Commit().has_value());
  EXPECT_EQ(second->stats().chunks_new, 0U);
  EXPECT_EQ(second->stats().chunks_put, 10U);
  EXPECT_EQ(Keys("packs/").size(), packs_before);
  EXPECT_EQ(Keys("index/").size(), 1U) << "nothing new, no new index";
}

TEST_F(ChunkStoreTest, ConcurrentPutsStoreEachChunkOnce) {
  auto store = NewStore(*storage_);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 40; ++i) ASSERT_TRUE(store->Put(Chunk(i % 20, 20000)).has_value());
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(store->Commit().has_value());
  EXPECT_EQ(store->stats().chunks_new, 20U);
  auto reader = NewStore(*storage_);
  EXPECT_EQ(reader->size(), 20U);
}

TEST_F(ChunkStoreTest, CrashBeforeTheIndexLeavesChunksInvisible) {
  storage::FaultStorage faulty(storage_.get());
  faulty.AddRule({.op = storage::Op::kWrite, .key_prefix = "index/", .drop_write = true});
  auto store = NewStore(faulty);
  ASSERT_TRUE(store->Put(Chunk(1)).has_value());
  ASSERT_TRUE(store->Commit().has_value());
  EXPECT_EQ(Keys("packs/").size(), 1U) << "the pack was written first";
  auto reader = NewStore(*storage_);
  EXPECT_EQ(reader->size(), 0U) << "without its index the pack is garbage, not data";
}

TEST_F(ChunkStoreTest, IndexEveryPackMakesUploadedPacksVisibleWithoutCommit) {
  auto writer = NewStore(*storage_);
  writer->set_index_every_pack(true);
  std::vector<ChunkId> ids;
  ids.reserve(30);
  for (int i = 0; i < 30; ++i) ids.push_back(writer->Put(Chunk(i)).value());
  const auto packs = Keys("packs/").size();
  ASSERT_GE(packs, 1U) << "full packs are uploaded as they fill";
  EXPECT_EQ(Keys("index/").size(), packs) << "one index per uploaded pack, before any Commit";
  // A process killed here (no Commit): a new store sees every chunk of the uploaded packs.
  auto reader = NewStore(*storage_);
  EXPECT_GT(reader->size(), 0U);
  EXPECT_LT(reader->size(), 30U) << "the open pack was never uploaded";
  for (const auto& id : ids) {
    if (!reader->Contains(id)) continue;
    EXPECT_TRUE(reader->Get(id).has_value());
  }
  ASSERT_TRUE(writer->Commit().has_value());
  EXPECT_EQ(NewStore(*storage_)->size(), 30U);
}

TEST_F(ChunkStoreTest, FailedIndexWriteIsReportedAndRetried) {
  storage::FaultStorage faulty(storage_.get());
  faulty.AddRule({.op = storage::Op::kWrite,
                  .key_prefix = "index/",
                  .times = 1,
                  .code = ErrorCode::kUnavailable});
  auto store = NewStore(faulty);
  const ChunkId id = store->Put(Chunk(1)).value();
  auto failed = store->Commit();
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  ASSERT_TRUE(store->Commit().has_value());
  EXPECT_EQ(NewStore(*storage_)->Get(id).value(), Chunk(1));
}

class ChunkDamage : public ChunkStoreTest {
 protected:
  void SetUp() override {
    auto store = NewStore(*storage_);
    id_ = store->Put(Chunk(7)).value();
    ASSERT_TRUE(store->Commit().has_value());
    pack_key_ = Keys("packs/").at(0);
    pack_ = storage_->Read(pack_key_).value();
  }
  Error GetError() {
    auto r = NewStore(*storage_)->Get(id_);
    EXPECT_FALSE(r.has_value());
    return r ? Error(ErrorCode::kOk, "") : r.error();
  }
  ChunkId id_{};
  std::string pack_key_;
  std::string pack_;
};

TEST_F(ChunkDamage, FlippedByteIsCorruptNamingThePack) {
  pack_[pack_.size() / 3] ^= 0x01;
  ASSERT_TRUE(storage_->Write(pack_key_, pack_).has_value());
  Error e = GetError();
  EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  EXPECT_NE(e.message().find(pack_key_), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("failed authentication"), std::string::npos);
}

TEST_F(ChunkDamage, TruncatedPackIsCorrupt) {
  ASSERT_TRUE(storage_->Write(pack_key_, pack_.substr(0, pack_.size() / 2)).has_value());
  Error e = GetError();
  EXPECT_EQ(e.code(), ErrorCode::kCorrupt);
  EXPECT_NE(e.message().find(pack_key_), std::string::npos) << e.message();
}

TEST_F(ChunkDamage, MissingPackIsNotFound) {
  ASSERT_TRUE(storage_->Delete(pack_key_).has_value());
  Error e = GetError();
  EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  EXPECT_NE(e.message().find(pack_key_), std::string::npos) << e.message();
}

TEST_F(ChunkDamage, IndexPointingElsewhereIsCorrupt) {
  // A second chunk in another pack; then swap the index entries' places.
  auto store = NewStore(*storage_);
  const ChunkId other = store->Put(Chunk(8)).value();
  ASSERT_TRUE(store->Commit().has_value());
  std::vector<IndexEntry> entries;
  for (const auto& key : Keys("index/")) {
    auto decoded = DecodeIndex(master_, storage_->Read(key).value(), key);
    ASSERT_TRUE(decoded.has_value());
    entries.insert(entries.end(), decoded->begin(), decoded->end());
    ASSERT_TRUE(storage_->Delete(key).has_value());
  }
  ASSERT_EQ(entries.size(), 2U);
  std::swap(entries[0].chunk_id, entries[1].chunk_id);
  const IndexId iid{};
  ASSERT_TRUE(storage_->Write(IndexKey(iid), EncodeIndex(master_, iid, entries)).has_value());
  for (const ChunkId& id : {id_, other}) {
    auto r = NewStore(*storage_)->Get(id);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  }
}

TEST_F(ChunkDamage, WrongKeyCannotReadTheIndex) {
  master_ = MasterKey::Generate();
  ChunkStore store(*storage_, master_, zstd_);
  auto loaded = store.LoadIndexes();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(loaded.error().message().find("index/"), std::string::npos);
}

TEST_F(ChunkDamage, DamagedIndexStopsLoading) {
  const std::string key = Keys("index/").at(0);
  std::string index = storage_->Read(key).value();
  index[index.size() - 3] ^= 0x40;
  ASSERT_TRUE(storage_->Write(key, index).has_value());
  ChunkStore store(*storage_, master_, zstd_);
  auto loaded = store.LoadIndexes();
  ASSERT_FALSE(loaded.has_value());
  EXPECT_EQ(loaded.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(loaded.error().message().find(key), std::string::npos);
}

TEST_F(ChunkStoreTest, EveryCompressionRoundTrips) {
  for (const Compression c :
       {Compression{CompressionAlgo::kNone, 0}, Compression{CompressionAlgo::kLz4, 0},
        Compression{CompressionAlgo::kZstd, 1}}) {
    auto s = storage::NewMemoryStorage();
    ChunkStore store(*s, master_, c, 1 << 20);
    const std::string data = Chunk(static_cast<int>(c.algo) + 40);
    const ChunkId id = store.Put(data).value();
    ASSERT_TRUE(store.Commit().has_value());
    ChunkStore reader(*s, master_, c);
    ASSERT_TRUE(reader.LoadIndexes().has_value());
    EXPECT_EQ(reader.Get(id).value(), data) << c.ToString();
  }
}

TEST_F(ChunkStoreTest, PackFooterListsEveryChunk) {
  auto store = NewStore(*storage_);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->Put(Chunk(i, 1000)).has_value());
  ASSERT_TRUE(store->Commit().has_value());
  const std::string key = Keys("packs/").at(0);
  PackId pid{};
  const std::string hex = key.substr(key.rfind('/') + 1);
  for (std::size_t i = 0; i < 16; ++i) {
    pid[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  auto entries = ReadPackFooter(master_, pid, storage_->Read(key).value(), key);
  ASSERT_TRUE(entries.has_value()) << entries.error().ToString();
  EXPECT_EQ(entries->size(), 5U);
  auto truncated = ReadPackFooter(master_, pid, storage_->Read(key).value().substr(10), key);
  ASSERT_FALSE(truncated.has_value());
  EXPECT_EQ(truncated.error().code(), ErrorCode::kCorrupt);
}

}  // namespace
}  // namespace drctl::catalog
