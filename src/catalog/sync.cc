#include "catalog/sync.h"

#include <map>

#include <set>
#include <vector>

namespace drctl::catalog {
namespace {

Result<std::map<std::string, std::uint64_t>> KeysUnder(storage::Storage& s,
                                                       std::string_view prefix) {
  std::map<std::string, std::uint64_t> keys;  // key -> size
  DRCTL_TRY(s.List(prefix, [&](const storage::ObjectInfo& info) {
    keys.emplace(info.key, info.size);
    return Ok();
  }));
  return keys;
}

}  // namespace

Result<SyncStats> CopyMissing(storage::Storage& from, storage::Storage& to, bool dry_run,
                              const std::function<void(const std::string&)>& progress) {
  SyncStats stats;
  // Packs before the indexes that name them, WAL before the manifests that need it: a copy cut
  // off at any point leaves the target valid.
  for (const std::string_view prefix : {"packs/", "index/", "wal/", "backups/"}) {
    auto have = KeysUnder(to, prefix);
    if (!have) return std::unexpected(have.error());
    auto offer = KeysUnder(from, prefix);
    if (!offer) return std::unexpected(offer.error());
    for (const auto& [key, size] : *offer) {
      auto there = have->find(key);
      // A partial segment (wal stream) grows: a different size is a newer upload.
      const bool stale_partial =
          there != have->end() && key.ends_with(".partial") && there->second != size;
      if (there != have->end() && !stale_partial) continue;
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
