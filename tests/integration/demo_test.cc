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
  const std::vector<std::string> expected = {"prepare workspace",
                                             "create PostgreSQL",
                                             "load sample data",
                                             "verify row counts",
                                             "create repository",
                                             "backup",
                                             "workload after the backup",
                                             "accidental DROP TABLE",
                                             "point-in-time restore",
                                             "start restored PostgreSQL",
                                             "verify restored data",
                                             "stop restored PostgreSQL",
                                             "stop PostgreSQL"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(j["steps"][3]["detail"], "\"User\": 500 rows");
  // The table dropped after the backup came back exactly as it was just before the drop (500
  // orders of the workload included), and the row added after the drop did not.
  const std::string verified = j["steps"][10]["detail"];
  EXPECT_NE(verified.find("equal to the moment before the drop: 500 users, 3000 orders"),
            std::string::npos)
      << verified;
  EXPECT_NE(j["steps"][8]["detail"].get<std::string>().find("to just before transaction"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(j["workdir"].get<std::string>()))
      << "the workspace is removed without --keep";
}

TEST(Demo, ReadmeFirstCommandWorks) {
  std::ifstream readme(std::string(DRCTL_SOURCE_DIR) + "/README.md");
  std::stringstream buf;
  buf << readme.rdbuf();
  const std::string text = buf.str();
  ASSERT_NE(text.find("scripts/demo.sh     #"), std::string::npos) << "README's first command";
  ASSERT_NE(text.find("scripts/test.sh     #"), std::string::npos) << "README's second command";
  // Run it as the README says (it builds its own release binary), with JSON for checking.
  SpawnOptions o;
  o.argv = {std::string(DRCTL_SOURCE_DIR) + "/scripts/demo.sh", "--output", "json", "--users",
            "300"};
  o.cwd = DRCTL_SOURCE_DIR;
  auto r = RunCommand(o, std::chrono::minutes(20));
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  ASSERT_EQ(r->exit_status, 0) << r->out << r->err;
  auto j = nlohmann::json::parse(r->out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "stdout must be the JSON report only: " << r->out;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["steps"][3]["detail"], "\"User\": 300 rows");
  EXPECT_EQ(j["steps"][10]["name"], "verify restored data");
  EXPECT_EQ(j["steps"][10]["ok"], true);
}

}  // namespace
}  // namespace drctl::testing
