// drctl backup and drctl restore end to end (issue 4). The fixture owns a PostgreSQL 15 cluster
// (not the shared one: it gets a tablespace, a second database and pgbench load) holding every
// kind of relation: pgbench tables, a table with TOAST values, btree, GIN and hash indexes, an
// UNLOGGED table, a table in a second tablespace, a second database, large objects.
//
// A backup taken while pgbench writes, into posix and S3 (Swift) repositories, each plain and
// encrypted, is restored into a new directory (its tablespace mapped elsewhere); the result
// starts with `postgres -D` and nothing else (the test waits for whatever recovery the restore
// configured to end), passes pg_amcheck --heapallindexed, and every table that was not written
// during the backup comes back row for row. Then: a second backup of an unchanged database stores
// little; restore refusals leave the target untouched; --delta repairs a damaged directory.
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <iostream>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;

constexpr int kUsers = 1234;
constexpr const char* kCountTable = "public.\"User\"";
constexpr const char* kPassphrase = "backup-restore-passphrase-5120";
constexpr const char* kBucket = "drctl-backup-restore";
constexpr const char* kS3KeyEnv = "BR_S3_KEY";
constexpr const char* kS3SecretEnv = "BR_S3_SECRET";

// Tables whose rows nothing writes while a backup runs: they must come back identical.
struct StableTable {
  const char* database;
  const char* table;
};
constexpr StableTable kStableTables[] = {
    {"postgres", "public.\"User\""}, {"postgres", "public.docs"}, {"postgres", "public.events"},
    {"postgres", "public.ts_items"}, {"appdb", "public.orders"},  {"appdb", "public.ts_orders"},
};
constexpr const char* kDatabases[] = {"postgres", "appdb"};

// Large values of random hex (incompressible for pglz): stored out of line, in TOAST.
constexpr const char* kPopulatePostgres = R"sql(
CREATE TABLE "User" (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL);
INSERT INTO "User" (name, email)
  SELECT 'user ' || i, 'u' || i || '@example.com' FROM generate_series(1, 1234) i;
CREATE UNIQUE INDEX user_email ON "User" (email);
CREATE TABLE docs (id int PRIMARY KEY, body text NOT NULL);
INSERT INTO docs SELECT i, (SELECT string_agg(md5(random()::text || i || g), '')
                            FROM generate_series(1, 250) g)
  FROM generate_series(1, 60) i;
CREATE TABLE events (id int PRIMARY KEY, kind text NOT NULL, tags int[], payload jsonb);
INSERT INTO events SELECT i, 'kind' || (i % 7), ARRAY[i % 10, i % 13, i % 17],
                          jsonb_build_object('n', i, 'even', i % 2 = 0)
  FROM generate_series(1, 5000) i;
CREATE INDEX events_tags ON events USING gin (tags);
CREATE INDEX events_payload ON events USING gin (payload jsonb_path_ops);
CREATE INDEX events_kind ON events USING hash (kind);
CREATE UNLOGGED TABLE scratch (id int PRIMARY KEY, note text);
INSERT INTO scratch SELECT i, 'gone after a restore ' || i FROM generate_series(1, 1000) i;
CREATE TABLE ts_items (id int PRIMARY KEY USING INDEX TABLESPACE ts1, label text) TABLESPACE ts1;
INSERT INTO ts_items SELECT i, 'item ' || i FROM generate_series(1, 3000) i;
CREATE INDEX ts_items_label ON ts_items (label) TABLESPACE ts1;
SELECT lo_from_bytea(0, decode(string_agg(md5(random()::text || i || g), ''), 'hex'))
  FROM generate_series(1, 3) i, generate_series(1, 4000) g GROUP BY i;
)sql";

constexpr const char* kPopulateApp = R"sql(
CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, total numeric(10,2),
                     placed timestamptz);
INSERT INTO orders SELECT i, i % 100, (i * 3.17)::numeric(10,2),
                          '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 minute'
  FROM generate_series(1, 4000) i;
CREATE INDEX orders_user ON orders (user_id);
CREATE TABLE ts_orders (id int PRIMARY KEY, note text) TABLESPACE ts1;
INSERT INTO ts_orders SELECT i, 'in the tablespace ' || i FROM generate_series(1, 500) i;
)sql";

std::string HashSql(const std::string& table) {
  return "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'no rows') FROM " +
         table + " t";
}
constexpr const char* kLargeObjectsSql =
    "SELECT count(*) || ' objects ' || coalesce(md5(string_agg(oid::text || ':' || "
    "md5(lo_get(oid)), ',' ORDER BY oid)), '') FROM pg_largeobject_metadata";
constexpr const char* kRelationsSql =
    "SELECT string_agg(relname || ':' || relkind::text || ':' || relpersistence::text, ',' "
    "ORDER BY relname) "
    "FROM pg_class WHERE relnamespace = 'public'::regnamespace";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// One value of `sql` on database `db`, or "ERROR: ..." so that a mismatch shows why.
std::string Value(const pg::LocalCluster& cluster, const std::string& db, const std::string& sql) {
  auto conn = pg::Connection::Open(cluster.Conninfo(db));
  if (!conn) return "ERROR: " + conn.error().ToString();
  auto value = conn->QueryValue(sql);
  if (!value) return "ERROR: " + value.error().ToString();
  return *value;
}

