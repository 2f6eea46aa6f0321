#include "command/wal/kek_cache.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"

namespace drctl::command {
namespace {

constexpr catalog::ScryptParams kCheap{1024, 8, 1};

class KekCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-kek-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
  }
  std::optional<TempDir> dir_;
  catalog::MasterKey master_ = catalog::MasterKey::Generate();
};

// Counts what Unwrap asks of a cache, around the real one.
class CountingCache final : public catalog::KekCache {
 public:
  explicit CountingCache(catalog::KekCache& inner) : inner_(inner) {}
  std::optional<catalog::Key32> Find(const catalog::KeySlot& slot,
                                     std::string_view secret) override {
    auto found = inner_.Find(slot, secret);
    hits += found ? 1 : 0;
    return found;
  }
  void Remember(const catalog::KeySlot& slot, std::string_view secret,
                const catalog::Key32& kek) override {
    ++remembered;
    inner_.Remember(slot, secret, kek);
  }
  int hits = 0;
  int remembered = 0;

 private:
  catalog::KekCache& inner_;
};

TEST_F(KekCacheTest, SecondUnwrapUsesTheRememberedKeyInsteadOfScrypt) {
  const auto slot = catalog::KeySlot::Create(master_, "pass phrase", "repo1",
                                             catalog::SlotKind::kPassphrase, "t", kCheap);
  SpoolKekCache disk(dir_->path());
  CountingCache cache(disk);
  auto first = slot.Unwrap("pass phrase", "repo1", &cache);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(cache.remembered, 1);
  EXPECT_EQ(cache.hits, 0);
  auto second = slot.Unwrap("pass phrase", "repo1", &cache);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(cache.hits, 1);
  EXPECT_EQ(cache.remembered, 1) << "a hit does not run scrypt, so nothing new to remember";
  EXPECT_EQ(second->Bytes(), master_.Bytes());
  // Entries are private to their owner.
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    EXPECT_EQ(entry.status().permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
}

TEST_F(KekCacheTest, AnEntryIsUselessWithAnotherSecretOrForAnotherSlot) {
  const auto slot = catalog::KeySlot::Create(master_, "right", "repo1",
                                             catalog::SlotKind::kPassphrase, "t", kCheap);
  SpoolKekCache cache(dir_->path());
  ASSERT_TRUE(slot.Unwrap("right", "repo1", &cache).has_value());
  EXPECT_TRUE(cache.Find(slot, "right").has_value());
  EXPECT_FALSE(cache.Find(slot, "wrong").has_value());
  auto wrong = slot.Unwrap("wrong", "repo1", &cache);
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kWrongSecret);
  // A re-created slot (new salt) for the same secret does not find the old entry.
  const auto recreated = catalog::KeySlot::Create(master_, "right", "repo1",
                                                  catalog::SlotKind::kPassphrase, "t", kCheap);
  EXPECT_FALSE(cache.Find(recreated, "right").has_value());
}

TEST_F(KekCacheTest, AStaleOrDamagedEntryFallsBackToScrypt) {
  const auto slot = catalog::KeySlot::Create(master_, "right", "repo1",
                                             catalog::SlotKind::kPassphrase, "t", kCheap);
  SpoolKekCache cache(dir_->path());
  cache.Remember(slot, "right", catalog::Key32{});  // a key that does not open the slot
  auto opened = slot.Unwrap("right", "repo1", &cache);
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->Bytes(), master_.Bytes());
  EXPECT_TRUE(cache.Find(slot, "right").has_value());
  // Truncated entries are misses, not errors.
  for (const auto& entry : std::filesystem::directory_iterator(dir_->path())) {
    std::filesystem::resize_file(entry.path(), 10);
  }
  EXPECT_FALSE(cache.Find(slot, "right").has_value());
  EXPECT_TRUE(slot.Unwrap("right", "repo1", &cache).has_value());
}

}  // namespace
}  // namespace drctl::command
