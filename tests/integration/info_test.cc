// drctl info end to end on a local repository: the backups its manifests describe, the stored WAL
// as ranges per timeline with the gaps spelled out, and a damaged manifest reported without
// hiding the good backups or failing the command. Manifests and WAL are written with the catalog
// directly (no PostgreSQL needed): what info reads is the repository, whoever wrote it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "catalog/backup_catalog.h"
#include "catalog/repository.h"
#include "catalog/wal_store.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "storage/open.h"

namespace drctl::testing {
namespace {

constexpr const char* kPass = "info-test-passphrase-5150";
constexpr std::int64_t kNov25 = 1795633200;  // 2026-11-25T19:00:00Z
constexpr std::int64_t kNov26 = kNov25 + 86400;

// A valid manifest (doc/format/manifest.md) on timeline 1; fields set by name, so that a new
// field with a default does not break the test.
catalog::Manifest Backup(std::string id, std::string label, std::int64_t start,
                         std::uint64_t start_lsn, std::uint64_t stop_lsn) {
  catalog::Manifest m;
  m.backup_id = std::move(id);
  m.label = std::move(label);
  m.drctl_version = "0.4.0";
  m.pg = {"7301234567890123456", 150004, 1};
  m.start_lsn = start_lsn;
  m.stop_lsn = stop_lsn;
  m.start_time = start;
  m.stop_time = start + 90;
  auto segment = [](std::uint64_t lsn) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "00000001%08X%08X", static_cast<unsigned>(lsn >> 32),
                  static_cast<unsigned>((lsn >> 24) & 0xFF));
    return std::string(buf);
  };
  m.start_wal = segment(start_lsn);
  m.stop_wal = segment(stop_lsn);
  m.backup_label = "START WAL LOCATION: 0/3000028 (file " + m.start_wal + ")\n";
  catalog::ManifestFile dir;
  dir.path = "base";
  dir.type = catalog::FileType::kDirectory;
  dir.mode = 0700;
  m.files.push_back(dir);
  m.databases = {{5, "postgres"}};
  m.stats.logical_size = 25165824;
  m.stats.new_bytes = 4194304;
  m.stats.duration_seconds = 89.5;
  return m;
}

class Info : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-info-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    const auto root = dir_->path();
    std::ofstream(root / "pass") << kPass << "\n";
    repo_.name = "local";
    repo_.url = "file://" + (root / "repo").string();
    config_ = (root / "drctl.toml").string();
    std::ofstream(config_) << "[[repo]]\nname = \"local\"\nurl = \"" << repo_.url
                           << "\"\n[encryption]\npassphrase_file = \"" << (root / "pass").string()
                           << "\"\nscrypt_n = 1024\n";
    auto init = Drctl({"repo", "init"});
    ASSERT_EQ(init.exit_status, 0) << init.err;
    auto storage = storage::OpenStorage(repo_);
    ASSERT_TRUE(storage.has_value()) << storage.error().ToString();
    auto opened = catalog::Repository::Open(std::move(*storage), std::string(kPass));
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    repository_.emplace(std::move(*opened));
  }

  CommandResult Drctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", config_});
    return RunDrctl(args);
  }

  void WriteBackup(const catalog::Manifest& m) {
    auto written = catalog::WriteManifest(repository_->storage(), repository_->master(), m);
    ASSERT_TRUE(written.has_value()) << written.error().ToString();
  }

  void PushWal(const std::string& name) {
    // Timeline 2 branched from timeline 1 in segment 9.
    const std::string content = name == "00000002.history"
                                    ? "1\t0/9800000\tno recovery target specified\n"
                                    : "content of " + name;
    auto pushed = catalog::PushWal(repository_->storage(), repository_->master(), name, content,
                                   Compression{});
    ASSERT_TRUE(pushed.has_value()) << name << ": " << pushed.error().ToString();
  }

  // Two backups; WAL on timeline 1 with segments 01-05 and 08-09 (06 and 07 missing), a backup
  // history file, and timeline 2 (history file, one segment, one partial segment).
  void Populate() {
    WriteBackup(Backup("20261126T190000Z-c3d4", "", kNov26, 0x8000028, 0x9000100));
    WriteBackup(Backup("20261125T190000Z-a1b2", "nightly", kNov25, 0x3000028, 0x4000100));
    for (const char* name :
         {"000000010000000000000001", "000000010000000000000002", "000000010000000000000003",
          "000000010000000000000003.00000028.backup", "000000010000000000000004",
          "000000010000000000000005", "000000010000000000000008", "000000010000000000000009",
          "00000002.history", "000000020000000000000009", "00000002000000000000000A.partial"}) {
      PushWal(name);
    }
  }

  std::optional<TempDir> dir_;
  RepoConfig repo_;
  std::string config_;
  std::optional<catalog::Repository> repository_;
};

