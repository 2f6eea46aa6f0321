#include "daemon/alert_tracker.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace drctl::daemon {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr std::int64_t kStart = 1'700'000'000;

Condition Rpo(std::string summary = "RPO 20m over 15m") {
  return {.key = "objective:rpo:s3", .summary = std::move(summary), .details = {{"value", 1200}}};
}

Condition BackupJob() {
  return {.key = "job:backup", .summary = "backup failed 3 times", .details = {{"failures", 3}}};
}

// Events as "state key time" (reminders as "reminder key time"), for compact expectations.
std::vector<std::string> Brief(const std::vector<AlertEvent>& events) {
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const auto& e : events) {
    out.push_back((e.reminder ? std::string("reminder") : e.state) + " " + e.key + " " +
                  std::to_string(e.time - kStart));
  }
  return out;
}

// Replays `tracker` from `from` to `to` (exclusive) every `step` seconds with `active` conditions.
std::vector<std::string> Replay(AlertTracker& tracker, std::int64_t from, std::int64_t to,
                                std::int64_t step, const std::vector<Condition>& active) {
  std::vector<std::string> out;
  for (std::int64_t t = from; t < to; t += step) {
    for (auto& line : Brief(tracker.Update(active, kStart + t))) out.push_back(std::move(line));
  }
  return out;
}

TEST(AlertTracker, HourLongBreachFiresOnceAndResolvesOnce) {
  AlertTracker tracker(hours(24));
  EXPECT_EQ(Replay(tracker, 0, 3600, 2, {Rpo()}),
            (std::vector<std::string>{"firing objective:rpo:s3 0"}));
  EXPECT_EQ(Replay(tracker, 3600, 7200, 2, {}),
            (std::vector<std::string>{"resolved objective:rpo:s3 3600"}));
}

TEST(AlertTracker, EventsCarryTheCondition) {
  AlertTracker tracker(hours(24));
  auto fired = tracker.Update({Rpo("RPO 20m over 15m")}, kStart);
  ASSERT_EQ(fired.size(), 1U);
  EXPECT_EQ(fired[0].key, "objective:rpo:s3");
  EXPECT_EQ(fired[0].state, "firing");
  EXPECT_FALSE(fired[0].reminder);
  EXPECT_EQ(fired[0].summary, "RPO 20m over 15m");
  EXPECT_EQ(fired[0].details, (nlohmann::json{{"value", 1200}}));
  EXPECT_EQ(fired[0].since, kStart);
  EXPECT_EQ(fired[0].time, kStart);

  EXPECT_TRUE(tracker.Update({Rpo("RPO 25m over 15m")}, kStart + 60).empty());
  auto resolved = tracker.Update({}, kStart + 120);
  ASSERT_EQ(resolved.size(), 1U);
  EXPECT_EQ(resolved[0].state, "resolved");
  EXPECT_EQ(resolved[0].summary, "RPO 25m over 15m");  // the last one seen
  EXPECT_EQ(resolved[0].since, kStart);
  EXPECT_EQ(resolved[0].time, kStart + 120);
}

TEST(AlertTracker, RemindsEveryRepeatWhileActive) {
  AlertTracker tracker(hours(1));
  EXPECT_EQ(Replay(tracker, 0, 3 * 3600 + 10, 2, {Rpo()}),
            (std::vector<std::string>{"firing objective:rpo:s3 0", "reminder objective:rpo:s3 3600",
                                      "reminder objective:rpo:s3 7200",
                                      "reminder objective:rpo:s3 10800"}));
}

TEST(AlertTracker, RepeatZeroNeverReminds) {
  AlertTracker tracker(seconds(0));
  EXPECT_EQ(Replay(tracker, 0, std::int64_t{3} * 86400, 600, {Rpo()}),
            (std::vector<std::string>{"firing objective:rpo:s3 0"}));
}

TEST(AlertTracker, KeysAreIndependent) {
  AlertTracker tracker(hours(24));
  EXPECT_EQ(Brief(tracker.Update({Rpo()}, kStart)),
            (std::vector<std::string>{"firing objective:rpo:s3 0"}));
  EXPECT_EQ(Brief(tracker.Update({Rpo(), BackupJob()}, kStart + 10)),
            (std::vector<std::string>{"firing job:backup 10"}));
  EXPECT_EQ(Brief(tracker.Update({BackupJob()}, kStart + 20)),
            (std::vector<std::string>{"resolved objective:rpo:s3 20"}));
  EXPECT_EQ(Brief(tracker.Update({BackupJob(), Rpo()}, kStart + 30)),
            (std::vector<std::string>{"firing objective:rpo:s3 30"}));
  EXPECT_EQ(Brief(tracker.Update({}, kStart + 40)),
            (std::vector<std::string>{"resolved job:backup 40", "resolved objective:rpo:s3 40"}));
}

TEST(AlertTracker, DuplicateKeyCountsOnce) {
  AlertTracker tracker(hours(24));
  EXPECT_EQ(Brief(tracker.Update({Rpo("first"), Rpo("second")}, kStart)),
            (std::vector<std::string>{"firing objective:rpo:s3 0"}));
  ASSERT_EQ(tracker.Active().size(), 1U);
  EXPECT_EQ(tracker.Active()[0].summary, "first");
}

