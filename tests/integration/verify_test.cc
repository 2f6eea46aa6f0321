// drctl verify against repositories holding real backups of the shared PostgreSQL 15 and its real
// WAL: a healthy pair passes (and a second run reads nothing it proved before, --full reads it
// all again); each kind of damage, alone, is found and named: a flipped byte in a pack, a missing
// pack, a missing WAL segment in the middle, a truncated manifest, and a repository missing a
// backup the other has.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"
#include "postgres/connection.h"
#include "postgres/wal_names.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

void WriteAll(const fs::path& path, const std::string& data) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

std::string Config(const fs::path& root, const fs::path& a, const fs::path& b) {
  const auto* pg = SharedPostgres();
  std::ostringstream c;
  c << "[postgres]\nconninfo = \"" << pg->Conninfo() << "\"\npgdata = \""
    << pg->options().pgdata.string() << "\"\n"
    << "[[repo]]\nname = \"a\"\nurl = \"file://" << a.string() << "\"\n"
    << "[[repo]]\nname = \"b\"\nurl = \"file://" << b.string() << "\"\n"
    << "[encryption]\npassphrase_file = \"" << (root / "pass").string()
    << "\"\nscrypt_n = 1024\n[wal]\nspool = \"" << (root / "spool").string() << "\"\n";
  return c.str();
}

// Built once: repository a with two backups and the WAL from the first backup's start on (pushed
// from pg_wal); repository b, a copy of a made between the two backups.
struct Pristine {
  std::optional<TempDir> dir;
  fs::path a, b;
  std::string second_backup;
  std::vector<std::string> wal;  // segments pushed after the first backup, in order
};

Pristine* pristine = nullptr;

