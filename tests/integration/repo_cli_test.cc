// drctl repo init / repo key / info end to end on local repositories: exit codes, JSON, and no
// secret anywhere in the output or the repository.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "harness/servers.h"

namespace drctl::testing {
namespace {

constexpr const char* kPass = "Pass-Phrase-Known-7731";
constexpr const char* kNewPass = "Rotated-Pass-Phrase-4242";

class RepoCli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-repo-cli-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    root_ = dir_->path();
    config_ = (root_ / "drctl.toml").string();
    std::ofstream(config_) << "[[repo]]\nname = \"a\"\nurl = \"file://" << (root_ / "a").string()
                           << "\"\n[[repo]]\nname = \"b\"\nurl = \"file://"
                           << (root_ / "b").string()
                           << "\"\n[encryption]\npassphrase_env = \"TEST_PASS\"\nscrypt_n = 1024\n";
  }
  CommandResult Run(std::vector<std::string> args, const std::string& pass = kPass,
                    std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--config", config_});
    env.push_back("TEST_PASS=" + pass);
    auto r = RunDrctl(args, env);
    all_output_ += r.out + r.err;
    return r;
  }
  std::optional<TempDir> dir_;
  std::filesystem::path root_;
  std::string config_;
  std::string all_output_;
};

TEST_F(RepoCli, InitCreatesEveryConfiguredRepositoryAndRefusesTwice) {
  auto init = Run({"--output", "json", "repo", "init"});
  ASSERT_EQ(init.exit_status, 0) << init.err;
  auto j = nlohmann::json::parse(init.out);
  ASSERT_EQ(j["repos"].size(), 2U);
  EXPECT_TRUE(std::filesystem::exists(root_ / "a" / "drctl-repo.json"));
  EXPECT_TRUE(std::filesystem::exists(root_ / "b" / "drctl-repo.json"));
  auto again = Run({"repo", "init", "--repo", "a"});
  EXPECT_EQ(again.exit_status, InfoFor(ErrorCode::kPrecondition).exit_code);
  EXPECT_NE(again.err.find("is not empty"), std::string::npos);
}

TEST_F(RepoCli, WrongPassphraseHasItsOwnExitCode) {
  ASSERT_EQ(Run({"repo", "init"}).exit_status, 0);
  auto info = Run({"info", "--repo", "a"}, "wrong-passphrase");
  EXPECT_EQ(info.exit_status, 8);
  EXPECT_NE(info.err.find("opens none of the 1 key slots"), std::string::npos) << info.err;
}

