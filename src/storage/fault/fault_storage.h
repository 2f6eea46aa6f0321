// A decorator that makes another Storage fail on purpose, for unit tests of what lies above:
// errors on chosen operations and keys, after N successful calls, short (truncated) reads, added
// latency, and "crash points" where a write is dropped as if the process had died before it
// became visible.
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "storage/storage.h"

namespace drctl::storage {

enum class Op : std::uint8_t { kStat, kList, kRead, kWrite, kDelete };

struct FaultRule {
  Op op = Op::kRead;
  std::string key_prefix;  // the rule applies to keys starting with this ("" = all)
  int skip = 0;            // let this many matching calls succeed first
  int times = -1;          // then fail this many (-1: forever)
  ErrorCode code = ErrorCode::kUnavailable;
  bool truncate = false;    // kRead: return the first half of the bytes instead of failing
  bool drop_write = false;  // kWrite: report success but store nothing (a crash point)
  std::chrono::milliseconds latency{0};  // delay the call by this much, then let it through
};

class FaultStorage : public StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;

  void AddRule(FaultRule rule);
  void ClearRules();
  int faults_injected() const { return injected_.load(); }

  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& visit) override;
  Result<std::string> Read(std::string_view key, std::optional<ByteRange> range) override;
  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                  const WriteOptions& options) override;
  Status Delete(std::string_view key) override;
  // One Delete per key, so that rules apply to each.
  Status DeleteMany(std::span<const std::string> keys) override {
    return Storage::DeleteMany(keys);
  }

 private:
  // The rule that fires for this call, if any (and counts it).
  std::optional<FaultRule> Match(Op op, std::string_view key);
  // Match, then apply a latency rule (sleep, then no fault).
  std::optional<FaultRule> Fire(Op op, std::string_view key);
  std::unexpected<Error> Injected(const FaultRule& rule, std::string_view key) const;

  std::mutex mu_;
  struct Armed {
    FaultRule rule;
    int seen = 0;
    int fired = 0;
  };
  std::vector<Armed> rules_;
  std::atomic<int> injected_{0};
};

}  // namespace drctl::storage
