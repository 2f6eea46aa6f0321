// The drctl command line end to end: version, help, config check on good and broken files, exit
// codes, JSON output, secrets masked, and the README in step with the error catalog.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"

namespace drctl::testing {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-cli-");
    ASSERT_TRUE(d.has_value());
    dir_ = std::move(*d);
    path_ = dir_->path();
  }
  const std::filesystem::path& dir() const { return path_; }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir() / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::optional<TempDir> dir_;
  std::filesystem::path path_;
};

TEST_F(Cli, VersionAndHelp) {
  auto v = RunDrctl({"--version"});
  EXPECT_EQ(v.exit_status, 0);
  EXPECT_TRUE(v.out.starts_with("drctl ")) << v.out;
  auto h = RunDrctl({"--help"});
  EXPECT_EQ(h.exit_status, 0);
  for (const char* word : {"config", "demo", "errors", "--output", "--config", "--log-level"}) {
    EXPECT_NE(h.out.find(word), std::string::npos) << word;
  }
}

TEST_F(Cli, UnknownFlagIsAUsageError) {
  auto r = RunDrctl({"--no-such-flag", "config", "check"});
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kUsage).exit_code);
}

TEST_F(Cli, ConfigCheckPrintsEffectiveConfigWithSecretsMasked) {
  const auto path = Write("drctl.toml", R"([postgres]
conninfo = "host=127.0.0.1 port=5432 user=postgres password=pg-topsecret"
[[repo]]
name = "dr"
url = "s3://bucket/prefix"
endpoint = "http://127.0.0.1:9000"
[encryption]
passphrase_env = "DRCTL_TEST_PASSPHRASE"
)");
  const std::vector<std::string> env = {"DRCTL_TEST_PASSPHRASE=pass-topsecret",
                                        "AWS_SECRET_ACCESS_KEY=aws-topsecret"};
  auto text = RunDrctl({"--config", path, "config", "check"}, env);
  ASSERT_EQ(text.exit_status, 0) << text.err;
  EXPECT_NE(text.out.find("env DRCTL_TEST_PASSPHRASE (set)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("[[repo]]"), std::string::npos);
  auto json = RunDrctl({"--config", path, "--output", "json", "config", "check"}, env);
  ASSERT_EQ(json.exit_status, 0) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["repo"][0]["name"], "dr");
  EXPECT_EQ(j["backup"]["jobs"], 2);
  EXPECT_EQ(j["objectives"]["rpo"], "15m");
  EXPECT_EQ(j["schedule"]["backup"], "0 */6 * * *");
  EXPECT_EQ(j["repo"][0]["secret_access_key"], "env AWS_SECRET_ACCESS_KEY (set)");
  for (const auto* out : {&text, &json}) {
    const std::string all = out->out + out->err;
    EXPECT_EQ(all.find("topsecret"), std::string::npos) << all;
  }
}

struct Broken {
  const char* name;
  const char* toml;
  const char* expected;  // must appear on stderr
};

TEST_F(Cli, BrokenConfigsExitWithConfigCodeNamingKeyAndLine) {
  const Broken cases[] = {
      {"unknown key", "[backup]\njobs = 2\njbos = 3\n", ":3: unknown key 'backup.jbos'"},
      {"wrong type", "[backup]\njobs = \"2\"\n",
       ":2: key 'backup.jobs' must be an integer, not a string"},
      {"bad duration", "[objectives]\n\nrpo = \"15min\"\n", ":3: key 'objectives.rpo'"},
      {"missing repo url", "[[repo]]\nname = \"local\"\n", ":1: missing key 'repo[1].url'"},
  };
  for (const auto& c : cases) {
    const auto path = Write("broken.toml", c.toml);
    auto r = RunDrctl({"--config", path, "config", "check"});
    EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kConfig).exit_code) << c.name;
    EXPECT_NE(r.err.find(path + c.expected), std::string::npos) << c.name << ": " << r.err;
    auto j = RunDrctl({"--config", path, "--output", "json", "config", "check"});
    auto parsed = nlohmann::json::parse(j.out, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << c.name << ": " << j.out;
    EXPECT_EQ(parsed["ok"], false);
    EXPECT_EQ(parsed["error"]["code"], "config");
    EXPECT_EQ(parsed["error"]["exit_code"], 3);
  }
}

TEST_F(Cli, ConfigFileIsFoundThroughTheEnvironmentThenTheWorkingDirectory) {
  const auto path = Write("env.toml", "[backup]\njobs = 7\n");
  auto r = RunDrctl({"--output", "json", "config", "check"}, {"DRCTL_CONFIG=" + path});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["backup"]["jobs"], 7);

  Write("drctl.toml", "[backup]\njobs = 5\n");
  SpawnOptions o;
  o.argv = {DRCTL_BINARY, "--output", "json", "config", "check"};
  o.cwd = dir().string();
  o.env = {"DRCTL_CONFIG="};
  auto local = RunCommand(o, std::chrono::seconds(30));
  ASSERT_TRUE(local.has_value());
  ASSERT_EQ(local->exit_status, 0) << local->err;
  EXPECT_EQ(nlohmann::json::parse(local->out)["backup"]["jobs"], 5);
}

TEST_F(Cli, MissingExplicitConfigIsAConfigError) {
  auto r = RunDrctl({"--config", "/nonexistent/drctl.toml", "config", "check"});
  EXPECT_EQ(r.exit_status, 3);
  EXPECT_NE(r.err.find("/nonexistent/drctl.toml"), std::string::npos);
}

TEST_F(Cli, ErrorsCommandAndReadmeListEveryExitCode) {
  auto r = RunDrctl({"--output", "json", "errors"});
  ASSERT_EQ(r.exit_status, 0);
  auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), ErrorCatalog().size());
  std::ifstream readme(std::string(DRCTL_SOURCE_DIR) + "/README.md");
  std::stringstream buf;
  buf << readme.rdbuf();
  const std::string text = buf.str();
  for (const auto& info : ErrorCatalog()) {
    const std::string row =
        "| " + std::to_string(info.exit_code) + " | `" + std::string(info.name) + "` |";
    EXPECT_NE(text.find(row), std::string::npos) << "README lacks the row starting " << row;
  }
}

}  // namespace
}  // namespace drctl::testing
