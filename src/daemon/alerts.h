// Delivery of alert events (doc/alerts.md): a webhook (JSON POST over HTTP(S)) and/or a command
// (run through /bin/sh -c with the JSON on its standard input), and AlertOutbox, the retry queue
// that keeps what could not be delivered and sends it later, once.
//
// Every delivery is bounded by [alerts] timeout: nothing here can block forever.
// Thread-safety: none; the daemon delivers from one thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "daemon/alert_tracker.h"

namespace drctl::daemon {

inline constexpr std::string_view kWebhookChannel = "webhook";
inline constexpr std::string_view kCommandChannel = "command";

// The JSON every channel receives (doc/alerts.md "Payload"): {"drctl_alert": 1, "state",
// "reminder", "key", "summary", "details", "since", "since_unix", "time", "time_unix", "host"}.
nlohmann::json AlertPayload(const AlertEvent& event, std::string_view host);

// `url` without what may hold secrets: "scheme://host[:port]/path" (no user, query, fragment).
std::string RedactUrl(std::string_view url);

class AlertNotifier {
 public:
  explicit AlertNotifier(AlertsConfig config);

  // True when at least one channel is configured.
  bool enabled() const { return !channels_.empty(); }
  // The configured channels: kWebhookChannel and/or kCommandChannel, in that order.
  const std::vector<std::string>& channels() const { return channels_; }

  // Sends `event` on every channel, each attempted even if another failed. The error (the first
  // failure's code) names every channel that failed and why.
  Status Deliver(const AlertEvent& event) const;

  // Sends `event` on one channel. Webhook: POST, a 2xx answer is success; a network failure or
  // timeout is kUnavailable, any other status kUnavailable (5xx, 408, 429) or kConfig, naming
  // the redacted URL and the status. Command: exit status 0 is success; another status is
  // kCommandFailed naming the command's first word, the status and the last line of its
  // standard error; past the timeout it is killed (with what it started) and the error is
  // kTimeout. A channel that is not configured is kInternal.
  Status DeliverTo(std::string_view channel, const AlertEvent& event) const;

 private:
  Status PostWebhook(const std::string& body) const;
  Status RunAlertCommand(const AlertEvent& event, const std::string& body) const;

  AlertsConfig config_;
  std::vector<std::string> channels_;
  std::string host_;  // this machine's name, in every payload
};

// An event waiting for the channels it has not reached yet.
struct OutboxEntry {
  AlertEvent event;
  std::vector<std::string> channels;  // still to be delivered to
  int attempts = 0;
  std::int64_t added = 0;         // Unix seconds
  std::int64_t next_attempt = 0;  // Unix seconds
  std::string last_error;         // of the last failed attempt
};

// The retry queue: each event is delivered once per channel, in the order the events happened.
// A failed channel is retried after 5 s, 10 s, 20 s, ... at most 5 min apart, and given up (logged
// as an error) 24 h after the event was added. While an older event waits for a channel, newer
// ones wait behind it for that channel, so a receiver never sees "resolved" before its "firing".
// Bounded: past kMaxEntries the oldest entry is dropped (logged).
class AlertOutbox {
 public:
  static constexpr std::chrono::seconds kFirstRetry{5};
  static constexpr std::chrono::seconds kMaxRetry{300};
  static constexpr std::chrono::seconds kGiveUpAfter{24 * 3600};
  static constexpr std::size_t kMaxEntries = 1000;

  // Queues `event` for `channels` (AlertNotifier::channels()), due at `now`.
  void Add(const AlertEvent& event, const std::vector<std::string>& channels, std::int64_t now);

  // Attempts every channel of every entry that is due at `now` (Unix seconds) and not behind an
  // older entry still waiting for that channel. Channels the notifier no longer has are dropped.
  // Returns the number of entries still waiting.
  std::size_t Flush(const AlertNotifier& notifier, std::int64_t now);

  // When Flush has something to do next (Unix seconds); nullopt when the outbox is empty.
  std::optional<std::int64_t> NextAttempt() const;
  const std::deque<OutboxEntry>& entries() const { return entries_; }

  // {"version": 1, "entries": [{"event": {...}, "channels", "attempts", "added", "next_attempt",
  // "last_error"}, ...]}
  nlohmann::json ToJson() const;
  // Reads ToJson's document back; kCorrupt naming the field when it is not one.
  static Result<AlertOutbox> FromJson(const nlohmann::json& json);

 private:
  std::deque<OutboxEntry> entries_;  // oldest first
};

}  // namespace drctl::daemon
