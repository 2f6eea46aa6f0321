#include "daemon/alerts.h"

#include <curl/curl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

#include "catalog/json_fields.h"
#include "common/process.h"
#include "storage/curl_library.h"

namespace drctl::daemon {
namespace {

constexpr std::int64_t kOutboxVersion = 1;

std::string HostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

void CurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

std::size_t DiscardBody(char* /*data*/, std::size_t size, std::size_t count, void* /*user*/) {
  return size * count;
}

struct CurlFree {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// The command as an operator recognises it, without its arguments (which may hold secrets).
std::string FirstWord(std::string_view command) {
  const auto start = command.find_first_not_of(" \t\n");
  if (start == std::string_view::npos) return "''";
  const auto end = command.find_first_of(" \t\n", start);
  return std::string(command.substr(start, end - start));
}

std::string LastLine(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const auto newline = text.rfind('\n');
  if (newline != std::string_view::npos) text.remove_prefix(newline + 1);
  constexpr std::size_t kMaxLine = 300;
  return std::string(text.substr(0, kMaxLine));
}

// 5 s, 10 s, 20 s, ... at most kMaxRetry, after `attempts` failed attempts.
std::int64_t Backoff(int attempts) {
  const std::int64_t first = AlertOutbox::kFirstRetry.count();
  const std::int64_t most = AlertOutbox::kMaxRetry.count();
  std::int64_t delay = first;
  for (int i = 1; i < attempts && delay < most; ++i) delay *= 2;
  return std::min(delay, most);
}

bool IsChannel(std::string_view name) { return name == kWebhookChannel || name == kCommandChannel; }

Result<OutboxEntry> EntryFromJson(const nlohmann::json& json, std::size_t index) {
  const std::string what = "alert outbox: entries[" + std::to_string(index) + "]";
  auto fields = StateFields::Of(json, what);
  if (!fields) return std::unexpected(fields.error());
  OutboxEntry entry;
  nlohmann::json event;
  DRCTL_TRY(fields->Read("event", event));
  auto parsed = EventFromJson(event, what + ".event");
  if (!parsed) return std::unexpected(parsed.error());
  entry.event = std::move(*parsed);
  auto channels = fields->Array("channels");
  if (!channels) return std::unexpected(channels.error());
  for (const auto& channel : **channels) {
    if (!channel.is_string() || !IsChannel(channel.get<std::string>())) {
      return std::unexpected(fields->Bad("channels", "holds " + channel.dump()));
    }
    entry.channels.push_back(channel.get<std::string>());
  }
  std::int64_t attempts = 0;
  DRCTL_TRY(fields->Read("attempts", attempts));
  if (attempts < 0 || attempts > 1'000'000) {
    return std::unexpected(fields->Bad("attempts", "is out of range"));
  }
  entry.attempts = static_cast<int>(attempts);
  DRCTL_TRY(fields->Read("added", entry.added));
  DRCTL_TRY(fields->Read("next_attempt", entry.next_attempt));
  DRCTL_TRY(fields->Read("last_error", entry.last_error));
  return entry;
}

}  // namespace

nlohmann::json AlertPayload(const AlertEvent& event, std::string_view host) {
  return {{"drctl_alert", 1},
          {"state", event.state},
          {"reminder", event.reminder},
          {"key", event.key},
          {"summary", event.summary},
          {"details", event.details},
          {"since", catalog::FormatUtc(event.since)},
          {"since_unix", event.since},
          {"time", catalog::FormatUtc(event.time)},
          {"time_unix", event.time},
          {"host", host}};
}

std::string RedactUrl(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  std::string scheme;
  if (const auto sep = url.find("://"); sep != std::string_view::npos) {
    scheme = std::string(url.substr(0, sep + 3));
    url.remove_prefix(sep + 3);
  }
  const auto slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  const std::string_view path = slash == std::string_view::npos ? "" : url.substr(slash);
  return scheme + std::string(authority) + std::string(path);
}

AlertNotifier::AlertNotifier(AlertsConfig config) : config_(std::move(config)), host_(HostName()) {
  if (!config_.webhook.empty()) channels_.emplace_back(kWebhookChannel);
  if (!config_.command.empty()) channels_.emplace_back(kCommandChannel);
  config_.timeout = std::max(config_.timeout, std::chrono::seconds(1));
}

Status AlertNotifier::Deliver(const AlertEvent& event) const {
  std::optional<Error> first;
  std::string failures;
  for (const auto& channel : channels_) {
    auto status = DeliverTo(channel, event);
    if (status) continue;
    if (!failures.empty()) failures += "; ";
    failures += channel + ": " + status.error().message();
    if (!first) first = status.error();
  }
  if (!first) return Ok();
  return Fail(first->code(),
              "alert " + event.key + " (" + event.state + ") not delivered: " + failures,
              first->hint());
}

Status AlertNotifier::DeliverTo(std::string_view channel, const AlertEvent& event) const {
  const std::string body = AlertPayload(event, host_).dump();
  if (channel == kWebhookChannel && !config_.webhook.empty()) return PostWebhook(body);
  if (channel == kCommandChannel && !config_.command.empty()) return RunAlertCommand(event, body);
  return Fail(ErrorCode::kInternal,
              "alert channel '" + std::string(channel) + "' is not configured");
}

Status AlertNotifier::PostWebhook(const std::string& body) const {
  const std::string shown = RedactUrl(config_.webhook);
  if (auto curl = storage::LoadCurl(); !curl) {
    return std::unexpected(curl.error().WithContext("webhook " + shown));
  }
  CurlGlobalInit();
  const std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return Fail(ErrorCode::kInternal, "webhook " + shown + ": curl_easy_init failed");
  curl_slist* list = nullptr;
  for (const char* header : {"Content-Type: application/json", "Expect:", "Accept:"}) {
    curl_slist* grown = curl_slist_append(list, header);
    if (grown == nullptr) std::abort();  // out of memory
    list = grown;
  }
  const std::unique_ptr<curl_slist, SlistFree> headers(list);
  std::array<char, CURL_ERROR_SIZE> detail{};
  const std::int64_t ms = std::chrono::milliseconds(config_.timeout).count();
  const long timeout_ms = static_cast<long>(ms);  // NOLINT(google-runtime-int): curl's type
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, config_.webhook.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail.data());
  curl_easy_setopt(c, CURLOPT_USERAGENT, "drctl");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &DiscardBody);

