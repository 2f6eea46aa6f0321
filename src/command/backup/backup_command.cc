#include "command/backup/backup_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <unordered_map>

#include "catalog/backup_catalog.h"
#include "catalog/json_fields.h"
#include "catalog/lock.h"
#include "command/backup/backup_files.h"
#include "command/backup/backup_wal.h"
#include "command/interrupt.h"
#include "command/progress.h"
#include "command/repo/repo_open.h"
#include "command/wal/cluster_id.h"
#include "common/log.h"
#include "postgres/backup_session.h"

#ifndef DRCTL_VERSION
#define DRCTL_VERSION "0.0.0"
#endif

namespace drctl::command {
namespace {

std::int64_t Now() { return std::time(nullptr); }

// The backup's lock is refreshed while it runs; a killed backup's lock expires after kLockTtl.
constexpr std::chrono::seconds kLockTtl = std::chrono::hours(1);
constexpr std::chrono::seconds kLockRefresh = std::chrono::minutes(10);

// The newest readable backup of this cluster, to reuse the chunk lists of unchanged files.
std::optional<catalog::Manifest> PreviousBackup(storage::Storage& storage,
                                                const catalog::MasterKey& master,
                                                const std::string& system_identifier) {
  auto ids = catalog::ListBackupIds(storage);
  if (!ids) return std::nullopt;
  int tried = 0;
  for (auto it = ids->rbegin(); it != ids->rend() && tried < 3; ++it, ++tried) {
    auto manifest = catalog::LoadManifest(storage, master, *it);
    if (!manifest) {
      spdlog::warn("backup {} cannot be read ({}); not reusing it", *it,
                   manifest.error().ToString());
      continue;
    }
    if (manifest->pg.system_identifier == system_identifier) return std::move(*manifest);
  }
  return std::nullopt;
}

// Databases, relations and row counts for the manifest (ARCHITECTURE.md, "Manifests").
Status TakeCatalogSnapshot(pg::BackupSession& session, const Config& config,
                           catalog::Manifest* manifest) {
  auto databases = session.Databases();
  if (!databases) return std::unexpected(databases.error());
  for (const auto& db : *databases) {
    manifest->databases.push_back({db.oid, db.name});
    if (!db.allow_connections) continue;
    auto relations = pg::QueryRelations(config.postgres.conninfo, db);
    if (!relations) {
      return std::unexpected(relations.error().WithContext("catalog snapshot of " + db.name));
    }
    for (const auto& r : *relations) {
      manifest->relations.push_back({r.database_oid, r.oid, r.relfilenode, r.name, r.relkind});
    }
  }
  if (config.backup.count_tables.empty()) return Ok();
  auto conn = pg::Connection::Open(config.postgres.conninfo);
  if (!conn) return std::unexpected(conn.error());
  for (const auto& table : config.backup.count_tables) {
    auto count = pg::CountRows(*conn, table);
    if (!count) return std::unexpected(count.error());
    manifest->row_counts[table] = *count;
  }
  return Ok();
}

// The state of a running backup that must be cleaned up whatever happens.
struct Running {
  pg::BackupSession* session = nullptr;
  catalog::ChunkStore* store = nullptr;

