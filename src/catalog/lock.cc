#include "catalog/lock.h"

#include <unistd.h>

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "catalog/json_fields.h"
#include "io/hash.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

std::string HostName() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

// A daemon lock only keeps a second daemon away; it never blocks writers or garbage collection.
bool Conflicts(LockKind mine, LockKind theirs) {
  if (mine == LockKind::kDaemon || theirs == LockKind::kDaemon) return mine == theirs;
  return mine == LockKind::kExclusive || theirs == LockKind::kExclusive;
}

std::string_view KindName(LockKind kind) {
  switch (kind) {
    case LockKind::kShared:
      return "shared";
    case LockKind::kExclusive:
      return "exclusive";
    case LockKind::kDaemon:
      return "daemon";
  }
  return "shared";
}

}  // namespace

std::string LockInfo::ToJson() const {
  return nlohmann::json{{"lock_id", lock_id},
                        {"kind", KindName(kind)},
                        {"holder", holder},
                        {"host", host},
                        {"pid", pid},
                        {"created", FormatUtc(created)},
                        {"expires", FormatUtc(expires)}}
             .dump(2) +
         "\n";
}

Result<LockInfo> LockInfo::FromJson(std::string_view text, const std::string& object) {
  auto f = JsonFields::Parse(text, object);
  if (!f) return std::unexpected(f.error());
  LockInfo info;
  auto id = f->Hex("lock_id", 8);
  auto kind = f->String("kind");
  auto holder = f->String("holder");
  auto host = f->String("host");
  auto pid = f->Int("pid", 0, INT32_MAX);
  auto created = f->String("created");
  auto expires = f->String("expires");
  for (const Error* e : {id ? nullptr : &id.error(), kind ? nullptr : &kind.error(),
                         holder ? nullptr : &holder.error(), host ? nullptr : &host.error(),
                         pid ? nullptr : &pid.error(), created ? nullptr : &created.error(),
                         expires ? nullptr : &expires.error()}) {
    if (e != nullptr) return std::unexpected(*e);
  }
  if (*kind != "shared" && *kind != "exclusive" && *kind != "daemon") {
    return Fail(ErrorCode::kCorrupt, object + ": unknown lock kind \"" + *kind + "\"");
  }
  auto created_time = ParseUtc(*created);
  auto expires_time = ParseUtc(*expires);
  if (!created_time || !expires_time) {
    return Fail(ErrorCode::kCorrupt, object + ": bad created or expires time");
  }
  info.lock_id = io::ToHex(*id);
  info.kind = *kind == "shared"      ? LockKind::kShared
              : *kind == "exclusive" ? LockKind::kExclusive
                                     : LockKind::kDaemon;
  info.holder = *holder;
  info.host = *host;
  info.pid = *pid;
  info.created = *created_time;
  info.expires = *expires_time;
  return info;
}

std::string LockInfo::Describe() const {
  return std::string(KindName(kind)) + " lock of " + holder + " on " + host + " (pid " +
         std::to_string(pid) + "), expires " + FormatUtc(expires);
}

Result<std::vector<LockInfo>> ListLocks(storage::Storage& storage) {
  std::vector<std::string> keys;
  DRCTL_TRY(storage.List("locks/", [&](const storage::ObjectInfo& info) {
    keys.push_back(info.key);
    return Ok();
  }));
  std::vector<LockInfo> locks;
  for (const auto& key : keys) {
    auto text = storage.Read(key);
    if (!text) {
      if (text.error().code() == ErrorCode::kNotFound) continue;  // released meanwhile
      return std::unexpected(text.error());
    }
    auto info = LockInfo::FromJson(*text, storage.Describe() + "/" + key);
    if (!info) return std::unexpected(info.error());
    locks.push_back(std::move(*info));
  }
  return locks;
}

Result<RepoLock> RepoLock::Acquire(storage::Storage& storage, LockKind kind, std::string holder,
                                   std::chrono::seconds ttl, std::optional<std::int64_t> now) {
  const std::int64_t t = now.value_or(Now());
  LockInfo info;
  info.lock_id = io::ToHex(io::RandomArray<8>());
  info.kind = kind;
  info.holder = std::move(holder);
  info.host = HostName();
  info.pid = getpid();
  info.created = t;
  info.expires = t + ttl.count();
  // Write first, then look: two takers that race both see each other and both back off.
  DRCTL_TRY(storage.Write(info.Key(), info.ToJson(), {.durable = true, .if_absent = true}));
  RepoLock lock(&storage, info);
  auto all = ListLocks(storage);
  if (!all) return std::unexpected(all.error());
  for (const auto& other : *all) {
    if (other.lock_id == info.lock_id || other.expires <= t) continue;
    if (Conflicts(kind, other.kind)) {
      (void)lock.Release();
      return Fail(ErrorCode::kLocked,
                  "repository " + storage.Describe() + " is locked: " + other.Describe(),
                  "wait for it to finish; if that process is gone, the lock expires at " +
                      FormatUtc(other.expires));
    }
  }
  return lock;
}

RepoLock::RepoLock(RepoLock&& other) noexcept
    : storage_(other.storage_), info_(std::move(other.info_)), held_(other.held_) {
  other.held_ = false;
}

RepoLock::~RepoLock() {
  if (held_) (void)Release();
}

Status RepoLock::Refresh(std::chrono::seconds ttl) {
  LockInfo next = info_;
  next.lock_id = io::ToHex(io::RandomArray<8>());
  next.expires = Now() + ttl.count();
  DRCTL_TRY(storage_->Write(next.Key(), next.ToJson(), {.durable = true, .if_absent = true}));
  const std::string old_key = info_.Key();
  info_ = next;
  return storage_->Delete(old_key);
}

Status RepoLock::Release() {
  if (!held_) return Ok();
  held_ = false;
  return storage_->Delete(info_.Key());
}

}  // namespace drctl::catalog
