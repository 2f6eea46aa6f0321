#include "daemon/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <nlohmann/json.hpp>

namespace drctl::daemon {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

DaemonSnapshot FixedSnapshot() {
  DaemonSnapshot s;
  s.started_at = 1'714'000'000;
  s.now = 1'714'000'600;
  s.version = "0.1.0-test";
  s.status.measured_at = 1'714'000'590;
  command::RepoStatus repo;
  repo.facts.repo = "local";
  repo.facts.reachable = true;
  repo.objectives = {{.name = "rpo", .value_seconds = 0, .objective_seconds = 900}};
  s.status.repos = {repo};
  s.jobs = {{.name = "backup", .schedule = "0 */6 * * *", .runs_ok = 1}};
  return s;
}

std::unique_ptr<HttpServer> StartOrDie(std::optional<std::string> token = std::nullopt,
                                       std::atomic<int>* calls = nullptr) {
  auto server = HttpServer::Start("127.0.0.1:0", false, std::move(token), [calls] {
    if (calls != nullptr) ++*calls;
    return FixedSnapshot();
  });
  EXPECT_TRUE(server.has_value()) << server.error().ToString();
  return server ? std::move(*server) : nullptr;
}

httplib::Result Get(const HttpServer& server, const std::string& path,
                    const httplib::Headers& headers = {}) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client.Get(path, headers);
}

TEST(HttpServer, ServesEveryRoute) {
  std::atomic<int> calls = 0;
  auto server = StartOrDie(std::nullopt, &calls);
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);

  auto health = Get(*server, "/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok");
  EXPECT_EQ(calls, 0) << "/healthz must not take a snapshot";

  auto metrics = Get(*server, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(metrics->body, HasSubstr("\ndrctl_daemon_start_time_seconds 1714000000\n"));

  auto status = Get(*server, "/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->get_header_value("Content-Type"), "application/json");
  EXPECT_THAT(status->body, HasSubstr("\n  \"jobs\": [")) << "2-space indent";
  const auto json = nlohmann::json::parse(status->body);
  EXPECT_EQ(json.at("version"), "0.1.0-test");
  EXPECT_EQ(json.at("jobs").at(0).at("name"), "backup");

  auto page = Get(*server, "/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_THAT(page->get_header_value("Content-Security-Policy"), StartsWith("default-src 'none'"));
  EXPECT_THAT(page->body, StartsWith("<!DOCTYPE html>"));
  EXPECT_THAT(page->body, HasSubstr(R"(id="objectives-local")"));
  EXPECT_EQ(calls, 3);

  for (const std::string path : {"/nope", "/metrics/", "/status.json", "/healthz/x"}) {
    auto missing = Get(*server, path);
    ASSERT_TRUE(missing) << path;
    EXPECT_EQ(missing->status, 404) << path;
  }
  httplib::Client client("127.0.0.1", server->port());
  auto head = client.Head("/healthz");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  auto post = client.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
}

TEST(HttpServer, TokenGuardsEverythingButHealthz) {
  auto server = StartOrDie("s3cret-token");
  ASSERT_NE(server, nullptr);
  for (const std::string path : {"/metrics", "/status", "/", "/nope"}) {
    auto anonymous = Get(*server, path);
    ASSERT_TRUE(anonymous) << path;
    EXPECT_EQ(anonymous->status, 401) << path;
    EXPECT_EQ(anonymous->get_header_value("WWW-Authenticate"), R"(Bearer realm="drctl")");
    EXPECT_THAT(anonymous->body, Not(HasSubstr("s3cret")));
    for (const std::string wrong :
         {"Bearer s3cret-tokeN", "Bearer s3cret", "Bearer s3cret-token2", "Basic s3cret-token",
          "s3cret-token", "Bearer  s3cret-token", "Bearer "}) {
      auto denied = Get(*server, path, {{"Authorization", wrong}});
      ASSERT_TRUE(denied);
      EXPECT_EQ(denied->status, 401) << path << " with " << wrong;
    }
  }
  auto health = Get(*server, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  for (const std::string path : {"/metrics", "/status", "/"}) {
    auto allowed = Get(*server, path, {{"Authorization", "Bearer s3cret-token"}});
    ASSERT_TRUE(allowed) << path;
    EXPECT_EQ(allowed->status, 200) << path;
  }
  auto missing = Get(*server, "/nope", {{"Authorization", "Bearer s3cret-token"}});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpServer, RefusesNonLoopbackUnlessAllowed) {
  for (const std::string listen : {"0.0.0.0:0", "[::]:0", "192.0.2.10:9187", "example.com:9187",
                                   "127.0.0.1.example.com:9187"}) {
    auto server = HttpServer::Start(listen, false, std::nullopt, FixedSnapshot);
    ASSERT_FALSE(server.has_value()) << listen;
    EXPECT_EQ(server.error().code(), ErrorCode::kConfig) << listen;
    EXPECT_THAT(server.error().message(), HasSubstr("refusing to listen on " + listen));
    EXPECT_THAT(server.error().message(), HasSubstr("[daemon] allow_remote is false"));
    EXPECT_THAT(server.error().hint(), HasSubstr("[daemon] allow_remote = true"));
  }
}

TEST(HttpServer, RefusesAnEmptyToken) {
  auto server = HttpServer::Start("127.0.0.1:0", false, std::string(), FixedSnapshot);
  ASSERT_FALSE(server.has_value());
  EXPECT_EQ(server.error().code(), ErrorCode::kConfig);
  EXPECT_THAT(server.error().message(), HasSubstr("[daemon] token"));
}

TEST(HttpServer, PortInUseIsAClearError) {
  auto first = StartOrDie();
  ASSERT_NE(first, nullptr);
  const std::string listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = HttpServer::Start(listen, false, std::nullopt, FixedSnapshot);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), ErrorCode::kPrecondition);
  EXPECT_THAT(second.error().message(), HasSubstr("cannot listen on " + listen));
  EXPECT_THAT(second.error().message(), HasSubstr("in use"));
  EXPECT_THAT(second.error().hint(), HasSubstr("[daemon] listen"));
  // The first one is unharmed.
  auto health = Get(*first, "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST(HttpServer, StopEndsServingAndIsIdempotent) {
  auto server = StartOrDie();
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Stop();
  server->Stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(2));
  EXPECT_FALSE(client.Get("/healthz"));
  // The port is free again at once.
  auto again =
      HttpServer::Start("127.0.0.1:" + std::to_string(port), false, std::nullopt, FixedSnapshot);
  ASSERT_TRUE(again.has_value()) << again.error().ToString();
}

TEST(HttpServer, ListensOnIpv6Loopback) {
  auto server = HttpServer::Start("[::1]:0", false, std::nullopt, FixedSnapshot);
  if (!server && (server.error().message().ends_with("Cannot assign requested address") ||
                  server.error().message().ends_with("Address family not supported by protocol"))) {
    GTEST_SKIP() << "this host has no IPv6 loopback: " << server.error().ToString();
  }
  ASSERT_TRUE(server.has_value()) << server.error().ToString();
  httplib::Client client("::1", (*server)->port());
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health) << httplib::to_string(health.error());
  EXPECT_EQ(health->status, 200);
}

