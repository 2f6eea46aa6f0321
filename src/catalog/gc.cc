#include "catalog/gc.h"

#include <ctime>
#include <map>
#include <set>

#include "catalog/index.h"
#include "catalog/lock.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

struct LoadedIndex {
  std::string key;
  std::int64_t mtime = 0;
  std::vector<IndexEntry> entries;
};

Result<std::vector<storage::ObjectInfo>> ListAll(storage::Storage& s, std::string_view prefix) {
  std::vector<storage::ObjectInfo> out;
  DRCTL_TRY(s.List(prefix, [&](const storage::ObjectInfo& info) {
    out.push_back(info);
    return Ok();
  }));
  return out;
}

}  // namespace

Result<GcStats> CollectGarbage(storage::Storage& storage, const MasterKey& master,
                               const ChunkSet& live, const GcOptions& options) {
  return MarkAndCollectGarbage(
      storage, master, [&]() -> Result<ChunkSet> { return live; }, options);
}

Result<GcStats> MarkAndCollectGarbage(storage::Storage& storage, const MasterKey& master,
                                      const std::function<Result<ChunkSet>()>& mark,
                                      const GcOptions& options) {
  const std::int64_t now = options.now.value_or(static_cast<std::int64_t>(std::time(nullptr)));
  const std::int64_t young_after = now - options.grace.count();
  auto lock = RepoLock::Acquire(storage, LockKind::kExclusive, "gc", std::chrono::hours(1), now);
  if (!lock) return std::unexpected(lock.error());
  // Marked under the lock: no backup commits until the sweep is done.
  auto marked = mark();
  if (!marked) return std::unexpected(marked.error().WithContext("gc refuses to run"));
  const ChunkSet& live = *marked;

  GcStats stats;
  // Read everything first: any failure stops GC before it deletes anything.
  auto index_objects = ListAll(storage, "index/");
  if (!index_objects) return std::unexpected(index_objects.error());
  std::vector<LoadedIndex> indexes;
  for (const auto& info : *index_objects) {
    auto data = storage.Read(info.key);
    if (!data) return std::unexpected(data.error().WithContext("gc refuses to run"));
    auto entries = DecodeIndex(master, *data, storage.Describe() + "/" + info.key);
    if (!entries) return std::unexpected(entries.error().WithContext("gc refuses to run"));
    indexes.push_back({info.key, info.mtime, std::move(*entries)});
  }
  auto packs = ListAll(storage, "packs/");
  if (!packs) return std::unexpected(packs.error());

  std::map<PackId, bool> pack_live;  // indexed packs: does any live chunk sit there?
  for (const auto& index : indexes) {
    for (const auto& e : index.entries) {
      bool& is_live = pack_live[e.pack_id];
      is_live = is_live || live.contains(e.chunk_id);
    }
  }
  std::set<PackId> doomed;
  std::vector<const storage::ObjectInfo*> doomed_objects;
  for (const auto& info : *packs) {
    ++stats.packs_total;
    PackId id{};
    const std::string hex = info.key.substr(info.key.rfind('/') + 1);
    bool parsed = hex.size() == 32;
    for (std::size_t i = 0; parsed && i < 16; ++i) {
      unsigned v = 0;
      parsed = std::sscanf(hex.c_str() + 2 * i, "%2x", &v) == 1;
      id[i] = static_cast<std::uint8_t>(v);
    }
    if (!parsed) continue;  // not ours: never delete what we do not understand
    auto it = pack_live.find(id);
    const bool referenced = it != pack_live.end() && it->second;
    if (referenced) continue;
    if (info.mtime > young_after) {
      ++stats.packs_young_kept;
      continue;
    }
    doomed.insert(id);
    doomed_objects.push_back(&info);
  }

  // Indexes naming a doomed pack are replaced by one index of their surviving entries.
  std::vector<IndexEntry> survivors;
  std::vector<std::string> replaced;
  for (const auto& index : indexes) {
    bool touched = false;
    for (const auto& e : index.entries) touched = touched || doomed.contains(e.pack_id);
    if (!touched) continue;
    replaced.push_back(index.key);
    for (const auto& e : index.entries) {
      if (doomed.contains(e.pack_id)) {
        ++stats.chunks_dropped;
      } else {
        survivors.push_back(e);
      }
    }
  }
  stats.indexes_replaced = replaced.size();
  for (const auto* info : doomed_objects) {
    ++stats.packs_deleted;
    stats.bytes_freed += info->size;
  }
  if (options.dry_run) return stats;

  if (!survivors.empty()) {
    const IndexId id = io::RandomArray<16>();
    DRCTL_TRY(storage.Write(IndexKey(id), EncodeIndex(master, id, survivors),
                            {.durable = true, .if_absent = true}));
  }
  DRCTL_TRY(storage.DeleteMany(replaced));
  std::vector<std::string> pack_keys;
  pack_keys.reserve(doomed_objects.size());
  for (const auto* info : doomed_objects) pack_keys.push_back(info->key);
  DRCTL_TRY(storage.DeleteMany(pack_keys));

  auto locks = ListLocks(storage);
  if (locks) {
    for (const auto& l : *locks) {
      if (l.expires <= now && l.lock_id != lock->info().lock_id) {
        if (storage.Delete(l.Key())) ++stats.locks_expired_removed;
      }
    }
  }
  DRCTL_TRY(lock->Release());
  return stats;
}

}  // namespace drctl::catalog
