#include "command/verify/verify_command.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "catalog/backup_catalog.h"
#include "catalog/chunk_store.h"
#include "catalog/lock.h"
#include "catalog/pack.h"
#include "catalog/retention.h"
#include "catalog/wal_ranges.h"
#include "catalog/wal_store.h"
#include "command/repo/repo_open.h"
#include "command/restore/recovery_target.h"
#include "command/verify/verify_state.h"
#include "io/hash.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

struct Problem {
  std::string kind;    // manifest, index, missing_chunk, missing_pack, corrupt_pack, wal_missing,
                       // wal_gap, wal_corrupt, repo_difference
  std::string object;  // the object (or backup, or segment range) it is about
  std::string message;
  std::set<std::string> backups;  // backups it makes unrestorable (empty: none in particular)
};

nlohmann::json ProblemJson(const Problem& p) {
  return {{"kind", p.kind},
          {"object", p.object},
          {"message", p.message},
          {"backups", std::vector<std::string>(p.backups.begin(), p.backups.end())}};
}

struct PackWork {
  storage::ObjectInfo info;
  catalog::PackId id{};
  std::set<std::pair<std::uint64_t, std::uint32_t>> needed;  // index locations in it
  std::set<std::string> backups;
};

// What one repository holds, for the comparison between repositories.
struct Holdings {
  std::string repo;
  std::set<std::string> backups;
  std::set<std::string> wal;
  std::int64_t newest_wal = 0;  // mtime of the newest WAL object
};

struct RepoReport {
  nlohmann::json json;
  std::vector<Problem> problems;
  Holdings holdings;
};

template <typename F>
void Parallel(std::size_t count, int jobs, F work) {
  std::atomic<std::size_t> next{0};
  auto run = [&] {
    for (std::size_t i = next++; i < count; i = next++) work(i);
  };
  std::vector<std::jthread> threads;
  for (int t = 1; t < jobs && static_cast<std::size_t>(t) < count; ++t) threads.emplace_back(run);
  run();
}

// Reads one pack and authenticates every blob in it (so any chunk of it that a later backup
// reuses is proven too), and checks that the index locations pointing into it are blobs of it.
std::optional<std::string> VerifyPack(catalog::Repository& repo, const PackWork& work) {
  const std::string where = repo.storage().Describe() + "/" + work.info.key;
  auto data = repo.storage().Read(work.info.key);
  if (!data) return data.error().message();
  auto entries = catalog::ReadPackFooter(repo.master(), work.id, *data, where);
  if (!entries) return entries.error().message();
  const auto key = catalog::DerivePackKey(repo.master(), work.id);
  std::set<std::pair<std::uint64_t, std::uint32_t>> blobs;
  for (const auto& e : *entries) {
    if (e.offset + e.length > data->size())
      return "blob at " + std::to_string(e.offset) + " runs past the end";
    auto chunk = catalog::OpenChunk(repo.master(), key, e.chunk_id,
                                    std::string_view(*data).substr(e.offset, e.length), where);
    if (!chunk) return chunk.error().message();
    blobs.emplace(e.offset, e.length);
  }
  for (const auto& loc : work.needed) {
    if (!blobs.contains(loc)) {
      return "an index points at offset " + std::to_string(loc.first) + " (" +
             std::to_string(loc.second) + " bytes), which is not a blob of this pack";
    }
  }
  return std::nullopt;
}