Status Exec(const pg::LocalCluster& cluster, const std::string& db, const std::string& sql) {
  auto conn = pg::Connection::Open(cluster.Conninfo(db));
  if (!conn) return std::unexpected(conn.error());
  return conn->Exec(sql);
}

// -1 when the text is not a number (the query failed).
std::int64_t Number(const std::string& text) {
  std::int64_t value = -1;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && ptr == text.data() + text.size() ? value : -1;
}

// "16/B374D848" → 0x16B374D848; 0 if malformed.
std::uint64_t ParseLsn(const std::string& text) {
  const auto slash = text.find('/');
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  if (slash == std::string::npos) return 0;
  auto a = std::from_chars(text.data(), text.data() + slash, hi, 16);
  auto b = std::from_chars(text.data() + slash + 1, text.data() + text.size(), lo, 16);
  if (a.ec != std::errc() || b.ec != std::errc()) return 0;
  return (hi << 32) | lo;
}

// Every entry below `dir` with the content of its regular files (empty map: absent).
std::map<std::string, std::string> Snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    out[fs::relative(e.path(), dir).string()] =
        e.is_regular_file() ? ReadAll(e.path()) : std::string("<not a file>");
  }
  return out;
}

bool EmptyOrAbsent(const fs::path& dir) {
  std::error_code ec;
  return !fs::exists(dir, ec) || (fs::is_directory(dir, ec) && fs::is_empty(dir, ec));
}

// What the checks compare between the source and a restored cluster: an ordered hash of every
// stable table, the large objects, and the relations (name, kind, persistence) of each database.
std::map<std::string, std::string> Fingerprint(const pg::LocalCluster& cluster) {
  std::map<std::string, std::string> out;
  for (const auto& t : kStableTables) {
    out[std::string(t.database) + " " + t.table] = Value(cluster, t.database, HashSql(t.table));
  }
  for (const char* db : kDatabases) {
    out[std::string(db) + " relations"] = Value(cluster, db, kRelationsSql);
  }
  out["postgres large objects"] = Value(cluster, "postgres", kLargeObjectsSql);
  // amcheck checks btree indexes only: read the GIN and hash indexes through index scans.
  for (const char* where :
       {"tags @> ARRAY[3]", "payload @> '{\"even\": true}'", "kind = 'kind3'"}) {
    out[std::string("events index scan ") + where] = Value(
        cluster, "postgres",
        std::string(
            "SET enable_seqscan = off; SELECT count(*) || ' ' || sum(id) FROM events WHERE ") +
            where);
  }
  return out;
}

// The fixture's own PostgreSQL, shared by the tests of the suite.
struct SourceCluster {
  std::optional<TempDir> dir;
  std::optional<pg::LocalCluster> cluster;  // declared after dir: stopped before it is removed
  std::string bindir;
  fs::path pgdata;
  std::uint32_t tablespace_oid = 0;
  std::map<std::string, std::string> fingerprint;
};

Status MakeSource(SourceCluster& s) {
  auto bindir = pg::FindBindir("");
  if (!bindir) return std::unexpected(bindir.error());
  s.bindir = *bindir;
  auto dir = TempDir::Create("drctl-br-source-");
  if (!dir) return std::unexpected(dir.error());
  s.dir.emplace(std::move(*dir));
  const fs::path root = s.dir->path();
  fs::create_directories(root / "tablespace");
  DRCTL_TRY(ChownToUser(root, "postgres"));
  pg::ClusterOptions o;
  o.pgdata = root / "pgdata";
  // No autovacuum: between two backups of an "unchanged" database nothing rewrites pages.
  o.settings = {"wal_level=replica", "max_wal_senders=10", "fsync=off", "autovacuum=off"};
  DRCTL_TRY(pg::LocalCluster::InitDb(o));
  auto cluster = pg::LocalCluster::Start(o);
  if (!cluster) return std::unexpected(cluster.error());
  s.cluster.emplace(std::move(*cluster));
  s.pgdata = o.pgdata;
  const pg::LocalCluster& server = *s.cluster;
  DRCTL_TRY(Exec(server, "postgres",
                 "CREATE TABLESPACE ts1 LOCATION '" + (root / "tablespace").string() + "'"));
  DRCTL_TRY(Exec(server, "postgres", "CREATE DATABASE appdb"));
  DRCTL_TRY(Exec(server, "postgres", kPopulatePostgres));
  DRCTL_TRY(Exec(server, "appdb", kPopulateApp));
  auto init = RunCommand({s.bindir + "/pgbench", "-i", "-s", "2", "-q", "-h", "127.0.0.1", "-p",
                          std::to_string(server.port()), "-U", "postgres", "postgres"},
                         std::chrono::minutes(5));
  if (!init) return std::unexpected(init.error());
  if (init->exit_status != 0) return Fail(ErrorCode::kInternal, "pgbench -i: " + init->err);
  for (const char* db : kDatabases) DRCTL_TRY(Exec(server, db, "VACUUM (ANALYZE)"));
  DRCTL_TRY(Exec(server, "postgres", "CHECKPOINT"));

  // The data has the shape the checks rely on.
  const auto toast = Number(Value(
      server, "postgres",
      "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE oid = 'public.docs'::regclass"));
  if (toast < std::int64_t{60} * 8000) {
    return Fail(ErrorCode::kInternal,
                "docs' values are not in TOAST (" + std::to_string(toast) + " bytes there)");
  }
  s.tablespace_oid = static_cast<std::uint32_t>(
      Number(Value(server, "postgres", "SELECT oid FROM pg_tablespace WHERE spcname = 'ts1'")));
  s.fingerprint = Fingerprint(server);
  for (const auto& [what, value] : s.fingerprint) {
    if (!value.starts_with("ERROR")) continue;
    std::string message = what;
    message.append(": ").append(value);
    return Fail(ErrorCode::kInternal, message);
  }
  return Ok();
}

