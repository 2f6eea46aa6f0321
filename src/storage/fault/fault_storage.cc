#include "storage/fault/fault_storage.h"

#include <thread>

namespace drctl::storage {

void FaultStorage::AddRule(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back({std::move(rule)});
}

void FaultStorage::ClearRules() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

std::optional<FaultRule> FaultStorage::Match(Op op, std::string_view key) {
  std::lock_guard lock(mu_);
  for (auto& armed : rules_) {
    if (armed.rule.op != op || !key.starts_with(armed.rule.key_prefix)) continue;
    if (armed.seen++ < armed.rule.skip) continue;
    if (armed.rule.times >= 0 && armed.fired >= armed.rule.times) continue;
    ++armed.fired;
    ++injected_;
    return armed.rule;
  }
  return std::nullopt;
}

std::optional<FaultRule> FaultStorage::Fire(Op op, std::string_view key) {
  auto rule = Match(op, key);
  if (rule && rule->latency.count() > 0) {
    std::this_thread::sleep_for(rule->latency);  // a slow call, not a failed one
    return std::nullopt;
  }
  return rule;
}

std::unexpected<Error> FaultStorage::Injected(const FaultRule& rule, std::string_view key) const {
  return Fail(rule.code, "injected fault on " + Describe() + "/" + std::string(key));
}

Result<ObjectInfo> FaultStorage::Stat(std::string_view key) {
  if (auto rule = Fire(Op::kStat, key)) return Injected(*rule, key);
  return StorageWrapper::Stat(key);
}

Status FaultStorage::List(std::string_view prefix,
                          const std::function<Status(const ObjectInfo&)>& visit) {
  if (auto rule = Fire(Op::kList, prefix)) return Injected(*rule, prefix);
  return StorageWrapper::List(prefix, visit);
}

Result<std::string> FaultStorage::Read(std::string_view key, std::optional<ByteRange> range) {
  auto rule = Fire(Op::kRead, key);
  if (rule && !rule->truncate) return Injected(*rule, key);
  auto data = StorageWrapper::Read(key, range);
  if (rule && data) data->resize(data->size() / 2);
  return data;
}

Status FaultStorage::Write(std::string_view key, std::string_view data,
                           const WriteOptions& options) {
  if (auto rule = Fire(Op::kWrite, key)) {
    if (rule->drop_write) return Ok();
    return Injected(*rule, key);
  }
  return StorageWrapper::Write(key, data, options);
}

Result<std::unique_ptr<ObjectWriter>> FaultStorage::OpenWrite(std::string_view key,
                                                              const WriteOptions& options) {
  return NewBufferedWriter(this, std::string(key), options);
}

Status FaultStorage::Delete(std::string_view key) {
  if (auto rule = Fire(Op::kDelete, key)) return Injected(*rule, key);
  return StorageWrapper::Delete(key);
}

}  // namespace drctl::storage
