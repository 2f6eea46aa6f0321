// drctl loads libcurl and libpq at first use, not at start-up (common/shared_library.h):
// - CliLazyLibraries.VersionAndLocalWalPushLoadNeither: `--version`, `repo init` and `wal push` on
//   a file:// repository, under LD_DEBUG=libs: the dynamic loader never mentions libcurl or libpq.
// - CliLazyLibraries.PostgresCommandLoadsOnlyLibpq: `doctor` against a closed port loads libpq
//   (and still not libcurl) and fails as before with kPostgres: the LD_DEBUG check above would see
//   a library loaded late.
// - CliLazyLibraries.MissingLibcurlIsUnsupported, .MissingLibpqIsUnsupported: with DRCTL_LIBCURL
//   or DRCTL_LIBPQ naming a file that does not exist, an S3 repository command and `doctor` fail
//   with kUnsupported (exit 19) naming the library, the variable and the Debian package.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;

bool Mentions(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

class CliLazyLibraries : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-lazy-libs-");
    ASSERT_TRUE(d.has_value());
    dir_.emplace(std::move(*d));
    root_ = dir_->path();
    port_ = ClosedPort();
    ASSERT_GT(port_, 0);
    config_ = (root_ / "drctl.toml").string();
    std::ofstream(config_) << "[postgres]\nconninfo = \"host=127.0.0.1 port=" << port_
                           << " user=postgres dbname=postgres connect_timeout=5\"\n"
                           << "[[repo]]\nname = \"local\"\nurl = \"file://"
                           << (root_ / "repo").string() << "\"\n"
                           << "[encryption]\npassphrase_env = \"TEST_PASS\"\nscrypt_n = 1024\n"
                           << "[wal]\nspool = \"" << (root_ / "spool").string() << "\"\n";
  }

  // Adds an S3 repository (on a closed port: commands on it fail, after retries).
  void AddS3Repo() {
    std::ofstream(config_, std::ios::app)
        << "[[repo]]\nname = \"s3\"\nurl = \"s3://bucket/prefix\"\nendpoint = \"http://127.0.0.1:"
        << port_ << "\"\npath_style = true\n";
  }

  CommandResult Run(std::vector<std::string> args, std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--config", config_});
    env.insert(env.end(), {"TEST_PASS=lazy-libraries-passphrase", "AWS_ACCESS_KEY_ID=test",
                           "AWS_SECRET_ACCESS_KEY=test-secret"});
    return RunDrctl(std::move(args), std::move(env));
  }

  // Runs with the dynamic loader reporting every library it loads, at start-up or by dlopen.
  CommandResult RunTracingLibraries(std::vector<std::string> args) {
    return Run(std::move(args), {"LD_DEBUG=libs"});
  }

  std::optional<TempDir> dir_;
  fs::path root_;
  std::string config_;
  int port_ = 0;
};

TEST_F(CliLazyLibraries, VersionAndLocalWalPushLoadNeither) {
  const std::string segment = (root_ / "000000010000000000000001").string();
  std::ofstream(segment, std::ios::binary) << std::string(16U << 20, 'w');
  const std::vector<std::vector<std::string>> commands = {
      {"--version"}, {"repo", "init"}, {"wal", "push", segment}};
  for (const auto& args : commands) {
    const auto r = RunTracingLibraries(args);
    ASSERT_EQ(r.exit_status, 0) << args.back() << ": " << Describe(r);
    // The trace is there (so an absent library means something), and names neither library.
    EXPECT_TRUE(Mentions(r.err, "libc.so.6")) << args.back() << ": " << r.err;
    EXPECT_FALSE(Mentions(r.err, "libcurl")) << args.back() << ": " << r.err;
    EXPECT_FALSE(Mentions(r.err, "libpq")) << args.back() << ": " << r.err;
  }
  EXPECT_TRUE(fs::exists(root_ / "repo" / "wal" / "00000001" / "000000010000000000000001"));
}

TEST_F(CliLazyLibraries, PostgresCommandLoadsOnlyLibpq) {
  const auto r = RunTracingLibraries({"doctor"});
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kPostgres).exit_code) << Describe(r);
  EXPECT_TRUE(Mentions(r.err, "libpq.so.5")) << r.err;
  EXPECT_FALSE(Mentions(r.err, "libcurl")) << r.err;
}

// A command whose library cannot be loaded: exit 19 (`unsupported`) naming the library, the path
// the variable set, and in its hint the variable and the Debian package. Returns the message.
std::string ExpectUnloadable(const CommandResult& r, const std::string& library,
                             const std::string& path, const std::string& variable,
                             const std::string& package) {
  EXPECT_EQ(r.exit_status, InfoFor(ErrorCode::kUnsupported).exit_code) << Describe(r);
  const auto doc = nlohmann::json::parse(r.out, nullptr, false);
  if (doc.is_discarded()) {
    ADD_FAILURE() << Describe(r);
    return "";
  }
  EXPECT_EQ(doc["error"]["code"], "unsupported") << r.out;
  std::string message = doc["error"].value("message", "");
  EXPECT_TRUE(Mentions(message, "cannot load " + library + " from " + path + " (set by " +
                                    variable + "): " + path + ": cannot open shared object file"))
      << message;
  const std::string hint = doc["error"].value("hint", "");
  EXPECT_TRUE(Mentions(hint, "unset " + variable)) << hint;
  EXPECT_TRUE(Mentions(hint, "install Debian's " + package + " package")) << hint;
  return message;
}

TEST_F(CliLazyLibraries, MissingLibcurlIsUnsupported) {
  AddS3Repo();
  const auto r = Run({"--output", "json", "repo", "init", "--repo", "s3"},
                     {"DRCTL_LIBCURL=/nonexistent/libcurl.so.4"});
  const std::string message =
      ExpectUnloadable(r, "libcurl", "/nonexistent/libcurl.so.4", "DRCTL_LIBCURL", "libcurl4");
  EXPECT_TRUE(Mentions(message, "s3://bucket/prefix")) << message;
}

TEST_F(CliLazyLibraries, MissingLibpqIsUnsupported) {
  const auto r = Run({"--output", "json", "doctor"}, {"DRCTL_LIBPQ=/nonexistent/libpq.so.5"});
  ExpectUnloadable(r, "libpq", "/nonexistent/libpq.so.5", "DRCTL_LIBPQ", "libpq5");
}

}  // namespace
}  // namespace drctl::testing