// The suite's source cluster (SetUpTestSuite to TearDownTestSuite), or why it could not be made.
SourceCluster* suite_source = nullptr;
std::string suite_source_error;

class BackupRestore : public ::testing::Test {
 protected:
  enum class RepoKind { kPosixPlain, kPosixEncrypted, kS3Plain, kS3Encrypted };
  static bool IsS3(RepoKind kind) {
    return kind == RepoKind::kS3Plain || kind == RepoKind::kS3Encrypted;
  }

  static void SetUpTestSuite() {
    suite_source = new SourceCluster;
    auto made = MakeSource(*suite_source);
    if (!made) suite_source_error = made.error().ToString();
  }
  static void TearDownTestSuite() {
    delete suite_source;  // stops the server, then removes its directory
    suite_source = nullptr;
  }

  void SetUp() override {
    ASSERT_TRUE(suite_source_error.empty()) << "source cluster: " << suite_source_error;
    auto d = TempDir::Create("drctl-br-");
    ASSERT_TRUE(d.has_value()) << d.error().ToString();
    dir_.emplace(std::move(*d));
    work_ = dir_->path();
    // Restored clusters run as postgres below here.
    ASSERT_TRUE(ChownToUser(work_, "postgres").has_value());
    std::ofstream(work_ / "pass") << kPassphrase << "\n";
    config_ = work_ / "drctl.toml";
  }

  void TearDown() override {
    if (pgbench_) (void)pgbench_->Stop(SIGINT, std::chrono::seconds(10));
    pgbench_.reset();
    for (auto& c : restored_) (void)c.Stop();
    restored_.clear();
  }

  const pg::LocalCluster& source() const { return *suite_source->cluster; }

  void WriteConfig(const fs::path& path, RepoKind kind, const fs::path& posix_repo) {
    std::ofstream c(path);
    c << "[postgres]\nconninfo = \"" << source().Conninfo() << "\"\npgdata = \""
      << suite_source->pgdata.string() << "\"\n[[repo]]\nname = \"main\"\n";
    if (IsS3(kind)) {
      c << "url = \"s3://" << kBucket << "/" << work_.filename().string() << "\"\nendpoint = \""
        << SharedSwift()->endpoint() << "\"\nregion = \"us-east-1\"\npath_style = true\n"
        << "access_key_id_env = \"" << kS3KeyEnv << "\"\nsecret_access_key_env = \"" << kS3SecretEnv
        << "\"\n";
    } else {
      c << "url = \"file://" << posix_repo.string() << "\"\n";
    }
    c << "[backup]\ncount_tables = ['" << kCountTable << "']\n";
    if (kind == RepoKind::kPosixPlain || kind == RepoKind::kS3Plain) {
      c << "[encryption]\nenabled = false\n";
    } else {
      c << "[encryption]\npassphrase_file = \"" << (work_ / "pass").string()
        << "\"\nscrypt_n = 1024\n";
    }
  }

  CommandResult Drctl(std::vector<std::string> args, const fs::path& config = {}) {
    args.insert(args.begin(), {"--config", (config.empty() ? config_ : config).string()});
    return RunDrctl(args, {std::string(kS3KeyEnv) + "=" + SwiftServer::kAccessKey,
                           std::string(kS3SecretEnv) + "=" + SwiftServer::kSecretKey});
  }

  // Writes config_ for a repository of `kind` (posix: work_/repo) and creates it.
  void MakeRepo(RepoKind kind) {
    if (IsS3(kind)) {
      SwiftServer* swift = SharedSwift();
      ASSERT_NE(swift, nullptr);
      // The bucket may exist from an earlier test: each test has its own prefix in it.
      auto bucket = RunAwsCli(swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                              {"s3api", "create-bucket", "--bucket", kBucket});
      ASSERT_TRUE(bucket.has_value()) << bucket.error().ToString();
    }
    WriteConfig(config_, kind, work_ / "repo");
    auto init = Drctl({"repo", "init"});
    ASSERT_EQ(init.exit_status, 0) << Describe(init);
  }

