// The data directory walk and the page checksum check against a real PostgreSQL 15 cluster (data
// checksums on): what a backup would copy from it, and that every page written by the server
// passes while a damaged copy fails at the right block.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "common/temp_dir.h"
#include "harness/servers.h"
#include "postgres/connection.h"
#include "postgres/page_checksum.h"
#include "postgres/pgdata_walk.h"
#include "postgres/wal_names.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<std::uint8_t> ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The walked entries that belong to the relation whose main fork is `main_fork` (its forks and
// segments: "<main_fork>", "<main_fork>_fsm", "<main_fork>.1", ...).
std::vector<std::string> RelationFiles(const std::vector<pg::PgFile>& files,
                                       const std::string& main_fork) {
  std::vector<std::string> out;
  for (const auto& f : files) {
    if (!f.relative_path.starts_with(main_fork)) continue;
    const std::string rest = f.relative_path.substr(main_fork.size());
    if (rest.empty() || rest[0] == '_' || rest[0] == '.') out.push_back(f.relative_path);
  }
  return out;
}

pg::Page PageOf(const std::vector<std::uint8_t>& data, std::size_t index) {
  return pg::Page(data.data() + index * pg::kPageSize, pg::kPageSize);
}

const pg::PgFile* Find(const std::vector<pg::PgFile>& files, const std::string& rel) {
  for (const auto& f : files) {
    if (f.relative_path == rel) return &f;
  }
  return nullptr;
}

