// De-duplication of alerts (doc/alerts.md): the daemon reports, at each refresh, the conditions
// that are wrong right now; AlertTracker turns that level into edges. A condition that appears
// fires once, one that disappears resolves once, and one that stays active is re-sent as a
// reminder every `repeat` (never when `repeat` is 0). A pure state machine: time is passed in,
// nothing is sent from here (alerts.h delivers). Its state survives a daemon restart through
// ToJson/FromJson, so a restart during an outage does not fire again, and a condition that
// cleared while the daemon was down resolves on the first Update.
//
// There is no flapping guard: every transition the daemon observes is an event. The daemon
// measures once per refresh (30 s by default), so a condition that flips at every measurement
// sends at most one event per refresh.
//
// Not thread-safe: the daemon calls it from one thread (or under its lock).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::daemon {

// Something wrong right now, as the daemon sees it.
struct Condition {
  std::string key;      // stable identity: "objective:rpo:s3", "job:backup", "repo:s3:unreachable"
  std::string summary;  // one line for a human
  nlohmann::json details = nlohmann::json::object();  // anything structured (measured values)
};

struct AlertEvent {
  std::string key;
  std::string state;      // "firing" or "resolved"
  bool reminder = false;  // firing again for a condition that stayed active `repeat` long
  std::string summary;    // resolved: the last summary seen while it was active
  nlohmann::json details = nlohmann::json::object();
  std::int64_t since = 0;  // Unix seconds the condition became active
  std::int64_t time = 0;   // Unix seconds of this event
};

struct ActiveAlert {
  std::string key;
  std::string summary;
  nlohmann::json details = nlohmann::json::object();
  std::int64_t since = 0;      // Unix seconds it became active
  std::int64_t last_sent = 0;  // Unix seconds of its last firing or reminder event
};

class AlertTracker {
 public:
  // `repeat`: how long an active alert waits before a reminder; 0: no reminders.
  explicit AlertTracker(std::chrono::seconds repeat) : repeat_(repeat) {}

  // `active_now`: every condition that holds at `now` (Unix seconds); a key listed twice counts
  // once (the first entry). Returns, for the keys of `active_now` in their order, a firing event
  // for each that was not active and a reminder for each whose last event is at least `repeat`
  // old; then a resolved event for each active key that is not listed any more (by key). Active
  // keys take the latest summary and details.
  std::vector<AlertEvent> Update(const std::vector<Condition>& active_now, std::int64_t now);

  // Active alerts, by key.
  std::vector<ActiveAlert> Active() const;

  // {"version": 1, "active": [{"key", "summary", "details", "since", "last_sent"}, ...]}
  nlohmann::json ToJson() const;
  // Reads ToJson's document back; kCorrupt naming the field when it is not one.
  static Result<AlertTracker> FromJson(const nlohmann::json& json, std::chrono::seconds repeat);

 private:
  std::chrono::seconds repeat_;
  std::map<std::string, ActiveAlert> active_;  // by key
};

// An event as the outbox stores it (alerts.h), and back (kCorrupt naming `what` and the field).
nlohmann::json EventJson(const AlertEvent& event);
Result<AlertEvent> EventFromJson(const nlohmann::json& json, std::string what = "alert event");

// Strict reading of one object of the alert state (tracker, outbox): a missing field or a wrong
// type is kCorrupt naming `what` and the field. Borrows the json, which must outlive it.
class StateFields {
 public:
  static Result<StateFields> Of(const nlohmann::json& json, std::string what);

  // Reads `field` into `out`: kCorrupt when it is missing or of another type (json: any type).
  Status Read(std::string_view field, std::string& out) const;
  Status Read(std::string_view field, std::int64_t& out) const;
  Status Read(std::string_view field, bool& out) const;
  Status Read(std::string_view field, nlohmann::json& out) const;
  // The array `field`: kCorrupt when it is missing or not an array.
  Result<const nlohmann::json*> Array(std::string_view field) const;
  // kCorrupt unless the field "version" is `version`.
  Status Version(std::int64_t version) const;

  // kCorrupt "<what>: field '<field>' <why>".
  Error Bad(std::string_view field, std::string_view why) const;

 private:
  StateFields(const nlohmann::json* json, std::string what) : json_(json), what_(std::move(what)) {}
  Result<const nlohmann::json*> Get(std::string_view field) const;

  const nlohmann::json* json_;
  std::string what_;
};

}  // namespace drctl::daemon
