// drctl repo init / repo key / info end to end on local repositories: exit codes, JSON, and no
// secret anywhere in the output or the repository.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"

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

}  // namespace
}  // namespace drctl::testing
