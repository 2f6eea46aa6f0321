// drctl as PostgreSQL's archive_command, end to end: the real server archives through
// `drctl wal push`, drctl gives the segments back byte for byte, pushes are idempotent, different
// content and another cluster's WAL are refused, and a missing file is a quiet exit 4.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "harness/swift_server.h"
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
                           << (root_ / "pass").string() << "\"\nscrypt_n = 1024\n[wal]\nspool = \""
                           << (root_ / "spool").string() << "\"\njobs = 3\n";
    ASSERT_EQ(Drctl({"repo", "init"}).exit_status, 0);
    ASSERT_TRUE(ChownToUser(root_, "postgres").has_value());
    auto conn = pg::Connection::Open(pg_->Conninfo());
    ASSERT_TRUE(conn.has_value());
    conn_.emplace(std::move(*conn));
  }
  void TearDown() override {
    WaitForPushAhead();  // a push-ahead process still at work would write into a removed dir
    if (conn_) {
      (void)conn_->Exec("ALTER SYSTEM SET archive_command = '/bin/true'");
      (void)conn_->Exec("SELECT pg_reload_conf()");
    }
  }
  CommandResult Drctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_});
    return RunDrctl(args);
  }
  // Returns once no push-ahead process (async wal push) runs: it holds this lock while it lives.
  void WaitForPushAhead() {
    const auto lock = root_ / "spool" / "archive" / "push-ahead.lock";
    const int fd = ::open(lock.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ASSERT_EQ(::flock(fd, LOCK_EX), 0);
    ::close(fd);
  }
  // Appends TOML to the config (a key of [wal], the last section).
  void AddWalKey(const std::string& line) { std::ofstream(config_, std::ios::app) << line << "\n"; }
  std::string Value(const std::string& sql) { return conn_->QueryValue(sql).value_or("?"); }
  void KilledPushesAndAnOutageLoseNothing(const std::function<void()>& down,
                                          const std::function<void()>& up, bool async);

  pg::LocalCluster* pg_ = nullptr;
  std::optional<TempDir> dir_;
  std::filesystem::path root_;
  std::string config_;
  std::optional<pg::Connection> conn_;
  std::string wrapper_prelude_;  // shell lines the archive_command wrapper runs first
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
  // The spool remembers the cluster the repository archives (wal/cluster.json is read once, not
  // once per segment); that record did not let the other cluster's segment through (above).
  std::uint64_t sysid = 0;
  std::memcpy(&sysid, original.data() + 24, sizeof(sysid));
  int records = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root_ / "spool" / "cluster")) {
    ++records;
    EXPECT_EQ(ReadAll(entry.path()), std::to_string(sysid)) << entry.path();
  }
  EXPECT_EQ(records, 1);
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

// A fake pg_wal: segments with one system identifier, and archive_status/<name>.ready for each.
std::vector<std::string> MakeReadySegments(const std::filesystem::path& wal_dir, int first,
                                           int count) {
  std::filesystem::create_directories(wal_dir / "archive_status");
  std::vector<std::string> names;
  for (int i = first; i < first + count; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "0000000100000000000000%02X", i);
    std::string content(16U << 20, '\0');
    for (std::size_t b = 0; b < content.size(); b += 8192) {
      content[b + 100] = static_cast<char>(i + static_cast<int>(b / 8192));
    }
    std::memcpy(content.data() + 24, "SYSIDSYS", 8);
    std::ofstream(wal_dir / name, std::ios::binary) << content;
    std::ofstream ready(wal_dir / "archive_status" / (std::string(name) + ".ready"));
    names.emplace_back(name);
  }
  return names;
}

