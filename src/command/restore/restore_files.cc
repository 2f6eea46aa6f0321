#include "command/restore/restore_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <set>

#include "command/interrupt.h"
#include "command/restore/file_writer.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

Status IoError(const std::string& what, const std::string& path) {
  return Fail(ErrorCode::kIo, "cannot " + what + " " + path + ": " + std::strerror(errno),
              "check the target filesystem (space, permissions)");
}

// Where a manifest path lands: inside PGDATA (tablespace files go through their link).
fs::path TargetPath(const RestorePlan& plan, const std::string& path) { return plan.pgdata / path; }

// Delta: whether the target already holds chunk `id` at `offset`.
bool AlreadyInPlace(int fd, const catalog::MasterKey& master, const catalog::ChunkId& id,
                    std::uint64_t offset, std::size_t length) {
  std::string local(length, '\0');
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n =
        pread(fd, local.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return master.IdOf(local) == id;
}

Status MakeDirectory(const fs::path& dir, std::uint32_t mode) {
  if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return IoError("create directory", dir);
  if (chmod(dir.c_str(), mode) != 0) return IoError("chmod", dir);
  return Ok();
}

// Delta: removes what the backup does not have, in the data directory and in each tablespace
// directory (where only this PostgreSQL version's directory is ours), and every file in pg_wal:
// WAL left by a server that ran here would be replayed past the backup. Links are never followed.
Status RemoveExtras(const RestorePlan& plan, RestoreFileStats* stats) {
  std::set<std::string> wanted;
  for (const auto& f : plan.manifest.files) wanted.insert(f.path);
  struct Root {
    fs::path dir;        // where to look
    std::string prefix;  // its manifest path prefix
    bool tablespace = false;
  };
  std::vector<Root> roots{{plan.pgdata, "", false}};
  for (const auto& [oid, dir] : plan.tablespaces) {
    roots.push_back({dir, "pg_tblspc/" + std::to_string(oid) + "/", true});
  }
  std::error_code link_ec;
  if (fs::is_symlink(plan.pgdata / "pg_wal", link_ec)) {
    roots.push_back({fs::canonical(plan.pgdata / "pg_wal", link_ec), "pg_wal/", false});
  }
  for (const auto& root : roots) {
    std::error_code ec;
    if (root.dir.empty() || !fs::is_directory(root.dir, ec)) continue;
    std::vector<fs::path> extras;
    auto it = fs::recursive_directory_iterator(root.dir, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot list " + root.dir.string() + ": " + ec.message());
    for (; it != fs::end(it); it.increment(ec)) {
      if (ec) return Fail(ErrorCode::kIo, "cannot list " + root.dir.string() + ": " + ec.message());
      const std::string rel =
          root.prefix + it->path().lexically_relative(root.dir).generic_string();
      if (root.tablespace && it.depth() == 0 && it->path().filename().string().starts_with("PG_") &&
          !wanted.contains(rel)) {
        it.disable_recursion_pending();  // another PostgreSQL version's directory: not ours
        continue;
      }
      const bool wal_file = rel.starts_with("pg_wal/") && rel != "pg_wal/archive_status";
      if (wal_file || !wanted.contains(rel)) {
        extras.push_back(it->path());
        if (it->is_directory(ec) && !it->is_symlink(ec)) it.disable_recursion_pending();
      }
    }
    for (const auto& p : extras) {
      fs::remove_all(p, ec);
      if (ec) return Fail(ErrorCode::kIo, "cannot remove " + p.string() + ": " + ec.message());
      ++stats->files_removed;
    }
  }
  return Ok();
}

}  // namespace

Result<RestoreFileStats> RestoreFiles(const RestorePlan& plan, bool delta,
                                      catalog::FallbackReader& reader, io::WorkerPool& pool,
                                      Progress& progress) {
  RestoreFileStats stats;
  const catalog::MasterKey& master = plan.repos.front().repo->master();
  std::error_code made;
  fs::create_directories(plan.pgdata.parent_path(), made);  // missing parents, as mkdir -p
  for (const auto& [oid, dir] : plan.tablespaces) fs::create_directories(dir.parent_path(), made);
  DRCTL_TRY(MakeDirectory(plan.pgdata, 0700));
  if (delta) DRCTL_TRY(RemoveExtras(plan, &stats));
  // Directories and links first, so every file has its parent.
  for (const auto& f : plan.manifest.files) {
    const fs::path target = TargetPath(plan, f.path);
    if (f.type == catalog::FileType::kDirectory) {
      DRCTL_TRY(MakeDirectory(target, f.mode));
    } else if (f.type == catalog::FileType::kSymlink) {
      std::uint32_t oid = 0;
      const std::string_view rest = std::string_view(f.path).substr(f.path.rfind('/') + 1);
      std::from_chars(rest.data(), rest.data() + rest.size(), oid);
      auto it = plan.tablespaces.find(oid);
      const fs::path link_to = it != plan.tablespaces.end() ? it->second : fs::path(f.link_target);
      DRCTL_TRY(MakeDirectory(link_to, 0700));
      std::error_code ec;
      if (fs::is_symlink(target, ec)) fs::remove(target, ec);
      if (symlink(link_to.c_str(), target.c_str()) != 0) {
        return std::unexpected(IoError("create link", target).error());
      }
    }
  }
  const std::uint64_t chunk_size = plan.chunk_size;
  // Writes behind the workers: a direct write waits for the disk, and meanwhile the workers
  // decompress the next chunks. Two writers keep two writes in flight; the queue bounds memory.
  io::WorkerPool writes(2, pool.threads() * 2);
  std::atomic<std::uint64_t> fetched{0};
  std::atomic<std::uint64_t> kept{0};
  Status submitted = Ok();
  for (const auto& f : plan.manifest.files) {
    if (f.type != catalog::FileType::kFile) continue;
    if (InterruptScope::Interrupted()) break;
    ++stats.files;
    stats.bytes += f.size;
    auto created = FileWriter::Create(TargetPath(plan, f.path).string(), f.mode, f.size, delta,
                                      /*direct=*/true);
    if (!created) {
      submitted = std::unexpected(created.error());
      break;
    }
    auto file = std::make_shared<const FileWriter>(std::move(*created));
    for (std::size_t i = 0; i < f.chunks.size() && submitted; ++i) {
      const std::uint64_t offset = i * chunk_size;
      if (offset >= f.size) {
        submitted = Fail(ErrorCode::kCorrupt, "backup " + plan.manifest.backup_id +
                                                  " lists more chunks for " + f.path +
                                                  " than its size holds");
        break;
      }
      const std::size_t length = static_cast<std::size_t>(std::min(chunk_size, f.size - offset));
      const catalog::ChunkId id = f.chunks[i];
      submitted = pool.Submit([&reader, &master, &progress, &fetched, &kept, &writes, file, id,
                               offset, length, delta]() -> Status {
        if (delta && AlreadyInPlace(file->fd(), master, id, offset, length)) {
          ++kept;
          progress.Add(length);
          return Ok();
        }
        auto chunk = reader.Get(id);
        if (!chunk) return std::unexpected(chunk.error().WithContext("restoring " + file->path()));
        if (chunk->size() != length) {
          return Fail(ErrorCode::kCorrupt,
                      "chunk at offset " + std::to_string(offset) + " of " + file->path() +
                          " has " + std::to_string(chunk->size()) + " bytes, its place needs " +
                          std::to_string(length),
                      "the manifest and its chunks disagree; run drctl verify");
        }
        ++fetched;
        progress.Add(length);
        return writes.Submit([file, data = std::move(*chunk), offset]() -> Status {
          return file->Write(data, offset);
        });
      });
    }
    if (!submitted) break;
  }
  // Every task is done before returning, also on an error: they use this frame's counters.
  Status waited = pool.Wait();
  const Status written = writes.Wait();
  if (waited && !written) waited = written;
  if (!submitted) return std::unexpected(submitted.error());
  if (!waited) return std::unexpected(waited.error());
  if (InterruptScope::Interrupted()) {
    return Fail(
        ErrorCode::kInterrupted,
        "restore into " + plan.pgdata.string() + " interrupted; the directory is incomplete",
        "run the same restore again with --delta to finish it");
  }
  stats.chunks_fetched = fetched.load();
  stats.chunks_kept = kept.load();
  return stats;
}

}  // namespace drctl::command
