#include "command/backup/backup_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <span>

#include "command/interrupt.h"
#include "postgres/page_checksum.h"

namespace drctl::command {
namespace {

// A file being stored: the workers fill its chunk ids and checksum failures. A deque keeps the
// address of every slot stable while the reader appends more.
struct FileState {
  std::size_t entry = 0;  // index in the result
  std::deque<catalog::ChunkId> chunks;
  std::mutex mu;
  std::vector<std::uint32_t> failures;
};

std::int64_t Nanoseconds(const pg::PgFile& file) { return file.mtime.time_since_epoch().count(); }

bool Reusable(const pg::PgFile& file, const FileStoreOptions& options,
              const catalog::ManifestFile** previous) {
  if (options.read_all || options.previous == nullptr) return false;
  auto it = options.previous->find(file.relative_path);
  if (it == options.previous->end()) return false;
  const catalog::ManifestFile& old = *it->second;
  const std::int64_t limit =
      (options.previous_start_time - kReuseMarginSeconds) * std::int64_t{1000000000};
  if (old.type != catalog::FileType::kFile || old.size != file.size ||
      old.mtime_ns != Nanoseconds(file) || old.mtime_ns >= limit) {
    return false;
  }
  *previous = &old;
  return true;
}

// Reads up to `size` bytes into `buffer`; fewer only at the end of the file.
Result<std::size_t> ReadFull(int fd, char* buffer, std::size_t size, const std::string& path) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = read(fd, buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Fail(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(errno),
                  "check the disk and the permissions of the data directory");
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

// Reads one file and queues its chunks. Returns false if the file vanished before it was opened.
Result<bool> QueueFile(const pg::PgFile& file, FileState& state, const FileStoreOptions& options,
                       catalog::ChunkStore& store, io::WorkerPool& pool, Progress& progress,
                       FileStoreStats* stats, std::uint64_t* size) {
  const std::string path = file.absolute_path.string();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return false;
    return Fail(ErrorCode::kIo, "cannot open " + path + ": " + std::strerror(errno),
                "drctl backup needs read access to the whole data directory");
  }
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  const bool check = options.verify_checksums && file.is_relation;
  std::uint32_t first_page = 0;
  *size = 0;
  for (;;) {
    // A signal stops the read at the next chunk, not at the end of a (up to 1 GiB) file.
    if (InterruptScope::Interrupted()) break;
    // Read straight into the chunk's buffer, without zero-filling it first.
    std::string chunk;
    Result<std::size_t> n = std::size_t{0};
    chunk.resize_and_overwrite(options.chunk_size, [&](char* buffer, std::size_t capacity) {
      n = ReadFull(fd, buffer, capacity, path);
      return n ? *n : 0;
    });
    if (!n) return std::unexpected(n.error());
    if (*n == 0) break;
    *size += *n;
    catalog::ChunkId* slot = &state.chunks.emplace_back();
    FileState* target = &state;
    const std::uint32_t segment = file.relation_segment;
    const std::uint64_t lsn_limit = options.checksum_lsn_limit;
    DRCTL_TRY(pool.Submit([&store, slot, target, check, segment, first_page, lsn_limit,
                           chunk = std::move(chunk)]() -> Status {
      if (check) {
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(chunk.data());
        auto failed =
            pg::FailedBlocks(std::span(bytes, chunk.size()), segment, first_page, lsn_limit);
        if (!failed.empty()) {
          std::lock_guard lock(target->mu);
          target->failures.insert(target->failures.end(), failed.begin(), failed.end());
        }
      }
      auto id = store.Put(chunk);
      if (!id) return std::unexpected(id.error());
      *slot = *id;
      return Ok();
    }));
    progress.Add(*n);
    stats->bytes_read += *n;
    first_page += static_cast<std::uint32_t>(*n / pg::kPageSize);
    if (*n < options.chunk_size) break;
  }
  return true;
}

}  // namespace

Result<std::vector<catalog::ManifestFile>> StoreFiles(const std::vector<pg::PgFile>& files,
                                                      const FileStoreOptions& options,
                                                      catalog::ChunkStore& store,
                                                      io::WorkerPool& pool, Progress& progress,
                                                      FileStoreStats* stats) {
  std::vector<catalog::ManifestFile> out;
  out.reserve(files.size());
  std::vector<std::unique_ptr<FileState>> states;
  std::vector<std::size_t> vanished;  // indexes in `out` to drop
  Status failed = Ok();
  for (const pg::PgFile& file : files) {
    if (InterruptScope::Interrupted()) {
      stats->interrupted = true;
      break;
    }
    if (options.heartbeat) {
      if (auto beat = options.heartbeat(); !beat) {
        failed = std::unexpected(beat.error());
        break;
      }
    }
    catalog::ManifestFile entry;
    entry.path = file.relative_path;
    entry.mode = file.mode;
    entry.mtime_ns = Nanoseconds(file);
    if (file.is_dir) {
      entry.type = catalog::FileType::kDirectory;
      out.push_back(std::move(entry));
      continue;
    }
    if (file.is_symlink) {
      entry.type = catalog::FileType::kSymlink;
      entry.link_target = file.link_target.string();
      out.push_back(std::move(entry));
      continue;
    }
    ++stats->files;
    const catalog::ManifestFile* old = nullptr;
    if (Reusable(file, options, &old)) {
      entry.size = old->size;
      entry.chunks = old->chunks;
      entry.checksum_failures = old->checksum_failures;
      ++stats->files_reused;
      stats->bytes_reused += old->size;
      progress.Add(old->size);
      out.push_back(std::move(entry));
      continue;
    }
    auto state = std::make_unique<FileState>();
    state->entry = out.size();
    out.push_back(std::move(entry));
    std::uint64_t size = 0;
    auto queued = QueueFile(file, *state, options, store, pool, progress, stats, &size);
    out[state->entry].size = size;
    if (!queued) {
      failed = std::unexpected(queued.error());
      break;
    }
    if (!*queued) {
      ++stats->files_vanished;
      vanished.push_back(state->entry);
    } else {
      ++stats->files_read;
    }
    states.push_back(std::move(state));
  }
  // Every queued chunk is stored (or the first failure known) before anything is assembled.
  const Status waited = pool.Wait();
  // Also when the signal came during the last file (read only in part) or the wait.
  if (InterruptScope::Interrupted()) stats->interrupted = true;
  if (!failed) return std::unexpected(failed.error());
  if (!waited) return std::unexpected(waited.error());
  for (auto& state : states) {
    catalog::ManifestFile& entry = out[state->entry];
    entry.chunks.assign(state->chunks.begin(), state->chunks.end());
    std::sort(state->failures.begin(), state->failures.end());
    state->failures.erase(std::unique(state->failures.begin(), state->failures.end()),
                          state->failures.end());
    entry.checksum_failures = std::move(state->failures);
  }
  for (const auto& entry : out) stats->checksum_failures += entry.checksum_failures.size();
  for (auto it = vanished.rbegin(); it != vanished.rend(); ++it) {
    out.erase(out.begin() + static_cast<std::ptrdiff_t>(*it));
    --stats->files;
  }
  return out;
}

}  // namespace drctl::command
