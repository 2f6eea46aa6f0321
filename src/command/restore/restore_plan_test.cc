#include "command/restore/restore_plan.h"

#include <gtest/gtest.h>

namespace drctl::command {
namespace {

TEST(TablespaceMappingTest, ParsesOidAndAbsoluteDirectory) {
  auto m = ParseTablespaceMapping("16385=/srv/fast ts");
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_EQ(m->first, 16385U);
  EXPECT_EQ(m->second, "/srv/fast ts");
}

TEST(TablespaceMappingTest, RefusesAnythingElse) {
  for (const char* bad : {"", "=", "16385", "16385=", "16385=relative", "x=/d", "0=/d", "-1=/d",
                          "99999999999=/d", " 1=/d"}) {
    auto m = ParseTablespaceMapping(bad);
    ASSERT_FALSE(m.has_value()) << bad;
    EXPECT_EQ(m.error().code(), ErrorCode::kUsage) << bad;
  }
}

}  // namespace
}  // namespace drctl::command
