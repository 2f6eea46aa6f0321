#include "catalog/repository.h"

#include <gtest/gtest.h>

#include "storage/memory/memory_storage.h"
#include "storage/storage.h"

namespace drctl::catalog {
namespace {

constexpr ScryptParams kFast{1024, 8, 1};

// A storage that outlives the Repository objects opened over it.
class SharedStorage : public storage::StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;
};

class RepositoryTest : public ::testing::Test {
 protected:
  std::unique_ptr<storage::Storage> Handle() {
    return std::make_unique<SharedStorage>(backing_.get());
  }
  InitOptions Options(std::string secret = "pass-one") {
    InitOptions o;
    o.secret = std::move(secret);
    o.kdf = kFast;
    return o;
  }
  std::unique_ptr<storage::Storage> backing_ = storage::NewMemoryStorage();
};

TEST_F(RepositoryTest, InitThenOpenWithThePassphrase) {
  auto repo = Repository::Init(Handle(), Options());
  ASSERT_TRUE(repo.has_value()) << repo.error().ToString();
  auto opened = Repository::Open(Handle(), std::string("pass-one"));
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->description().repo_id, repo->description().repo_id);
  EXPECT_EQ(opened->master().Bytes(), repo->master().Bytes());
  EXPECT_TRUE(opened->description().encrypted);
  EXPECT_EQ(opened->ListKeys().value().size(), 1U);
}

TEST_F(RepositoryTest, InitRefusesANonEmptyLocation) {
  ASSERT_TRUE(backing_->Write("something", "x").has_value());
  auto repo = Repository::Init(Handle(), Options());
  ASSERT_FALSE(repo.has_value());
  EXPECT_EQ(repo.error().code(), ErrorCode::kPrecondition);
  EXPECT_NE(repo.error().message().find("is not empty"), std::string::npos);
}

TEST_F(RepositoryTest, WrongPassphraseIsWrongSecret) {
  ASSERT_TRUE(Repository::Init(Handle(), Options()).has_value());
  auto opened = Repository::Open(Handle(), std::string("not-it"));
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), ErrorCode::kWrongSecret);
  EXPECT_EQ(opened.error().exit_code(), 8);
  auto none = Repository::Open(Handle(), std::nullopt);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code(), ErrorCode::kConfig);
}

TEST_F(RepositoryTest, NoRepositoryIsNotFound) {
  auto opened = Repository::Open(Handle(), std::string("x"));
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(opened.error().message().find("no drctl repository"), std::string::npos);
}

TEST_F(RepositoryTest, ChangingThePassphraseRewritesOnlySlots) {
  auto repo = Repository::Init(Handle(), Options("old-pass"));
  ASSERT_TRUE(repo.has_value());
  auto store = repo->NewChunkStore({CompressionAlgo::kZstd, 3});
  const ChunkId id = store->Put("some data").value();
  ASSERT_TRUE(store->Commit().has_value());
  std::vector<std::string> data_before;
  (void)backing_->List("packs/", [&](const storage::ObjectInfo& i) {
    data_before.push_back(i.key);
    return Ok();
  });

  auto added = repo->AddKey("new-pass", SlotKind::kPassphrase, "rotated", kFast);
  ASSERT_TRUE(added.has_value());
  auto old_slots = repo->ListKeys().value();
  ASSERT_EQ(old_slots.size(), 2U);
  for (const auto& slot : old_slots) {
    if (slot.slot_id != added->slot_id) {
      ASSERT_TRUE(repo->RemoveKey(slot.slot_id).has_value());
    }
  }
  EXPECT_EQ(Repository::Open(Handle(), std::string("old-pass")).error().code(),
            ErrorCode::kWrongSecret);
  auto reopened = Repository::Open(Handle(), std::string("new-pass"));
  ASSERT_TRUE(reopened.has_value());
  auto reader = reopened->NewChunkStore({CompressionAlgo::kZstd, 3});
  ASSERT_TRUE(reader->LoadIndexes().has_value());
  EXPECT_EQ(reader->Get(id).value(), "some data");
  std::vector<std::string> data_after;
  (void)backing_->List("packs/", [&](const storage::ObjectInfo& i) {
    data_after.push_back(i.key);
    return Ok();
  });
  EXPECT_EQ(data_before, data_after);
}

TEST_F(RepositoryTest, TheLastSlotCannotBeRemoved) {
  auto repo = Repository::Init(Handle(), Options());
  ASSERT_TRUE(repo.has_value());
  const auto slots = repo->ListKeys().value();
  auto r = repo->RemoveKey(slots.at(0).slot_id);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kPrecondition);
  EXPECT_NE(r.error().message().find("last one"), std::string::npos);
  EXPECT_EQ(repo->RemoveKey("0011223344556677").error().code(), ErrorCode::kNotFound);
}

