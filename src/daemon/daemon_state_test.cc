#include "daemon/daemon_state.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/temp_dir.h"

namespace drctl::daemon {
namespace {

TEST(DaemonState, MissingFileIsAnEmptyStateAndSavedStateLoadsBack) {
  auto dir = TempDir::Create("drctl-state-");
  ASSERT_TRUE(dir.has_value());
  const auto file = dir->path() / "state.json";
  auto empty = LoadDaemonState(file);
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->jobs.empty());
  DaemonState state;
  state.jobs["backup"].last_scheduled = 42;
  state.jobs["backup"].last_error = "exit 12: refused";
  state.alerts = {{"version", 1}, {"active", nlohmann::json::array()}};
  ASSERT_TRUE(SaveDaemonState(file, state).has_value());
  auto back = LoadDaemonState(file);
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(back->jobs.at("backup").last_scheduled, 42);
  EXPECT_EQ(back->jobs.at("backup").last_error, "exit 12: refused");
  EXPECT_EQ(back->alerts, state.alerts);
  EXPECT_TRUE(back->outbox.is_null());
}

TEST(DaemonState, DamageIsCorruptNamingTheFileAndWhatToDo) {
  for (const char* text :
       {"", "{", "[]", "{\"version\": 2}", "{\"version\": \"1\"}", "{\"version\": 1, \"jobs\": 3}",
        "{\"version\": 1, \"jobs\": {\"backup\": {\"last_start\": 1}}}"}) {
    auto r = ParseDaemonState(text, "/var/spool/drctl/daemon/state.json");
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt) << text;
    EXPECT_NE(r.error().message().find("/var/spool/drctl/daemon/state.json"), std::string::npos);
    EXPECT_NE(r.error().hint().find("move the file away"), std::string::npos);
  }
}

}  // namespace
}  // namespace drctl::daemon