Status VerifyChunks(catalog::Repository& repo, RepoReport& report, VerifyState& state,
                    VerifyState& proven, const VerifyOptions& options, int jobs,
                    const std::vector<std::string>& backup_ids) {
  auto store = repo.NewChunkStore(Compression{});
  if (auto loaded = store->LoadIndexes(); !loaded) {
    report.problems.push_back({"index", "index/", loaded.error().message(),
                               std::set<std::string>(backup_ids.begin(), backup_ids.end())});
    return Ok();
  }
  std::map<std::string, storage::ObjectInfo> packs;
  DRCTL_TRY(repo.storage().List("packs/", [&](const storage::ObjectInfo& info) {
    packs[info.key] = info;
    return Ok();
  }));
  std::map<std::string, PackWork> work;
  std::uint64_t chunks = 0;
  std::map<std::string, std::uint64_t> missing_chunks;  // backup -> count
  for (const auto& id : backup_ids) {
    auto m = catalog::LoadManifest(repo.storage(), repo.master(), id);
    if (!m) continue;  // reported with the manifests
    for (const auto& f : m->files) {
      for (const auto& chunk : f.chunks) {
        ++chunks;
        auto loc = store->Locate(chunk);
        if (!loc) {
          ++missing_chunks[id];
          continue;
        }
        const std::string key = catalog::PackKey(loc->pack_id);
        auto& w = work[key];
        w.id = loc->pack_id;
        w.info.key = key;
        w.needed.emplace(loc->offset, loc->length);
        w.backups.insert(id);
      }
    }
  }
  for (const auto& [id, count] : missing_chunks) {
    report.problems.push_back({"missing_chunk",
                               "backups/" + id,
                               fmt::format("{} chunk(s) of backup {} are in no index", count, id),
                               {id}});
  }
  std::vector<PackWork*> to_read;
  std::uint64_t skipped = 0;
  for (auto& [key, w] : work) {
    auto listed = packs.find(key);
    if (listed == packs.end()) {
      report.problems.push_back(
          {"missing_pack", key,
           repo.storage().Describe() + "/" + key + " is missing (the index names it)", w.backups});
      continue;
    }
    w.info = listed->second;
    if (const auto* proof = options.full ? nullptr : state.Valid(w.info, proven.verified_at)) {
      ++skipped;
      proven.objects[key] = *proof;
      continue;
    }
    to_read.push_back(&w);
  }
  std::mutex mu;
  std::uint64_t bytes = 0;
  Parallel(to_read.size(), jobs, [&](std::size_t i) {
    const PackWork& w = *to_read[i];
    auto bad = VerifyPack(repo, w);
    std::lock_guard lock(mu);
    bytes += w.info.size;
    if (bad) {
      report.problems.push_back({"corrupt_pack", w.info.key, *bad, w.backups});
    } else {
      proven.objects[w.info.key] = {VerifyState::Stamp(w.info), proven.verified_at};
    }
  });
  report.json["chunks"] = chunks;
  report.json["packs"] = work.size();
  report.json["packs_read"] = to_read.size();
  report.json["packs_unchanged_skipped"] = skipped;
  report.json["pack_bytes_read"] = bytes;
  return Ok();
}

// Where WAL must be continuous, per timeline (segment numbers from which a gap is damage).
// Without any [retention] rule nothing ever deletes WAL: from the oldest backup's start. With
// rules, expire deletes the WAL nothing kept needs (catalog/retention.h): continuity is promised
// from the PITR window's base (pitr set) or else from the newest backup's start, on its timeline
// and every higher one; a gap between older backups is then expire's work, not damage (each
// backup's own WAL is still checked).
void ApplyRetention(const RetentionConfig& rules, const std::vector<catalog::Manifest>& backups,
                    std::map<std::uint32_t, std::uint64_t>& required) {
  if (!catalog::HasRetentionRule(rules)) return;
  const catalog::Manifest* base = nullptr;
  const std::int64_t now = std::time(nullptr);
  for (const auto& b : backups) {  // oldest first
    if (b.status != catalog::BackupStatus::kComplete &&
        b.status != catalog::BackupStatus::kCompleteWithChecksumFailures) {
      continue;
    }
    if (rules.pitr) {
      if (base == nullptr || b.stop_time <= now - rules.pitr->count()) base = &b;
    } else {
      base = &b;
    }
  }
  if (base == nullptr) return;
  auto start = pg::ParseWalFileName(base->start_wal);
  if (!start) return;
  for (auto it = required.begin(); it != required.end();) {
    if (it->first < start->timeline) {
      it = required.erase(it);
      continue;
    }
    if (it->first == start->timeline) it->second = std::max(it->second, start->segment);
    ++it;
  }
}

