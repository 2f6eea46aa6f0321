#include "daemon/alert_tracker.h"

#include <cstdint>
#include <limits>
#include <set>
#include <utility>

namespace drctl::daemon {
namespace {

constexpr std::int64_t kStateVersion = 1;
constexpr std::string_view kStateHint =
    "move the daemon's state file aside to start afresh (active alerts then fire again)";

AlertEvent MakeEvent(const ActiveAlert& alert, std::string state, bool reminder, std::int64_t now) {
  return {.key = alert.key,
          .state = std::move(state),
          .reminder = reminder,
          .summary = alert.summary,
          .details = alert.details,
          .since = alert.since,
          .time = now};
}

Result<ActiveAlert> ActiveFromJson(const nlohmann::json& json, std::size_t index) {
  auto fields = StateFields::Of(json, "alert state: active[" + std::to_string(index) + "]");
  if (!fields) return std::unexpected(fields.error());
  ActiveAlert alert;
  DRCTL_TRY(fields->Read("key", alert.key));
  if (alert.key.empty()) return std::unexpected(fields->Bad("key", "is empty"));
  DRCTL_TRY(fields->Read("summary", alert.summary));
  DRCTL_TRY(fields->Read("details", alert.details));
  DRCTL_TRY(fields->Read("since", alert.since));
  DRCTL_TRY(fields->Read("last_sent", alert.last_sent));
  return alert;
}

}  // namespace

std::vector<AlertEvent> AlertTracker::Update(const std::vector<Condition>& active_now,
                                             std::int64_t now) {
  std::vector<AlertEvent> events;
  std::set<std::string> seen;
  for (const auto& condition : active_now) {
    if (!seen.insert(condition.key).second) continue;
    auto [it, added] = active_.try_emplace(condition.key);
    ActiveAlert& alert = it->second;
    alert.summary = condition.summary;
    alert.details = condition.details;
    if (added) {
      alert.key = condition.key;
      alert.since = now;
      alert.last_sent = now;
      events.push_back(MakeEvent(alert, "firing", false, now));
    } else if (repeat_.count() > 0 && now - alert.last_sent >= repeat_.count()) {
      alert.last_sent = now;
      events.push_back(MakeEvent(alert, "firing", true, now));
    }
  }
  for (auto it = active_.begin(); it != active_.end();) {
    if (seen.contains(it->first)) {
      ++it;
      continue;
    }
    events.push_back(MakeEvent(it->second, "resolved", false, now));
    it = active_.erase(it);
  }
  return events;
}

std::vector<ActiveAlert> AlertTracker::Active() const {
  std::vector<ActiveAlert> out;
  out.reserve(active_.size());
  for (const auto& [key, alert] : active_) out.push_back(alert);
  return out;
}

nlohmann::json AlertTracker::ToJson() const {
  nlohmann::json active = nlohmann::json::array();
  for (const auto& [key, alert] : active_) {
    active.push_back({{"key", alert.key},
                      {"summary", alert.summary},
                      {"details", alert.details},
                      {"since", alert.since},
                      {"last_sent", alert.last_sent}});
  }
  return {{"version", kStateVersion}, {"active", std::move(active)}};
}

Result<AlertTracker> AlertTracker::FromJson(const nlohmann::json& json,
                                            std::chrono::seconds repeat) {
  auto fields = StateFields::Of(json, "alert state");
  if (!fields) return std::unexpected(fields.error());
  DRCTL_TRY(fields->Version(kStateVersion));
  auto active = fields->Array("active");
  if (!active) return std::unexpected(active.error());
  AlertTracker tracker(repeat);
  for (std::size_t i = 0; i < (*active)->size(); ++i) {
    auto alert = ActiveFromJson((**active)[i], i);
    if (!alert) return std::unexpected(alert.error());
    if (tracker.active_.contains(alert->key)) {
      return std::unexpected(fields->Bad("active", "lists '" + alert->key + "' twice"));
    }
    tracker.active_.emplace(alert->key, std::move(*alert));
  }
  return tracker;
}

nlohmann::json EventJson(const AlertEvent& event) {
  return {{"key", event.key},         {"state", event.state},     {"reminder", event.reminder},
          {"summary", event.summary}, {"details", event.details}, {"since", event.since},
          {"time", event.time}};
}

Result<AlertEvent> EventFromJson(const nlohmann::json& json, std::string what) {
  auto fields = StateFields::Of(json, std::move(what));
  if (!fields) return std::unexpected(fields.error());
  AlertEvent event;
  DRCTL_TRY(fields->Read("key", event.key));
  DRCTL_TRY(fields->Read("state", event.state));
  if (event.state != "firing" && event.state != "resolved") {
    return std::unexpected(fields->Bad("state", "is '" + event.state + "'"));
  }
  DRCTL_TRY(fields->Read("reminder", event.reminder));
  DRCTL_TRY(fields->Read("summary", event.summary));
  DRCTL_TRY(fields->Read("details", event.details));
  DRCTL_TRY(fields->Read("since", event.since));
  DRCTL_TRY(fields->Read("time", event.time));
  return event;
}

Result<StateFields> StateFields::Of(const nlohmann::json& json, std::string what) {
  if (!json.is_object()) {
    return Fail(ErrorCode::kCorrupt, what + ": not a JSON object", std::string(kStateHint));
  }
  return StateFields(&json, std::move(what));
}

Error StateFields::Bad(std::string_view field, std::string_view why) const {
  return {ErrorCode::kCorrupt, what_ + ": field '" + std::string(field) + "' " + std::string(why),
          std::string(kStateHint)};
}

Result<const nlohmann::json*> StateFields::Get(std::string_view field) const {
  const auto it = json_->find(field);
  if (it == json_->end()) return std::unexpected(Bad(field, "is missing"));
  return &*it;
}

Status StateFields::Read(std::string_view field, std::string& out) const {
  auto value = Get(field);
  if (!value) return std::unexpected(value.error());
  if (!(*value)->is_string()) return std::unexpected(Bad(field, "is not a string"));
  out = (*value)->get<std::string>();
  return Ok();
}

Status StateFields::Read(std::string_view field, std::int64_t& out) const {
  auto value = Get(field);
  if (!value) return std::unexpected(value.error());
  if (!(*value)->is_number_integer()) return std::unexpected(Bad(field, "is not an integer"));
  if ((*value)->is_number_unsigned() &&
      (*value)->get<std::uint64_t>() >
          static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return std::unexpected(Bad(field, "is out of range"));
  }
  out = (*value)->get<std::int64_t>();
  return Ok();
}

Status StateFields::Read(std::string_view field, bool& out) const {
  auto value = Get(field);
  if (!value) return std::unexpected(value.error());
  if (!(*value)->is_boolean()) return std::unexpected(Bad(field, "is not a boolean"));
  out = (*value)->get<bool>();
  return Ok();
}

Status StateFields::Read(std::string_view field, nlohmann::json& out) const {
  auto value = Get(field);
  if (!value) return std::unexpected(value.error());
  out = **value;
  return Ok();
}

Result<const nlohmann::json*> StateFields::Array(std::string_view field) const {
  auto value = Get(field);
  if (!value) return std::unexpected(value.error());
  if (!(*value)->is_array()) return std::unexpected(Bad(field, "is not an array"));
  return *value;
}

Status StateFields::Version(std::int64_t version) const {
  std::int64_t found = 0;
  DRCTL_TRY(Read("version", found));
  if (found != version) {
    return std::unexpected(
        Bad("version", "is " + std::to_string(found) + ", not " + std::to_string(version)));
  }
  return Ok();
}

}  // namespace drctl::daemon
