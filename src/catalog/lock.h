// Repository locks (doc/format/repository.md, "Locks"): shared for writers (backup, WAL push),
// exclusive for garbage collection and expiry. A lock is an object under locks/ with its holder
// and an expiry; an expired lock belongs to a crashed holder and is ignored.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "storage/storage.h"

namespace drctl::catalog {

// kDaemon: held by a running `drctl daemon`; conflicts only with another daemon's lock.
enum class LockKind : std::uint8_t { kShared, kExclusive, kDaemon };

struct LockInfo {
  std::string lock_id;  // hex, 8 bytes
  LockKind kind = LockKind::kShared;
  std::string holder;  // what holds it: "backup", "expire", ...
  std::string host;
  std::int64_t pid = 0;
  std::int64_t created = 0;
  std::int64_t expires = 0;

  std::string Key() const { return "locks/" + lock_id + ".json"; }
  std::string ToJson() const;
  static Result<LockInfo> FromJson(std::string_view text, const std::string& object);
  std::string Describe() const;  // "exclusive lock of expire on host (pid 12), until ..."
};

// A held lock; released (deleted) by Release() or the destructor. Not thread-safe.
class RepoLock {
 public:
  // Takes a lock of `kind` for `holder`, valid for `ttl`. kLocked naming the conflicting holder
  // if another unexpired lock conflicts. `now` is injectable for tests.
  static Result<RepoLock> Acquire(storage::Storage& storage, LockKind kind, std::string holder,
                                  std::chrono::seconds ttl = std::chrono::minutes(30),
                                  std::optional<std::int64_t> now = std::nullopt);

  RepoLock(RepoLock&& other) noexcept;
  RepoLock& operator=(RepoLock&& other) noexcept = delete;
  RepoLock(const RepoLock&) = delete;
  RepoLock& operator=(const RepoLock&) = delete;
  ~RepoLock();

  // Pushes the expiry forward (new object first, then the old one goes).
  Status Refresh(std::chrono::seconds ttl = std::chrono::minutes(30));
  Status Release();
  const LockInfo& info() const { return info_; }

 private:
  RepoLock(storage::Storage* storage, LockInfo info) : storage_(storage), info_(std::move(info)) {}
  storage::Storage* storage_;
  LockInfo info_;
  bool held_ = true;
};

// Every lock object in the repository (expired ones too); damaged lock objects are reported as
// kCorrupt.
Result<std::vector<LockInfo>> ListLocks(storage::Storage& storage);

}  // namespace drctl::catalog
