#include "daemon/alerts.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/process.h"
#include "common/temp_dir.h"
#include "support/webhook_receiver.h"

namespace drctl::daemon {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::int64_t kStart = 1'700'000'000;  // 2023-11-14T22:13:20Z

AlertEvent Firing(std::string key = "objective:rpo:s3") {
  return {.key = std::move(key),
          .state = "firing",
          .summary = "RPO 20m over the 15m objective",
          .details = {{"repo", "s3"}, {"value_seconds", 1200}},
          .since = kStart,
          .time = kStart + 30};
}

AlertEvent Resolved(std::string key = "objective:rpo:s3") {
  AlertEvent e = Firing(std::move(key));
  e.state = "resolved";
  e.time = kStart + 600;
  return e;
}

std::string ThisHost() {
  std::array<char, 256> buf{};
  EXPECT_EQ(gethostname(buf.data(), buf.size() - 1), 0);
  return buf.data();
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteScript(const std::filesystem::path& path, const std::string& body) {
  {
    std::ofstream out(path);
    out << "#!/bin/sh\n" << body << "\n";
  }
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

using Receiver = testing::WebhookReceiver;

AlertsConfig Webhook(const std::string& url, seconds timeout = seconds(5)) {
  return {.webhook = url, .timeout = timeout};
}

AlertsConfig Command(const std::string& command, seconds timeout = seconds(5)) {
  return {.command = command, .timeout = timeout};
}

TEST(AlertPayload, HasEveryDocumentedField) {
  const nlohmann::json expected = {{"drctl_alert", 1},
                                   {"state", "firing"},
                                   {"reminder", false},
                                   {"key", "objective:rpo:s3"},
                                   {"summary", "RPO 20m over the 15m objective"},
                                   {"details", {{"repo", "s3"}, {"value_seconds", 1200}}},
                                   {"since", "2023-11-14T22:13:20Z"},
                                   {"since_unix", kStart},
                                   {"time", "2023-11-14T22:13:50Z"},
                                   {"time_unix", kStart + 30},
                                   {"host", "db1"}};
  EXPECT_EQ(AlertPayload(Firing(), "db1"), expected);
}

TEST(RedactUrl, KeepsSchemeHostAndPathOnly) {
  EXPECT_EQ(RedactUrl("https://hooks.example.com/relay?token=s3cret"),
            "https://hooks.example.com/relay");
  EXPECT_EQ(RedactUrl("https://user:pw@hooks.example.com:8443/a/b?x=1#frag"),
            "https://hooks.example.com:8443/a/b");
  EXPECT_EQ(RedactUrl("http://relay.internal#token"), "http://relay.internal");
  EXPECT_EQ(RedactUrl("user:pw@relay.internal/x?y"), "relay.internal/x");
}

TEST(AlertNotifier, ChannelsFollowTheConfig) {
  EXPECT_FALSE(AlertNotifier(AlertsConfig{}).enabled());
  EXPECT_EQ(AlertNotifier(Webhook("http://x/")).channels(), std::vector<std::string>{"webhook"});
  const AlertNotifier both({.webhook = "http://x/", .command = "true"});
  EXPECT_TRUE(both.enabled());
  EXPECT_EQ(both.channels(), (std::vector<std::string>{"webhook", "command"}));
  auto r = AlertNotifier(Webhook("http://x/")).DeliverTo(kCommandChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
}

TEST(AlertWebhook, ReceiverGetsThePayloadAsJson) {
  Receiver receiver;
  const AlertNotifier notifier(Webhook(receiver.url()));
  auto r = notifier.Deliver(Firing());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  const auto requests = receiver.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].content_type, "application/json");
  EXPECT_EQ(nlohmann::json::parse(requests[0].body), AlertPayload(Firing(), ThisHost()));
}

TEST(AlertWebhook, ErrorStatusNamesUrlWithoutQueryAndTheStatus) {
  Receiver receiver;
  receiver.answer(500);
  const AlertNotifier notifier(Webhook(receiver.url("?token=s3cret")));
  auto r = notifier.DeliverTo(kWebhookChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message(), "webhook " + receiver.url() + " answered HTTP 500");
  EXPECT_EQ(receiver.requests().size(), 1U);
}

TEST(AlertWebhook, ClientErrorIsAConfigError) {
  Receiver receiver;
  receiver.answer(404);
  auto r = AlertNotifier(Webhook(receiver.url())).DeliverTo(kWebhookChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(r.error().message(), "webhook " + receiver.url() + " answered HTTP 404");
}

TEST(AlertWebhook, UnreachableIsUnavailable) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/hook";
  auto r = AlertNotifier(Webhook(url + "?token=s3cret")).DeliverTo(kWebhookChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(r.error().message().starts_with("webhook " + url + ": ")) << r.error().message();
  EXPECT_EQ(r.error().message().find("s3cret"), std::string::npos);
}

TEST(AlertWebhook, OnlyHttpAndHttps) {
  auto r = AlertNotifier(Webhook("file:///etc/passwd")).DeliverTo(kWebhookChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_TRUE(r.error().message().starts_with("webhook file:///etc/passwd: "))
      << r.error().message();
}

TEST(AlertWebhook, SlowReceiverTimesOut) {
  Receiver receiver;
  receiver.delay(milliseconds(3000));
  const auto start = steady_clock::now();
  auto r = AlertNotifier(Webhook(receiver.url(), seconds(1))).DeliverTo(kWebhookChannel, Firing());
  const auto took = steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);
  EXPECT_LT(took, milliseconds(2500));
}

TEST(AlertCommand, GetsThePayloadOnStdinAndTheEnvironment) {
  auto dir = TempDir::Create("drctl_alerts_test_");
  ASSERT_TRUE(dir.has_value());
  const auto payload = dir->path() / "payload.json";
  const auto env = dir->path() / "env";
  const AlertNotifier notifier(
      Command("cat > '" + payload.string() + "' && printf '%s\\n' \"$DRCTL_ALERT_STATE\" " +
              "\"$DRCTL_ALERT_KEY\" \"$DRCTL_ALERT_SUMMARY\" \"$DRCTL_ALERT_REMINDER\" > '" +
              env.string() + "'"));
  auto r = notifier.Deliver(Firing());
  ASSERT_TRUE(r.has_value()) << r.error().ToString();
  EXPECT_EQ(nlohmann::json::parse(ReadFile(payload)), AlertPayload(Firing(), ThisHost()));
  EXPECT_EQ(ReadFile(env), "firing\nobjective:rpo:s3\nRPO 20m over the 15m objective\n0\n");
}

TEST(AlertCommand, FailureNamesFirstWordStatusAndLastStderrLine) {
  auto dir = TempDir::Create("drctl_alerts_test_");
  ASSERT_TRUE(dir.has_value());
  const auto script = dir->path() / "page-oncall";
  WriteScript(script, "echo starting >&2\necho 'no pager for team dr' >&2\nexit 3");
  auto r = AlertNotifier(Command(script.string() + " --team dr")).Deliver(Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCommandFailed);
  EXPECT_EQ(r.error().message(),
            "alert objective:rpo:s3 (firing) not delivered: command: alert "
            "command " +
                script.string() + " exited with status 3: no pager for team dr");
}

TEST(AlertCommand, ExitStatusAlone) {
  auto r = AlertNotifier(Command("exit 3")).DeliverTo(kCommandChannel, Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCommandFailed);
  EXPECT_EQ(r.error().message(), "alert command exit exited with status 3");
}

TEST(AlertCommand, SlowCommandIsKilledAtTheTimeout) {
  auto dir = TempDir::Create("drctl_alerts_test_");
  ASSERT_TRUE(dir.has_value());
  const auto pid_file = dir->path() / "pid";
  const auto start = steady_clock::now();
  auto r =
      AlertNotifier(Command("sleep 30 & echo $! > '" + pid_file.string() + "'; wait", seconds(1)))
          .DeliverTo(kCommandChannel, Firing());
  const auto took = steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kTimeout);
  EXPECT_EQ(r.error().message(), "alert command sleep did not finish within 1 s; it was killed");
  EXPECT_LT(took, milliseconds(2500));
  pid_t sleeper = 0;
  std::ifstream(pid_file) >> sleeper;
  ASSERT_GT(sleeper, 0);
  for (int i = 0; i < 500 && PidAlive(sleeper); ++i) std::this_thread::sleep_for(milliseconds(10));
  EXPECT_FALSE(PidAlive(sleeper));
}

TEST(AlertNotifier, BothChannelsAreAttemptedAndEveryFailureNamed) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/hook";
  auto dir = TempDir::Create("drctl_alerts_test_");
  ASSERT_TRUE(dir.has_value());
  const auto ran = dir->path() / "ran";
  const AlertNotifier notifier({.webhook = url, .command = "touch '" + ran.string() + "'; exit 4"});
  auto r = notifier.Deliver(Firing());
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kUnavailable);  // the first failure's
  const std::string& m = r.error().message();
  EXPECT_NE(m.find("webhook: webhook " + url + ": "), std::string::npos) << m;
  EXPECT_NE(m.find("; command: alert command touch exited with status 4"), std::string::npos) << m;
  EXPECT_TRUE(std::filesystem::exists(ran));
}

