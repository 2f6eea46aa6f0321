#include "postgres/pgdata_walk.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>

#include "common/temp_dir.h"

namespace drctl::pg {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

class PgDataWalk : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::Create("drctl-pgdata-walk-");
    ASSERT_TRUE(dir.has_value()) << dir.error().ToString();
    dir_.emplace(std::move(*dir));
    pgdata_ = dir_->path() / "pgdata";
    fs::create_directories(pgdata_);
  }

  // Creates a file (and its parents) under `root` (default: the data directory).
  void File(const std::string& rel, const std::string& content = "x", const fs::path& root = {}) {
    const fs::path path = (root.empty() ? pgdata_ : root) / rel;
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  void Dir(const std::string& rel) { fs::create_directories(pgdata_ / rel); }

  std::vector<PgFile> Walk() {
    auto files = WalkDataDirectory(pgdata_);
    EXPECT_TRUE(files.has_value()) << files.error().ToString();
    return files.value_or(std::vector<PgFile>{});
  }

  static std::vector<std::string> Paths(const std::vector<PgFile>& files) {
    std::vector<std::string> out;
    out.reserve(files.size());
    for (const auto& f : files) out.push_back(f.relative_path);
    return out;
  }

  static const PgFile* Find(const std::vector<PgFile>& files, const std::string& rel) {
    for (const auto& f : files) {
      if (f.relative_path == rel) return &f;
    }
    return nullptr;
  }

  std::optional<TempDir> dir_;
  fs::path pgdata_;
};

TEST_F(PgDataWalk, ListsOrdinaryFilesAndDirectoriesSorted) {
  File("PG_VERSION", "15\n");
  File("postgresql.conf", "port = 5432\n");
  File("global/pg_control", std::string(8192, 'c'));
  File("global/1262", std::string(16384, 'r'));
  File("base/1/1259");
  File("base/1/PG_VERSION");
  File("base/1/pg_filenode.map");
  File("pg_xact/0000");
  const auto files = Walk();
  EXPECT_THAT(Paths(files),
              ElementsAre("PG_VERSION", "base", "base/1", "base/1/1259", "base/1/PG_VERSION",
                          "base/1/pg_filenode.map", "global", "global/1262", "global/pg_control",
                          "pg_xact", "pg_xact/0000", "postgresql.conf"));
  const PgFile* rel = Find(files, "global/1262");
  ASSERT_NE(rel, nullptr);
  EXPECT_EQ(rel->size, 16384U);
  EXPECT_EQ(rel->absolute_path, pgdata_ / "global/1262");
  EXPECT_FALSE(rel->is_dir);
  EXPECT_FALSE(rel->is_symlink);
  EXPECT_EQ(rel->tablespace_oid, 0U);
  EXPECT_TRUE(rel->is_relation);
  EXPECT_EQ(rel->relation_segment, 0U);
  EXPECT_FALSE(Find(files, "global/pg_control")->is_relation);
  EXPECT_FALSE(Find(files, "base/1/PG_VERSION")->is_relation);
  EXPECT_TRUE(Find(files, "base/1/1259")->is_relation);
  EXPECT_TRUE(Find(files, "base")->is_dir);
  EXPECT_EQ(Find(files, "base")->size, 0U);
  // pg_xact/0000 is named like a relation but is not in a database directory.
  EXPECT_FALSE(Find(files, "pg_xact/0000")->is_relation);
}

TEST_F(PgDataWalk, ReportsModeAndModificationTime) {
  File("postgresql.auto.conf");
  const fs::path path = pgdata_ / "postgresql.auto.conf";
  ASSERT_EQ(chmod(path.c_str(), 0640), 0);
  const std::array<timespec, 2> times = {timespec{1700000000, 123456789},
                                         timespec{1700000000, 123456789}};
  ASSERT_EQ(utimensat(AT_FDCWD, path.c_str(), times.data(), 0), 0);
  const auto files = Walk();
  const PgFile* f = Find(files, "postgresql.auto.conf");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->mode, 0640U);
  EXPECT_EQ(f->mtime.time_since_epoch().count(), 1700000000123456789LL);
}

