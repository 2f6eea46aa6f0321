#include "catalog/backup_catalog.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

constexpr std::int64_t kNov25 = 1795633200;  // 2026-11-25T19:00:00Z

ChunkId Id(std::uint64_t n) {
  ChunkId id{};
  for (std::size_t i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
  return id;
}

// A small valid manifest starting at `start` whose one file holds `chunks`.
Manifest Backup(std::string id, std::int64_t start, const std::vector<std::uint64_t>& chunks) {
  Manifest m;
  m.backup_id = std::move(id);
  m.drctl_version = "0.4.0";
  m.pg = {"7301234567890123456", 150004, 1};
  m.start_lsn = 0x3000028;
  m.stop_lsn = 0x3000100;
  m.start_time = start;
  m.stop_time = start + 60;
  m.start_wal = "000000010000000000000003";
  m.stop_wal = "000000010000000000000003";
  m.backup_label = "START WAL LOCATION: 0/3000028 (file 000000010000000000000003)\n";
  ManifestFile f{"base/5/16384", FileType::kFile, 0600, chunks.size() * 8192, start, "", {}, {}};
  for (const auto n : chunks) f.chunks.push_back(Id(n));
  m.files.push_back(std::move(f));
  m.databases = {{5, "postgres"}};
  return m;
}

class BackupCatalogTest : public ::testing::Test {
 protected:
  void Write(const Manifest& m) {
    auto written = WriteManifest(*storage_, master_, m);
    ASSERT_TRUE(written.has_value()) << written.error().ToString();
  }
  void Damage(std::string_view backup_id) {
    const std::string key = ManifestKey(backup_id);
    std::string data = storage_->Read(key).value();
    data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x40);
    ASSERT_TRUE(storage_->Write(key, data).has_value());
  }
  std::unique_ptr<storage::Storage> storage_ = storage::NewMemoryStorage();
  MasterKey master_ = MasterKey::Generate();
};

TEST(BackupIdTest, NewBackupIdIsTheUtcStartTimeAndFourHexDigits) {
  const std::string id = NewBackupId(kNov25);
  EXPECT_TRUE(IsValidBackupId(id)) << id;
  EXPECT_EQ(id.substr(0, 17), "20261125T190000Z-");
  EXPECT_LT(NewBackupId(kNov25), NewBackupId(kNov25 + 1)) << "ids sort by time";
  std::vector<std::string> ids;
  ids.reserve(8);
  for (int i = 0; i < 8; ++i) ids.push_back(NewBackupId(kNov25));
  EXPECT_FALSE(std::all_of(ids.begin(), ids.end(), [&](const auto& s) { return s == ids[0]; }));
}

TEST_F(BackupCatalogTest, WriteThenLoadOne) {
  const Manifest m = Backup("20261125T190000Z-0001", kNov25, {1, 2, 3});
  Write(m);
  auto loaded = LoadManifest(*storage_, master_, m.backup_id);
  ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
  EXPECT_TRUE(*loaded == m);
  EXPECT_EQ(ListBackupIds(*storage_).value(), std::vector<std::string>{m.backup_id});
}

TEST_F(BackupCatalogTest, AManifestIsNeverReplaced) {
  const Manifest m = Backup("20261125T190000Z-0001", kNov25, {1});
  Write(m);
  auto again = WriteManifest(*storage_, master_, Backup(m.backup_id, kNov25, {2}));
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_NE(again.error().message().find("already has a manifest"), std::string::npos);
  EXPECT_TRUE(LoadManifest(*storage_, master_, m.backup_id).value() == m);
}

TEST_F(BackupCatalogTest, WriteRefusesAnInvalidManifest) {
  Manifest m = Backup("20261125T190000Z-0001", kNov25, {1});
  m.files[0].path = "../escape";
  auto written = WriteManifest(*storage_, master_, m);
  ASSERT_FALSE(written.has_value());
  EXPECT_EQ(written.error().code(), ErrorCode::kInternal);
  EXPECT_FALSE(storage_->Stat(ManifestKey(m.backup_id)).has_value());
}

TEST_F(BackupCatalogTest, LoadOneMissingOrMisnamed) {
  auto missing = LoadManifest(*storage_, master_, "20261125T190000Z-0001");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message().find("backup 20261125T190000Z-0001 not found in memory"),
            std::string::npos)
      << missing.error().message();
  auto misnamed = LoadManifest(*storage_, master_, "../keys/x");
  ASSERT_FALSE(misnamed.has_value());
  EXPECT_EQ(misnamed.error().code(), ErrorCode::kUsage);
}

TEST_F(BackupCatalogTest, LoadManifestsSortsByStartTime) {
  // Ids deliberately out of start-time order: the start time decides.
  Write(Backup("20261125T190000Z-0003", kNov25 + 7200, {3}));
  Write(Backup("20261125T190000Z-0001", kNov25 + 3600, {1}));
  Write(Backup("20261125T190000Z-0002", kNov25, {2}));
  Write(Backup("20261125T190000Z-0000", kNov25 + 3600, {4}));
  ASSERT_TRUE(storage_->Write("backups/notes.txt", "not a manifest").has_value());
  ASSERT_TRUE(storage_->Write("backups/x/deeper.manifest", "not ours").has_value());
  auto all = LoadManifests(*storage_, master_);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  std::vector<std::string> ids;
  for (const auto& m : *all) ids.push_back(m.backup_id);
  EXPECT_EQ(ids, (std::vector<std::string>{"20261125T190000Z-0002", "20261125T190000Z-0000",
                                           "20261125T190000Z-0001", "20261125T190000Z-0003"}));
  EXPECT_EQ(all->front().files.size(), 1U);
  auto summaries = LoadManifests(*storage_, master_, {.without_files = true});
  ASSERT_TRUE(summaries.has_value());
  EXPECT_EQ(summaries->size(), 4U);
  EXPECT_TRUE(summaries->front().files.empty());
  EXPECT_EQ(ListBackupIds(*storage_).value().size(), 4U);
}

