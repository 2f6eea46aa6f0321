#include "common/error.h"

#include <gtest/gtest.h>

#include <set>

#include "common/result.h"

namespace drctl {
namespace {

TEST(ErrorCatalog, EveryCodeHasOneEntryInOrder) {
  auto catalog = ErrorCatalog();
  ASSERT_EQ(catalog.size(), static_cast<std::size_t>(ErrorCode::kCommandFailed) + 1);
  for (std::size_t i = 0; i < catalog.size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(catalog[i].code), i) << catalog[i].name;
  }
}

TEST(ErrorCatalog, NamesAndExitCodesAreUnique) {
  std::set<std::string_view> names;
  std::set<int> exits;
  for (const auto& info : ErrorCatalog()) {
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_TRUE(exits.insert(info.exit_code).second) << info.name;
    EXPECT_FALSE(info.meaning.empty()) << info.name;
  }
}

TEST(ErrorCatalog, ExitCodesAreStable) {
  // Operators' scripts branch on these numbers; changing one is a breaking change.
  EXPECT_EQ(InfoFor(ErrorCode::kConfig).exit_code, 3);
  EXPECT_EQ(InfoFor(ErrorCode::kAuth).exit_code, 7);
  EXPECT_EQ(InfoFor(ErrorCode::kWrongSecret).exit_code, 8);
  EXPECT_EQ(InfoFor(ErrorCode::kCorrupt).exit_code, 9);
  EXPECT_EQ(InfoFor(ErrorCode::kCommandFailed).exit_code, 20);
}

TEST(Error, RetryableFollowsCatalog) {
  EXPECT_TRUE(Error(ErrorCode::kUnavailable, "x").retryable());
  EXPECT_FALSE(Error(ErrorCode::kAuth, "x").retryable());
}

TEST(Error, WithContextPrefixesMessageKeepsCodeAndHint) {
  Error e(ErrorCode::kIo, "open failed", "check permissions");
  Error c = e.WithContext("reading /x");
  EXPECT_EQ(c.code(), ErrorCode::kIo);
  EXPECT_EQ(c.message(), "reading /x: open failed");
  EXPECT_EQ(c.hint(), "check permissions");
  EXPECT_EQ(c.ToString(), "reading /x: open failed (hint: check permissions)");
}

Status FailsWhen(bool fail) {
  if (fail) return Fail(ErrorCode::kNotFound, "missing");
  return Ok();
}

Result<int> Chain(bool fail) {
  DRCTL_TRY(FailsWhen(fail));
  return 7;
}

TEST(Result, TryPropagatesTheError) {
  auto bad = Chain(true);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(bad.error().message(), "missing");
  EXPECT_EQ(Chain(false).value(), 7);
}

}  // namespace
}  // namespace drctl