Status VerifyWal(catalog::Repository& repo, const std::vector<catalog::Manifest>& backups,
                 const RetentionConfig& retention, RepoReport& report, VerifyState& state,
                 VerifyState& proven, const VerifyOptions& options, int jobs) {
  auto stored = ListStoredWal(repo.storage());
  if (!stored) return std::unexpected(stored.error());
  std::map<std::string, storage::ObjectInfo> objects;
  DRCTL_TRY(repo.storage().List("wal/", [&](const storage::ObjectInfo& info) {
    objects[info.key] = info;
    return Ok();
  }));
  std::vector<std::string> names;
  for (const auto& s : *stored) {
    if (!pg::ParseWalFileName(s.name)) continue;  // wal/cluster.json
    names.push_back(s.name);
    report.holdings.wal.insert(s.name);
    report.holdings.newest_wal = std::max(report.holdings.newest_wal, s.mtime);
  }
  // Each backup's own WAL.
  std::map<std::uint32_t, std::uint64_t> oldest_start;  // timeline -> segment
  for (const auto& b : backups) {
    auto start = pg::ParseWalFileName(b.start_wal);
    auto stop = pg::ParseWalFileName(b.stop_wal);
    if (!start || !stop) continue;
    const WalWindow w = ContinuousWal(b, *stored);
    auto last = pg::ParseWalFileName(w.last_segment);
    if (!last || last->kind != pg::WalFileKind::kSegment || last->segment < stop->segment) {
      const std::string missing =
          w.last_segment.empty()
              ? b.start_wal
              : pg::SegmentFileName(start->timeline, last ? last->segment + 1 : 0);
      report.problems.push_back({"wal_missing",
                                 missing,
                                 "backup " + b.backup_id + " needs WAL " + b.start_wal + " .. " +
                                     b.stop_wal + "; " + missing +
                                     " is not stored: the backup cannot become consistent",
                                 {b.backup_id}});
    }
    auto [it, inserted] = oldest_start.emplace(start->timeline, start->segment);
    if (!inserted) it->second = std::min(it->second, start->segment);
  }
  // Continuity from the oldest backup's start (or where retention promises it) to the end.
  ApplyRetention(retention, backups, oldest_start);
  const auto summary = catalog::SummarizeWal(names);
  nlohmann::json gaps = nlohmann::json::array();
  for (const auto& t : summary.timelines) {
    auto oldest = oldest_start.find(t.timeline);
    for (const auto& g : t.gaps) {
      auto last = pg::ParseWalFileName(g.last);
      if (oldest == oldest_start.end() || !last || last->segment < oldest->second) continue;
      gaps.push_back({{"timeline", t.timeline}, {"first", g.first}, {"last", g.last}});
      report.problems.push_back(
          {"wal_gap",
           g.first + ".." + g.last,
           fmt::format("timeline {}: WAL {} .. {} ({} segment(s)) is missing: no recovery "
                       "across it",
                       t.timeline, g.first, g.last, g.count),
           {}});
    }
  }
  report.json["wal_gaps"] = gaps;
  // Every WAL object authenticates.
  std::vector<std::string> to_read;
  std::uint64_t skipped = 0;
  for (const auto& name : names) {
    auto info = objects.find(catalog::WalObjectKey(name));
    if (info == objects.end()) continue;
    if (const auto* proof =
            options.full ? nullptr : state.Valid(info->second, proven.verified_at)) {
      ++skipped;
      proven.objects[info->first] = *proof;
      continue;
    }
    to_read.push_back(name);
  }
  std::mutex mu;
  Parallel(to_read.size(), jobs, [&](std::size_t i) {
    auto content = catalog::FetchWal(repo.storage(), repo.master(), to_read[i]);
    std::lock_guard lock(mu);
    const std::string key = catalog::WalObjectKey(to_read[i]);
    if (!content) {
      report.problems.push_back({"wal_corrupt", key, content.error().message(), {}});
    } else {
      proven.objects[key] = {VerifyState::Stamp(objects[key]), proven.verified_at};
    }
  });
  report.json["wal_objects"] = names.size();
  report.json["wal_read"] = to_read.size();
  report.json["wal_unchanged_skipped"] = skipped;
  return Ok();
}

Result<RepoReport> VerifyRepo(const Config& config, const RepoConfig& rc,
                              const VerifyOptions& options) {
  RepoReport report;
  report.holdings.repo = rc.name;
  report.json = {{"name", rc.name}};
  auto repo = OpenRepo(config, rc);
  if (!repo) return std::unexpected(repo.error());
  // Keeps garbage collection from deleting what is being read.
  auto lock = catalog::RepoLock::Acquire(repo->storage(), catalog::LockKind::kShared, "verify",
                                         std::chrono::hours(2));
  if (!lock) return std::unexpected(lock.error().WithContext("repo '" + rc.name + "'"));
  VerifyState state = LoadVerifyState(repo->storage(), repo->master());
  VerifyState proven;
  proven.verified_at = static_cast<std::int64_t>(std::time(nullptr));

  std::vector<Error> damaged;
  auto manifests = catalog::LoadManifests(repo->storage(), repo->master(),
                                          {.damaged = &damaged, .without_files = true});
  if (!manifests) return std::unexpected(manifests.error());
  for (const auto& e : damaged) {
    report.problems.push_back({"manifest", "backups/", e.message(), {}});
  }
  std::vector<std::string> ids;
  for (const auto& m : *manifests) {
    ids.push_back(m.backup_id);
    report.holdings.backups.insert(m.backup_id);
  }
  report.json["backups"] = ids.size();
  report.json["damaged_manifests"] = damaged.size();
  const int jobs = config.backup.jobs;
  DRCTL_TRY(VerifyChunks(*repo, report, state, proven, options, jobs, ids));
  DRCTL_TRY(VerifyWal(*repo, *manifests, config.retention, report, state, proven, options, jobs));
  if (auto saved = SaveVerifyState(repo->storage(), repo->master(), proven); !saved) {
    spdlog::warn("repo '{}': cannot save the verify state: {}", rc.name, saved.error().ToString());
  }
  (void)lock->Release();
  return report;
}