TEST_F(Info, AnEmptyRepositoryHasNoBackupsAndNoWal) {
  auto info = Drctl({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const auto repo = nlohmann::json::parse(info.out)["repos"][0];
  EXPECT_EQ(repo["backups"], nlohmann::json::array());
  EXPECT_EQ(repo["damaged_manifests"], nlohmann::json::array());
  EXPECT_EQ(repo["wal"]["timelines"], nlohmann::json::array());
  EXPECT_EQ(repo["wal"]["partial"], 0);
  EXPECT_EQ(repo["wal"]["backup_history"], 0);
  // The fields info had before are all still there.
  for (const char* field : {"name", "url", "repo_id", "format_version", "created", "encryption",
                            "chunk_size", "key_slots", "objects", "bytes", "packs", "indexes"}) {
    EXPECT_TRUE(repo.contains(field)) << field;
  }
  auto text = Drctl({"info"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("  backups 0\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  wal: 0 timeline(s), 0 partial, 0 backup history\n"), std::string::npos)
      << text.out;
}

TEST_F(Info, ListsBackupsAndWalRangesWithTheGap) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  auto info = Drctl({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const auto repo = nlohmann::json::parse(info.out)["repos"][0];
  EXPECT_EQ(repo["encryption"], "aes-256-gcm");

  const auto& backups = repo["backups"];
  ASSERT_EQ(backups.size(), 2U) << info.out;
  const auto& first = backups[0];  // sorted by start time, not by write order
  EXPECT_EQ(first["backup_id"], "20261125T190000Z-a1b2");
  EXPECT_EQ(first["label"], "nightly");
  EXPECT_EQ(first["status"], "complete");
  EXPECT_EQ(first["timeline"], 1);
  EXPECT_EQ(first["start_time"], kNov25);
  EXPECT_EQ(first["start_time_utc"], "2026-11-25T19:00:00Z");
  EXPECT_EQ(first["stop_time"], kNov25 + 90);
  EXPECT_EQ(first["stop_time_utc"], "2026-11-25T19:01:30Z");
  EXPECT_EQ(first["start_lsn"], "0/3000028");
  EXPECT_EQ(first["stop_lsn"], "0/4000100");
  EXPECT_EQ(first["start_wal"], "000000010000000000000003");
  EXPECT_EQ(first["stop_wal"], "000000010000000000000004");
  EXPECT_EQ(first["logical_size"], 25165824);
  EXPECT_EQ(first["new_bytes"], 4194304);
  EXPECT_DOUBLE_EQ(first["duration_seconds"].get<double>(), 89.5);
  EXPECT_EQ(backups[1]["backup_id"], "20261126T190000Z-c3d4");
  EXPECT_EQ(backups[1]["label"], "");
  EXPECT_EQ(repo["damaged_manifests"], nlohmann::json::array());

  const auto& wal = repo["wal"];
  EXPECT_EQ(wal["partial"], 1);
  EXPECT_EQ(wal["backup_history"], 1);
  EXPECT_EQ(wal["unrecognized"], nlohmann::json::array()) << "wal/cluster.json is not WAL";
  ASSERT_EQ(wal["timelines"].size(), 2U) << info.out;
  const auto& tli1 = wal["timelines"][0];
  EXPECT_EQ(tli1["timeline"], 1);
  EXPECT_EQ(tli1["history"], false);
  EXPECT_EQ(tli1["ranges"], nlohmann::json::parse(R"([
      {"first": "000000010000000000000001", "last": "000000010000000000000005", "segments": 5},
      {"first": "000000010000000000000008", "last": "000000010000000000000009", "segments": 2}])"));
  EXPECT_EQ(tli1["gaps"], nlohmann::json::parse(R"([
      {"first": "000000010000000000000006", "last": "000000010000000000000007", "segments": 2}])"));
  const auto& tli2 = wal["timelines"][1];
  EXPECT_EQ(tli2["timeline"], 2);
  EXPECT_EQ(tli2["history"], true);
  EXPECT_EQ(tli2["ranges"], nlohmann::json::parse(R"([
      {"first": "000000020000000000000009", "last": "000000020000000000000009", "segments": 1}])"));
  EXPECT_EQ(tli2["partial"], 1);

  // Recoverable: from each backup's stop to the end of its continuous WAL, and timeline 2 from
  // the switch (inside the second backup's window), into its partial segment.
  const auto& windows = wal["windows"];
  ASSERT_EQ(windows.size(), 3U) << windows.dump(2);
  EXPECT_EQ(windows[0]["timeline"], 1);
  EXPECT_EQ(windows[0]["from"], "backup 20261125T190000Z-a1b2");
  EXPECT_EQ(windows[0]["from_lsn"], "0/4000100");
  EXPECT_EQ(windows[0]["from_time_utc"], "2026-11-25T19:01:30Z");
  EXPECT_EQ(windows[0]["to_lsn"], "0/6000000");
  EXPECT_EQ(windows[0]["gap_after"], "000000010000000000000006");
  EXPECT_EQ(windows[1]["from"], "backup 20261126T190000Z-c3d4");
  EXPECT_EQ(windows[1]["from_lsn"], "0/9000100");
  EXPECT_EQ(windows[1]["to_lsn"], "0/A000000");
  EXPECT_EQ(windows[1]["gap_after"], "");
  EXPECT_EQ(windows[2]["timeline"], 2);
  EXPECT_EQ(windows[2]["from"], "switch from timeline 1");
  EXPECT_EQ(windows[2]["from_lsn"], "0/9800000");
  EXPECT_EQ(windows[2]["from_time_utc"], nullptr);
  EXPECT_EQ(windows[2]["to_lsn"], "0/A000000");
  EXPECT_EQ(windows[2]["partial"], "00000002000000000000000A.partial");

  auto text = Drctl({"info"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  const std::string start_wal = "wal 000000010000000000000003";
  const std::vector<std::string> lines = {
      "  backups 2\n",
      "    20261125T190000Z-a1b2  complete  label \"nightly\"\n",
      "      start 2026-11-25T19:00:00Z  lsn 0/3000028  " + start_wal + "  timeline 1\n",
      "      stop  2026-11-25T19:01:30Z  lsn 0/4000100  wal 000000010000000000000004\n",
      "      size 25165824 bytes  new 4194304 bytes  duration 89.5 s\n",
      "    20261126T190000Z-c3d4  complete\n",
      "  wal: 2 timeline(s), 1 partial, 1 backup history\n",
      "    timeline 1: 000000010000000000000001 .. 000000010000000000000005 (5 segments)\n",
      std::string("    timeline 1: GAP 000000010000000000000006 .. 000000010000000000000007") +
          " (2 segments missing)\n",
      "    timeline 1: 000000010000000000000008 .. 000000010000000000000009 (2 segments)\n",
      "    timeline 2: 000000020000000000000009 .. 000000020000000000000009 (1 segment)\n",
      "    timeline 2: history file\n",
      std::string("  recoverable on timeline 1: from 2026-11-25T19:01:30Z 0/4000100 (backup ") +
          "20261125T190000Z-a1b2) to 0/6000000 (WAL archived by ",
      "; 000000010000000000000006 is missing\n",
      std::string("  recoverable on timeline 2: from 0/9800000 (switch from timeline 1) to ") +
          "0/A000000 (WAL archived by ",
      "), then 00000002000000000000000A.partial\n",
  };
  for (const std::string& line : lines) {
    EXPECT_NE(text.out.find(line), std::string::npos) << "missing: " << line << "in:\n" << text.out;
  }
  EXPECT_EQ(text.out.find("DAMAGED"), std::string::npos) << text.out;
}

TEST_F(Info, ADamagedManifestIsReportedAndTheOthersAreStillListed) {
  ASSERT_NO_FATAL_FAILURE(Populate());
  const std::string damaged_key = catalog::ManifestKey("20261127T190000Z-dead");
  std::mt19937 random(42);
  std::string garbage(512, '\0');
  for (char& c : garbage) c = static_cast<char>(random() & 0xFF);
  ASSERT_TRUE(repository_->storage().Write(damaged_key, garbage).has_value());

  auto info = Drctl({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << "a damaged manifest is reported, not fatal: " << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["ok"], true);
  const auto& repo = j["repos"][0];
  ASSERT_EQ(repo["backups"].size(), 2U) << info.out;
  EXPECT_EQ(repo["backups"][0]["backup_id"], "20261125T190000Z-a1b2");
  EXPECT_EQ(repo["backups"][1]["backup_id"], "20261126T190000Z-c3d4");
  ASSERT_EQ(repo["damaged_manifests"].size(), 1U) << info.out;
  const std::string message = repo["damaged_manifests"][0];
  EXPECT_NE(message.find(damaged_key), std::string::npos) << message;
  EXPECT_NE(message.find("no manifest header"), std::string::npos) << message;
  EXPECT_EQ(repo["wal"]["timelines"].size(), 2U);

  auto text = Drctl({"info"});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("  backups 2\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  DAMAGED manifests 1\n"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(damaged_key), std::string::npos) << text.out;
}

}  // namespace
}  // namespace drctl::testing