  // Ends the server's backup mode and commits the chunks stored so far, so the next backup
  // reuses them. Errors here are logged: the original error is the one to report.
  void Abandon() const {
    if (session != nullptr && session->active()) {
      auto stopped = session->Stop();
      if (!stopped) spdlog::warn("pg_backup_stop: {}", stopped.error().ToString());
    }
    if (store != nullptr) {
      auto committed = store->Commit();
      if (!committed) spdlog::warn("committing stored chunks: {}", committed.error().ToString());
    }
  }
};

std::string Summary(const catalog::Manifest& m, const FileStoreStats& files,
                    const BackupWalStats& wal, const catalog::ChunkStoreStats& chunks) {
  const double seconds = std::max(m.stats.duration_seconds, 1e-6);
  const double dedup = chunks.bytes_stored > 0 ? static_cast<double>(m.stats.logical_size) /
                                                     static_cast<double>(chunks.bytes_stored)
                                               : 0;
  std::string text = fmt::format(
      "backup {} {} ({} to {}, timeline {})\n"
      "  size        {} in {} files ({} read, {} files unchanged and reused)\n"
      "  stored      {} new ({} compressed and encrypted){}\n"
      "  wal         {} .. {} ({} segments)\n"
      "  duration    {:.1f}s, {}/s\n",
      m.backup_id, catalog::BackupStatusName(m.status), pg::FormatLsn(m.start_lsn),
      pg::FormatLsn(m.stop_lsn), m.pg.timeline,
      HumanBytes(static_cast<double>(m.stats.logical_size)), files.files,
      HumanBytes(static_cast<double>(files.bytes_read)), files.files_reused,
      HumanBytes(static_cast<double>(chunks.bytes_new)),
      HumanBytes(static_cast<double>(chunks.bytes_stored)),
      dedup > 0 ? fmt::format(", {:.1f}x smaller than the data", dedup) : std::string(),
      m.start_wal, m.stop_wal, wal.segments, seconds,
      HumanBytes(static_cast<double>(m.stats.logical_size) / seconds));
  if (files.checksum_failures > 0) {
    text += fmt::format("  CHECKSUM FAILURES: {} pages\n", files.checksum_failures);
    for (const auto& f : m.files) {
      if (f.checksum_failures.empty()) continue;
      std::string blocks;
      for (std::size_t i = 0; i < f.checksum_failures.size() && i < 20; ++i) {
        blocks += (i > 0 ? "," : "") + std::to_string(f.checksum_failures[i]);
      }
      if (f.checksum_failures.size() > 20) blocks += ",...";
      text += "    " + f.path + " blocks " + blocks + "\n";
    }
  }
  return text;
}

nlohmann::json ToJson(const catalog::Manifest& m, const std::string& repo,
                      const FileStoreStats& files, const BackupWalStats& wal,
                      const catalog::ChunkStoreStats& chunks) {
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& f : m.files) {
    if (!f.checksum_failures.empty()) {
      failures.push_back({{"path", f.path}, {"blocks", f.checksum_failures}});
    }
  }
  return {{"ok", true},
          {"repo", repo},
          {"backup_id", m.backup_id},
          {"label", m.label},
          {"status", catalog::BackupStatusName(m.status)},
          {"system_identifier", m.pg.system_identifier},
          {"timeline", m.pg.timeline},
          {"start_lsn", pg::FormatLsn(m.start_lsn)},
          {"stop_lsn", pg::FormatLsn(m.stop_lsn)},
          {"start_time", catalog::FormatUtc(m.start_time)},
          {"stop_time", catalog::FormatUtc(m.stop_time)},
          {"start_wal", m.start_wal},
          {"stop_wal", m.stop_wal},
          {"wal_segments", wal.segments},
          {"files", files.files},
          {"files_read", files.files_read},
          {"files_reused", files.files_reused},
          {"logical_bytes", m.stats.logical_size},
          {"read_bytes", files.bytes_read},
          {"new_bytes", chunks.bytes_new},
          {"stored_bytes", chunks.bytes_stored},
          {"duration_seconds", m.stats.duration_seconds},
          {"checksum_failures", failures},
          {"row_counts", m.row_counts},
          {"databases", m.databases.size()},
          {"relations", m.relations.size()}};
}

}  // namespace