TEST(ParseListenAddress, HostAndPort) {
  auto v4 = ParseListenAddress("127.0.0.1:9187");
  ASSERT_TRUE(v4.has_value());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 9187);
  auto v6 = ParseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  auto name = ParseListenAddress("localhost:80");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->host, "localhost");
}

TEST(ParseListenAddress, RejectsMalformed) {
  for (const std::string text :
       {"", "127.0.0.1", "127.0.0.1:", ":9187", "::1:9187", "[::1]", "[::1]9187", "127.0.0.1:65536",
        "127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1: 80"}) {
    auto address = ParseListenAddress(text);
    ASSERT_FALSE(address.has_value()) << text;
    EXPECT_EQ(address.error().code(), ErrorCode::kConfig) << text;
    EXPECT_THAT(address.error().message(), HasSubstr("[daemon] listen = \"" + text + "\""));
  }
}

TEST(IsLoopbackHost, OnlyLoopbackAddresses) {
  for (const char* host : {"127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1", "localhost",
                           "LocalHost", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"0.0.0.0", "::", "128.0.0.1", "10.0.0.1", "::2", "::ffff:10.0.0.1",
                           "localhost.example.com", "127.1", "", "example.com"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
}

TEST(BearerTokenMatches, ExactTokenOnly) {
  EXPECT_TRUE(BearerTokenMatches("Bearer abc", "abc"));
  EXPECT_TRUE(BearerTokenMatches("bearer abc", "abc")) << "the scheme is case-insensitive";
  EXPECT_FALSE(BearerTokenMatches("Bearer abC", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ab", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer abcd", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer", "abc"));
  EXPECT_FALSE(BearerTokenMatches("", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", ""));
}

}  // namespace
}  // namespace drctl::daemon
