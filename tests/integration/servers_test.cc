// The harness brings up real servers and tests can talk to each: a query to PostgreSQL, a PING to
// Redis, signed S3 requests to Swift (which rejects a wrong signature).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "harness/servers.h"
#include "postgres/connection.h"
#include "redis/client.h"

namespace drctl::testing {
namespace {

TEST(PostgresHarness, AnswersAQueryWithChecksumsOn) {
  auto* pg = SharedPostgres();
  ASSERT_NE(pg, nullptr);
  auto conn = pg::Connection::Open(pg->Conninfo());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  auto version = conn->QueryValue("SELECT current_setting('server_version_num')");
  ASSERT_TRUE(version.has_value()) << version.error().ToString();
  EXPECT_TRUE(version->starts_with("15")) << *version;
  EXPECT_EQ(conn->QueryValue("SHOW data_checksums").value(), "on");
  EXPECT_EQ(conn->QueryValue("SHOW wal_level").value(), "replica");
  EXPECT_EQ(conn->QueryValue("SHOW archive_mode").value(), "on");
  EXPECT_EQ(conn->QueryValue("SHOW listen_addresses").value(), "127.0.0.1");
}

TEST(PostgresHarness, RunsAsAnUnprivilegedUser) {
  auto* pg = SharedPostgres();
  ASSERT_NE(pg, nullptr);
  struct stat st {};
  ASSERT_EQ(stat(pg->options().pgdata.c_str(), &st), 0);
  EXPECT_NE(st.st_uid, 0U) << "the data directory must not belong to root";
  std::ifstream status("/proc/" + std::to_string(pg->pid()) + "/status");
  const std::string text((std::istreambuf_iterator<char>(status)),
                         std::istreambuf_iterator<char>());
  const auto uid_at = text.find("\nUid:");
  ASSERT_NE(uid_at, std::string::npos) << text;
  const std::string uid_line = text.substr(uid_at + 1, text.find('\n', uid_at + 1) - uid_at - 1);
  EXPECT_EQ(uid_line.find("\t0\t"), std::string::npos) << uid_line;
}

TEST(PostgresHarness, BadStatementIsAPostgresError) {
  auto* pg = SharedPostgres();
  ASSERT_NE(pg, nullptr);
  auto conn = pg::Connection::Open(pg->Conninfo());
  ASSERT_TRUE(conn.has_value());
  auto r = conn->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kPostgres);
  EXPECT_NE(r.error().message().find("no_such_table"), std::string::npos);
  EXPECT_NE(r.error().message().find("127.0.0.1:" + std::to_string(pg->port())), std::string::npos);
}

TEST(RedisHarness, AnswersPingAndStoresAValue) {
  auto* server = SharedRedis();
  ASSERT_NE(server, nullptr);
  auto client = redis::Client::Connect("127.0.0.1", server->port());
  ASSERT_TRUE(client.has_value()) << client.error().ToString();
  ASSERT_TRUE(client->Ping().has_value());
  ASSERT_TRUE(client->Command({"SET", "drctl:key", std::string("v\0al", 4)}).has_value());
  EXPECT_EQ(client->Command({"GET", "drctl:key"}).value().text, std::string("v\0al", 4));
  auto info = client->Command({"INFO", "server"});
  ASSERT_TRUE(info.has_value());
  EXPECT_NE(info->text.find("redis_version:7."), std::string::npos);
  auto bad = client->Command({"NOSUCHCOMMAND"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::kRedis);
}

TEST(RedisHarness, UnreachableServerIsARedisError) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  auto client = redis::Client::Connect("127.0.0.1", *port, std::chrono::milliseconds(500));
  ASSERT_FALSE(client.has_value());
  EXPECT_EQ(client.error().code(), ErrorCode::kRedis);
  EXPECT_NE(client.error().message().find(std::to_string(*port)), std::string::npos);
}

class SwiftHarness : public ::testing::Test {
 protected:
  void SetUp() override {
    swift_ = SharedSwift();
    ASSERT_NE(swift_, nullptr);
    auto mb = Aws({"s3api", "create-bucket", "--bucket", "harness"});
    ASSERT_TRUE(mb.has_value()) << mb.error().ToString();
    // A second create of our own bucket answers BucketAlreadyOwnedByYou: fine.
    ASSERT_TRUE(mb->exit_status == 0 ||
                mb->err.find("BucketAlreadyOwnedByYou") != std::string::npos)
        << mb->err;
  }

  Result<CommandResult> Aws(std::vector<std::string> args,
                            const std::string& secret = SwiftServer::kSecretKey) {
    return RunAwsCli(swift_->endpoint(), SwiftServer::kAccessKey, secret, std::move(args));
  }

  SwiftServer* swift_ = nullptr;
};

TEST_F(SwiftHarness, SignedPutAndGetRoundTripAKeyWithSpecialCharacters) {
  auto dir = TempDir::Create("drctl-swift-test-");
  ASSERT_TRUE(dir.has_value());
  const auto in = dir->path() / "in";
  const auto out = dir->path() / "out";
  std::string payload;
  for (int i = 0; i < 100000; ++i) payload += static_cast<char>((i * 7919) % 256);
  std::ofstream(in, std::ios::binary) << payload;
  const std::string key = "dir/a:b=c+d \xc3\xbc.bin";
  auto put =
      Aws({"s3api", "put-object", "--bucket", "harness", "--key", key, "--body", in.string()});
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->exit_status, 0) << put->err;
  auto get = Aws({"s3api", "get-object", "--bucket", "harness", "--key", key, out.string()});
  ASSERT_TRUE(get.has_value());
  ASSERT_EQ(get->exit_status, 0) << get->err;
  std::ifstream read_back(out, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(read_back)), std::istreambuf_iterator<char>());
  EXPECT_EQ(got, payload);
}

TEST_F(SwiftHarness, RejectsAWrongSignature) {
  auto r = Aws({"s3api", "list-objects-v2", "--bucket", "harness"}, "not-the-secret");
  ASSERT_TRUE(r.has_value());
  EXPECT_NE(r->exit_status, 0);
  EXPECT_NE(r->err.find("SignatureDoesNotMatch"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace drctl::testing
