#include "command/wal/kek_cache.h"

#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

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

TEST_F(KekCacheTest, CreatingASlotRemembersItsKey) {
  SpoolKekCache disk(dir_->path());
  CountingCache cache(disk);
  const auto slot = catalog::KeySlot::Create(master_, "pass phrase", "repo1",
                                             catalog::SlotKind::kPassphrase, "t", kCheap, &cache);
  EXPECT_EQ(cache.remembered, 1);
  auto opened = slot.Unwrap("pass phrase", "repo1", &cache);
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(cache.hits, 1) << "the first unwrap on this host derives nothing";
  EXPECT_EQ(opened->Bytes(), master_.Bytes());
}

// The uid and gid of the postgres user (the archiver), or of nobody.
std::pair<uid_t, gid_t> OtherUser() {
  for (const char* name : {"postgres", "nobody"}) {
    if (const passwd* pw = getpwnam(name)) return {pw->pw_uid, pw->pw_gid};
  }
  return {65534, 65534};
}

TEST_F(KekCacheTest, HostCacheAsRootNeverCreatesTheSpoolAndLeavesItsOwnerInCharge) {
  if (geteuid() != 0) GTEST_SKIP() << "ownership rules of a root run: needs root";
  WalConfig wal;
  wal.spool = dir_->path() / "spool";
  EXPECT_FALSE(HostKekCacheDir(wal).has_value()) << "no spool: no cache";
  EXPECT_FALSE(std::filesystem::exists(wal.spool)) << "root must not create the archiver's spool";

  // The archiver's spool: kek/ made there belongs to its owner, and so do the entries root writes.
  ASSERT_TRUE(std::filesystem::create_directory(wal.spool));
  const auto [uid, gid] = OtherUser();
  ASSERT_EQ(chown(wal.spool.c_str(), uid, gid), 0);
  auto dir = HostKekCacheDir(wal);
  ASSERT_TRUE(dir.has_value());
  EXPECT_EQ(*dir, wal.spool / "kek");
  struct stat st {};
  ASSERT_EQ(stat(dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_mode & 0777, 0700U);
  SpoolKekCache cache(*dir);
  const auto slot = catalog::KeySlot::Create(master_, "s", "repo1", catalog::SlotKind::kPassphrase,
                                             "t", kCheap, &cache);
  int entries = 0;
  for (const auto& entry : std::filesystem::directory_iterator(*dir)) {
    ASSERT_EQ(stat(entry.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, uid) << entry.path();
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_TRUE(cache.Find(slot, "s").has_value());
}

TEST_F(KekCacheTest, HostCacheAsRootRefusesAKekLinkInTheSpool) {
  if (geteuid() != 0) GTEST_SKIP() << "ownership rules of a root run: needs root";
  // The spool's owner points kek/ elsewhere (a directory root owns): root must neither use it nor
  // give its target away.
  WalConfig wal;
  wal.spool = dir_->path() / "spool";
  ASSERT_TRUE(std::filesystem::create_directory(wal.spool));
  const auto elsewhere = dir_->path() / "root-owned";
  ASSERT_TRUE(std::filesystem::create_directory(elsewhere));
  std::filesystem::create_directory_symlink(elsewhere, wal.spool / "kek");
  const auto [uid, gid] = OtherUser();
  ASSERT_EQ(chown(wal.spool.c_str(), uid, gid), 0);
  EXPECT_FALSE(HostKekCacheDir(wal).has_value());
  struct stat st {};
  ASSERT_EQ(stat(elsewhere.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0U) << "the link's target was given to the spool's owner";
}

TEST_F(KekCacheTest, HostCacheWithoutASpoolSettingIsOff) {
  WalConfig wal;
  wal.spool.clear();
  EXPECT_FALSE(HostKekCacheDir(wal).has_value());
}

TEST_F(KekCacheTest, ARememberedSlotIsOfferedOnlyWithATtlAndOnlyWhileFresh) {
  const auto slot = catalog::KeySlot::Create(master_, "pass phrase", "0a1b",
                                             catalog::SlotKind::kPassphrase, "t", kCheap);
  SpoolKekCache plain(dir_->path());
  plain.RememberSlot("0a1b", slot);
  EXPECT_FALSE(plain.RecentSlot("0a1b").has_value()) << "no TTL: no slot is kept";
  EXPECT_TRUE(std::filesystem::is_empty(dir_->path()));

  SpoolKekCache cache(dir_->path(), std::chrono::seconds(60));
  cache.RememberSlot("0a1b", slot);
  auto recent = cache.RecentSlot("0a1b");
  ASSERT_TRUE(recent.has_value());
  auto parsed = catalog::KeySlot::FromJson(*recent, "cached");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->slot_id, slot.slot_id);
  EXPECT_EQ(parsed->Unwrap("pass phrase", "0a1b")->Bytes(), master_.Bytes());
  EXPECT_FALSE(cache.RecentSlot("0a1c").has_value()) << "another repository";
  // Older than the TTL: not offered.
  const auto path = dir_->path() / "slot-0a1b";
  ASSERT_TRUE(std::filesystem::exists(path));
  std::filesystem::last_write_time(
      path, std::filesystem::last_write_time(path) - std::chrono::seconds(61));
  EXPECT_FALSE(cache.RecentSlot("0a1b").has_value());
  // A repository id that is not hex names no file.
  cache.RememberSlot("../x", slot);
  EXPECT_FALSE(cache.RecentSlot("../x").has_value());
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_->path())) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(files, std::vector<std::string>{"slot-0a1b"});
}

}  // namespace
}  // namespace drctl::command