TEST_F(BackupCatalogTest, BackupsOfTheSameSecondAreOrderedByWalPosition) {
  // Ids of one second differ by a random suffix: it must not decide which backup is newer.
  Manifest later = Backup("20261125T190000Z-0aaa", kNov25, {1});
  later.start_lsn = 0x5000028;
  later.stop_lsn = 0x5000100;
  Manifest earlier = Backup("20261125T190000Z-ffff", kNov25, {2});
  Write(later);
  Write(earlier);
  auto all = LoadManifests(*storage_, master_);
  ASSERT_TRUE(all.has_value()) << all.error().ToString();
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ(all->front().backup_id, "20261125T190000Z-ffff");
  EXPECT_EQ(all->back().backup_id, "20261125T190000Z-0aaa");
}

TEST_F(BackupCatalogTest, ADamagedManifestFailsTheLoadUnlessSkipped) {
  Write(Backup("20261125T190000Z-0001", kNov25, {1}));
  Write(Backup("20261125T190000Z-0002", kNov25 + 60, {2}));
  Damage("20261125T190000Z-0001");
  auto all = LoadManifests(*storage_, master_);
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(all.error().message().find("memory/backups/20261125T190000Z-0001.manifest"),
            std::string::npos)
      << all.error().message();

  std::vector<Error> damaged;
  auto rest = LoadManifests(*storage_, master_, {.damaged = &damaged});
  ASSERT_TRUE(rest.has_value()) << rest.error().ToString();
  ASSERT_EQ(rest->size(), 1U);
  EXPECT_EQ(rest->front().backup_id, "20261125T190000Z-0002");
  ASSERT_EQ(damaged.size(), 1U);
  EXPECT_EQ(damaged[0].code(), ErrorCode::kCorrupt);
}

TEST_F(BackupCatalogTest, AManifestUnderAnInvalidNameIsDamaged) {
  ASSERT_TRUE(storage_->Write("backups/garbage.manifest", "DRMF\x01").has_value());
  auto all = LoadManifests(*storage_, master_);
  ASSERT_FALSE(all.has_value());
  EXPECT_EQ(all.error().code(), ErrorCode::kCorrupt);
  EXPECT_TRUE(ListBackupIds(*storage_).value().empty());
}

TEST_F(BackupCatalogTest, DeleteManifest) {
  Write(Backup("20261125T190000Z-0001", kNov25, {1}));
  ASSERT_TRUE(DeleteManifest(*storage_, "20261125T190000Z-0001").has_value());
  EXPECT_TRUE(LoadManifests(*storage_, master_).value().empty());
  EXPECT_TRUE(DeleteManifest(*storage_, "20261125T190000Z-0001").has_value()) << "idempotent";
  auto bad = DeleteManifest(*storage_, "*");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kUsage);
}

TEST_F(BackupCatalogTest, LiveChunksIsTheUnionOfEveryManifest) {
  Write(Backup("20261125T190000Z-0001", kNov25, {1, 2, 3}));
  Write(Backup("20261125T190000Z-0002", kNov25 + 60, {3, 4}));
  auto live = LiveChunks(*storage_, master_);
  ASSERT_TRUE(live.has_value()) << live.error().ToString();
  EXPECT_EQ(*live, (ChunkSet{Id(1), Id(2), Id(3), Id(4)}));
  EXPECT_TRUE(LiveChunks(*storage::NewMemoryStorage(), master_).value().empty());
}

TEST_F(BackupCatalogTest, LiveChunksRefusesWhenAManifestIsDamaged) {
  Write(Backup("20261125T190000Z-0001", kNov25, {1, 2, 3}));
  Write(Backup("20261125T190000Z-0002", kNov25 + 60, {3, 4}));
  Damage("20261125T190000Z-0002");
  auto live = LiveChunks(*storage_, master_);
  ASSERT_FALSE(live.has_value());
  EXPECT_EQ(live.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(live.error().message().find("cannot mark live chunks"), std::string::npos);
  EXPECT_NE(live.error().message().find("20261125T190000Z-0002"), std::string::npos);
}

TEST_F(BackupCatalogTest, LiveChunksRefusesAManifestOfANewerFormat) {
  Write(Backup("20261125T190000Z-0001", kNov25, {1}));
  const std::string key = ManifestKey("20261125T190000Z-0001");
  std::string data = storage_->Read(key).value();
  data[4] = 2;
  ASSERT_TRUE(storage_->Write(key, data).has_value());
  auto live = LiveChunks(*storage_, master_);
  ASSERT_FALSE(live.has_value());
  EXPECT_EQ(live.error().code(), ErrorCode::kUnsupported);
}

}  // namespace
}  // namespace drctl::catalog
