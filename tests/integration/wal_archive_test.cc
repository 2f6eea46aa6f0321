// drctl as PostgreSQL's archive_command, end to end: the real server archives through
// `drctl wal push`, drctl gives the segments back byte for byte, pushes are idempotent, different
// content and another cluster's WAL are refused, and a missing file is a quiet exit 4.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "postgres/connection.h"

namespace drctl::testing {
namespace {

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

class WalArchive : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = SharedPostgres();
    ASSERT_NE(pg_, nullptr);
    auto d = TempDir::Create("drctl-wal-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    root_ = dir_->path();
    // The server runs archive_command as its own user: everything it needs lives here.
    std::filesystem::permissions(root_, std::filesystem::perms::owner_all |
                                            std::filesystem::perms::group_exec |
                                            std::filesystem::perms::others_exec);
    std::filesystem::copy_file(DRCTL_BINARY, root_ / "drctl");
    std::ofstream(root_ / "pass") << "wal-archive-passphrase\n";
    config_ = (root_ / "drctl.toml").string();
    std::ofstream(config_) << "[[repo]]\nname = \"local\"\nurl = \"file://"
                           << (root_ / "repo").string() << "\"\n[encryption]\npassphrase_file = \""
                           << (root_ / "pass").string() << "\"\nscrypt_n = 1024\n";
    ASSERT_EQ(Drctl({"repo", "init"}).exit_status, 0);
    ASSERT_TRUE(ChownToUser(root_, "postgres").has_value());
    auto conn = pg::Connection::Open(pg_->Conninfo());
    ASSERT_TRUE(conn.has_value());
    conn_.emplace(std::move(*conn));
  }
  void TearDown() override {
    if (conn_) {
      (void)conn_->Exec("ALTER SYSTEM SET archive_command = '/bin/true'");
      (void)conn_->Exec("SELECT pg_reload_conf()");
    }
  }
  CommandResult Drctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_});
    return RunDrctl(args);
  }
  std::string Value(const std::string& sql) { return conn_->QueryValue(sql).value_or("?"); }

  pg::LocalCluster* pg_ = nullptr;
  std::optional<TempDir> dir_;
  std::filesystem::path root_;
  std::string config_;
  std::optional<pg::Connection> conn_;
};

