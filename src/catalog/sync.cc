#include "catalog/sync.h"

#include <set>
#include <vector>

namespace drctl::catalog {
namespace {

Result<std::set<std::string>> KeysUnder(storage::Storage& s, std::string_view prefix) {
  std::set<std::string> keys;
  DRCTL_TRY(s.List(prefix, [&](const storage::ObjectInfo& info) {
    keys.insert(info.key);
    return Ok();
  }));
  return keys;
}

}  // namespace

Result<SyncStats> CopyMissing(storage::Storage& from, storage::Storage& to, bool dry_run,
                              const std::function<void(const std::string&)>& progress) {
  SyncStats stats;
  for (const std::string_view prefix : {"packs/", "index/"}) {  // packs first: commit last
    auto have = KeysUnder(to, prefix);
    if (!have) return std::unexpected(have.error());
    auto offer = KeysUnder(from, prefix);
    if (!offer) return std::unexpected(offer.error());
    for (const auto& key : *offer) {
      if (have->contains(key)) continue;
      ++stats.objects_missing;
      if (dry_run) continue;
      auto data = from.Read(key);
      if (!data) return std::unexpected(data.error().WithContext("copying " + key));
      DRCTL_TRY(to.Write(key, *data, {.durable = true, .if_absent = false}));
      ++stats.objects_copied;
      stats.bytes_copied += data->size();
      if (progress) progress(key);
    }
  }
  return stats;
}

}  // namespace drctl::catalog