TEST_F(PgDataWalk, KeepsExcludedDirectoriesEmpty) {
  for (const char* dir : {"pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots",
                          "pg_stat_tmp", "pg_subtrans"}) {
    File(std::string(dir) + "/content");
  }
  File("pg_replslot/slot1/state");
  File("pg_stat/pgstat.stat");  // pg_stat (permanent statistics) is copied
  EXPECT_THAT(Paths(Walk()),
              ElementsAre("pg_dynshmem", "pg_notify", "pg_replslot", "pg_serial", "pg_snapshots",
                          "pg_stat", "pg_stat/pgstat.stat", "pg_stat_tmp", "pg_subtrans"));
}

TEST_F(PgDataWalk, KeepsOnlyPgWalAndArchiveStatus) {
  File("pg_wal/000000010000000000000001", std::string(100, 'w'));
  File("pg_wal/00000002.history");
  File("pg_wal/archive_status/000000010000000000000001.done");
  const auto files = Walk();
  EXPECT_THAT(Paths(files), ElementsAre("pg_wal", "pg_wal/archive_status"));
  EXPECT_TRUE(files[0].is_dir);
  EXPECT_TRUE(files[1].is_dir);
}

TEST_F(PgDataWalk, ListsArchiveStatusEvenWhenMissing) {
  Dir("pg_wal");
  const auto files = Walk();
  EXPECT_THAT(Paths(files), ElementsAre("pg_wal", "pg_wal/archive_status"));
  EXPECT_TRUE(files[1].is_dir);
}

TEST_F(PgDataWalk, ListsASymlinkedPgWalAsADirectory) {
  const fs::path wal = dir_->path() / "wal";
  File("000000010000000000000001", "w", wal);
  File("archive_status/000000010000000000000001.ready", "", wal);
  fs::create_directory_symlink(wal, pgdata_ / "pg_wal");
  const auto files = Walk();
  ASSERT_THAT(Paths(files), ElementsAre("pg_wal", "pg_wal/archive_status"));
  EXPECT_TRUE(files[0].is_dir);
  EXPECT_FALSE(files[0].is_symlink);
  EXPECT_EQ(files[0].link_target, fs::path());
}

TEST_F(PgDataWalk, SkipsServerStateFilesAtTheTopLevelOnly) {
  for (const char* name :
       {"postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_label.old",
        "tablespace_map.old", "backup_manifest", "current_logfiles", "current_logfiles.tmp",
        "postgresql.auto.conf.tmp"}) {
    File(name);
  }
  File("postgresql.auto.conf");
  File("log/current_logfiles");  // not the server's file: copied
  EXPECT_THAT(Paths(Walk()), ElementsAre("log", "log/current_logfiles", "postgresql.auto.conf"));
}

TEST_F(PgDataWalk, SkipsRelcacheInitFilesAnywhere) {
  File("global/pg_internal.init");
  File("base/5/pg_internal.init");
  File("base/5/pg_internal.init.4242");  // being written by a backend
  File("base/5/16384");
  EXPECT_THAT(Paths(Walk()), ElementsAre("base", "base/5", "base/5/16384", "global"));
}

TEST_F(PgDataWalk, SkipsTemporaryFilesAndDirectories) {
  File("base/pgsql_tmp/pgsql_tmp1234.0");
  File("base/5/pgsql_tmp99");
  File("pgsql_tmp_top");
  File("base/5/t3_16400");
  File("base/5/t3_16400_fsm");
  File("base/5/t3_16400.1");
  File("base/5/t12_16401_init");
  File("base/5/16400");
  File("t3_16400");  // not in a database directory: an ordinary file
  EXPECT_THAT(Paths(Walk()), ElementsAre("base", "base/5", "base/5/16400", "t3_16400"));
}

TEST_F(PgDataWalk, KeepsOnlyTheInitForkOfUnloggedRelations) {
  for (const char* name : {"16500", "16500.1", "16500_fsm", "16500_vm", "16500_init", "16501",
                           "16501_fsm", "16501_vm", "165000"}) {
    File(std::string("base/5/") + name);
  }
  const auto files = Walk();
  EXPECT_THAT(Paths(files), ElementsAre("base", "base/5", "base/5/165000", "base/5/16500_init",
                                        "base/5/16501", "base/5/16501_fsm", "base/5/16501_vm"));
  EXPECT_TRUE(Find(files, "base/5/16500_init")->is_relation);
}

