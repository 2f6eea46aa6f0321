#include "common/error.h"

#include <array>
#include <cstdlib>

namespace drctl {
namespace {

constexpr std::array kCatalog = {
    ErrorInfo{ErrorCode::kOk, "ok", 0, Retry::kNever, "success"},
    ErrorInfo{ErrorCode::kInternal, "internal", 1, Retry::kNever,
              "a bug in drctl: please report it with the log"},
    ErrorInfo{ErrorCode::kUsage, "usage", 2, Retry::kNever,
              "the command line is wrong (unknown flag, missing argument)"},
    ErrorInfo{ErrorCode::kConfig, "config", 3, Retry::kNever,
              "the configuration file is missing, unreadable or invalid (key and line named)"},
    ErrorInfo{ErrorCode::kNotFound, "not_found", 4, Retry::kNever,
              "a named thing does not exist: backup, object, file, repository"},
    ErrorInfo{ErrorCode::kIo, "io", 5, Retry::kNever,
              "a local file operation failed (permissions, disk full, read-only file system)"},
    ErrorInfo{ErrorCode::kUnavailable, "unavailable", 6, Retry::kNow,
              "a server or repository could not be reached or answered 5xx; retried already"},
    ErrorInfo{ErrorCode::kAuth, "auth", 7, Retry::kNever,
              "a server rejected drctl's credentials (S3 signature, access key, PostgreSQL login)"},
    ErrorInfo{ErrorCode::kWrongSecret, "wrong_secret", 8, Retry::kNever,
              "the repository passphrase or key does not open any key slot"},
    ErrorInfo{ErrorCode::kCorrupt, "corrupt", 9, Retry::kNever,
              "stored data failed authentication or is malformed: data loss, alert"},
    ErrorInfo{ErrorCode::kConflict, "conflict", 10, Retry::kNever,
              "the target already exists with different content (never overwritten)"},
    ErrorInfo{ErrorCode::kLocked, "locked", 11, Retry::kAfterFix,
              "another drctl process holds a conflicting lock on the repository"},
    ErrorInfo{ErrorCode::kPostgres, "postgres", 12, Retry::kAfterFix,
              "PostgreSQL is unreachable or a statement failed"},
    ErrorInfo{ErrorCode::kRedis, "redis", 13, Retry::kAfterFix,
              "Redis is unreachable or a command failed"},
    ErrorInfo{ErrorCode::kPrecondition, "precondition", 14, Retry::kAfterFix,
              "the system is not in a state the operation needs (non-empty target, no space)"},
    ErrorInfo{ErrorCode::kObjectiveBreached, "objective_breached", 15, Retry::kAfterFix,
              "an RPO/RTO objective is currently not met"},
    ErrorInfo{ErrorCode::kInterrupted, "interrupted", 16, Retry::kNow,
              "stopped by SIGINT/SIGTERM; the repository is left valid"},
    ErrorInfo{ErrorCode::kVerifyFailed, "verify_failed", 17, Retry::kNever,
              "a verification or drill check failed: the report says which"},
    ErrorInfo{ErrorCode::kTimeout, "timeout", 18, Retry::kNow,
              "an operation did not finish within its time limit"},
    ErrorInfo{ErrorCode::kUnsupported, "unsupported", 19, Retry::kNever,
              "the request needs a feature this server, version or repository lacks"},
    ErrorInfo{ErrorCode::kCommandFailed, "command_failed", 20, Retry::kAfterFix,
              "an external command (hook, secret command, server binary) failed"},
};

}  // namespace

std::span<const ErrorInfo> ErrorCatalog() { return kCatalog; }

const ErrorInfo& InfoFor(ErrorCode code) {
  const auto index = static_cast<std::size_t>(code);
  if (index >= kCatalog.size() || kCatalog[index].code != code) std::abort();  // catalog bug
  return kCatalog[index];
}

Error Error::WithContext(std::string_view context) const {
  return Error(code_, std::string(context) + ": " + message_, hint_);
}

std::string Error::ToString() const {
  if (hint_.empty()) return message_;
  return message_ + " (hint: " + hint_ + ")";
}

}  // namespace drctl