TEST_F(RepositoryTest, UnencryptedOnlyWhenAskedAndSaysSo) {
  InitOptions o;
  o.encrypted = false;
  auto repo = Repository::Init(Handle(), o);
  ASSERT_TRUE(repo.has_value());
  auto opened = Repository::Open(Handle(), std::nullopt);
  ASSERT_TRUE(opened.has_value());
  EXPECT_FALSE(opened->description().encrypted);
  EXPECT_EQ(opened->AddKey("x", SlotKind::kPassphrase, "l").error().code(),
            ErrorCode::kPrecondition);
  InitOptions no_secret;
  auto refused = Repository::Init(storage::NewMemoryStorage(), no_secret);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code(), ErrorCode::kConfig);
}

TEST_F(RepositoryTest, DescriptionVersionAndDamage) {
  ASSERT_TRUE(Repository::Init(Handle(), Options()).has_value());
  std::string text = backing_->Read(kDescriptionKey).value();
  std::string future = text;
  future.replace(future.find("\"version\": 1"), 12, "\"version\": 2");
  ASSERT_TRUE(backing_->Write(kDescriptionKey, future).has_value());
  EXPECT_EQ(Repository::Open(Handle(), std::string("pass-one")).error().code(),
            ErrorCode::kUnsupported);
  ASSERT_TRUE(backing_->Write(kDescriptionKey, text.substr(0, 20)).has_value());
  auto damaged = Repository::Open(Handle(), std::string("pass-one"));
  ASSERT_FALSE(damaged.has_value());
  EXPECT_EQ(damaged.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(damaged.error().message().find("drctl-repo.json"), std::string::npos);
}

TEST_F(RepositoryTest, NothingSecretIsStored) {
  ASSERT_TRUE(Repository::Init(Handle(), Options("very-secret-passphrase")).has_value());
  (void)backing_->List("", [&](const storage::ObjectInfo& i) -> Status {
    EXPECT_EQ(backing_->Read(i.key).value().find("very-secret-passphrase"), std::string::npos)
        << i.key;
    return Ok();
  });
}

// A cache that keeps the recent slot in memory (the spool's does it in files, with a TTL).
class RecentSlotCache final : public KekCache {
 public:
  std::optional<Key32> Find(const KeySlot& /*slot*/, std::string_view /*secret*/) override {
    return std::nullopt;
  }
  void Remember(const KeySlot& /*slot*/, std::string_view /*secret*/,
                const Key32& /*kek*/) override {}
  std::optional<std::string> RecentSlot(std::string_view repo_id) override {
    if (repo_id != cached_repo || cached_slot.empty()) return std::nullopt;
    return cached_slot;
  }
  void RememberSlot(std::string_view repo_id, const KeySlot& slot) override {
    cached_repo = repo_id;
    cached_slot = slot.ToJson();
    ++remembered;
  }
  std::string cached_repo;
  std::string cached_slot;
  int remembered = 0;
};

TEST_F(RepositoryTest, ARecentSlotFromTheCacheOpensWithoutListingKeys) {
  auto repo = Repository::Init(Handle(), Options());
  ASSERT_TRUE(repo.has_value());
  RecentSlotCache cache;
  ASSERT_TRUE(Repository::Open(Handle(), std::string("pass-one"), &cache).has_value());
  EXPECT_EQ(cache.remembered, 1);
  EXPECT_EQ(cache.cached_repo, repo->description().repo_id);
  // keys/ gone from the repository: only the cached slot can open it now.
  std::vector<std::string> keys;
  ASSERT_TRUE(backing_
                  ->List("keys/",
                         [&](const storage::ObjectInfo& info) {
                           keys.push_back(info.key);
                           return Ok();
                         })
                  .has_value());
  ASSERT_EQ(keys.size(), 1U);
  ASSERT_TRUE(backing_->Delete(keys.front()).has_value());
  auto cached = Repository::Open(Handle(), std::string("pass-one"), &cache);
  ASSERT_TRUE(cached.has_value()) << cached.error().ToString();
  EXPECT_EQ(cached->master().Bytes(), repo->master().Bytes());
  EXPECT_EQ(cache.remembered, 1) << "a cached slot is not remembered again";
  auto uncached = Repository::Open(Handle(), std::string("pass-one"));
  ASSERT_FALSE(uncached.has_value());
  EXPECT_EQ(uncached.error().code(), ErrorCode::kCorrupt) << uncached.error().ToString();
}

TEST_F(RepositoryTest, ACachedSlotThatDoesNotOpenLeavesTheDecisionToTheRepository) {
  ASSERT_TRUE(Repository::Init(Handle(), Options()).has_value());
  RecentSlotCache cache;
  ASSERT_TRUE(Repository::Open(Handle(), std::string("pass-one"), &cache).has_value());
  // Another secret: the cached slot does not open, neither does the repository's.
  auto wrong = Repository::Open(Handle(), std::string("not-it"), &cache);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kWrongSecret);
  // A damaged cached slot: the repository's slots open it.
  cache.cached_slot = "{not json";
  auto opened = Repository::Open(Handle(), std::string("pass-one"), &cache);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(cache.remembered, 2);
}

}  // namespace
}  // namespace drctl::catalog