// Differences between repositories: what one lacks that another holds.
void CompareRepos(std::vector<RepoReport>& reports) {
  if (reports.size() < 2) return;
  std::set<std::string> all_backups;
  std::set<std::string> all_wal;
  std::int64_t newest = 0;
  for (const auto& r : reports) {
    all_backups.insert(r.holdings.backups.begin(), r.holdings.backups.end());
    all_wal.insert(r.holdings.wal.begin(), r.holdings.wal.end());
    newest = std::max(newest, r.holdings.newest_wal);
  }
  for (auto& r : reports) {
    std::vector<std::string> missing_backups;
    std::set_difference(all_backups.begin(), all_backups.end(), r.holdings.backups.begin(),
                        r.holdings.backups.end(), std::back_inserter(missing_backups));
    std::vector<std::string> missing_wal;
    std::set_difference(all_wal.begin(), all_wal.end(), r.holdings.wal.begin(),
                        r.holdings.wal.end(), std::back_inserter(missing_wal));
    const std::int64_t lag = r.holdings.newest_wal > 0 ? newest - r.holdings.newest_wal : 0;
    r.json["missing_backups"] = missing_backups;
    r.json["missing_wal"] = missing_wal.size();
    r.json["wal_lag_seconds"] = lag;
    for (const auto& id : missing_backups) {
      r.problems.push_back({"repo_difference",
                            "backups/" + id,
                            "backup " + id + " is in another repository but not in '" +
                                r.holdings.repo + "' (run drctl repo sync)",
                            {}});
    }
    if (!missing_wal.empty()) {
      r.problems.push_back({"repo_difference",
                            "wal/",
                            fmt::format("{} WAL file(s) of other repositories are not in '{}' "
                                        "({} .. {}; run drctl repo sync)",
                                        missing_wal.size(), r.holdings.repo, missing_wal.front(),
                                        missing_wal.back()),
                            {}});
    }
  }
}

}  // namespace

Result<CommandOutput> Verify(const Config& config, const VerifyOptions& options) {
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  std::vector<RepoReport> reports;
  for (const RepoConfig* rc : *repos) {
    auto report = VerifyRepo(config, *rc, options);
    if (!report) return std::unexpected(report.error());
    reports.push_back(std::move(*report));
  }
  if (options.repo.empty()) CompareRepos(reports);
  CommandOutput out;
  out.json = {{"ok", true}, {"full", options.full}, {"repos", nlohmann::json::array()}};
  std::size_t total = 0;
  std::vector<std::string> failed;
  for (auto& r : reports) {
    nlohmann::json problems = nlohmann::json::array();
    for (const auto& p : r.problems) problems.push_back(ProblemJson(p));
    r.json["problems"] = problems;
    r.json["restorable"] = r.problems.empty();
    out.text += fmt::format(
        "{}: {} backups, {} chunks in {} packs ({} read, {} unchanged since "
        "the last verify), {} WAL files ({} read)\n",
        r.holdings.repo, r.json.value("backups", 0), r.json.value("chunks", 0),
        r.json.value("packs", 0), r.json.value("packs_read", 0),
        r.json.value("packs_unchanged_skipped", 0), r.json.value("wal_objects", 0),
        r.json.value("wal_read", 0));
    for (const auto& p : r.problems) {
      out.text += "  PROBLEM " + p.kind + " " + p.object + ": " + p.message;
      if (!p.backups.empty()) {
        out.text += " [affects " + std::to_string(p.backups.size()) + " backup(s)]";
      }
      out.text += "\n";
    }
    out.text += r.problems.empty() ? "  restorable: every check passed\n" : "";
    total += r.problems.size();
    if (!r.problems.empty()) failed.push_back(r.holdings.repo);
    out.json["repos"].push_back(r.json);
  }
  if (total > 0) {
    out.json["ok"] = false;
    std::string names;
    for (const auto& n : failed) names += (names.empty() ? "'" : ", '") + n + "'";
    out.failure = Error(ErrorCode::kVerifyFailed,
                        fmt::format("verify found {} problem(s) in repo {}", total, names),
                        "the report lists each; restore from another repository or backup, "
                        "repair with drctl repo sync, and take a new backup");
  }
  return out;
}

}  // namespace drctl::command