TEST_F(PgDataWalk, ReportsRelationSegments) {
  File("base/5/16384");
  File("base/5/16384.1");
  File("base/5/16384.12");
  File("base/5/16384_fsm");
  File("base/5/16384_vm.3");
  const auto files = Walk();
  EXPECT_EQ(Find(files, "base/5/16384")->relation_segment, 0U);
  EXPECT_EQ(Find(files, "base/5/16384.1")->relation_segment, 1U);
  EXPECT_EQ(Find(files, "base/5/16384.12")->relation_segment, 12U);
  EXPECT_EQ(Find(files, "base/5/16384_fsm")->relation_segment, 0U);
  EXPECT_EQ(Find(files, "base/5/16384_vm.3")->relation_segment, 3U);
  for (const auto& f : files) {
    if (!f.is_dir) {
      EXPECT_TRUE(f.is_relation) << f.relative_path;
    }
  }
}

TEST(RelationFileName, AcceptsRelationFilesOnly) {
  std::uint32_t segment = 99;
  EXPECT_TRUE(IsRelationFileName("16384", &segment));
  EXPECT_EQ(segment, 0U);
  EXPECT_TRUE(IsRelationFileName("16384.7", &segment));
  EXPECT_EQ(segment, 7U);
  EXPECT_TRUE(IsRelationFileName("1_init", &segment));
  EXPECT_TRUE(IsRelationFileName("4294967295_vm.4294967295", &segment));
  EXPECT_EQ(segment, 4294967295U);
  for (const char* bad :
       {"", "pg_control", "PG_VERSION", "16384.", "16384_main", "16384_fsm_vm", ".1", "16384.1.2",
        "16384a", "t1_16384", "12345678901", "16384.x", "16384.4294967296"}) {
    EXPECT_FALSE(IsRelationFileName(bad, &segment)) << bad;
  }
  EXPECT_TRUE(IsTempRelationFileName("t3_16384"));
  EXPECT_TRUE(IsTempRelationFileName("t3_16384_init.2"));
  for (const char* bad : {"t3", "t_16384", "t3_", "3_16384", "T3_16384", "t3_16384_", "tx_1"}) {
    EXPECT_FALSE(IsTempRelationFileName(bad)) << bad;
  }
}

TEST_F(PgDataWalk, FollowsTablespaceLinks) {
  const fs::path location = dir_->path() / "tblspc";
  File("PG_15_202209061/5/16600", std::string(8192, 't'), location);
  File("PG_15_202209061/5/16600.2", "", location);
  File("PG_15_202209061/5/16601", "", location);
  File("PG_15_202209061/5/16601_init", "", location);
  File("PG_15_202209061/5/t4_16602", "", location);
  File("PG_15_202209061/pgsql_tmp/pgsql_tmp77.1", "", location);
  File("PG_14_202107181/5/16000", "", location);  // another server version's files
  File("stray", "", location);
  Dir("pg_tblspc");
  fs::create_directory_symlink(location, pgdata_ / "pg_tblspc/16599");
  const auto files = Walk();
  EXPECT_THAT(
      Paths(files),
      ElementsAre("pg_tblspc", "pg_tblspc/16599", "pg_tblspc/16599/PG_15_202209061",
                  "pg_tblspc/16599/PG_15_202209061/5", "pg_tblspc/16599/PG_15_202209061/5/16600",
                  "pg_tblspc/16599/PG_15_202209061/5/16600.2",
                  "pg_tblspc/16599/PG_15_202209061/5/16601_init"));
  const PgFile* link = Find(files, "pg_tblspc/16599");
  ASSERT_NE(link, nullptr);
  EXPECT_TRUE(link->is_symlink);
  EXPECT_FALSE(link->is_dir);
  EXPECT_EQ(link->link_target, location);
  EXPECT_EQ(link->tablespace_oid, 16599U);
  EXPECT_EQ(Find(files, "pg_tblspc")->tablespace_oid, 0U);
  const PgFile* seg = Find(files, "pg_tblspc/16599/PG_15_202209061/5/16600.2");
  ASSERT_NE(seg, nullptr);
  EXPECT_EQ(seg->absolute_path, location / "PG_15_202209061/5/16600.2");
  EXPECT_EQ(seg->tablespace_oid, 16599U);
  EXPECT_TRUE(seg->is_relation);
  EXPECT_EQ(seg->relation_segment, 2U);
  EXPECT_EQ(Find(files, "pg_tblspc/16599/PG_15_202209061/5/16600")->size, 8192U);
  EXPECT_EQ(Find(files, "pg_tblspc/16599/PG_15_202209061/5")->tablespace_oid, 16599U);
}