TEST_F(WalArchive, AsyncPushStoresTheReadyFilesAheadAndNeverClaimsUnstoredOnes) {
  AddWalKey("async = true\npush_ahead = 5");
  const auto wal_dir = root_ / "pg_wal";
  const auto spool = root_ / "spool" / "archive";
  const auto names = MakeReadySegments(wal_dir, 1, 8);
  // The first call stores its file and starts the push-ahead process for the next four ready ones
  // (push_ahead = 5: the first five ready files), which goes on after the call returned.
  auto first = Drctl({"--output", "json", "wal", "push", (wal_dir / names[0]).string()});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  EXPECT_EQ(nlohmann::json::parse(first.out).value("pushing_ahead", false), true) << first.out;
  WaitForPushAhead();
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(std::filesystem::exists(spool / (names[i] + ".ok"))) << names[i];
    auto get = Drctl({"wal", "get", names[i], (root_ / "got").string()});
    ASSERT_EQ(get.exit_status, 0) << names[i] << ": " << get.err;
    EXPECT_EQ(ReadAll(root_ / "got"), ReadAll(wal_dir / names[i])) << names[i];
  }
  EXPECT_EQ(Drctl({"wal", "get", names[5], (root_ / "got").string()}).exit_status, 4)
      << "only the first push_ahead ready files are pushed ahead";
  EXPECT_FALSE(std::filesystem::exists(spool / (names[5] + ".ok")));
  // PostgreSQL marks the first done and asks for the second: answered from the record, without
  // starting another push-ahead (nothing in the window lacks a record).
  std::filesystem::rename(wal_dir / "archive_status" / (names[0] + ".ready"),
                          wal_dir / "archive_status" / (names[0] + ".done"));
  auto second = Drctl({"--output", "json", "wal", "push", (wal_dir / names[1]).string()});
  ASSERT_EQ(second.exit_status, 0) << second.err;
  EXPECT_EQ(nlohmann::json::parse(second.out).value("stored_ahead", false), true) << second.out;

  // A record is trusted only for the very file it describes: the third file is replaced by other
  // content (same size) before PostgreSQL asks; drctl pushes it again and the conflict is loud.
  std::filesystem::rename(wal_dir / "archive_status" / (names[1] + ".ready"),
                          wal_dir / "archive_status" / (names[1] + ".done"));
  std::string changed = ReadAll(wal_dir / names[2]);
  changed[5000] = static_cast<char>(changed[5000] ^ 0x55);
  std::filesystem::remove(wal_dir / names[2]);
  std::ofstream(wal_dir / names[2], std::ios::binary) << changed;
  auto third = Drctl({"wal", "push", (wal_dir / names[2]).string()});
  EXPECT_EQ(third.exit_status, InfoFor(ErrorCode::kConflict).exit_code) << third.out << third.err;
  // That call's push-ahead (window: names 2..6) stored 5 and 6; the records of the files
  // PostgreSQL is done with are gone.
  WaitForPushAhead();
  EXPECT_TRUE(std::filesystem::exists(spool / (names[6] + ".ok")));
  EXPECT_FALSE(std::filesystem::exists(spool / (names[0] + ".ok")));

  // The repository becomes unwritable: the calls for the fourth to the seventh file are answered
  // by their records (they were stored), and the eighth, never stored, fails loudly, naming how
  // much waits, and leaves no record behind.
  std::filesystem::permissions(
      root_ / "repo" / "wal" / "00000001",
      std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  for (std::size_t i : {3U, 4U, 5U, 6U}) {
    auto ahead = Drctl({"--output", "json", "wal", "push", (wal_dir / names[i]).string()});
    EXPECT_EQ(ahead.exit_status, 0) << names[i] << ": " << ahead.err;
    EXPECT_EQ(nlohmann::json::parse(ahead.out).value("stored_ahead", false), true) << ahead.out;
    std::filesystem::rename(wal_dir / "archive_status" / (names[i] + ".ready"),
                            wal_dir / "archive_status" / (names[i] + ".done"));
  }
  const bool root = ::geteuid() == 0;  // root writes anyway: then only the recorded part is shown
  if (!root) {
    auto down = Drctl({"wal", "push", (wal_dir / names[7]).string()});
    EXPECT_NE(down.exit_status, 0);
    EXPECT_NE(down.err.find("WAL files wait for archiving"), std::string::npos) << down.err;
    WaitForPushAhead();
    EXPECT_FALSE(std::filesystem::exists(spool / (names[7] + ".ok")));
  }
  std::filesystem::permissions(root_ / "repo" / "wal" / "00000001",
                               std::filesystem::perms::owner_all);
}