TEST_F(WalArchive, PostgresArchivesThroughDrctlAndGetsItBack) {
  ASSERT_TRUE(conn_
                  ->Exec("ALTER SYSTEM SET archive_command = '" + (root_ / "drctl").string() +
                         " --config " + config_ + " wal push %p'")
                  .has_value());
  ASSERT_TRUE(conn_->Exec("SELECT pg_reload_conf()").has_value());
  const int failed_before = std::stoi(Value("SELECT failed_count FROM pg_stat_archiver"));
  // The archiver picks up the new command at its next wake-up (reload is asynchronous): switch
  // segments until one has been archived through drctl. Deadlines here wait for something that
  // must happen; they assert nothing about speed.
  const auto fetched = root_ / "fetched";
  std::string segment;
  bool in_repo = false;
  for (int attempt = 0; attempt < 20 && !in_repo; ++attempt) {
    ASSERT_TRUE(conn_
                    ->Exec("CREATE TABLE IF NOT EXISTS wal_t (i int); "
                           "INSERT INTO wal_t SELECT generate_series(1, 10000)")
                    .has_value());
    segment = Value("SELECT pg_walfile_name(pg_current_wal_lsn())");
    ASSERT_TRUE(conn_->Exec("SELECT pg_switch_wal()").has_value());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (Value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_GE(Value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"), segment)
        << "PostgreSQL did not archive " << segment
        << "; failures: " << Value("SELECT failed_count FROM pg_stat_archiver");
    in_repo = Drctl({"wal", "get", segment, fetched.string()}).exit_status == 0;
  }
  ASSERT_TRUE(in_repo) << "no segment reached the repository through archive_command; server log: "
                       << pg::LogTail(pg_->options().log_file);
  EXPECT_EQ(std::stoi(Value("SELECT failed_count FROM pg_stat_archiver")), failed_before);

  const auto in_pg_wal = pg_->options().pgdata / "pg_wal" / segment;
  const std::string original = ReadAll(in_pg_wal);
  ASSERT_EQ(original.size(), 16U << 20);
  EXPECT_EQ(ReadAll(fetched), original);

  // Pushing the same segment again succeeds without rewriting it.
  auto again = Drctl({"--output", "json", "wal", "push", in_pg_wal.string()});
  ASSERT_EQ(again.exit_status, 0) << again.err;
  EXPECT_NE(again.out.find("\"already_stored\": true"), std::string::npos) << again.out;

  // Different content under the same name is refused, and the stored copy stays.
  const auto forged_dir = root_ / "forged";
  std::filesystem::create_directories(forged_dir);
  std::string changed = original;
  changed[1000] = static_cast<char>(changed[1000] ^ 0x7f);
  std::ofstream(forged_dir / segment, std::ios::binary) << changed;
  auto conflict = Drctl({"wal", "push", (forged_dir / segment).string()});
  EXPECT_EQ(conflict.exit_status, InfoFor(ErrorCode::kConflict).exit_code) << conflict.err;
  EXPECT_NE(conflict.err.find("different content"), std::string::npos) << conflict.err;
  ASSERT_EQ(Drctl({"wal", "get", segment, fetched.string()}).exit_status, 0);
  EXPECT_EQ(ReadAll(fetched), original);

  // A segment of another cluster (another system identifier in its first page) is refused.
  std::string other = original;
  other[24] = static_cast<char>(other[24] ^ 0x01);
  const std::string next = segment.substr(0, 22) + "FF";
  std::ofstream(forged_dir / next, std::ios::binary) << other;
  auto foreign = Drctl({"wal", "push", (forged_dir / next).string()});
  EXPECT_EQ(foreign.exit_status, InfoFor(ErrorCode::kConflict).exit_code) << foreign.err;
  EXPECT_NE(foreign.err.find("archives another cluster"), std::string::npos) << foreign.err;
}

TEST_F(WalArchive, MissingFileIsAQuietExitFour) {
  auto get = Drctl({"wal", "get", "0000000100000000000000AA", (root_ / "x").string()});
  EXPECT_EQ(get.exit_status, 4);
  EXPECT_EQ(get.err, "");
  EXPECT_FALSE(std::filesystem::exists(root_ / "x"));
  auto bad_name = Drctl({"wal", "get", "not-a-wal-file", (root_ / "x").string()});
  EXPECT_EQ(bad_name.exit_status, InfoFor(ErrorCode::kUsage).exit_code);
  auto unreadable = Drctl({"wal", "push", (root_ / "000000010000000000000001").string()});
  EXPECT_EQ(unreadable.exit_status, InfoFor(ErrorCode::kIo).exit_code);
}

TEST_F(WalArchive, DamagedArchiveIsAClearErrorNotTheEnd) {
  const std::string name = "000000010000000000000042";
  std::string segment(16U << 20, 'w');
  std::ofstream(root_ / name, std::ios::binary) << segment;
  ASSERT_EQ(Drctl({"wal", "push", (root_ / name).string()}).exit_status, 0);
  const auto object = root_ / "repo" / "wal" / "00000001" / name;
  std::string stored = ReadAll(object);
  stored[stored.size() / 2] = static_cast<char>(stored[stored.size() / 2] ^ 1);
  std::ofstream(object, std::ios::binary | std::ios::trunc) << stored;
  auto get = Drctl({"wal", "get", name, (root_ / "out").string()});
  EXPECT_EQ(get.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code);
  EXPECT_NE(get.err.find("failed authentication"), std::string::npos) << get.err;
}

}  // namespace
}  // namespace drctl::testing