  const CURLcode code = curl_easy_perform(c);
  if (code != CURLE_OK) {
    std::string message = "webhook " + shown + ": " + curl_easy_strerror(code);
    if (detail[0] != '\0') message += std::string(" (") + detail.data() + ")";
    return Fail(ErrorCode::kUnavailable, message,
                "check that the webhook receiver is up and reachable from this machine");
  }
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return Ok();
  const std::string message = "webhook " + shown + " answered HTTP " + std::to_string(status);
  if (status >= 500 || status == 408 || status == 429) {
    return Fail(ErrorCode::kUnavailable, message, "the receiver failed; it is retried later");
  }
  return Fail(ErrorCode::kConfig, message,
              status >= 300 && status < 400
                  ? "redirects are not followed: set [alerts] webhook to the final URL"
                  : "check [alerts] webhook and what the receiver expects");
}

Status AlertNotifier::RunAlertCommand(const AlertEvent& event, const std::string& body) const {
  const std::string name = "alert command " + FirstWord(config_.command);
  SpawnOptions options;
  options.argv = {"/bin/sh", "-c", config_.command};
  options.env = {"DRCTL_ALERT_STATE=" + event.state, "DRCTL_ALERT_KEY=" + event.key,
                 "DRCTL_ALERT_SUMMARY=" + event.summary,
                 std::string("DRCTL_ALERT_REMINDER=") + (event.reminder ? "1" : "0")};
  auto result = drctl::RunCommand(std::move(options), config_.timeout, body);
  if (!result) {
    if (result.error().code() == ErrorCode::kTimeout) {
      return Fail(ErrorCode::kTimeout,
                  name + " did not finish within " + std::to_string(config_.timeout.count()) +
                      " s; it was killed",
                  "make it finish sooner (hand slow work to a background queue) or raise [alerts] "
                  "timeout");
    }
    return std::unexpected(result.error().WithContext(name));
  }
  if (result->exit_status == 0) return Ok();
  std::string message = name + " exited with status " + std::to_string(result->exit_status);
  if (const std::string line = LastLine(result->err); !line.empty()) message += ": " + line;
  return Fail(ErrorCode::kCommandFailed, message,
              "run it by hand with a payload from doc/alerts.md on its standard input");
}