TEST(PgDataWalkOnRealCluster, ListsWhatABackupCopies) {
  auto* server = SharedPostgres();
  ASSERT_NE(server, nullptr);
  const fs::path pgdata = server->options().pgdata;
  auto conn = pg::Connection::Open(server->Conninfo());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  // CREATE/DROP TABLESPACE cannot run inside a transaction: one statement per Exec.
  auto exec = [&](const std::string& sql) {
    auto r = conn->Exec(sql);
    EXPECT_TRUE(r.has_value()) << sql << ": " << r.error().ToString();
    return r.has_value();
  };
  ASSERT_TRUE(exec("SET client_min_messages = warning"));
  ASSERT_TRUE(exec("DROP TABLE IF EXISTS walk_normal, walk_unlogged, walk_in_ts"));
  ASSERT_TRUE(exec("DROP TABLESPACE IF EXISTS walk_ts"));

  auto ts_dir = TempDir::Create("drctl-pgdata-ts-");
  ASSERT_TRUE(ts_dir.has_value()) << ts_dir.error().ToString();
  const fs::path location = ts_dir->path() / "location";
  fs::create_directory(location);
  ASSERT_TRUE(ChownToUser(ts_dir->path(), server->options().os_user).has_value());

  ASSERT_TRUE(
      exec("CREATE TABLE walk_normal AS SELECT g AS id, md5(g::text) AS v "
           "FROM generate_series(1, 2000) g"));
  ASSERT_TRUE(
      exec("CREATE UNLOGGED TABLE walk_unlogged AS SELECT g AS id "
           "FROM generate_series(1, 2000) g"));
  ASSERT_TRUE(exec("VACUUM walk_unlogged"));  // creates its _fsm and _vm forks
  ASSERT_TRUE(exec("CREATE TABLESPACE walk_ts LOCATION '" + location.string() + "'"));
  ASSERT_TRUE(
      exec("CREATE TABLE walk_in_ts TABLESPACE walk_ts AS SELECT g AS id "
           "FROM generate_series(1, 100) g"));
  // A temporary table lives as long as the session that created it: keep it open for the walk.
  auto temp_session = pg::Connection::Open(server->Conninfo());
  ASSERT_TRUE(temp_session.has_value()) << temp_session.error().ToString();
  ASSERT_TRUE(
      temp_session->Exec("CREATE TEMP TABLE walk_temp AS SELECT 1 AS id; CHECKPOINT").has_value());

  const std::string normal = conn->QueryValue("SELECT pg_relation_filepath('walk_normal')").value();
  const std::string unlogged =
      conn->QueryValue("SELECT pg_relation_filepath('walk_unlogged')").value();
  const std::string in_ts = conn->QueryValue("SELECT pg_relation_filepath('walk_in_ts')").value();
  const std::string temp =
      temp_session->QueryValue("SELECT pg_relation_filepath('walk_temp')").value();
  const std::string ts_oid =
      conn->QueryValue("SELECT oid FROM pg_tablespace WHERE spcname = 'walk_ts'").value();
  const std::string normal_size =
      conn->QueryValue("SELECT pg_relation_size('walk_normal')").value();

  // What the server has on disk, so that the skips below are skips and not absences.
  ASSERT_TRUE(fs::exists(pgdata / unlogged));
  ASSERT_TRUE(fs::exists(pgdata / (unlogged + "_fsm")));
  ASSERT_TRUE(fs::exists(pgdata / (unlogged + "_init")));
  ASSERT_TRUE(fs::exists(pgdata / temp)) << temp;
  ASSERT_TRUE(fs::exists(pgdata / "postmaster.pid"));
  ASSERT_TRUE(fs::exists(pgdata / "postmaster.opts"));
  ASSERT_TRUE(fs::is_symlink(pgdata / "pg_tblspc" / ts_oid));

  auto walked = pg::WalkDataDirectory(pgdata);
  ASSERT_TRUE(walked.has_value()) << walked.error().ToString();
  const auto& files = *walked;
  EXPECT_TRUE(std::is_sorted(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return a.relative_path < b.relative_path;
  }));

  // A normal table: its main fork, as big as the server says.
  const pg::PgFile* main_fork = Find(files, normal);
  ASSERT_NE(main_fork, nullptr) << normal;
  EXPECT_TRUE(main_fork->is_relation);
  EXPECT_EQ(main_fork->relation_segment, 0U);
  EXPECT_EQ(main_fork->tablespace_oid, 0U);
  EXPECT_EQ(std::to_string(main_fork->size), normal_size);
  EXPECT_EQ(main_fork->absolute_path, pgdata / normal);

  // An unlogged table: only its init fork.
  EXPECT_THAT(RelationFiles(files, unlogged), ElementsAre(unlogged + "_init"));

  // A temporary table: nothing ("base/<db>/t<backend>_<relfilenode>").
  EXPECT_THAT(RelationFiles(files, temp), IsEmpty());
  ASSERT_TRUE(temp.find("/t") != std::string::npos) << temp;

  // The tablespace: the link with its OID and target, then its files under the link's name.
  const pg::PgFile* link = Find(files, "pg_tblspc/" + ts_oid);
  ASSERT_NE(link, nullptr);
  EXPECT_TRUE(link->is_symlink);
  EXPECT_EQ(link->link_target, location);
  EXPECT_EQ(std::to_string(link->tablespace_oid), ts_oid);
  ASSERT_TRUE(in_ts.starts_with("pg_tblspc/" + ts_oid + "/PG_15_")) << in_ts;
  const pg::PgFile* ts_file = Find(files, in_ts);
  ASSERT_NE(ts_file, nullptr) << in_ts;
  EXPECT_TRUE(ts_file->is_relation);
  EXPECT_EQ(std::to_string(ts_file->tablespace_oid), ts_oid);
  EXPECT_EQ(ts_file->absolute_path,
            location / fs::path(in_ts).lexically_relative(fs::path("pg_tblspc") / ts_oid));

  // Server state is not copied; the directories that hold it are, empty.
  for (const char* skipped : {"postmaster.pid", "postmaster.opts"}) {
    EXPECT_EQ(Find(files, skipped), nullptr) << skipped;
  }
  std::vector<std::string> wal;
  for (const auto& f : files) {
    if (f.relative_path.starts_with("pg_wal")) wal.push_back(f.relative_path);
  }
  EXPECT_THAT(wal, ElementsAre("pg_wal", "pg_wal/archive_status"));
  for (const char* kept : {"PG_VERSION", "global/pg_control", "pg_stat_tmp", "pg_subtrans",
                           "pg_replslot", "pg_xact", "pg_tblspc"}) {
    EXPECT_NE(Find(files, kept), nullptr) << kept;
  }
  for (const auto& f : files) {
    EXPECT_FALSE(f.relative_path.starts_with("pg_subtrans/")) << f.relative_path;
    EXPECT_EQ(f.relative_path.find("pg_internal.init"), std::string::npos) << f.relative_path;
  }

  EXPECT_TRUE(exec("DROP TABLE walk_in_ts"));
  EXPECT_TRUE(exec("DROP TABLESPACE walk_ts"));
}