class Verify : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto* pg = SharedPostgres();
    ASSERT_NE(pg, nullptr);
    pristine = new Pristine;
    auto d = TempDir::Create("drctl-verify-");
    ASSERT_TRUE(d.has_value());
    pristine->dir.emplace(std::move(*d));
    const fs::path root = pristine->dir->path();
    pristine->a = root / "a";
    pristine->b = root / "b";
    std::ofstream(root / "pass") << "verify-passphrase\n";
    const std::string config = (root / "drctl.toml").string();
    std::ofstream(config) << Config(root, pristine->a, pristine->b);
    auto run = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {"--config", config});
      return RunDrctl(args);
    };
    auto init = run({"repo", "init"});
    ASSERT_EQ(init.exit_status, 0) << init.err;
    auto conn = pg::Connection::Open(pg->Conninfo());
    ASSERT_TRUE(conn.has_value());
    ASSERT_TRUE(conn->Exec("CREATE TABLE IF NOT EXISTS verify_t (i int)").has_value());
    auto first = run({"--output", "json", "backup", "--repo", "a", "--no-progress"});
    ASSERT_EQ(first.exit_status, 0) << first.err;
    const std::string stop_wal = json::parse(first.out)["stop_wal"];
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(conn->Exec("INSERT INTO verify_t SELECT generate_series(1, 1000)").has_value());
      ASSERT_TRUE(conn->Exec("SELECT pg_switch_wal()").has_value());
    }
    auto second = run({"--output", "json", "backup", "--repo", "a", "--no-progress"});
    ASSERT_EQ(second.exit_status, 0) << second.err;
    pristine->second_backup = json::parse(second.out)["backup_id"];
    const std::string start_wal = json::parse(second.out)["start_wal"];
    // The segments between the two backups, pushed from pg_wal as archive_command would.
    const auto stop = pg::ParseWalFileName(stop_wal);
    const auto next_start = pg::ParseWalFileName(start_wal);
    ASSERT_TRUE(stop.has_value() && next_start.has_value());
    ASSERT_GE(next_start->segment, stop->segment + 5);
    for (std::uint64_t s = stop->segment + 1; s < next_start->segment; ++s) {
      const std::string name = pg::SegmentFileName(stop->timeline, s);
      const fs::path file = pg->options().pgdata / "pg_wal" / name;
      ASSERT_TRUE(fs::exists(file)) << name;
      auto push = run({"wal", "push", "--repo", "a", file.string()});
      ASSERT_EQ(push.exit_status, 0) << push.err;
      pristine->wal.push_back(name);
    }
    // b: a copy of a without the second backup.
    auto sync = run({"repo", "sync", "--from", "a", "--to", "b"});
    ASSERT_EQ(sync.exit_status, 0) << sync.err;
    fs::remove(pristine->b / "backups" / (pristine->second_backup + ".manifest"));
  }
  static void TearDownTestSuite() {
    delete pristine;
    pristine = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(pristine, nullptr);
    ASSERT_FALSE(pristine->second_backup.empty()) << "suite set-up failed";
    auto d = TempDir::Create("drctl-verify-case-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    const fs::path root = dir_->path();
    a_ = root / "a";
    b_ = root / "b";
    fs::copy(pristine->a, a_, fs::copy_options::recursive);
    fs::copy(pristine->b, b_, fs::copy_options::recursive);
    fs::copy_file(pristine->dir->path() / "pass", root / "pass");
    config_ = (root / "drctl.toml").string();
    std::ofstream(config_) << Config(root, a_, b_);
  }

  CommandResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_, "--output", "json", "verify"});
    return RunDrctl(args);
  }

  // Verifies only `repo` and returns its problems' kinds, expecting failure (exit 17).
  std::vector<std::string> ProblemKinds(const std::string& repo, json* report = nullptr) {
    auto v = Run({"--repo", repo});
    EXPECT_EQ(v.exit_status, InfoFor(ErrorCode::kVerifyFailed).exit_code) << v.out << v.err;
    auto j = json::parse(v.out.substr(0, v.out.find("\n}\n") + 2), nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << v.out;
    if (j.is_discarded()) return {};
    std::vector<std::string> kinds;
    for (const auto& p : j["repos"][0]["problems"]) kinds.push_back(p["kind"]);
    if (report != nullptr) *report = j["repos"][0];
    return kinds;
  }

  fs::path OnePack() const {
    for (const auto& e : fs::recursive_directory_iterator(a_ / "packs")) {
      if (e.is_regular_file()) return e.path();
    }
    return {};
  }

  std::optional<TempDir> dir_;
  fs::path a_, b_;
  std::string config_;
};

TEST_F(Verify, AHealthyRepositoryPassesAndASecondRunReadsOnlyWhatChanged) {
  auto first = Run({"--repo", "a"});
  ASSERT_EQ(first.exit_status, 0) << first.out << first.err;
  const auto r1 = json::parse(first.out)["repos"][0];
  EXPECT_EQ(r1["restorable"], true);
  EXPECT_EQ(r1["backups"], 2);
  EXPECT_GT(r1["packs_read"].get<int>(), 0);
  EXPECT_EQ(r1["packs_read"], r1["packs"]);
  EXPECT_GT(r1["wal_read"].get<int>(), 4);
  auto second = Run({"--repo", "a"});
  ASSERT_EQ(second.exit_status, 0) << second.err;
  const auto r2 = json::parse(second.out)["repos"][0];
  EXPECT_EQ(r2["packs_read"], 0) << "proven and unchanged: not read again";
  EXPECT_EQ(r2["wal_read"], 0);
  EXPECT_EQ(r2["packs_unchanged_skipped"], r1["packs"]);
  auto full = Run({"--repo", "a", "--full"});
  ASSERT_EQ(full.exit_status, 0) << full.err;
  EXPECT_EQ(json::parse(full.out)["repos"][0]["packs_read"], r1["packs"]);
}