// ---- AlertOutbox ----

// Firing() was queued at kStart and its first delivery failed: the receiver answered 500.
class OutboxAfterAFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    receiver_.answer(500);
    outbox_.Add(Firing(), notifier_.channels(), kStart);
    ASSERT_EQ(outbox_.Flush(notifier_, kStart), 1U);
    ASSERT_EQ(receiver_.requests().size(), 1U);
  }

  Receiver receiver_;
  const AlertNotifier notifier_{Webhook(receiver_.url())};
  AlertOutbox outbox_;
};

TEST_F(OutboxAfterAFailure, RetriesLaterAndDeliversOnce) {
  ASSERT_EQ(outbox_.entries().size(), 1U);
  EXPECT_EQ(outbox_.entries()[0].attempts, 1);
  EXPECT_EQ(outbox_.entries()[0].next_attempt, kStart + 5);
  EXPECT_EQ(outbox_.entries()[0].last_error, "webhook " + receiver_.url() + " answered HTTP 500");
  EXPECT_EQ(outbox_.NextAttempt(), kStart + 5);

  EXPECT_EQ(outbox_.Flush(notifier_, kStart + 4), 1U);  // not due yet
  EXPECT_EQ(receiver_.requests().size(), 1U);

  receiver_.answer(200);
  EXPECT_EQ(outbox_.Flush(notifier_, kStart + 5), 0U);
  EXPECT_EQ(outbox_.NextAttempt(), std::nullopt);
  EXPECT_EQ(outbox_.Flush(notifier_, kStart + 3600), 0U);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(requests[1].body, requests[0].body);
}