TEST_F(RepoCli, InfoDescribesEachRepository) {
  ASSERT_EQ(Run({"repo", "init"}).exit_status, 0);
  auto info = Run({"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  auto j = nlohmann::json::parse(info.out);
  ASSERT_EQ(j["repos"].size(), 2U);
  for (const auto& repo : j["repos"]) {
    EXPECT_EQ(repo["format_version"], 1);
    EXPECT_EQ(repo["encryption"], "aes-256-gcm");
    EXPECT_EQ(repo["key_slots"], 1);
    EXPECT_EQ(repo["objects"], 2);
    EXPECT_GT(repo["bytes"].get<int>(), 0);
  }
}

TEST_F(RepoCli, RootKeepsTheKeyCacheInTheArchiversSpoolAndItNeverReplacesTheSecret) {
  // The spool belongs to the archiver (postgres); repo init, run as root, remembers each new key
  // slot's scrypt output there, in entries the archiver owns, and later commands use them.
  const std::filesystem::path spool = root_ / "spool";
  std::filesystem::create_directory(spool);
  ASSERT_TRUE(ChownToUser(spool, "postgres").has_value());
  std::ofstream(config_, std::ios::app) << "[wal]\nspool = \"" << spool.string() << "\"\n";
  ASSERT_EQ(Run({"repo", "init"}).exit_status, 0);
  struct stat spool_st {};
  ASSERT_EQ(stat(spool.c_str(), &spool_st), 0);
  std::vector<std::filesystem::path> entries;
  for (const auto& e : std::filesystem::directory_iterator(spool / "kek")) entries.push_back(e);
  EXPECT_EQ(entries.size(), 2U) << "one entry per repository's key slot";
  for (const auto& e : entries) {
    struct stat st {};
    ASSERT_EQ(stat(e.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, spool_st.st_uid) << e;
    EXPECT_EQ(st.st_mode & 0777, 0600U) << e;
  }
  EXPECT_EQ(Run({"info", "--repo", "a"}).exit_status, 0);
  EXPECT_EQ(Run({"info", "--repo", "a"}, "wrong-passphrase").exit_status, 8);
  // Entries hold no secret in the clear.
  for (const auto& e : entries) {
    std::ifstream in(e, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(kPass), std::string::npos);
  }
}

TEST_F(RepoCli, KeyRotationWithoutRewritingData) {
  ASSERT_EQ(Run({"repo", "init", "--repo", "a"}).exit_status, 0);
  auto add = Run({"--output", "json", "repo", "key", "add", "--repo", "a", "--passphrase-env",
                  "NEW_PASS", "--label", "rotated"},
                 kPass, {std::string("NEW_PASS=") + kNewPass});
  ASSERT_EQ(add.exit_status, 0) << add.err;
  const std::string new_slot = nlohmann::json::parse(add.out)["repos"][0]["slot"]["slot_id"];
  auto list = Run({"--output", "json", "repo", "key", "list", "--repo", "a"}, kNewPass);
  ASSERT_EQ(list.exit_status, 0) << list.err;
  auto slots = nlohmann::json::parse(list.out)["repos"][0]["slots"];
  ASSERT_EQ(slots.size(), 2U);
  for (const auto& slot : slots) {
    if (slot["slot_id"] == new_slot) continue;
    auto removed = Run({"repo", "key", "remove", "--repo", "a", slot["slot_id"]}, kNewPass);
    ASSERT_EQ(removed.exit_status, 0) << removed.err;
  }
  EXPECT_EQ(Run({"info", "--repo", "a"}, kPass).exit_status, 8);
  EXPECT_EQ(Run({"info", "--repo", "a"}, kNewPass).exit_status, 0);
  auto last = Run({"repo", "key", "remove", "--repo", "a", new_slot}, kNewPass);
  EXPECT_EQ(last.exit_status, InfoFor(ErrorCode::kPrecondition).exit_code);
  EXPECT_NE(last.err.find("last one"), std::string::npos);
}

TEST_F(RepoCli, SecretsFromAFileAndFromACommand) {
  ASSERT_EQ(Run({"repo", "init", "--repo", "a"}).exit_status, 0);
  const auto key_file = root_ / "key";
  std::ofstream(key_file) << "key-file-secret-0042\n";
  auto add_file =
      Run({"repo", "key", "add", "--repo", "a", "--passphrase-file", key_file.string()});
  ASSERT_EQ(add_file.exit_status, 0) << add_file.err;
  auto add_cmd =
      Run({"repo", "key", "add", "--repo", "a", "--passphrase-command", "printf kms-secret-0043"});
  ASSERT_EQ(add_cmd.exit_status, 0) << add_cmd.err;
  auto list = Run({"--output", "json", "repo", "key", "list", "--repo", "a"});
  std::set<std::string> kinds;
  const auto listed = nlohmann::json::parse(list.out);
  for (const auto& slot : listed["repos"][0]["slots"]) {
    kinds.insert(slot["kind"]);
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"passphrase", "keyfile", "command"}));
  // A config whose secret comes from the command opens the repository.
  std::ofstream(config_) << "[[repo]]\nname = \"a\"\nurl = \"file://" << (root_ / "a").string()
                         << "\"\n[encryption]\npassphrase_command = \"printf kms-secret-0043\"\n";
  EXPECT_EQ(Run({"info"}, "irrelevant").exit_status, 0);
  std::ofstream(config_) << "[[repo]]\nname = \"a\"\nurl = \"file://" << (root_ / "a").string()
                         << "\"\n[encryption]\npassphrase_file = \"" << key_file.string() << "\"\n";
  EXPECT_EQ(Run({"info"}, "irrelevant").exit_status, 0);
  std::ofstream(config_) << "[[repo]]\nname = \"a\"\nurl = \"file://" << (root_ / "a").string()
                         << "\"\n[encryption]\npassphrase_command = \"exit 3\"\n";
  auto failing = Run({"info"});
  EXPECT_EQ(failing.exit_status, InfoFor(ErrorCode::kCommandFailed).exit_code) << failing.err;
}

TEST_F(RepoCli, NewSecretNeverComesFromTheCommandLine) {
  ASSERT_EQ(Run({"repo", "init", "--repo", "a"}).exit_status, 0);
  auto none = Run({"repo", "key", "add", "--repo", "a"});
  EXPECT_EQ(none.exit_status, InfoFor(ErrorCode::kUsage).exit_code);
  auto literal = Run({"repo", "key", "add", "--repo", "a", "--passphrase", "x"});
  EXPECT_EQ(literal.exit_status, InfoFor(ErrorCode::kUsage).exit_code);
}

TEST_F(RepoCli, UnencryptedRepositoryOnlyExplicitlyAndInfoSaysSo) {
  auto init = Run({"repo", "init", "--repo", "a", "--encryption", "none"});
  ASSERT_EQ(init.exit_status, 0) << init.err;
  EXPECT_NE(init.out.find("WARNING: encryption is off"), std::string::npos);
  auto info = Run({"info", "--repo", "a"});
  EXPECT_NE(info.out.find("encryption NONE"), std::string::npos) << info.out;
}

TEST_F(RepoCli, NoSecretInOutputOrRepository) {
  ASSERT_EQ(Run({"repo", "init"}).exit_status, 0);
  Run({"repo", "key", "add", "--passphrase-env", "NEW_PASS"}, kPass,
      {std::string("NEW_PASS=") + kNewPass});
  Run({"info"}, "wrong-one");
  Run({"--output", "json", "info"});
  Run({"--log-level", "trace", "repo", "key", "list"});
  EXPECT_EQ(all_output_.find(kPass), std::string::npos);
  EXPECT_EQ(all_output_.find(kNewPass), std::string::npos);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root_)) {
    if (!entry.is_regular_file() || entry.path().filename() == "drctl.toml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    EXPECT_EQ(buf.str().find(kPass), std::string::npos) << entry.path();
    EXPECT_EQ(buf.str().find(kNewPass), std::string::npos) << entry.path();
  }
}