  // `drctl --output json backup EXTRA...` succeeded and says what every complete backup says.
  void Backup(const std::vector<std::string>& extra, nlohmann::json* out) {
    std::vector<std::string> args = {"--output", "json", "backup", "--no-progress"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = Drctl(args);
    ASSERT_EQ(r.exit_status, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << Describe(r);
    EXPECT_EQ(j["ok"], true) << j.dump(2);
    ASSERT_TRUE(j["backup_id"].is_string()) << j.dump(2);
    EXPECT_FALSE(j["backup_id"].get<std::string>().empty()) << j.dump(2);
    EXPECT_EQ(j["status"], "complete") << j.dump(2);
    ASSERT_TRUE(j["start_lsn"].is_string() && j["stop_lsn"].is_string()) << j.dump(2);
    const auto start = ParseLsn(j["start_lsn"]);
    const auto stop = ParseLsn(j["stop_lsn"]);
    EXPECT_GT(start, 0U) << j.dump(2);
    EXPECT_GT(stop, start) << j.dump(2);
    EXPECT_GT(j["files"].get<std::int64_t>(), 100) << j.dump(2);
    EXPECT_EQ(j["files_read"].get<std::int64_t>() + j["files_reused"].get<std::int64_t>(),
              j["files"].get<std::int64_t>())
        << j.dump(2);
    EXPECT_GE(j["wal_segments"].get<std::int64_t>(), 1) << j.dump(2);
    EXPECT_TRUE(j["checksum_failures"].is_array() && j["checksum_failures"].empty()) << j.dump(2);
    EXPECT_EQ(j["row_counts"][kCountTable], kUsers) << j.dump(2);
    EXPECT_GE(j["databases"].get<std::int64_t>(), 4) << j.dump(2);  // + template0, template1
    std::cout << "[          ] backup " << j["backup_id"].get<std::string>() << ": " << j["files"]
              << " files (" << j["files_reused"] << " reused), " << j["logical_bytes"] << " bytes, "
              << j["read_bytes"] << " read, " << j["new_bytes"] << " new, " << j["duration_seconds"]
              << " s\n";
    *out = std::move(j);
  }

  // A backup while pgbench runs transactions the whole time.
  void BackupUnderLoad(nlohmann::json* out) {
    const std::string history = "SELECT count(*) FROM pgbench_history";
    const fs::path log = work_ / "pgbench.log";
    SpawnOptions o;
    o.argv = {suite_source->bindir + "/pgbench",
              "-n",
              "-c",
              "2",
              "-T",
              "300",
              "-h",
              "127.0.0.1",
              "-p",
              std::to_string(source().port()),
              "-U",
              "postgres",
              "postgres"};
    o.stdout_path = log.string();
    o.stderr_path = log.string();
    const std::int64_t before = Number(Value(source(), "postgres", history));
    auto spawned = Process::Spawn(o);
    ASSERT_TRUE(spawned.has_value()) << spawned.error().ToString();
    pgbench_.emplace(std::move(*spawned));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (Number(Value(source(), "postgres", history)) <= before + 50 &&
           std::chrono::steady_clock::now() < deadline && pgbench_->Running()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    const std::int64_t at_start = Number(Value(source(), "postgres", history));
    ASSERT_GT(at_start, before + 50) << "pgbench does not write: " << ReadAll(log);
    ASSERT_NO_FATAL_FAILURE(Backup({"--label", "under pgbench"}, out));
    const std::int64_t at_end = Number(Value(source(), "postgres", history));
    EXPECT_TRUE(pgbench_->Running()) << "pgbench ended before the backup: " << ReadAll(log);
    EXPECT_GT(at_end, at_start) << "nothing was written while the backup ran";
    (void)pgbench_->Stop(SIGINT, std::chrono::seconds(10));
    pgbench_.reset();
  }

  // `drctl --output json restore` of `backup_id` into `pgdata`, tablespace mapped to `tablespace`.
  CommandResult Restore(const std::string& backup_id, const fs::path& pgdata,
                        const fs::path& tablespace, const std::vector<std::string>& extra = {},
                        const fs::path& config = {}) {
    std::vector<std::string> args = {
        "--output",
        "json",
        "restore",
        "--no-progress",
        "--pgdata",
        pgdata.string(),
        "--backup",
        backup_id,
        "--owner",
        "postgres",
        "--tablespace-map",
        std::to_string(suite_source->tablespace_oid) + "=" + tablespace.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return Drctl(args, config);
  }

  // A restore that must succeed; its JSON in `out`.
  void RestoreOk(const nlohmann::json& backup, const fs::path& pgdata, const fs::path& tablespace,
                 const std::vector<std::string>& extra, nlohmann::json* out) {
    auto r = Restore(backup["backup_id"], pgdata, tablespace, extra);
    ASSERT_EQ(r.exit_status, 0) << Describe(r);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << Describe(r);
    EXPECT_EQ(j["ok"], true) << j.dump(2);
    EXPECT_EQ(j["backup_id"], backup["backup_id"]) << j.dump(2);
    EXPECT_EQ(j["pgdata"], pgdata.string()) << j.dump(2);
    EXPECT_EQ(j["files"], backup["files"]) << j.dump(2);
    EXPECT_EQ(j["owner"], "postgres") << j.dump(2);
    EXPECT_EQ(j["stop_lsn"], backup["stop_lsn"]) << j.dump(2);
    EXPECT_EQ(j["wal_segments"], backup["wal_segments"]) << j.dump(2);
    nlohmann::json tablespaces = nlohmann::json::array();
    tablespaces.push_back(
        {{"oid", suite_source->tablespace_oid}, {"directory", tablespace.string()}});
    EXPECT_EQ(j["tablespaces"], tablespaces) << j.dump(2);
    std::cout << "[          ] restore: " << j["files"] << " files, " << j["chunks_fetched"]
              << " chunks fetched, " << j["chunks_kept"] << " kept, " << j["files_removed"]
              << " removed, restore_command " << j["restore_command"] << ", "
              << j["duration_seconds"] << " s\n";
    *out = std::move(j);
  }

  // Starts a restored directory as it is (no recovery settings), on a free port.
  void StartRestored(const fs::path& pgdata, pg::LocalCluster** out) {
    pg::ClusterOptions o;
    o.pgdata = pgdata;
    o.bindir = suite_source->bindir;
    auto c = pg::LocalCluster::Start(o, std::chrono::seconds(120));
    ASSERT_TRUE(c.has_value()) << c.error().ToString();
    restored_.push_back(std::move(*c));
    *out = &restored_.back();
    // With recovery settings (restore writes them when the server's user can run drctl wal get)
    // the server accepts read-only connections once consistent and replays the archive first.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::string in_recovery;
    while ((in_recovery = Value(**out, "postgres", "SELECT pg_is_in_recovery()")) != "f" &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(in_recovery, "f") << "recovery of " << pgdata
                                << " did not end: " << pg::LogTail((*out)->options().log_file);
  }

  // Everything a restored cluster must show (issue 4, requirement 3).
  void CheckRestored(const pg::LocalCluster& c, const fs::path& pgdata, const fs::path& tablespace,
                     const nlohmann::json& backup) {
    const std::string where = " (restored from " + backup["backup_id"].get<std::string>() +
                              " into " + pgdata.string() + "; server log " +
                              c.options().log_file.string() + ")";
    // Files belong to --owner.
    struct stat st {};
    ASSERT_EQ(stat(pgdata.c_str(), &st), 0);
    const passwd* pw = getpwnam("postgres");
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ(st.st_uid, pw->pw_uid) << where;

    // The tablespace link points at the mapped directory, and PostgreSQL agrees.
    const fs::path link = pgdata / "pg_tblspc" / std::to_string(suite_source->tablespace_oid);
    std::error_code ec;
    EXPECT_EQ(fs::read_symlink(link, ec), tablespace) << ec.message() << where;
    EXPECT_EQ(Value(c, "postgres",
                    "SELECT pg_tablespace_location(oid) FROM pg_tablespace WHERE spcname = 'ts1'"),
              tablespace.string())
        << where;

    // Every table nothing wrote during the backup, the large objects and the list of relations.
    const auto restored = Fingerprint(c);
    for (const auto& [what, expected] : suite_source->fingerprint) {
      EXPECT_EQ(restored.at(what), expected) << what << where;
    }
    // Unlogged: the table and its index exist, their data does not come back (PostgreSQL resets
    // unlogged relations to their init fork after recovery).
    EXPECT_EQ(Value(c, "postgres", "SELECT relpersistence FROM pg_class WHERE relname = 'scratch'"),
              "u")
        << where;
    EXPECT_EQ(Value(c, "postgres", "SELECT count(*) FROM scratch"), "0") << where;
    EXPECT_EQ(Value(source(), "postgres", "SELECT count(*) FROM scratch"), "1000");
    // pgbench tables: updated (not inserted into) during the backup, except history.
    EXPECT_EQ(Value(c, "postgres", "SELECT count(*) FROM pgbench_accounts"), "200000") << where;
    EXPECT_EQ(Value(c, "postgres", "SELECT count(*) FROM pgbench_branches"), "2") << where;
    EXPECT_EQ(Value(c, "postgres", "SELECT count(*) FROM pgbench_tellers"), "20") << where;
    EXPECT_GE(Number(Value(c, "postgres", "SELECT count(*) FROM pgbench_history")), 0) << where;
    // The row count the manifest recorded.
    EXPECT_EQ(Number(Value(c, "postgres", "SELECT count(*) FROM \"User\"")),
              backup["row_counts"][kCountTable].get<std::int64_t>())
        << where;

    // pg_amcheck: heap and every btree index of every database, index entries against the heap.
    auto amcheck = RunCommand(
        {suite_source->bindir + "/pg_amcheck", "--all", "--install-missing", "--heapallindexed",
         "--progress", "-h", "127.0.0.1", "-p", std::to_string(c.port()), "-U", "postgres"},
        std::chrono::minutes(3));
    ASSERT_TRUE(amcheck.has_value()) << amcheck.error().ToString();
    EXPECT_EQ(amcheck->exit_status, 0) << Describe(*amcheck) << where;
    // It checked everything: pgbench_accounts alone has more than 3000 pages.
    std::smatch pages;
    const bool done =
        std::regex_search(amcheck->err, pages, std::regex(R"((\d+)/(\d+) pages \(100%\))"));
    EXPECT_TRUE(done && pages[1] == pages[2] && std::stol(pages[1]) > 3000)
        << Describe(*amcheck) << where;
  }

  // Backup under load into a repository of `kind`, restore into a new directory, start, check.
  void BackupUnderLoadRestoreAndCheck(RepoKind kind) {
    ASSERT_NO_FATAL_FAILURE(MakeRepo(kind));
    nlohmann::json backup;
    ASSERT_NO_FATAL_FAILURE(BackupUnderLoad(&backup));
    fs::create_directories(work_ / "restore");
    const fs::path pgdata = work_ / "restore" / "pgdata";
    const fs::path tablespace = work_ / "restore" / "tablespace";
    nlohmann::json restore;
    ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {}, &restore));
    EXPECT_GT(restore["chunks_fetched"].get<std::int64_t>(), 0) << restore.dump(2);
    EXPECT_EQ(restore["chunks_kept"], 0) << restore.dump(2);
    pg::LocalCluster* restored = nullptr;
    ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &restored));
    CheckRestored(*restored, pgdata, tablespace, backup);
  }

  std::optional<TempDir> dir_;
  fs::path work_;
  fs::path config_;
  std::optional<Process> pgbench_;
  std::list<pg::LocalCluster> restored_;  // after dir_: stopped before it is removed
};

TEST_F(BackupRestore, UnderLoadPosixUnencrypted) {
  BackupUnderLoadRestoreAndCheck(RepoKind::kPosixPlain);
}

TEST_F(BackupRestore, UnderLoadPosixEncrypted) {
  BackupUnderLoadRestoreAndCheck(RepoKind::kPosixEncrypted);
}

TEST_F(BackupRestore, UnderLoadS3Unencrypted) {
  BackupUnderLoadRestoreAndCheck(RepoKind::kS3Plain);
}

TEST_F(BackupRestore, UnderLoadS3Encrypted) {
  BackupUnderLoadRestoreAndCheck(RepoKind::kS3Encrypted);
}

TEST_F(BackupRestore, SecondBackupOfUnchangedDatabaseStoresLittle) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixEncrypted));
  // Earlier tests' pgbench left dead tuples and unset hint bits: settle every page first, so
  // that nothing but the backups themselves touches the database from here on.
  for (const char* db : kDatabases) ASSERT_TRUE(Exec(source(), db, "VACUUM").has_value());
  ASSERT_TRUE(Exec(source(), "postgres", "CHECKPOINT").has_value());

  nlohmann::json first;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &first));
  EXPECT_EQ(first["files_reused"], 0) << first.dump(2);
  EXPECT_GT(first["new_bytes"].get<std::int64_t>(), 0) << first.dump(2);

  nlohmann::json second;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &second));
  const auto logical = second["logical_bytes"].get<std::int64_t>();
  EXPECT_GT(second["files_reused"].get<std::int64_t>(), 0) << second.dump(2);
  EXPECT_LT(second["new_bytes"].get<std::int64_t>(), logical / 10) << second.dump(2);
  EXPECT_LT(second["read_bytes"].get<std::int64_t>(), logical) << second.dump(2);
  EXPECT_NE(second["backup_id"], first["backup_id"]);

  nlohmann::json all;
  ASSERT_NO_FATAL_FAILURE(Backup({"--read-all"}, &all));
  EXPECT_EQ(all["files_reused"], 0) << all.dump(2);
  EXPECT_EQ(all["files_read"], all["files"]) << all.dump(2);
  EXPECT_GE(all["read_bytes"].get<std::int64_t>(),
            all["logical_bytes"].get<std::int64_t>() * 9 / 10)
      << all.dump(2);
  EXPECT_LT(all["new_bytes"].get<std::int64_t>(), all["logical_bytes"].get<std::int64_t>() / 10)
      << all.dump(2);

  // The backup made of reused chunk lists restores like any other.
  fs::create_directories(work_ / "restore");
  const fs::path pgdata = work_ / "restore" / "pgdata";
  const fs::path tablespace = work_ / "restore" / "tablespace";
  nlohmann::json restore;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(second, pgdata, tablespace, {}, &restore));
  pg::LocalCluster* restored = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &restored));
  CheckRestored(*restored, pgdata, tablespace, second);
}