Result<CommandOutput> Backup(const Config& config, const BackupOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  InterruptScope interrupt;
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  const RepoConfig& repo_config = *repos->front();
  auto repo = OpenRepo(config, repo_config);
  if (!repo) return std::unexpected(repo.error());
  storage::Storage& storage = repo->storage();

  auto session = pg::BackupSession::Open(config.postgres.conninfo);
  if (!session) return std::unexpected(session.error());
  const pg::ServerFacts& facts = session->facts();
  const std::filesystem::path pgdata =
      config.postgres.pgdata.empty() ? facts.data_directory : config.postgres.pgdata;
  if (access((pgdata / "PG_VERSION").c_str(), R_OK) != 0) {
    return Fail(ErrorCode::kPrecondition,
                "cannot read the data directory " + pgdata.string() + " of PostgreSQL at " +
                    config.postgres.conninfo,
                "drctl backup runs on the database host as a user that can read PGDATA (root or "
                "postgres); set [postgres] pgdata if the server reports another path");
  }
  const std::uint64_t sysid = std::stoull(facts.system_identifier);
  DRCTL_TRY(CheckCluster(storage, sysid, "the backup of cluster " + facts.system_identifier));

  // Tables to count must exist: found now, not after the whole backup.
  if (!config.backup.count_tables.empty()) {
    auto conn = pg::Connection::Open(config.postgres.conninfo);
    if (!conn) return std::unexpected(conn.error());
    for (const auto& table : config.backup.count_tables) {
      auto resolved = pg::ResolveTable(*conn, table);
      if (!resolved) return std::unexpected(resolved.error());
    }
  }

  auto lock = catalog::RepoLock::Acquire(storage, catalog::LockKind::kShared, "backup", kLockTtl);
  if (!lock) return std::unexpected(lock.error());

  auto store = repo->NewChunkStore(config.backup.compression);
  store->set_index_every_pack(true);
  DRCTL_TRY(store->LoadIndexes());
  const auto previous = options.read_all
                            ? std::nullopt
                            : PreviousBackup(storage, repo->master(), facts.system_identifier);
  std::unordered_map<std::string, const catalog::ManifestFile*> previous_files;
  if (previous) {
    for (const auto& f : previous->files) previous_files.emplace(f.path, &f);
  }

  catalog::Manifest m;
  m.start_time = Now();
  m.backup_id = catalog::NewBackupId(m.start_time);
  m.label = options.label;
  m.drctl_version = DRCTL_VERSION;
  m.pg = {facts.system_identifier, facts.version_num, 0};

  auto start = session->Start(options.label.empty() ? "drctl " + m.backup_id : options.label);
  Running running{&*session, store.get()};
  if (!start) {
    running.Abandon();
    return std::unexpected(start.error());
  }
  m.pg.timeline = start->timeline;
  m.start_lsn = start->lsn;

  auto walk = pg::WalkDataDirectory(pgdata);
  if (!walk) {
    running.Abandon();
    return std::unexpected(walk.error());
  }
  std::uint64_t total = 0;
  for (const auto& f : *walk) total += f.size;

  const std::size_t jobs = static_cast<std::size_t>(std::max(1, config.backup.jobs));
  io::WorkerPool pool(jobs, jobs * 4);
  FileStoreOptions file_options;
  file_options.chunk_size = repo->description().chunk_size;
  file_options.verify_checksums = facts.data_checksums;
  file_options.checksum_lsn_limit = start->lsn;
  file_options.previous = previous ? &previous_files : nullptr;
  file_options.previous_start_time = previous ? previous->start_time : 0;
  file_options.read_all = options.read_all;
  auto refreshed = std::chrono::steady_clock::now();
  file_options.heartbeat = [&]() -> Status {
    if (std::chrono::steady_clock::now() - refreshed < kLockRefresh) return Ok();
    refreshed = std::chrono::steady_clock::now();
    return lock->Refresh(kLockTtl);
  };
  FileStoreStats file_stats;
  Result<std::vector<catalog::ManifestFile>> files = std::vector<catalog::ManifestFile>();
  {
    Progress progress("backup", total, options.progress);
    files = StoreFiles(*walk, file_options, *store, pool, progress, &file_stats);
  }
  if (!files || file_stats.interrupted) {
    running.Abandon();
    if (!files) return std::unexpected(files.error());
    return Fail(ErrorCode::kInterrupted,
                fmt::format("backup {} interrupted by signal {} after reading {}; nothing was "
                            "listed",
                            m.backup_id, InterruptScope::Signal(),
                            HumanBytes(static_cast<double>(file_stats.bytes_read))),
                "the chunks stored so far are kept; the next backup reuses them");
  }
  m.files = std::move(*files);

  auto stop = session->Stop();
  if (!stop) {
    running.Abandon();
    return std::unexpected(stop.error());
  }
  m.stop_lsn = stop->lsn;
  m.stop_time = std::max(Now(), m.start_time);
  m.backup_label = stop->backup_label;
  m.tablespace_map = stop->tablespace_map;
  auto xmin = session->OldestRunningXid();
  if (!xmin) return std::unexpected(xmin.error());
  m.stop_xmin = *xmin;
  DRCTL_TRY(store->Commit());

  const BackupWalRange range{m.pg.timeline, m.start_lsn, m.stop_lsn, facts.wal_segment_size};
  m.start_wal = FirstSegment(range);
  m.stop_wal = LastSegment(range);
  auto wal =
      StoreBackupWal(storage, repo->master(), pgdata, range, config.backup.compression, pool);
  if (!wal) return std::unexpected(wal.error());

  DRCTL_TRY(TakeCatalogSnapshot(*session, config, &m));
  for (const auto& f : m.files) {
    if (f.type == catalog::FileType::kSymlink && f.path.starts_with("pg_tblspc/")) {
      const std::string oid = f.path.substr(std::string("pg_tblspc/").size());
      m.tablespaces.push_back({static_cast<std::uint32_t>(std::stoul(oid)), f.link_target});
    }
    m.stats.logical_size += f.size;
  }
  if (file_stats.checksum_failures > 0) {
    m.status = catalog::BackupStatus::kCompleteWithChecksumFailures;
  }
  const auto chunk_stats = store->stats();
  m.stats.new_bytes = chunk_stats.bytes_stored;
  m.stats.duration_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (InterruptScope::Interrupted()) {
    return Fail(ErrorCode::kInterrupted,
                "backup " + m.backup_id + " interrupted before its manifest was written",
                "its data and WAL are stored and will be reused by the next backup");
  }
  DRCTL_TRY(catalog::WriteManifest(storage, repo->master(), m));
  (void)lock->Release();

  CommandOutput out;
  out.text = Summary(m, file_stats, *wal, chunk_stats);
  out.json = ToJson(m, repo_config.name, file_stats, *wal, chunk_stats);
  if (m.status == catalog::BackupStatus::kCompleteWithChecksumFailures) {
    out.failure = Error(ErrorCode::kCorrupt,
                        fmt::format("PostgreSQL page checksum failures in {} pages (listed above); "
                                    "backup {} is stored and marked",
                                    file_stats.checksum_failures, m.backup_id),
                        "check the listed relations (pg_amcheck) and the server's storage");
  }
  return out;
}

}  // namespace drctl::command
