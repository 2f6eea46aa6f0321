// Errors as values: a stable code from one catalog, a message naming the object involved, and a
// hint on what to do next. Codes are part of drctl's contract: each maps to a process exit code
// that operators' scripts branch on (README "Exit codes"). Never renumber; only add.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace drctl {

enum class ErrorCode : std::uint8_t {
  kOk = 0,
  kInternal = 1,
  kUsage = 2,
  kConfig = 3,
  kNotFound = 4,
  kIo = 5,
  kUnavailable = 6,
  kAuth = 7,
  kWrongSecret = 8,
  kCorrupt = 9,
  kConflict = 10,
  kLocked = 11,
  kPostgres = 12,
  kRedis = 13,
  kPrecondition = 14,
  kObjectiveBreached = 15,
  kInterrupted = 16,
  kVerifyFailed = 17,
  kTimeout = 18,
  kUnsupported = 19,
  kCommandFailed = 20,
};

// What a caller (or an operator's script) should do about an error of this kind.
enum class Retry : std::uint8_t {
  kNever,     // retrying the same thing fails the same way: fix input, state or config first
  kNow,       // transient: retry with backoff (network, server busy, timeout)
  kAfterFix,  // retrying helps once something outside is repaired (server down, lock holder)
};

struct ErrorInfo {
  ErrorCode code;
  std::string_view name;  // stable identifier, e.g. "config" (used in JSON output)
  int exit_code;          // process exit status
  Retry retry;
  std::string_view meaning;  // one line for the README and `drctl help errors`
};

// The whole catalog, ordered by code. Every ErrorCode has exactly one entry.
std::span<const ErrorInfo> ErrorCatalog();
const ErrorInfo& InfoFor(ErrorCode code);

class [[nodiscard]] Error {
 public:
  Error(ErrorCode code, std::string message, std::string hint = {})
      : code_(code), message_(std::move(message)), hint_(std::move(hint)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& hint() const { return hint_; }
  int exit_code() const { return InfoFor(code_).exit_code; }
  bool retryable() const { return InfoFor(code_).retry == Retry::kNow; }

  // Returns a copy whose message is prefixed by `context: ` (e.g. the command or object being
  // processed when a lower layer failed). The code and hint stay.
  Error WithContext(std::string_view context) const;

  // "message (hint: ...)" on one line, for logs.
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::string hint_;
};

}  // namespace drctl