TEST_F(BackupRestore, RefusalsWriteNothing) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixPlain));
  nlohmann::json backup;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &backup));
  const std::string id = backup["backup_id"];
  const fs::path tablespace = work_ / "tablespace";
  const int precondition = InfoFor(ErrorCode::kPrecondition).exit_code;
  const int not_found = InfoFor(ErrorCode::kNotFound).exit_code;

  // A non-empty target without --delta.
  const fs::path busy = work_ / "busy";
  fs::create_directories(busy / "sub");
  std::ofstream(busy / "precious.txt") << "do not touch\n";
  std::ofstream(busy / "sub" / "PG_VERSION") << "15\n";
  const auto busy_before = Snapshot(busy);
  auto refused = Restore(id, busy, tablespace);
  EXPECT_EQ(refused.exit_status, precondition) << Describe(refused);
  EXPECT_NE(refused.err.find("is not empty"), std::string::npos) << Describe(refused);
  EXPECT_EQ(Snapshot(busy), busy_before);
  EXPECT_FALSE(fs::exists(tablespace));

  // A non-empty tablespace target: refused before the data directory is created.
  const fs::path fresh = work_ / "fresh";
  auto ts_refused = Restore(id, fresh, busy);
  EXPECT_EQ(ts_refused.exit_status, precondition) << Describe(ts_refused);
  EXPECT_FALSE(fs::exists(fresh)) << Describe(ts_refused);
  EXPECT_EQ(Snapshot(busy), busy_before);

  // An unknown backup.
  auto unknown = Restore("20000101T000000Z-0000", fresh, tablespace);
  EXPECT_EQ(unknown.exit_status, not_found) << Describe(unknown);
  EXPECT_NE(unknown.err.find("20000101T000000Z-0000"), std::string::npos) << Describe(unknown);
  EXPECT_FALSE(fs::exists(fresh));
  EXPECT_FALSE(fs::exists(tablespace));

  // Copies of the repository, each missing one object.
  auto damaged_copy = [&](const std::string& name, const fs::path& object_dir) -> fs::path {
    const fs::path copy = work_ / name;
    fs::copy(work_ / "repo", copy, fs::copy_options::recursive);
    std::vector<fs::path> objects;
    for (const auto& e : fs::recursive_directory_iterator(copy / object_dir)) {
      if (e.is_regular_file()) objects.push_back(e.path());
    }
    EXPECT_FALSE(objects.empty()) << "nothing under " << (copy / object_dir);
    if (!objects.empty()) {
      std::sort(objects.begin(), objects.end());
      fs::remove(objects.front());
      std::cout << "[          ] " << name << ": removed " << objects.front() << "\n";
    }
    WriteConfig(work_ / (name + ".toml"), RepoKind::kPosixPlain, copy);
    return work_ / (name + ".toml");
  };

  // An index object gone: its chunks are in no index, refused by the pre-check.
  const fs::path no_index = damaged_copy("repo-no-index", "index");
  auto missing_chunks = Restore(id, fresh, tablespace, {}, no_index);
  EXPECT_EQ(missing_chunks.exit_status, not_found) << Describe(missing_chunks);
  EXPECT_NE(missing_chunks.err.find("chunks are in no repository"), std::string::npos)
      << Describe(missing_chunks);
  EXPECT_NE(missing_chunks.err.find("nothing was written"), std::string::npos)
      << Describe(missing_chunks);
  EXPECT_TRUE(EmptyOrAbsent(fresh)) << Describe(missing_chunks);
  EXPECT_TRUE(EmptyOrAbsent(tablespace)) << Describe(missing_chunks);

  // A WAL segment the backup needs gone: refused by the pre-check too.
  const fs::path no_wal_config = work_ / "repo-no-wal.toml";
  const fs::path no_wal = work_ / "repo-no-wal";
  fs::copy(work_ / "repo", no_wal, fs::copy_options::recursive);
  const std::string stop_wal = backup["stop_wal"];
  ASSERT_TRUE(fs::remove(no_wal / "wal" / stop_wal.substr(0, 8) / stop_wal));
  WriteConfig(no_wal_config, RepoKind::kPosixPlain, no_wal);
  auto missing_wal = Restore(id, fresh, tablespace, {}, no_wal_config);
  EXPECT_EQ(missing_wal.exit_status, not_found) << Describe(missing_wal);
  EXPECT_NE(missing_wal.err.find("WAL segments it needs are not stored (first: " + stop_wal),
            std::string::npos)
      << Describe(missing_wal);
  EXPECT_TRUE(EmptyOrAbsent(fresh)) << Describe(missing_wal);

  // A pack gone but its index kept: the pre-check (which reads indexes, not every pack) passes;
  // the fetch of its first chunk fails, naming the pack, and the restore stops with exit 4.
  // The target is left incomplete (what was written before the failure stays).
  const fs::path no_pack = damaged_copy("repo-no-pack", "packs");
  auto missing_pack = Restore(id, fresh, tablespace, {}, no_pack);
  EXPECT_EQ(missing_pack.exit_status, not_found) << Describe(missing_pack);
  EXPECT_NE(missing_pack.err.find("packs/"), std::string::npos) << Describe(missing_pack);
  EXPECT_NE(missing_pack.err.find("reading chunk"), std::string::npos) << Describe(missing_pack);
  EXPECT_FALSE(fs::exists(fresh / "backup_label")) << "a failed restore must not look startable\n"
                                                   << Describe(missing_pack);
}