TEST_F(WalArchive, AsyncPushOneFileAtATimeLeavesNoStaleRecords) {
  // A quiet server: PostgreSQL has one file ready at a time, so no push-ahead process runs; the
  // calls themselves remove what belongs to files PostgreSQL is done with.
  AddWalKey("async = true");
  const auto wal_dir = root_ / "pg_wal";
  const auto spool = root_ / "spool" / "archive";
  std::string previous;
  for (int i = 1; i <= 3; ++i) {
    const std::string name = MakeReadySegments(wal_dir, i, 1).front();
    auto push = Drctl({"--output", "json", "wal", "push", (wal_dir / name).string()});
    ASSERT_EQ(push.exit_status, 0) << push.err;
    EXPECT_EQ(nlohmann::json::parse(push.out).value("pushing_ahead", true), false) << push.out;
    EXPECT_TRUE(std::filesystem::exists(spool / (name + ".ok")));
    if (!previous.empty()) {
      EXPECT_FALSE(std::filesystem::exists(spool / (previous + ".ok"))) << previous;
      EXPECT_FALSE(std::filesystem::exists(spool / (previous + ".lock"))) << previous;
    }
    std::filesystem::rename(wal_dir / "archive_status" / (name + ".ready"),
                            wal_dir / "archive_status" / (name + ".done"));
    previous = name;
  }
}

TEST_F(WalArchive, AsyncPushToAnUnreachableRepositoryFailsAndRecordsNothing) {
  std::ofstream(config_) << "[[repo]]\nname = \"down\"\nurl = \"s3://bucket/wal\"\n"
                         << "endpoint = \"http://127.0.0.1:1\"\npath_style = true\n"
                         << "[encryption]\nenabled = false\n[wal]\nspool = \""
                         << (root_ / "spool").string() << "\"\nasync = true\n";
  const auto wal_dir = root_ / "pg_wal";
  const auto names = MakeReadySegments(wal_dir, 1, 4);
  auto push = RunDrctl({"--config", config_, "wal", "push", (wal_dir / names[0]).string()},
                       {"AWS_ACCESS_KEY_ID=a", "AWS_SECRET_ACCESS_KEY=b"});
  EXPECT_EQ(push.exit_status, InfoFor(ErrorCode::kUnavailable).exit_code) << push.err;
  EXPECT_NE(push.err.find("4 WAL files wait for archiving"), std::string::npos) << push.err;
  WaitForPushAhead();
  for (const auto& entry : std::filesystem::directory_iterator(root_ / "spool" / "archive")) {
    EXPECT_NE(entry.path().extension(), ".ok") << "nothing stored, nothing recorded";
  }
  EXPECT_NE(ReadAll(root_ / "spool" / "archive" / "push-ahead.log").find("127.0.0.1:1"),
            std::string::npos)
      << "the push-ahead process says why it stored nothing";
}