TEST_F(OutboxAfterAFailure, KeepsTheOrderPerChannel) {
  receiver_.answer(200);
  // The resolved event is due at once but waits behind the firing one.
  outbox_.Add(Resolved(), notifier_.channels(), kStart + 1);
  EXPECT_EQ(outbox_.NextAttempt(), kStart + 5);
  EXPECT_EQ(outbox_.Flush(notifier_, kStart + 1), 2U);
  EXPECT_EQ(receiver_.requests().size(), 1U);
  EXPECT_EQ(outbox_.Flush(notifier_, kStart + 5), 0U);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 3U);
  EXPECT_EQ(nlohmann::json::parse(requests[1].body)["state"], "firing");
  EXPECT_EQ(nlohmann::json::parse(requests[2].body)["state"], "resolved");
}

TEST_F(OutboxAfterAFailure, SurvivesARestart) {
  const std::string saved = outbox_.ToJson().dump();
  auto after = AlertOutbox::FromJson(nlohmann::json::parse(saved));
  ASSERT_TRUE(after.has_value()) << after.error().ToString();
  ASSERT_EQ(after->entries().size(), 1U);
  EXPECT_EQ(after->entries()[0].attempts, 1);
  EXPECT_EQ(after->NextAttempt(), kStart + 5);
  receiver_.answer(200);
  EXPECT_EQ(after->Flush(notifier_, kStart + 5), 0U);
  const auto requests = receiver_.requests();
  ASSERT_EQ(requests.size(), 2U);
  EXPECT_EQ(nlohmann::json::parse(requests[1].body), AlertPayload(Firing(), ThisHost()));
}