TEST(AlertTracker, ActiveListsWhatIsFiring) {
  AlertTracker tracker(hours(1));
  (void)tracker.Update({Rpo(), BackupJob()}, kStart);
  (void)tracker.Update({Rpo(), BackupJob()}, kStart + 3600);  // reminders
  const auto active = tracker.Active();
  ASSERT_EQ(active.size(), 2U);
  EXPECT_EQ(active[0].key, "job:backup");
  EXPECT_EQ(active[1].key, "objective:rpo:s3");
  EXPECT_EQ(active[1].since, kStart);
  EXPECT_EQ(active[1].last_sent, kStart + 3600);
}

TEST(AlertTracker, RestartDuringOutageDoesNotFireAgain) {
  AlertTracker before(hours(1));
  EXPECT_EQ(Replay(before, 0, 1800, 2, {Rpo()}),
            (std::vector<std::string>{"firing objective:rpo:s3 0"}));
  const std::string saved = before.ToJson().dump();

  auto after = AlertTracker::FromJson(nlohmann::json::parse(saved), hours(1));
  ASSERT_TRUE(after.has_value()) << after.error().message();
  // The reminder keeps its schedule across the restart: an hour after the firing.
  EXPECT_EQ(Replay(*after, 1900, 3700, 2, {Rpo()}),
            (std::vector<std::string>{"reminder objective:rpo:s3 3600"}));
  EXPECT_EQ(Brief(after->Update({}, kStart + 4000)),
            (std::vector<std::string>{"resolved objective:rpo:s3 4000"}));
}

TEST(AlertTracker, ClearedWhileDownResolvesOnFirstUpdate) {
  AlertTracker before(hours(24));
  (void)before.Update({Rpo(), BackupJob()}, kStart);
  auto after = AlertTracker::FromJson(before.ToJson(), hours(24));
  ASSERT_TRUE(after.has_value()) << after.error().message();
  auto events = after->Update({BackupJob()}, kStart + 600);
  ASSERT_EQ(Brief(events), (std::vector<std::string>{"resolved objective:rpo:s3 600"}));
  EXPECT_EQ(events[0].since, kStart);
  EXPECT_EQ(events[0].summary, "RPO 20m over 15m");
  EXPECT_EQ(events[0].details, (nlohmann::json{{"value", 1200}}));
}

TEST(AlertTracker, EmptyStateRoundTrips) {
  auto tracker = AlertTracker::FromJson(AlertTracker(hours(1)).ToJson(), hours(1));
  ASSERT_TRUE(tracker.has_value()) << tracker.error().message();
  EXPECT_TRUE(tracker->Active().empty());
}

// Each corruption, one by one: an error naming what is wrong, never a crash.
TEST(AlertTracker, CorruptStateIsAnError) {
  const nlohmann::json good = [] {
    AlertTracker t(hours(1));
    (void)t.Update({Rpo()}, kStart);
    return t.ToJson();
  }();
  const auto expect_corrupt = [](const nlohmann::json& json, const std::string& message) {
    auto r = AlertTracker::FromJson(json, hours(1));
    ASSERT_FALSE(r.has_value()) << json.dump();
    EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
    EXPECT_EQ(r.error().message(), message);
  };
  expect_corrupt(nullptr, "alert state: not a JSON object");
  expect_corrupt(nlohmann::json::array(), "alert state: not a JSON object");
  expect_corrupt({{"active", nlohmann::json::array()}}, "alert state: field 'version' is missing");
  expect_corrupt({{"version", 2}, {"active", nlohmann::json::array()}},
                 "alert state: field 'version' is 2, not 1");
  expect_corrupt({{"version", 1}, {"active", {{"key", "x"}}}},
                 "alert state: field 'active' is not an array");

  auto with = [&good](const std::string& field, const nlohmann::json& value) {
    nlohmann::json j = good;
    if (value.is_discarded()) {
      j["active"][0].erase(field);
    } else {
      j["active"][0][field] = value;
    }
    return j;
  };
  const auto missing = nlohmann::json::value_t::discarded;
  expect_corrupt(with("key", missing), "alert state: active[0]: field 'key' is missing");
  expect_corrupt(with("key", 5), "alert state: active[0]: field 'key' is not a string");
  expect_corrupt(with("key", ""), "alert state: active[0]: field 'key' is empty");
  expect_corrupt(with("summary", nullptr),
                 "alert state: active[0]: field 'summary' is not a string");
  expect_corrupt(with("details", missing), "alert state: active[0]: field 'details' is missing");
  expect_corrupt(with("since", "yesterday"),
                 "alert state: active[0]: field 'since' is not an integer");
  expect_corrupt(with("since", 1.5), "alert state: active[0]: field 'since' is not an integer");
  expect_corrupt(with("last_sent", std::numeric_limits<std::uint64_t>::max()),
                 "alert state: active[0]: field 'last_sent' is out of range");

  nlohmann::json twice = good;
  twice["active"].push_back(good["active"][0]);
  expect_corrupt(twice, "alert state: field 'active' lists 'objective:rpo:s3' twice");
}

TEST(AlertEventJson, RoundTrips) {
  const AlertEvent event{.key = "job:backup",
                         .state = "firing",
                         .reminder = true,
                         .summary = "backup failed",
                         .details = {{"exit", 3}},
                         .since = kStart,
                         .time = kStart + 5};
  auto back = EventFromJson(EventJson(event));
  ASSERT_TRUE(back.has_value()) << back.error().message();
  EXPECT_EQ(EventJson(*back), EventJson(event));
}

TEST(AlertEventJson, UnknownStateIsCorrupt) {
  nlohmann::json j = EventJson({.key = "k", .state = "firing"});
  j["state"] = "exploded";
  auto r = EventFromJson(j);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(r.error().message(), "alert event: field 'state' is 'exploded'");
}

}  // namespace
}  // namespace drctl::daemon
