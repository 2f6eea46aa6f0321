#include "command/restore/restore_plan.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <charconv>
#include <set>

#include "catalog/backup_catalog.h"
#include "catalog/wal_store.h"
#include "command/command_output.h"
#include "command/progress.h"
#include "command/repo/repo_open.h"
#include "common/log.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

// The nearest existing ancestor of `path` (itself if it exists).
fs::path ExistingAncestor(fs::path path) {
  std::error_code ec;
  while (!fs::exists(path, ec) && path.has_parent_path() && path != path.parent_path()) {
    path = path.parent_path();
  }
  return path;
}

// An absent or empty directory is a valid target; with `delta` any directory is.
Status CheckTarget(const fs::path& dir, bool delta, const std::string& what) {
  std::error_code ec;
  if (fs::exists(dir, ec)) {
    if (!fs::is_directory(dir, ec)) {
      return Fail(ErrorCode::kPrecondition, what + " " + dir.string() + " is not a directory",
                  "choose another directory");
    }
    if (!delta && !fs::is_empty(dir, ec)) {
      return Fail(ErrorCode::kPrecondition,
                  what + " " + dir.string() + " is not empty; nothing was written",
                  "restore into an empty directory, or pass --delta to rewrite only what differs");
    }
    if (delta && fs::exists(dir / "postmaster.pid", ec)) {
      return Fail(ErrorCode::kPrecondition,
                  "PostgreSQL may be running in " + dir.string() + " (postmaster.pid exists)",
                  "stop the server before a delta restore");
    }
  }
  const fs::path existing = ExistingAncestor(dir);
  if (access(existing.c_str(), W_OK | X_OK) != 0) {
    return Fail(ErrorCode::kPrecondition,
                "cannot write " + what + " " + dir.string() + " (" + existing.string() +
                    " is not writable)",
                "run as a user who can write there, or choose another directory");
  }
  return Ok();
}

std::uint64_t ExistingBytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  }
  return total;
}

// Every filesystem must hold what will be written to it.
Status CheckSpace(const RestorePlan& plan, bool delta) {
  struct Need {
    fs::path where;
    std::uint64_t bytes = 0;
  };
  std::map<dev_t, Need> needs;
  auto add = [&](const fs::path& dir, std::uint64_t bytes) -> Status {
    const fs::path existing = ExistingAncestor(dir);
    struct stat st {};
    if (stat(existing.c_str(), &st) != 0) {
      return Fail(ErrorCode::kIo, "cannot stat " + existing.string());
    }
    auto& need = needs[st.st_dev];
    if (need.where.empty()) need.where = existing;
    need.bytes += bytes;
    return Ok();
  };
  std::map<std::uint32_t, std::uint64_t> by_tablespace;
  for (const auto& f : plan.manifest.files) {
    std::uint32_t oid = 0;
    if (f.path.starts_with("pg_tblspc/")) {
      const std::string_view rest = std::string_view(f.path).substr(10);
      std::from_chars(rest.data(), rest.data() + rest.size(), oid);
    }
    by_tablespace[plan.tablespaces.contains(oid) ? oid : 0] += f.size;
  }
  const std::uint64_t wal = plan.wal_segments.size() * pg::kDefaultWalSegmentSize;
  for (const auto& [oid, bytes] : by_tablespace) {
    const fs::path dir = oid == 0 ? plan.pgdata : plan.tablespaces.at(oid);
    const std::uint64_t existing = delta ? ExistingBytes(dir) : 0;
    DRCTL_TRY(add(dir, (bytes > existing ? bytes - existing : 0) + (oid == 0 ? wal : 0)));
  }
  for (const auto& [dev, need] : needs) {
    struct statvfs vfs {};
    if (statvfs(need.where.c_str(), &vfs) != 0) continue;
    const std::uint64_t free_bytes =
        static_cast<std::uint64_t>(vfs.f_bavail) * static_cast<std::uint64_t>(vfs.f_frsize);
    if (free_bytes < need.bytes) {
      return Fail(ErrorCode::kPrecondition,
                  fmt::format("not enough free space on the filesystem of {}: the restore needs "
                              "{}, {} are free; nothing was written",
                              need.where.string(), HumanBytes(static_cast<double>(need.bytes)),
                              HumanBytes(static_cast<double>(free_bytes))),
                  "free space or restore somewhere else (--pgdata, --tablespace-map)");
    }
  }
  return Ok();
}