TEST_F(RepoCli, S3AndLocalSiblingsInitSyncAndInfo) {
  auto* swift = SharedSwift();
  ASSERT_NE(swift, nullptr);
  auto bucket = RunAwsCli(swift->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                          {"s3api", "create-bucket", "--bucket", "drctl-cli"});
  ASSERT_TRUE(bucket.has_value());
  std::ofstream(config_)
      << "[[repo]]\nname = \"local\"\nurl = \"file://" << (root_ / "a").string()
      << "\"\n[[repo]]\nname = \"dr\"\nurl = \"s3://drctl-cli/" << root_.filename().string()
      << "\"\nendpoint = \"" << swift->endpoint()
      << "\"\nregion = \"us-east-1\"\npath_style = true\n"
      << "access_key_id_env = \"DR_KEY\"\nsecret_access_key_env = \"DR_SECRET\"\n"
      << "[encryption]\npassphrase_env = \"TEST_PASS\"\nscrypt_n = 1024\n";
  const std::vector<std::string> creds = {std::string("DR_KEY=") + SwiftServer::kAccessKey,
                                          std::string("DR_SECRET=") + SwiftServer::kSecretKey};
  auto init = Run({"repo", "init"}, kPass, creds);
  ASSERT_EQ(init.exit_status, 0) << init.err;
  auto info = Run({"--output", "json", "info", "--repo", "dr"}, kPass, creds);
  ASSERT_EQ(info.exit_status, 0) << info.err;
  auto j = nlohmann::json::parse(info.out)["repos"][0];
  EXPECT_EQ(j["encryption"], "aes-256-gcm");
  EXPECT_EQ(j["objects"], 2);
  auto sync = Run({"repo", "sync"}, kPass, creds);
  EXPECT_EQ(sync.exit_status, 0) << sync.err << sync.out;
  auto bad = Run({"info", "--repo", "dr"}, kPass,
                 {std::string("DR_KEY=") + SwiftServer::kAccessKey, "DR_SECRET=wrong-secret"});
  EXPECT_EQ(bad.exit_status, InfoFor(ErrorCode::kAuth).exit_code) << bad.err;
  EXPECT_EQ(bad.err.find("wrong-secret"), std::string::npos);
  auto missing = Run({"info", "--repo", "dr"}, kPass);
  EXPECT_EQ(missing.exit_status, InfoFor(ErrorCode::kConfig).exit_code) << missing.err;
  EXPECT_NE(missing.err.find("DR_KEY"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace drctl::testing