void AlertOutbox::Add(const AlertEvent& event, const std::vector<std::string>& channels,
                      std::int64_t now) {
  if (channels.empty()) return;
  entries_.push_back(
      {.event = event, .channels = channels, .attempts = 0, .added = now, .next_attempt = now});
  while (entries_.size() > kMaxEntries) {
    const OutboxEntry& dropped = entries_.front();
    spdlog::error("alert outbox full ({} events): dropped alert {} ({}) of {}{}{}", kMaxEntries,
                  dropped.event.key, dropped.event.state, catalog::FormatUtc(dropped.event.time),
                  dropped.last_error.empty() ? "" : ", last error: ", dropped.last_error);
    entries_.pop_front();
  }
}

std::size_t AlertOutbox::Flush(const AlertNotifier& notifier, std::int64_t now) {
  const auto& configured = notifier.channels();
  std::set<std::string, std::less<>> blocked;  // channels an older entry still waits for
  for (auto it = entries_.begin(); it != entries_.end();) {
    OutboxEntry& entry = *it;
    std::erase_if(entry.channels, [&configured](const std::string& channel) {
      return std::find(configured.begin(), configured.end(), channel) == configured.end();
    });
    const bool due = entry.next_attempt <= now;
    bool attempted = false;
    std::string errors;
    std::vector<std::string> waiting;
    for (auto& channel : entry.channels) {
      if (!due || blocked.contains(channel)) {
        blocked.insert(channel);
        waiting.push_back(std::move(channel));
        continue;
      }
      attempted = true;
      if (auto status = notifier.DeliverTo(channel, entry.event); !status) {
        if (!errors.empty()) errors += "; ";
        errors += status.error().message();
        blocked.insert(channel);
        waiting.push_back(std::move(channel));
      }
    }
    entry.channels = std::move(waiting);
    if (attempted) ++entry.attempts;
    if (entry.channels.empty()) {
      if (entry.attempts > 1) {
        spdlog::info("alert {} ({}) delivered after {} attempts", entry.event.key,
                     entry.event.state, entry.attempts);
      }
      it = entries_.erase(it);
      continue;
    }
    const bool failed = !errors.empty();
    if (failed) {
      entry.last_error = std::move(errors);
      entry.next_attempt = now + Backoff(entry.attempts);
    }
    if (now - entry.added >= kGiveUpAfter.count()) {
      spdlog::error("alert {} ({}) of {} given up after {} attempts in {} h: {}", entry.event.key,
                    entry.event.state, catalog::FormatUtc(entry.event.time), entry.attempts,
                    kGiveUpAfter.count() / 3600, entry.last_error);
      it = entries_.erase(it);
      continue;
    }
    if (failed) {
      spdlog::warn("alert {} ({}) not delivered (attempt {}), next attempt in {} s: {}",
                   entry.event.key, entry.event.state, entry.attempts, entry.next_attempt - now,
                   entry.last_error);
    }
    ++it;
  }
  return entries_.size();
}

std::optional<std::int64_t> AlertOutbox::NextAttempt() const {
  std::optional<std::int64_t> next;
  std::set<std::string, std::less<>> blocked;
  for (const auto& entry : entries_) {
    const bool any_free = std::any_of(entry.channels.begin(), entry.channels.end(),
                                      [&blocked](const auto& c) { return !blocked.contains(c); });
    if (any_free) next = std::min(next.value_or(entry.next_attempt), entry.next_attempt);
    blocked.insert(entry.channels.begin(), entry.channels.end());
  }
  return next;
}

nlohmann::json AlertOutbox::ToJson() const {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& entry : entries_) {
    entries.push_back({{"event", EventJson(entry.event)},
                       {"channels", entry.channels},
                       {"attempts", entry.attempts},
                       {"added", entry.added},
                       {"next_attempt", entry.next_attempt},
                       {"last_error", entry.last_error}});
  }
  return {{"version", kOutboxVersion}, {"entries", std::move(entries)}};
}

Result<AlertOutbox> AlertOutbox::FromJson(const nlohmann::json& json) {
  auto fields = StateFields::Of(json, "alert outbox");
  if (!fields) return std::unexpected(fields.error());
  DRCTL_TRY(fields->Version(kOutboxVersion));
  auto entries = fields->Array("entries");
  if (!entries) return std::unexpected(entries.error());
  AlertOutbox outbox;
  for (std::size_t i = 0; i < (*entries)->size(); ++i) {
    auto entry = EntryFromJson((**entries)[i], i);
    if (!entry) return std::unexpected(entry.error());
    outbox.entries_.push_back(std::move(*entry));
  }
  return outbox;
}

}  // namespace drctl::daemon