// Every chunk of the manifest must be in some repository's index, every WAL segment stored.
Status CheckObjects(const RestorePlan& plan) {
  std::uint64_t missing_chunks = 0;
  std::string first_missing;
  for (const auto& f : plan.manifest.files) {
    for (const auto& id : f.chunks) {
      bool found = false;
      for (const auto& r : plan.repos) found = found || r.store->Contains(id);
      if (!found) {
        if (missing_chunks++ == 0) first_missing = f.path;
      }
    }
  }
  std::set<std::string> stored;
  for (const auto& r : plan.repos) {
    auto names = catalog::ListWal(r.repo->storage());
    if (!names) {
      spdlog::warn("repo '{}': cannot list WAL: {}", r.name, names.error().ToString());
      continue;
    }
    stored.insert(names->begin(), names->end());
  }
  std::vector<std::string> missing_wal;
  for (const auto& s : plan.wal_segments) {
    if (!stored.contains(s)) missing_wal.push_back(s);
  }
  if (missing_chunks == 0 && missing_wal.empty()) return Ok();
  std::string message = "backup " + plan.manifest.backup_id + " cannot be restored: ";
  if (missing_chunks > 0) {
    message += fmt::format("{} chunks are in no repository (the first belongs to {})",
                           missing_chunks, first_missing);
  }
  if (!missing_wal.empty()) {
    message += fmt::format("{}{} WAL segments it needs are not stored (first: {})",
                           missing_chunks > 0 ? "; " : "", missing_wal.size(), missing_wal.front());
  }
  return Fail(ErrorCode::kNotFound, message + "; nothing was written",
              "run drctl verify; restore another backup (drctl info lists them)");
}

// The backup to restore: --backup ID, or for `latest` the newest readable backup that can reach
// the target (ARCHITECTURE.md: a damaged newest manifest does not hide the older ones).
Result<catalog::Manifest> FindBackup(std::vector<OpenedRepo>& repos, const RestoreRequest& request,
                                     std::string* source) {
  const std::string& wanted = request.backup;
  std::optional<Error> first_error;
  std::string too_late;
  for (auto& r : repos) {
    if (wanted != "latest") {
      auto m = catalog::LoadManifest(r.repo->storage(), r.repo->master(), wanted);
      if (m) {
        *source = r.name;
        return m;
      }
      if (!first_error || first_error->code() == ErrorCode::kNotFound) first_error = m.error();
      continue;
    }
    std::vector<Error> damaged;
    auto all = catalog::LoadManifests(r.repo->storage(), r.repo->master(),
                                      {.damaged = &damaged, .without_files = true});
    if (!all) {
      if (!first_error) first_error = all.error();
      continue;
    }
    for (const auto& e : damaged) {
      spdlog::warn("repo '{}': skipping a damaged backup: {}", r.name, e.ToString());
    }
    if (all->empty()) continue;
    auto picked = PickBackup(*all, request.target);
    if (!picked) {
      too_late = "the oldest backup in repo '" + r.name + "' (" + all->front().backup_id +
                 ") ends after " + DescribeTarget(request.target);
      continue;
    }
    auto m = catalog::LoadManifest(r.repo->storage(), r.repo->master(), (*all)[*picked].backup_id);
    if (!m) return std::unexpected(m.error());
    *source = r.name;
    return m;
  }
  if (!too_late.empty()) {
    return Fail(ErrorCode::kPrecondition,
                "no backup can reach the target: " + too_late + "; nothing was written",
                "choose a later target; drctl info lists the backups and their times");
  }
  if (first_error && first_error->code() != ErrorCode::kNotFound) {
    return std::unexpected(*first_error);
  }
  return Fail(ErrorCode::kNotFound,
              wanted == "latest" ? "no repository holds a backup"
                                 : "backup " + wanted + " is in no configured repository",
              "drctl info lists the backups");
}

}  // namespace

Result<std::pair<std::uint32_t, std::filesystem::path>> ParseTablespaceMapping(
    const std::string& text) {
  const auto eq = text.find('=');
  std::uint32_t oid = 0;
  if (eq != std::string::npos && eq > 0) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + eq, oid);
    if (ec == std::errc() && ptr == text.data() + eq && oid > 0 && eq + 1 < text.size() &&
        text[eq + 1] == '/') {
      return std::pair{oid, std::filesystem::path(text.substr(eq + 1))};
    }
  }
  return Fail(ErrorCode::kUsage, "--tablespace-map '" + text + "' is not OID=/absolute/dir",
              "drctl info --backup ID lists the backup's tablespaces and their oids");
}

