#include "command/expire/expire_command.h"

#include <fmt/format.h>

#include <ctime>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "catalog/backup_catalog.h"
#include "catalog/chunk_store.h"
#include "catalog/gc.h"
#include "catalog/json_fields.h"
#include "catalog/lock.h"
#include "catalog/retention.h"
#include "catalog/wal_ranges.h"
#include "catalog/wal_store.h"
#include "command/progress.h"
#include "command/repo/repo_open.h"

namespace drctl::command {
namespace {

constexpr std::string_view kRefuse = "expire refuses to run, nothing was deleted";

// A shared lock (a backup may run meanwhile; garbage collection may not) held by no other expire.
Result<catalog::RepoLock> AcquireExpireLock(storage::Storage& storage, std::int64_t now) {
  auto lock = catalog::RepoLock::Acquire(storage, catalog::LockKind::kShared, "expire",
                                         std::chrono::hours(1), now);
  if (!lock) return std::unexpected(lock.error());
  auto all = catalog::ListLocks(storage);
  if (!all) return std::unexpected(all.error());
  for (const auto& other : *all) {
    if (other.lock_id == lock->info().lock_id || other.holder != "expire" || other.expires <= now) {
      continue;
    }
    (void)lock->Release();
    return Fail(ErrorCode::kLocked,
                "repository " + storage.Describe() + " is locked: " + other.Describe(),
                "another drctl expire is running: wait for it; if that process is gone, the "
                "lock expires at " +
                    catalog::FormatUtc(other.expires));
  }
  return lock;
}

Result<std::map<std::string, std::uint64_t>> ObjectSizes(storage::Storage& storage,
                                                         std::string_view prefix) {
  std::map<std::string, std::uint64_t> sizes;
  DRCTL_TRY(storage.List(prefix, [&](const storage::ObjectInfo& info) {
    sizes[info.key] = info.size;
    return Ok();
  }));
  return sizes;
}

// Everything the plan is made from, read and checked in full.
struct Snapshot {
  std::vector<catalog::Manifest> manifests;  // without file lists
  std::vector<std::string> wal;
  std::map<std::string, std::uint64_t> wal_sizes;       // by object key
  std::map<std::string, std::uint64_t> manifest_sizes;  // by object key
};

Result<Snapshot> ReadRepository(catalog::Repository& repo) {
  storage::Storage& storage = repo.storage();
  Snapshot s;
  auto manifests = catalog::LoadManifests(storage, repo.master(), {.without_files = true});
  if (!manifests) return std::unexpected(manifests.error().WithContext(kRefuse));
  s.manifests = std::move(*manifests);
  // Every index must read and authenticate too: one left out would make its chunks look
  // unreferenced to the sweep (which checks again under its lock).
  catalog::ChunkStore store(storage, repo.master(), Compression{});
  if (auto loaded = store.LoadIndexes(); !loaded) {
    return std::unexpected(loaded.error().WithContext(kRefuse));
  }
  auto wal = catalog::ListWal(storage);
  if (!wal) return std::unexpected(wal.error().WithContext(kRefuse));
  s.wal = std::move(*wal);
  auto wal_sizes = ObjectSizes(storage, "wal/");
  if (!wal_sizes) return std::unexpected(wal_sizes.error());
  s.wal_sizes = std::move(*wal_sizes);
  auto manifest_sizes = ObjectSizes(storage, "backups/");
  if (!manifest_sizes) return std::unexpected(manifest_sizes.error());
  s.manifest_sizes = std::move(*manifest_sizes);
  return s;
}

std::vector<catalog::RetentionBackup> RetentionInput(const std::vector<catalog::Manifest>& all) {
  std::vector<catalog::RetentionBackup> input;
  input.reserve(all.size());
  for (const auto& m : all) {
    input.push_back({.backup_id = m.backup_id,
                     .status = m.status == catalog::BackupStatus::kComplete
                                   ? catalog::RetentionStatus::kComplete
                                   : catalog::RetentionStatus::kCompleteWithChecksumFailures,
                     .start_time = m.start_time,
                     .stop_time = m.stop_time,
                     .start_lsn = m.start_lsn,
                     .start_wal = m.start_wal,
                     .stop_wal = m.stop_wal});
  }
  return input;
}

// The chunks of the backups the plan keeps (for the dry run's estimate), one manifest at a time.
Result<catalog::ChunkSet> KeptChunks(catalog::Repository& repo,
                                     const catalog::RetentionPlan& plan) {
  catalog::ChunkSet live;
  for (const auto& kept : plan.keep) {
    auto m = catalog::LoadManifest(repo.storage(), repo.master(), kept.backup_id);
    if (!m) return std::unexpected(m.error().WithContext(kRefuse));
    for (const auto& f : m->files) live.insert(f.chunks.begin(), f.chunks.end());
  }
  return live;
}

// Mark under the sweep's exclusive lock: no backup can commit between the mark and the sweep.
Result<catalog::GcStats> MarkAndSweep(catalog::Repository& repo, const ExpireOptions& options) {
  return catalog::MarkAndCollectGarbage(
      repo.storage(), repo.master(),
      [&] { return catalog::LiveChunks(repo.storage(), repo.master()); }, {.now = options.now});
}

struct RepoReport {
  nlohmann::json json;
  std::string text;
  std::optional<Error> failure;  // set: part of the work failed (deletions may have happened)
};

std::string StatusName(const catalog::Manifest& m) {
  return std::string(catalog::BackupStatusName(m.status));
}

void DescribePlan(const catalog::RetentionPlan& plan, const Snapshot& snap, RepoReport& r,
                  std::uint64_t& bytes_freed) {
  std::map<std::string, const catalog::Manifest*> by_id;
  for (const auto& m : snap.manifests) by_id[m.backup_id] = &m;
  const auto backup_json = [&](const std::string& id) {
    const catalog::Manifest& m = *by_id.at(id);
    return nlohmann::json{{"backup_id", id},
                          {"status", StatusName(m)},
                          {"start", catalog::FormatUtc(m.start_time)},
                          {"stop", catalog::FormatUtc(m.stop_time)}};
  };
  r.json["kept"] = nlohmann::json::array();
  r.json["expired"] = nlohmann::json::array();
  for (const auto& k : plan.keep) {
    nlohmann::json j = backup_json(k.backup_id);
    j["rules"] = k.reasons;
    r.json["kept"].push_back(j);
    std::string rules;
    for (const auto& reason : k.reasons) rules += (rules.empty() ? "" : ", ") + reason;
    r.text += fmt::format("  keep    {}  {:<30}  {}\n", k.backup_id,
                          StatusName(*by_id.at(k.backup_id)), rules);
  }
  std::uint64_t manifest_bytes = 0;
  for (const auto& id : plan.expire) {
    r.json["expired"].push_back(backup_json(id));
    r.text += fmt::format("  delete  {}  {}\n", id, StatusName(*by_id.at(id)));
    auto size = snap.manifest_sizes.find(catalog::ManifestKey(id));
    if (size != snap.manifest_sizes.end()) manifest_bytes += size->second;
  }
  if (plan.pitr_base) {
    r.json["pitr"] = {{"from", catalog::FormatUtc(plan.pitr_from)}, {"base", *plan.pitr_base}};
    r.text += fmt::format("  pitr    restorable from {} on, from backup {}\n",
                          catalog::FormatUtc(plan.pitr_from), *plan.pitr_base);
  }
  std::uint64_t wal_bytes = 0;
  for (const auto& name : plan.wal_delete) {
    auto size = snap.wal_sizes.find(catalog::WalObjectKey(name));
    if (size != snap.wal_sizes.end()) wal_bytes += size->second;
  }
  const catalog::WalSummary summary = catalog::SummarizeWal(plan.wal_delete);
  nlohmann::json ranges = nlohmann::json::array();
  for (const auto& tl : summary.timelines) {
    for (const auto& range : tl.ranges) {
      ranges.push_back({{"timeline", tl.timeline},
                        {"first", range.first},
                        {"last", range.last},
                        {"count", range.count}});
      r.text += fmt::format("  WAL     delete {}..{} ({} segments)\n", range.first, range.last,
                            range.count);
    }
  }
  if (summary.partial + summary.backup_history > 0) {
    r.text += fmt::format("  WAL     delete {} partial segments, {} backup history files\n",
                          summary.partial, summary.backup_history);
  }
  r.json["wal_deleted"] = {{"files", plan.wal_delete.size()},
                           {"bytes", wal_bytes},
                           {"ranges", ranges},
                           {"partial", summary.partial},
                           {"backup_history", summary.backup_history}};
  r.json["manifest_bytes"] = manifest_bytes;
  bytes_freed += manifest_bytes + wal_bytes;
}

void DescribeSweep(const Result<catalog::GcStats>& gc, bool dry_run, RepoReport& r,
                   std::uint64_t& bytes_freed) {
  if (!gc) {
    r.json["packs"] = nullptr;
    r.json["packs_error"] = {{"code", std::string(InfoFor(gc.error().code()).name)},
                             {"message", gc.error().message()},
                             {"hint", gc.error().hint()}};
    r.text += fmt::format("  packs   {}: {}\n", dry_run ? "estimate unavailable" : "not collected",
                          gc.error().ToString());
    return;
  }
  r.json["packs"] = {{"deleted", gc->packs_deleted},
                     {"bytes", gc->bytes_freed},
                     {"young_kept", gc->packs_young_kept},
                     {"indexes_replaced", gc->indexes_replaced}};
  r.text += fmt::format("  packs   {} unreferenced packs {}deleted ({})", gc->packs_deleted,
                        dry_run ? "to be " : "", HumanBytes(static_cast<double>(gc->bytes_freed)));
  if (gc->packs_young_kept > 0) {
    r.text += fmt::format(", {} younger than the grace period kept", gc->packs_young_kept);
  }
  r.text += "\n";
  bytes_freed += gc->bytes_freed;
}

RepoReport ExpireRepo(const Config& config, const RepoConfig& repo_config,
                      const ExpireOptions& options, std::int64_t now) {
  RepoReport r;
  r.json = {{"name", repo_config.name}, {"url", repo_config.url}};
  r.text = fmt::format("repo '{}'  {}{}\n", repo_config.name, repo_config.url,
                       options.dry_run ? "  (dry run: nothing is deleted)" : "");
  const auto fail = [&](const Error& e) {
    const Error named = e.WithContext("repo '" + repo_config.name + "'");
    r.json["error"] = {{"code", std::string(InfoFor(named.code()).name)},
                       {"message", named.message()},
                       {"hint", named.hint()}};
    r.text += "  ERROR: " + named.ToString() + "\n";
    r.failure = named;
    return r;
  };
  auto repo = OpenRepo(config, repo_config);
  if (!repo) return fail(repo.error());
  storage::Storage& storage = repo->storage();

  std::optional<catalog::RepoLock> lock;
  if (!options.dry_run) {
    auto taken = AcquireExpireLock(storage, now);
    if (!taken) return fail(taken.error().WithContext(std::string(kRefuse)));
    lock.emplace(std::move(*taken));
  }
  auto snap = ReadRepository(*repo);
  if (!snap) return fail(snap.error());
  const auto input = RetentionInput(snap->manifests);
  const catalog::RetentionPlan plan =
      catalog::PlanRetention(input, snap->wal, config.retention, now);
  std::uint64_t bytes_freed = 0;
  DescribePlan(plan, *snap, r, bytes_freed);

  if (options.dry_run) {
    auto live = KeptChunks(*repo, plan);
    if (!live) return fail(live.error());
    auto gc = catalog::CollectGarbage(storage, repo->master(), *live,
                                      {.dry_run = true, .now = options.now});
    if (!gc && gc.error().code() != ErrorCode::kLocked) return fail(gc.error());
    DescribeSweep(gc, true, r, bytes_freed);
  } else {
    // Manifests first (a backup without its manifest is garbage), then the WAL nothing needs.
    for (const auto& id : plan.expire) {
      if (auto deleted = catalog::DeleteManifest(storage, id); !deleted) {
        return fail(deleted.error().WithContext("deleting backup " + id));
      }
    }
    std::vector<std::string> wal_keys;
    wal_keys.reserve(plan.wal_delete.size());
    for (const auto& name : plan.wal_delete) wal_keys.push_back(catalog::WalObjectKey(name));
    if (auto deleted = storage.DeleteMany(wal_keys); !deleted) {
      return fail(deleted.error().WithContext("deleting WAL"));
    }
    if (auto released = lock->Release(); !released) return fail(released.error());
    auto gc = MarkAndSweep(*repo, options);
    DescribeSweep(gc, false, r, bytes_freed);
    if (!gc) {
      const Error e = gc.error().WithContext(
          "backups and WAL were expired, but unreferenced packs were not collected");
      r.failure = e.WithContext("repo '" + repo_config.name + "'");
    }
  }
  r.json["bytes_freed"] = bytes_freed;
  r.text += fmt::format("  freed   {} backups, {} WAL files, {} in all{}\n", plan.expire.size(),
                        plan.wal_delete.size(), HumanBytes(static_cast<double>(bytes_freed)),
                        options.dry_run ? " (estimate)" : "");
  return r;
}

}  // namespace

Result<CommandOutput> Expire(const Config& config, const ExpireOptions& options) {
  if (!catalog::HasRetentionRule(config.retention)) {
    return Fail(ErrorCode::kConfig, "[retention] sets no rule: expire does not know what to keep",
                "set keep_last, hourly, daily, weekly, monthly, yearly or pitr in [retention] "
                "(doc/config.md)");
  }
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  const std::int64_t now = options.now.value_or(static_cast<std::int64_t>(std::time(nullptr)));
  CommandOutput out;
  out.json = {{"ok", true},
              {"dry_run", options.dry_run},
              {"now", catalog::FormatUtc(now)},
              {"repos", nlohmann::json::array()}};
  for (const RepoConfig* repo : *repos) {
    RepoReport r = ExpireRepo(config, *repo, options, now);
    out.text += r.text;
    out.json["repos"].push_back(std::move(r.json));
    if (r.failure && !out.failure) out.failure = r.failure;
  }
  if (out.failure) out.json["ok"] = false;
  return out;
}

}  // namespace drctl::command