TEST(PageChecksumOnRealCluster, EveryServerPagePassesAndADamagedCopyFails) {
  auto* server = SharedPostgres();
  ASSERT_NE(server, nullptr);
  auto conn = pg::Connection::Open(server->Conninfo());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  ASSERT_TRUE(conn->Exec("SET client_min_messages = warning;"
                         "DROP TABLE IF EXISTS checksum_pages;"
                         "CREATE TABLE checksum_pages AS SELECT g AS id, md5(g::text) AS v "
                         "FROM generate_series(1, 5000) g;"
                         "CHECKPOINT")
                  .has_value());
  const std::string rel = conn->QueryValue("SELECT pg_relation_filepath('checksum_pages')").value();
  const auto data = ReadAll(server->options().pgdata / rel);
  ASSERT_EQ(data.size() % pg::kPageSize, 0U);
  const std::size_t pages = data.size() / pg::kPageSize;
  ASSERT_GE(pages, 10U);

  EXPECT_THAT(pg::FailedBlocks(data, 0), IsEmpty());
  for (std::size_t i = 0; i < pages; ++i) {
    const auto block = static_cast<std::uint32_t>(i);
    const pg::PageCheck check = pg::VerifyPage(PageOf(data, i), block);
    EXPECT_EQ(check.status, pg::PageStatus::kOk) << "block " << block;
    EXPECT_EQ(check.expected, check.found) << "block " << block;
  }

  // One flipped byte in a copy of block 7 fails that block only.
  auto damaged = data;
  damaged[7 * pg::kPageSize + 4000] ^= 0x20;
  EXPECT_THAT(pg::FailedBlocks(damaged, 0), ElementsAre(7U));
  const pg::PageCheck check = pg::VerifyPage(PageOf(damaged, 7), 7);
  EXPECT_EQ(check.status, pg::PageStatus::kMismatch);
  EXPECT_NE(check.expected, check.found);

  // The same pages read as segment 1 of the relation are at the wrong block numbers.
  const auto as_segment_1 = pg::FailedBlocks(std::span(data).first(2 * pg::kPageSize), 1);
  EXPECT_THAT(as_segment_1, ElementsAre(pg::kBlocksPerSegment, pg::kBlocksPerSegment + 1));
  ASSERT_TRUE(conn->Exec("DROP TABLE checksum_pages").has_value());
}

TEST(PageChecksumOnRealCluster, EveryRelationFileOfTheClusterPasses) {
  auto* server = SharedPostgres();
  ASSERT_NE(server, nullptr);
  auto conn = pg::Connection::Open(server->Conninfo());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  ASSERT_TRUE(conn->Exec("CHECKPOINT").has_value());
  // As in an online backup: pages changed from now on may be read half-written; not checked.
  auto limit = pg::ParseLsn(conn->QueryValue("SELECT pg_current_wal_insert_lsn()").value());
  ASSERT_TRUE(limit.has_value());
  auto files = pg::WalkDataDirectory(server->options().pgdata);
  ASSERT_TRUE(files.has_value()) << files.error().ToString();
  std::size_t checked = 0;
  for (const auto& f : *files) {
    if (!f.is_relation) continue;
    const auto data = ReadAll(f.absolute_path);
    EXPECT_THAT(pg::FailedBlocks(data, f.relation_segment, 0, *limit), IsEmpty())
        << f.relative_path;
    checked += data.size() / pg::kPageSize;
  }
  EXPECT_GE(checked, 100U);  // the catalogs of three databases at least
}

}  // namespace
}  // namespace drctl::testing
