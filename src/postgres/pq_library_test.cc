#include "postgres/pq_library.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <memory>
#include <string>

namespace drctl::pg {
namespace {

TEST(PqLibrary, LoadsOnceAndForwards) {
  ASSERT_TRUE(LoadPq().has_value()) << LoadPq().error().ToString();
  ASSERT_TRUE(LoadPq().has_value());
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse("host=db.example port=6543", &error);
  ASSERT_NE(options, nullptr) << error;
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(options, PQconninfoFree);
  std::string port;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (std::string(o->keyword) == "port" && o->val != nullptr) port = o->val;
  }
  EXPECT_EQ(port, "6543");

  EXPECT_EQ(PQconninfoParse("no-equals-sign", &error), nullptr);
  ASSERT_NE(error, nullptr);
  EXPECT_NE(std::string(error).find("no-equals-sign"), std::string::npos) << error;
  PQfreemem(error);
}

// "threadsafe" death tests run the test in a fresh process: nothing is loaded there yet.
TEST(PqLibraryDeathTest, CallBeforeLoadAbortsNamingTheFunction) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(PQfinish(nullptr),
               "drctl: internal error: PQfinish called before "
               "drctl::pg::LoadPq\\(\\)");
}

}  // namespace
}  // namespace drctl::pg
