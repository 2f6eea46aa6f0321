#include "common/duration.h"

#include <gtest/gtest.h>

namespace drctl {
namespace {

TEST(ParseDuration, SingleUnits) {
  EXPECT_EQ(ParseDuration("90s").value(), Seconds(90));
  EXPECT_EQ(ParseDuration("15m").value(), Seconds(900));
  EXPECT_EQ(ParseDuration("6h").value(), Seconds(21600));
  EXPECT_EQ(ParseDuration("7d").value(), Seconds(604800));
  EXPECT_EQ(ParseDuration("2w").value(), Seconds(1209600));
  EXPECT_EQ(ParseDuration("0s").value(), Seconds(0));
}

TEST(ParseDuration, Combinations) {
  EXPECT_EQ(ParseDuration("1h30m").value(), Seconds(5400));
  EXPECT_EQ(ParseDuration("1d12h").value(), Seconds(129600));
}

void ExpectBad(std::string_view text, std::string_view fragment) {
  auto r = ParseDuration(text);
  ASSERT_FALSE(r.has_value()) << text;
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find(fragment), std::string::npos)
      << "message: " << r.error().message();
}

TEST(ParseDuration, RejectsBadInput) {
  ExpectBad("", "empty duration");
  ExpectBad("15", "number without a unit");
  ExpectBad("15x", "unknown duration unit 'x'");
  ExpectBad("m", "invalid duration \"m\"");
  ExpectBad("-5m", "invalid duration");
  ExpectBad("5 m", "unknown duration unit ' '");
  ExpectBad("30m1h", "misorders");
  ExpectBad("1h1h", "repeats");
  ExpectBad("99999999999999999999s", "too large");
  ExpectBad("9999999999999999w", "too large");
}

TEST(FormatDuration, RoundTrips) {
  for (std::int64_t s : {0L, 1L, 59L, 60L, 5400L, 86400L, 90061L, 31536000L}) {
    auto text = FormatDuration(Seconds(s));
    EXPECT_EQ(ParseDuration(text).value(), Seconds(s)) << text;
  }
  EXPECT_EQ(FormatDuration(Seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(Seconds(0)), "0s");
}

}  // namespace
}  // namespace drctl