TEST_F(PgDataWalk, FollowsRelativeTablespaceLinks) {
  File("PG_15_202209061/5/16700", "", dir_->path() / "rel_tblspc");
  Dir("pg_tblspc");
  fs::create_directory_symlink("../../rel_tblspc", pgdata_ / "pg_tblspc/16699");
  const auto files = Walk();
  EXPECT_THAT(
      Paths(files),
      ElementsAre("pg_tblspc", "pg_tblspc/16699", "pg_tblspc/16699/PG_15_202209061",
                  "pg_tblspc/16699/PG_15_202209061/5", "pg_tblspc/16699/PG_15_202209061/5/16700"));
  EXPECT_EQ(Find(files, "pg_tblspc/16699")->link_target, fs::path("../../rel_tblspc"));
}

TEST_F(PgDataWalk, WalksInPlaceTablespaces) {
  File("pg_tblspc/16800/PG_15_202209061/5/16801");
  const auto files = Walk();
  EXPECT_THAT(
      Paths(files),
      ElementsAre("pg_tblspc", "pg_tblspc/16800", "pg_tblspc/16800/PG_15_202209061",
                  "pg_tblspc/16800/PG_15_202209061/5", "pg_tblspc/16800/PG_15_202209061/5/16801"));
  EXPECT_FALSE(Find(files, "pg_tblspc/16800")->is_symlink);
  EXPECT_EQ(Find(files, "pg_tblspc/16800/PG_15_202209061/5/16801")->tablespace_oid, 16800U);
  EXPECT_TRUE(Find(files, "pg_tblspc/16800/PG_15_202209061/5/16801")->is_relation);
}

TEST_F(PgDataWalk, SkipsOtherSymlinksAndSpecialFiles) {
  File("postgresql.conf");
  fs::create_symlink(pgdata_ / "postgresql.conf", pgdata_ / "linked.conf");
  fs::create_symlink(pgdata_ / "nowhere", pgdata_ / "dangling");
  ASSERT_EQ(mkfifo((pgdata_ / "fifo").c_str(), 0600), 0);
  EXPECT_THAT(Paths(Walk()), ElementsAre("postgresql.conf"));
}

TEST_F(PgDataWalk, MissingDataDirectoryIsNotFound) {
  auto r = WalkDataDirectory(pgdata_ / "nope");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(r.error().message(),
            "data directory " + (pgdata_ / "nope").string() + " does not exist");
  EXPECT_NE(r.error().hint().find("postgres.pgdata"), std::string::npos);
}

TEST_F(PgDataWalk, DataDirectoryThatIsAFileIsAnIoError) {
  File("file");
  auto r = WalkDataDirectory(pgdata_ / "file");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_EQ(r.error().message(),
            "data directory " + (pgdata_ / "file").string() + " is not a directory");
}

TEST_F(PgDataWalk, DanglingTablespaceLinkIsAnIoError) {
  Dir("pg_tblspc");
  const fs::path gone = dir_->path() / "unmounted";
  fs::create_directory_symlink(gone, pgdata_ / "pg_tblspc/16900");
  auto r = WalkDataDirectory(pgdata_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_EQ(r.error().message(), "tablespace link " + (pgdata_ / "pg_tblspc/16900").string() +
                                     " points to " + gone.string() + ", which is not a directory");
  EXPECT_NE(r.error().hint().find("mount"), std::string::npos);
}

TEST_F(PgDataWalk, UnreadableEntryIsAnIoErrorNamingIt) {
  // ELOOP stands in for any error but ENOENT (permissions do not stop root): the tablespace's
  // directory cannot be resolved.
  Dir("pg_tblspc");
  const fs::path loop = dir_->path() / "loop";
  fs::create_symlink(loop, loop);
  fs::create_directory_symlink(loop, pgdata_ / "pg_tblspc/17000");
  auto r = WalkDataDirectory(pgdata_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kIo);
  EXPECT_EQ(r.error().message(), "cannot stat " + loop.string() + ": " + std::strerror(ELOOP));
  EXPECT_NE(r.error().hint().find("OS user"), std::string::npos);
}

}  // namespace
}  // namespace drctl::pg