TEST(AlertOutbox, BacksOffUpToFiveMinutesAndGivesUpAfterADay) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  const AlertNotifier notifier(Webhook("http://127.0.0.1:" + std::to_string(*port) + "/"));
  AlertOutbox outbox;
  outbox.Add(Firing(), notifier.channels(), kStart);
  std::vector<std::int64_t> delays;
  std::int64_t now = kStart;
  for (int i = 0; i < 8; ++i) {
    ASSERT_EQ(outbox.Flush(notifier, now), 1U);
    delays.push_back(outbox.entries()[0].next_attempt - now);
    now = outbox.entries()[0].next_attempt;
  }
  EXPECT_EQ(delays, (std::vector<std::int64_t>{5, 10, 20, 40, 80, 160, 300, 300}));
  const std::int64_t day = AlertOutbox::kGiveUpAfter.count();
  EXPECT_EQ(day, 86400);
  EXPECT_EQ(outbox.Flush(notifier, kStart + day - 1), 1U);
  EXPECT_EQ(outbox.Flush(notifier, kStart + day), 0U);  // given up
}

TEST(AlertOutbox, RetriesOnlyTheChannelThatFailed) {
  Receiver receiver;
  receiver.answer(500);
  auto dir = TempDir::Create("drctl_alerts_test_");
  ASSERT_TRUE(dir.has_value());
  const auto log = dir->path() / "log";
  const AlertNotifier notifier(
      {.webhook = receiver.url(),
       .command = "cat >> '" + log.string() + "'; echo >> '" + log.string() + "'"});
  AlertOutbox outbox;
  outbox.Add(Firing(), notifier.channels(), kStart);
  EXPECT_EQ(outbox.Flush(notifier, kStart), 1U);
  ASSERT_EQ(outbox.entries().size(), 1U);
  EXPECT_EQ(outbox.entries()[0].channels, std::vector<std::string>{"webhook"});
  receiver.answer(200);
  EXPECT_EQ(outbox.Flush(notifier, kStart + 5), 0U);
  EXPECT_EQ(receiver.requests().size(), 2U);
  const std::string lines = ReadFile(log);
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 1) << lines;  // the command ran once
}

TEST(AlertOutbox, DropsChannelsNoLongerConfigured) {
  AlertOutbox outbox;
  outbox.Add(Firing(), {"webhook", "command"}, kStart);
  EXPECT_EQ(outbox.Flush(AlertNotifier(AlertsConfig{}), kStart), 0U);
  outbox.Add(Firing(), {}, kStart);  // nothing to deliver to: not queued
  EXPECT_TRUE(outbox.entries().empty());
}

TEST(AlertOutbox, IsBounded) {
  AlertOutbox outbox;
  for (std::size_t i = 0; i < AlertOutbox::kMaxEntries + 5; ++i) {
    outbox.Add(Firing("job:" + std::to_string(i)), {"webhook"}, kStart);
  }
  ASSERT_EQ(outbox.entries().size(), AlertOutbox::kMaxEntries);
  EXPECT_EQ(outbox.entries().front().event.key, "job:5");  // the oldest were dropped
}

TEST(AlertOutbox, CorruptStateIsAnError) {
  AlertOutbox outbox;
  outbox.Add(Firing(), {"webhook"}, kStart);
  const nlohmann::json good = outbox.ToJson();
  ASSERT_TRUE(AlertOutbox::FromJson(good).has_value());
  const auto expect_corrupt = [](const nlohmann::json& json, const std::string& message) {
    auto r = AlertOutbox::FromJson(json);
    ASSERT_FALSE(r.has_value()) << json.dump();
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
    EXPECT_EQ(r.error().message(), message);
  };
  expect_corrupt(nlohmann::json::array(), "alert outbox: not a JSON object");
  expect_corrupt({{"version", 1}}, "alert outbox: field 'entries' is missing");
  nlohmann::json j = good;
  j["entries"][0]["channels"] = {"pager"};
  expect_corrupt(j, "alert outbox: entries[0]: field 'channels' holds \"pager\"");
  j = good;
  j["entries"][0]["attempts"] = -1;
  expect_corrupt(j, "alert outbox: entries[0]: field 'attempts' is out of range");
  j = good;
  j["entries"][0].erase("next_attempt");
  expect_corrupt(j, "alert outbox: entries[0]: field 'next_attempt' is missing");
  j = good;
  j["entries"][0]["event"].erase("since");
  expect_corrupt(j, "alert outbox: entries[0].event: field 'since' is missing");
}

}  // namespace
}  // namespace drctl::daemon
