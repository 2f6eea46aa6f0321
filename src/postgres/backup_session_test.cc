#include "postgres/backup_session.h"

#include <gtest/gtest.h>

namespace drctl::pg {
namespace {

TEST(ConninfoForDatabaseTest, ReplacesTheDatabaseAndKeepsTheRest) {
  const std::string c =
      ConninfoForDatabase("host=127.0.0.1 port=5433 user=postgres dbname=postgres", "erp");
  EXPECT_NE(c.find("host='127.0.0.1'"), std::string::npos) << c;
  EXPECT_NE(c.find("port='5433'"), std::string::npos) << c;
  EXPECT_NE(c.find("dbname='erp'"), std::string::npos) << c;
  EXPECT_EQ(c.find("dbname='postgres'"), std::string::npos) << c;
}

TEST(ConninfoForDatabaseTest, QuotesNamesWithSpacesAndQuotes) {
  const std::string c = ConninfoForDatabase("host=h", "it's a db\\x");
  EXPECT_NE(c.find(R"(dbname='it\'s a db\\x')"), std::string::npos) << c;
}

TEST(ConninfoForDatabaseTest, WorksOnUris) {
  const std::string c = ConninfoForDatabase("postgresql://u@h:5/postgres", "erp");
  EXPECT_NE(c.find("host='h'"), std::string::npos) << c;
  EXPECT_NE(c.find("port='5'"), std::string::npos) << c;
  EXPECT_NE(c.find("user='u'"), std::string::npos) << c;
  EXPECT_NE(c.find("dbname='erp'"), std::string::npos) << c;
}

}  // namespace
}  // namespace drctl::pg