Result<RestorePlan> PlanRestore(const Config& config, const RestoreRequest& request) {
  if (request.pgdata.empty()) return Fail(ErrorCode::kUsage, "--pgdata is required");
  auto selected = SelectRepos(config, request.repo);
  if (!selected) return std::unexpected(selected.error());
  RestorePlan plan;
  plan.pgdata = fs::absolute(request.pgdata).lexically_normal();
  std::optional<Error> open_error;
  for (const RepoConfig* rc : *selected) {
    auto repo = OpenRepo(config, *rc);
    if (!repo) {
      spdlog::warn("{}", repo.error().ToString());
      if (!open_error) open_error = repo.error();
      continue;
    }
    OpenedRepo opened{rc->name, std::make_unique<catalog::Repository>(std::move(*repo)), nullptr};
    opened.store = opened.repo->NewChunkStore(config.backup.compression);
    if (auto loaded = opened.store->LoadIndexes(); !loaded) {
      spdlog::warn("repo '{}': {}", rc->name, loaded.error().ToString());
      if (!open_error) open_error = loaded.error();
      continue;
    }
    plan.repos.push_back(std::move(opened));
  }
  if (plan.repos.empty()) return std::unexpected(*open_error);
  auto manifest = FindBackup(plan.repos, request, &plan.source_repo);
  if (!manifest) return std::unexpected(manifest.error());
  plan.manifest = std::move(*manifest);
  // The repository that holds the manifest is read first.
  std::stable_partition(plan.repos.begin(), plan.repos.end(),
                        [&](const OpenedRepo& r) { return r.name == plan.source_repo; });
  for (const auto& r : plan.repos) {
    if (r.name == plan.source_repo) plan.chunk_size = r.repo->description().chunk_size;
  }

  for (const auto& [oid, dir] : request.tablespace_map) {
    bool known = false;
    for (const auto& t : plan.manifest.tablespaces) known = known || t.oid == oid;
    if (!known) {
      return Fail(ErrorCode::kUsage, "--tablespace-map names tablespace " + std::to_string(oid) +
                                         ", which backup " + plan.manifest.backup_id +
                                         " does not have");
    }
  }
  for (const auto& t : plan.manifest.tablespaces) {
    auto it = request.tablespace_map.find(t.oid);
    plan.tablespaces[t.oid] =
        fs::absolute(it != request.tablespace_map.end() ? it->second : fs::path(t.location))
            .lexically_normal();
  }
  auto tli_start = pg::ParseWalFileName(plan.manifest.start_wal);
  auto tli_stop = pg::ParseWalFileName(plan.manifest.stop_wal);
  if (!tli_start || !tli_stop) {
    return Fail(ErrorCode::kCorrupt, "backup " + plan.manifest.backup_id + " names invalid WAL");
  }
  for (std::uint64_t seg = tli_start->segment; seg <= tli_stop->segment; ++seg) {
    plan.wal_segments.push_back(pg::SegmentFileName(tli_start->timeline, seg));
  }

  DRCTL_TRY(CheckTarget(plan.pgdata, request.delta, "data directory"));
  for (const auto& [oid, dir] : plan.tablespaces) {
    if (dir == plan.pgdata || dir.string().starts_with(plan.pgdata.string() + "/")) {
      return Fail(ErrorCode::kUsage,
                  "tablespace " + std::to_string(oid) +
                      " would be restored inside the data "
                      "directory (" +
                      dir.string() + ")",
                  "map it elsewhere with --tablespace-map " + std::to_string(oid) + "=DIR");
    }
    DRCTL_TRY(CheckTarget(dir, request.delta, "tablespace " + std::to_string(oid) + " directory"));
  }
  if (request.backup != "latest" && !PickBackup({plan.manifest}, request.target)) {
    return Fail(ErrorCode::kPrecondition,
                "backup " + plan.manifest.backup_id + " ends after " +
                    DescribeTarget(request.target) + "; replay from it cannot reach the target",
                "choose an earlier backup, or leave out --backup to let drctl pick one");
  }
  for (const auto& r : plan.repos) {
    if (r.name != plan.source_repo) continue;
    auto stored = ListStoredWal(r.repo->storage());
    if (!stored) return std::unexpected(stored.error());
    plan.window = ContinuousWal(plan.manifest, *stored);
    DRCTL_TRY(CheckWindow(plan.manifest, request.target, plan.window, r.name));
  }
  DRCTL_TRY(CheckSpace(plan, request.delta));
  DRCTL_TRY(CheckObjects(plan));
  return plan;
}

}  // namespace drctl::command