TEST_F(BackupRestore, DeltaRepairsARestoredDirectory) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixEncrypted));
  nlohmann::json backup;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &backup));
  fs::create_directories(work_ / "restore");
  const fs::path pgdata = work_ / "restore" / "pgdata";
  const fs::path tablespace = work_ / "restore" / "tablespace";
  nlohmann::json restore;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {}, &restore));

  // Run it once, so that it differs from the backup the way a used data directory does.
  pg::LocalCluster* first = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &first));
  const std::string user_file =
      Value(*first, "postgres", "SELECT pg_relation_filepath('public.\"User\"')");
  const std::string docs_file = Value(*first, "postgres", "SELECT pg_relation_filepath('docs')");
  const std::string ts_file = Value(*first, "postgres", "SELECT pg_relation_filepath('ts_items')");
  const std::string db_oid =
      Value(*first, "postgres", "SELECT oid FROM pg_database WHERE datname = 'postgres'");
  ASSERT_TRUE(first->Stop().has_value());

  // Damage: a page overwritten, two relation files deleted (one in the tablespace), files and a
  // directory the backup does not have.
  {
    std::fstream f(pgdata / user_file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.is_open()) << (pgdata / user_file);
    const std::string garbage(8192, 'x');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
  }
  ASSERT_TRUE(fs::remove(pgdata / docs_file)) << docs_file;
  ASSERT_TRUE(fs::remove(pgdata / ts_file)) << ts_file;
  std::vector<fs::path> extras = {pgdata / "extra-file", pgdata / "base" / db_oid / "999999"};
  for (const auto& extra : extras) std::ofstream(extra) << "not in the backup\n";
  fs::create_directories(pgdata / "extra-dir");
  std::ofstream(pgdata / "extra-dir" / "inside") << "not in the backup\n";
  extras.push_back(pgdata / "extra-dir");

  // Without --delta: refused, nothing changed.
  auto refused = Restore(backup["backup_id"], pgdata, tablespace);
  EXPECT_EQ(refused.exit_status, InfoFor(ErrorCode::kPrecondition).exit_code) << Describe(refused);
  EXPECT_TRUE(fs::exists(pgdata / "extra-file"));

  nlohmann::json delta;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {"--delta"}, &delta));
  EXPECT_EQ(delta["delta"], true) << delta.dump(2);
  EXPECT_GT(delta["chunks_kept"].get<std::int64_t>(), 0) << delta.dump(2);
  EXPECT_GT(delta["chunks_fetched"].get<std::int64_t>(), 0) << delta.dump(2);
  EXPECT_LT(delta["chunks_fetched"].get<std::int64_t>(),
            restore["chunks_fetched"].get<std::int64_t>())
      << delta.dump(2);
  EXPECT_GE(delta["files_removed"].get<std::int64_t>(), static_cast<std::int64_t>(extras.size()))
      << delta.dump(2);
  for (const auto& extra : extras) EXPECT_FALSE(fs::exists(extra)) << extra;
  EXPECT_TRUE(fs::is_symlink(pgdata / "pg_tblspc" / std::to_string(suite_source->tablespace_oid)));

  pg::LocalCluster* second = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &second));
  CheckRestored(*second, pgdata, tablespace, backup);
}

