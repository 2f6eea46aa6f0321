// The README's first command runs `drctl demo`; this checks its outcome, so the README cannot rot.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "drctl_runner.h"

namespace drctl::testing {
namespace {

TEST(Demo, RunsEveryStepOnAThrowawayPostgres) {
  auto r = RunDrctl({"--output", "json", "demo", "--users", "500"});
  ASSERT_EQ(r.exit_status, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], true);
  std::vector<std::string> names;
  for (const auto& step : j["steps"]) {
    names.push_back(step["name"]);
    EXPECT_EQ(step["ok"], true) << step.dump();
  }
  const std::vector<std::string> expected = {"prepare workspace", "create PostgreSQL",
                                             "load sample data", "verify row counts",
                                             "stop PostgreSQL"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(j["steps"][3]["detail"], "\"User\": 500 rows");
  EXPECT_FALSE(std::filesystem::exists(j["workdir"].get<std::string>()))
      << "the workspace is removed without --keep";
}

TEST(Demo, ReadmeStartsWithTheTwoCommands) {
  std::ifstream readme(std::string(DRCTL_SOURCE_DIR) + "/README.md");
  std::stringstream buf;
  buf << readme.rdbuf();
  const std::string text = buf.str();
  EXPECT_NE(text.find("scripts/demo.sh"), std::string::npos);
  EXPECT_NE(text.find("scripts/test.sh"), std::string::npos);
  std::ifstream demo(std::string(DRCTL_SOURCE_DIR) + "/scripts/demo.sh");
  std::stringstream demo_text;
  demo_text << demo.rdbuf();
  EXPECT_NE(demo_text.str().find("drctl\" demo"), std::string::npos)
      << "scripts/demo.sh must run drctl demo";
}

}  // namespace
}  // namespace drctl::testing
