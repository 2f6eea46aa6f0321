#include "postgres/connection.h"

#include <gtest/gtest.h>

#include "common/temp_dir.h"

namespace drctl::pg {
namespace {

TEST(MaskConninfo, HidesPasswords) {
  EXPECT_EQ(MaskConninfo("host=h password=secret user=u"), "host=h password=**** user=u");
  EXPECT_EQ(MaskConninfo("password = 'a b\\'c' user=u"), "password = **** user=u");
  EXPECT_EQ(MaskConninfo("host=h user=u"), "host=h user=u");
}

TEST(Connection, UnreachableServerIsAPostgresErrorNamingIt) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  auto c = Connection::Open(
      "host=127.0.0.1 port=" + std::to_string(*port) + " user=postgres password=topsecret",
      std::chrono::seconds(2));
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code(), ErrorCode::kPostgres);
  EXPECT_NE(c.error().message().find("port=" + std::to_string(*port)), std::string::npos);
  EXPECT_EQ(c.error().ToString().find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace drctl::pg