// restore_files.h: with --delta, "files and directories the backup does not have are removed";
// the tablespaces are part of what is restored.
TEST_F(BackupRestore, DeltaRemovesWhatTheBackupLacksInTablespacesToo) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixPlain));
  nlohmann::json backup;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &backup));
  fs::create_directories(work_ / "restore");
  const fs::path pgdata = work_ / "restore" / "pgdata";
  const fs::path tablespace = work_ / "restore" / "tablespace";
  nlohmann::json restore;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {}, &restore));
  fs::path version_dir;
  for (const auto& e : fs::directory_iterator(tablespace)) version_dir = e.path();
  ASSERT_TRUE(version_dir.filename().string().starts_with("PG_15_")) << version_dir;
  const fs::path stray =
      version_dir /
      Value(source(), "postgres", "SELECT oid FROM pg_database WHERE datname = 'postgres'") /
      "999998";
  ASSERT_TRUE(fs::is_directory(stray.parent_path())) << stray;
  std::ofstream(stray) << "not in the backup\n";
  std::ofstream(pgdata / "extra-file") << "not in the backup\n";

  nlohmann::json delta;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {"--delta"}, &delta));
  EXPECT_FALSE(fs::exists(pgdata / "extra-file"));
  EXPECT_FALSE(fs::exists(stray))
      << "a file the backup does not have stays in the tablespace after --delta";
  EXPECT_GE(delta["files_removed"].get<std::int64_t>(), 2) << delta.dump(2);
  std::error_code ec;
  EXPECT_EQ(
      fs::read_symlink(pgdata / "pg_tblspc" / std::to_string(suite_source->tablespace_oid), ec),
      tablespace)
      << ec.message();
  EXPECT_EQ(delta["chunks_fetched"], 0) << delta.dump(2);
}

