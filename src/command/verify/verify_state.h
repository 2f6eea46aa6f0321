// What drctl verify proved before (repository object "verify/state", sealed under the
// repository's key so that a forged state cannot make damage look verified): for each pack and
// WAL object read and found authentic, its size and mtime. Objects in drctl are never rewritten in
// place, so an object whose size and mtime are unchanged need not be read again; anything that
// changes them (a damaged copy written over it, a restore from elsewhere) is read again.
// Bit rot changes neither size nor mtime, so a proof also expires: an object proven more than
// kReverifyAfter ago is read again (with a daily verify, everything is re-read every week, spread
// over the days). `drctl verify --full` ignores the state.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "catalog/keys.h"
#include "common/result.h"
#include "storage/storage.h"

namespace drctl::command {

inline constexpr std::string_view kVerifyStateKey = "verify/state";
inline constexpr std::int64_t kReverifyAfter = 7 * 86400;  // seconds

struct VerifyState {
  struct Proof {
    std::string stamp;             // "<size>:<mtime>" of the object that was read
    std::int64_t verified_at = 0;  // Unix seconds
  };
  std::int64_t verified_at = 0;  // Unix seconds of the run that wrote it
  std::map<std::string, Proof> objects;

  static std::string Stamp(const storage::ObjectInfo& info) {
    return std::to_string(info.size) + ":" + std::to_string(info.mtime);
  }
  // The proof of `info`'s object if it still holds at `now` (same size and mtime, recent).
  const Proof* Valid(const storage::ObjectInfo& info, std::int64_t now) const {
    auto it = objects.find(info.key);
    if (it == objects.end() || it->second.stamp != Stamp(info) ||
        now - it->second.verified_at > kReverifyAfter) {
      return nullptr;
    }
    return &it->second;
  }
};

// The stored state; an empty one when there is none or it does not authenticate (then
// everything is read again, which is safe).
VerifyState LoadVerifyState(storage::Storage& storage, const catalog::MasterKey& master);
Status SaveVerifyState(storage::Storage& storage, const catalog::MasterKey& master,
                       const VerifyState& state);

}  // namespace drctl::command