TEST_F(Verify, AFlippedByteInAPackIsFound) {
  const fs::path pack = OnePack();
  std::string data = ReadAll(pack);
  data[data.size() / 3] = static_cast<char>(data[data.size() / 3] ^ 0x10);
  WriteAll(pack, data);
  json report;
  EXPECT_EQ(ProblemKinds("a", &report), std::vector<std::string>{"corrupt_pack"});
  EXPECT_NE(report["problems"][0]["object"].get<std::string>().find(pack.filename().string()),
            std::string::npos)
      << report.dump(2);
  EXPECT_FALSE(report["problems"][0]["backups"].empty());
}

TEST_F(Verify, DamageAfterAnEarlierVerifyIsFoundWhenTheObjectChangedOrWithFull) {
  ASSERT_EQ(Run({"--repo", "a"}).exit_status, 0);
  const fs::path pack = OnePack();
  const auto mtime = fs::last_write_time(pack);
  std::string data = ReadAll(pack);
  data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0x01);
  WriteAll(pack, data);
  // Bit rot: same size, same mtime. The incremental run trusts its recent proof...
  fs::last_write_time(pack, mtime);
  auto incremental = Run({"--repo", "a"});
  EXPECT_EQ(incremental.exit_status, 0) << "proven a moment ago, unchanged: not read again";
  // ...--full reads everything and finds it.
  auto full = Run({"--repo", "a", "--full"});
  EXPECT_EQ(full.exit_status, InfoFor(ErrorCode::kVerifyFailed).exit_code) << full.out;
  EXPECT_NE(full.out.find("corrupt_pack"), std::string::npos) << full.out;
  // A damaged copy written over it (new mtime): the incremental run reads it again.
  fs::last_write_time(pack, mtime + std::chrono::seconds(5));
  EXPECT_EQ(ProblemKinds("a"), std::vector<std::string>{"corrupt_pack"});
}

TEST_F(Verify, AMissingPackIsFound) {
  const fs::path pack = OnePack();
  fs::remove(pack);
  json report;
  EXPECT_EQ(ProblemKinds("a", &report), std::vector<std::string>{"missing_pack"});
  EXPECT_NE(report["problems"][0]["message"].get<std::string>().find("is missing"),
            std::string::npos);
}

TEST_F(Verify, AMissingWalSegmentInTheMiddleIsAGap) {
  const std::string middle = pristine->wal[1];
  fs::remove(a_ / "wal" / middle.substr(0, 8) / middle);
  json report;
  EXPECT_EQ(ProblemKinds("a", &report), std::vector<std::string>{"wal_gap"});
  EXPECT_EQ(report["wal_gaps"][0]["first"], middle) << report.dump(2);
}

TEST_F(Verify, ATruncatedManifestIsFound) {
  const fs::path manifest = a_ / "backups" / (pristine->second_backup + ".manifest");
  fs::resize_file(manifest, fs::file_size(manifest) / 2);
  json report;
  EXPECT_EQ(ProblemKinds("a", &report), std::vector<std::string>{"manifest"});
  EXPECT_EQ(report["backups"], 1) << "the other backup is still verified";
}

TEST_F(Verify, ARepositoryMissingABackupTheOtherHasIsFound) {
  auto v = RunDrctl({"--config", config_, "--output", "json", "verify"});
  EXPECT_EQ(v.exit_status, InfoFor(ErrorCode::kVerifyFailed).exit_code) << v.out << v.err;
  auto j = json::parse(v.out.substr(0, v.out.find("\n}\n") + 2));
  ASSERT_EQ(j["repos"].size(), 2U);
  EXPECT_EQ(j["repos"][0]["problems"].size(), 0U) << j["repos"][0].dump(2);
  const auto& b = j["repos"][1];
  ASSERT_EQ(b["problems"].size(), 1U) << b.dump(2);
  EXPECT_EQ(b["problems"][0]["kind"], "repo_difference");
  EXPECT_EQ(b["missing_backups"], json::array({pristine->second_backup}));
  EXPECT_EQ(b["missing_wal"], 0);
}

}  // namespace
}  // namespace drctl::testing