TEST_F(WalArchive, GetPrefetchesTheNextSegmentsIntoTheSpool) {
  const auto wal_dir = root_ / "pg_wal";
  const auto names = MakeReadySegments(wal_dir, 1, 6);
  for (const auto& n : names) {
    ASSERT_EQ(Drctl({"wal", "push", (wal_dir / n).string()}).exit_status, 0) << n;
  }
  // Damage the fifth: the prefetcher must not hand it out, the foreground says it is corrupt.
  const auto object = root_ / "repo" / "wal" / "00000001" / names[4];
  std::string stored = ReadAll(object);
  stored[stored.size() / 2] = static_cast<char>(stored[stored.size() / 2] ^ 1);
  std::ofstream(object, std::ios::binary | std::ios::trunc) << stored;

  auto first = Drctl({"wal", "get", names[0], (root_ / "got").string()});
  ASSERT_EQ(first.exit_status, 0) << first.err;
  EXPECT_EQ(ReadAll(root_ / "got"), ReadAll(wal_dir / names[0]));
  // The background prefetcher fetches 2..4 (and 6); wait for them (they must arrive).
  std::filesystem::path spooled;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    int present = 0;
    for (const auto& dir : std::filesystem::directory_iterator(root_ / "spool" / "get")) {
      spooled = dir.path();
      for (std::size_t i = 1; i < 4; ++i)
        present += std::filesystem::exists(spooled / names[i]) ? 1 : 0;
    }
    if (present == 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(spooled.empty());
  for (std::size_t i = 1; i < 4; ++i) {
    ASSERT_TRUE(std::filesystem::exists(spooled / names[i])) << names[i] << " not prefetched";
  }
  EXPECT_FALSE(std::filesystem::exists(spooled / names[4])) << "a damaged object is not spooled";
  for (std::size_t i = 1; i < 4; ++i) {
    auto get = Drctl({"--output", "json", "wal", "get", names[i], (root_ / "got").string()});
    ASSERT_EQ(get.exit_status, 0) << get.err;
    EXPECT_EQ(nlohmann::json::parse(get.out).value("prefetched", false), true) << get.out;
    EXPECT_EQ(ReadAll(root_ / "got"), ReadAll(wal_dir / names[i])) << names[i];
    EXPECT_FALSE(std::filesystem::exists(spooled / names[i])) << "handed over, not copied";
  }
  auto damaged = Drctl({"wal", "get", names[4], (root_ / "got").string()});
  EXPECT_EQ(damaged.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code) << damaged.err;
  // The end of the archive stays a quiet not-found, with or without prefetch.
  EXPECT_EQ(Drctl({"wal", "get", "000000010000000000000009", (root_ / "got").string()}).exit_status,
            4);
}

TEST_F(WalArchive, APartialSegmentIsServedPaddedWhenTheSegmentIsMissing) {
  const auto wal_dir = root_ / "pg_wal";
  std::filesystem::create_directories(wal_dir);
  const std::string name = "000000010000000000000033";
  std::string prefix(3U << 20, 'p');
  std::memcpy(prefix.data() + 24, "SYSIDSYS", 8);
  std::ofstream(wal_dir / (name + ".partial"), std::ios::binary) << prefix;
  ASSERT_EQ(Drctl({"wal", "push", (wal_dir / (name + ".partial")).string()}).exit_status, 0);
  auto get = Drctl({"wal", "get", name, (root_ / "got").string()});
  ASSERT_EQ(get.exit_status, 0) << get.err;
  const std::string got = ReadAll(root_ / "got");
  ASSERT_EQ(got.size(), 16U << 20);
  EXPECT_EQ(got.substr(0, prefix.size()), prefix);
  EXPECT_EQ(got.find_first_not_of('\0', prefix.size()), std::string::npos);
}

// archive_command kills drctl at a random moment on every other attempt (SIGKILL mid-upload), and
// for a while the repository is unreachable (`down` until `up`): PostgreSQL retries; afterwards the
// archive holds every segment from the first to the last, each equal to PostgreSQL's. Sync: the
// call PostgreSQL runs does the upload, and is killed. Async: the push-ahead process does most
// uploads, and is killed too (pkill by its name, at a random moment of every other attempt).
void WalArchive::KilledPushesAndAnOutageLoseNothing(const std::function<void()>& down,
                                                    const std::function<void()>& up, bool async) {
  if (async) AddWalKey("async = true\npush_ahead = 4");
  const auto wrapper = root_ / "killer.sh";
  // 2 to 26 ms: a sync push of these segments (mostly zeros after a switch) to a local
  // repository takes 10-20 ms, so many kills land mid-push.
  const std::string random_delay =
      "$(printf '0.%03d' $(( $(od -An -N1 -tu1 /dev/urandom) % 25 + 2 )))";
  std::ofstream(wrapper) << "#!/bin/sh\n"
                         << wrapper_prelude_ << "n=$(( $(cat " << (root_ / "counter").string()
                         << " 2>/dev/null || echo 0) + 1 )); echo $n > "
                         << (root_ / "counter").string()
                         << "\n"
                         // Every other attempt is killed: PostgreSQL's archiver waits a minute
                         // after three failures in a row, which random kills would often cause.
                         << "if [ $(( n % 2 )) -eq 1 ]; then\n"
                         << (async
                                 ? "  (sleep " + random_delay +
                                       "; pkill -KILL -x drctl-pushahead && echo ahead-killed >> " +
                                       (root_ / "attempts").string() + ") &\n"
                                 : std::string())
                         << "  timeout -s KILL " << random_delay << " "
                         << (root_ / "drctl").string() << " --config " << config_
                         << " wal push \"$1\"\n  rc=$?; echo $rc >> "
                         << (root_ / "attempts").string() << "; [ $rc -eq 0 ] || exit 1\n"
                         << "else\n  exec " << (root_ / "drctl").string() << " --config " << config_
                         << " wal push \"$1\"\nfi\n";
  std::filesystem::permissions(
      wrapper, std::filesystem::perms::owner_all | std::filesystem::perms::group_exec |
                   std::filesystem::perms::others_exec | std::filesystem::perms::group_read |
                   std::filesystem::perms::others_read);
  ASSERT_TRUE(ChownToUser(root_, "postgres").has_value());
  down();
  ASSERT_TRUE(
      conn_->Exec("ALTER SYSTEM SET archive_command = '" + wrapper.string() + " %p'").has_value());
  ASSERT_TRUE(conn_->Exec("SELECT pg_reload_conf()").has_value());
  ASSERT_TRUE(conn_->Exec("CREATE TABLE IF NOT EXISTS wal_k (i int)").has_value());
  std::string last;
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(conn_->Exec("INSERT INTO wal_k SELECT generate_series(1, 20000)").has_value());
    last = Value("SELECT pg_walfile_name(pg_current_wal_lsn())");
    ASSERT_TRUE(conn_->Exec("SELECT pg_switch_wal()").has_value());
  }
  // Down: PostgreSQL fails and keeps the segments.
  const auto fail_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  const int failed_before = std::stoi(Value("SELECT failed_count FROM pg_stat_archiver"));
  while (std::stoi(Value("SELECT failed_count FROM pg_stat_archiver")) == failed_before &&
         std::chrono::steady_clock::now() < fail_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_GT(std::stoi(Value("SELECT failed_count FROM pg_stat_archiver")), failed_before);
  // The first segment this archive_command was given (the archiver keeps retrying the oldest
  // one): segments before it may have gone to the previous command (the reload is asynchronous).
  const std::string first = Value("SELECT last_failed_wal FROM pg_stat_archiver");
  ASSERT_EQ(first.size(), 24U) << first;
  ASSERT_LE(first, last);
  up();
  // Up again: everything arrives, despite the kills.
  auto wait_archived = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(180);
    while (Value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < last &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return Value("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") >= last;
  };
  auto stats = [&] {
    return "archiver: " + Value("SELECT row_to_json(s)::text FROM pg_stat_archiver s") +
           "; killed attempts' exit statuses: " + ReadAll(root_ / "attempts") +
           "; server log: " + pg::LogTail(pg_->options().log_file);
  };
  ASSERT_TRUE(wait_archived()) << stats();
  // The random kill can come after the work is done (a call answered from a push-ahead record
  // takes a few ms). More segments until a push was really cut short: a call (137), or in async
  // mode the push-ahead process.
  auto killed = [&] {
    const std::string attempts = ReadAll(root_ / "attempts");
    return attempts.find("137") != std::string::npos ||
           (async && attempts.find("ahead-killed") != std::string::npos);
  };
  for (int round = 0; round < 20 && !killed(); ++round) {
    ASSERT_TRUE(conn_->Exec("INSERT INTO wal_k SELECT generate_series(1, 20000)").has_value());
    last = Value("SELECT pg_walfile_name(pg_current_wal_lsn())");
    ASSERT_TRUE(conn_->Exec("SELECT pg_switch_wal()").has_value());
    ASSERT_TRUE(wait_archived()) << stats();
  }
  EXPECT_TRUE(killed()) << "no push was killed: the test proved nothing about kills; " << stats();
  std::string statuses = ReadAll(root_ / "attempts");
  std::replace(statuses.begin(), statuses.end(), '\n', ' ');
  std::printf("[ attempts ] exit statuses of the attempts to be killed: %s\n", statuses.c_str());
  auto info = Drctl({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const auto info_json = nlohmann::json::parse(info.out);
  int timelines = 0;
  for (const auto& repo : info_json["repos"]) {
    for (const auto& t : repo["wal"]["timelines"]) {
      ++timelines;
      EXPECT_TRUE(t["gaps"].empty()) << t.dump();
      EXPECT_EQ(t["ranges"].size(), 1U) << t.dump();
    }
  }
  EXPECT_EQ(timelines, 1) << info.out;
  for (std::uint64_t seg = std::stoull(first.substr(16), nullptr, 16);
       seg <= std::stoull(last.substr(16), nullptr, 16); ++seg) {
    char name[32];
    std::snprintf(name, sizeof(name), "%s%08llX", first.substr(0, 16).c_str(),
                  static_cast<unsigned long long>(seg));
    auto get = Drctl({"wal", "get", name, (root_ / "got").string()});
    ASSERT_EQ(get.exit_status, 0) << name << ": " << get.err;
    const auto in_pg_wal = pg_->options().pgdata / "pg_wal" / name;
    if (std::filesystem::exists(in_pg_wal)) {
      EXPECT_EQ(ReadAll(root_ / "got"), ReadAll(in_pg_wal)) << name;
    }
  }
}

TEST_F(WalArchive, KilledPushesAndARepositoryThatWasDownLoseNothing) {
  // Synchronous pushes. Down: the archive_command's wrapper fails at once while a flag file exists.
  const auto flag = root_ / "down";
  const std::string wrapper_check = "if [ -e " + flag.string() + " ]; then exit 1; fi\n";
  wrapper_prelude_ = wrapper_check;
  KilledPushesAndAnOutageLoseNothing([&] { std::ofstream created(flag); },
                                     [&] { std::filesystem::remove(flag); }, false);
}

TEST_F(WalArchive, KilledPushesAndAnS3EndpointThatWasDownLoseNothing) {
  // The same on S3 (Swift with s3api), async, whose endpoint really stops answering for a while:
  // a server of this test's own, so that no other test sees the outage.
  auto swift = SwiftServer::Start();
  ASSERT_TRUE(swift.has_value()) << swift.error().ToString();
  auto s3_table = S3RepoWithCredentialFiles(*swift, "s3", "drctl-wal-outage", "wal", root_);
  ASSERT_TRUE(s3_table.has_value()) << s3_table.error().ToString();
  std::ofstream(config_) << *s3_table << "[encryption]\npassphrase_file = \""
                         << (root_ / "pass").string() << "\"\nscrypt_n = 1024\n[wal]\nspool = \""
                         << (root_ / "spool").string() << "\"\njobs = 3\n";
  auto init = Drctl({"repo", "init"});
  ASSERT_EQ(init.exit_status, 0) << init.err;
  KilledPushesAndAnOutageLoseNothing([&] { ASSERT_TRUE(swift->StopProxy().has_value()); },
                                     [&] { ASSERT_TRUE(swift->StartProxy().has_value()); }, true);
}

}  // namespace
}  // namespace drctl::testing