// A delta restore brings back the backup, not what the directory's previous server did after it:
// WAL that server left in pg_wal must not be replayed on top of the restored files.
TEST_F(BackupRestore, DeltaDoesNotReplayWalLeftInPgWal) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixPlain));
  nlohmann::json backup;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &backup));
  fs::create_directories(work_ / "restore");
  const fs::path pgdata = work_ / "restore" / "pgdata";
  const fs::path tablespace = work_ / "restore" / "tablespace";
  nlohmann::json restore;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {}, &restore));
  pg::LocalCluster* first = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &first));
  ASSERT_TRUE(Exec(*first, "postgres",
                   "CREATE TABLE written_after_the_restore AS SELECT 1 AS x; DROP TABLE docs")
                  .has_value());
  ASSERT_TRUE(first->Stop().has_value());

  nlohmann::json delta;
  ASSERT_NO_FATAL_FAILURE(RestoreOk(backup, pgdata, tablespace, {"--delta"}, &delta));
  pg::LocalCluster* second = nullptr;
  ASSERT_NO_FATAL_FAILURE(StartRestored(pgdata, &second));
  EXPECT_EQ(Value(*second, "postgres", "SELECT to_regclass('docs') IS NOT NULL"), "t")
      << "docs, dropped after the first restore, is still dropped after a delta restore of the "
         "backup: the WAL left in pg_wal was replayed past the backup's stop point";
  EXPECT_EQ(Value(*second, "postgres", "SELECT to_regclass('written_after_the_restore') IS NULL"),
            "t");
}

// CheckTarget accepts a target whose nearest existing ancestor is writable; the restore must then
// create the missing parents (or refuse before writing), not fail half-way.
TEST_F(BackupRestore, TargetWithMissingParentsIsCreated) {
  ASSERT_NO_FATAL_FAILURE(MakeRepo(RepoKind::kPosixPlain));
  nlohmann::json backup;
  ASSERT_NO_FATAL_FAILURE(Backup({}, &backup));
  const fs::path pgdata = work_ / "new" / "deeper" / "pgdata";
  const fs::path tablespace = work_ / "other" / "deeper" / "tablespace";
  auto r = Restore(backup["backup_id"], pgdata, tablespace);
  EXPECT_EQ(r.exit_status, 0) << Describe(r);
  EXPECT_TRUE(fs::exists(pgdata / "backup_label")) << Describe(r);
  EXPECT_TRUE(fs::is_directory(tablespace)) << Describe(r);
}

}  // namespace
}  // namespace drctl::testing
