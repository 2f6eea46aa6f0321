#include "command/backup/backup_wal.h"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "catalog/wal_store.h"

namespace drctl::command {
namespace {

std::uint64_t LastSegmentNumber(const BackupWalRange& range) {
  const pg::Lsn last_byte = range.stop_lsn > range.start_lsn ? range.stop_lsn - 1 : range.start_lsn;
  return pg::SegmentOf(last_byte, range.segment_size);
}

Result<std::optional<std::string>> ReadIfPresent(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Fail(ErrorCode::kIo, "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in.good() && !in.eof()) {
    return Fail(ErrorCode::kIo, "cannot read " + path.string());
  }
  return std::optional<std::string>(buf.str());
}

Status StoreOne(storage::Storage& storage, const catalog::MasterKey& master,
                const std::filesystem::path& path, const Compression& compression, bool required,
                std::atomic<std::uint64_t>* bytes) {
  auto content = ReadIfPresent(path);
  if (!content) return std::unexpected(content.error());
  if (!*content) {
    if (!required) return Ok();
    return Fail(ErrorCode::kNotFound,
                "WAL segment " + path.string() + " needed by the backup is gone from pg_wal",
                "the backup's replication slot should have kept it: check that nothing removes "
                "files from pg_wal, then run the backup again");
  }
  auto pushed = catalog::PushWal(storage, master, path.filename().string(), **content, compression);
  if (!pushed) return std::unexpected(pushed.error().WithContext("storing the backup's WAL"));
  *bytes += pushed->stored_bytes;
  return Ok();
}

}  // namespace

std::string FirstSegment(const BackupWalRange& range) {
  return pg::SegmentFileName(range.timeline, pg::SegmentOf(range.start_lsn, range.segment_size),
                             range.segment_size);
}

std::string LastSegment(const BackupWalRange& range) {
  return pg::SegmentFileName(range.timeline, LastSegmentNumber(range), range.segment_size);
}

Result<BackupWalStats> StoreBackupWal(storage::Storage& storage, const catalog::MasterKey& master,
                                      const std::filesystem::path& pgdata,
                                      const BackupWalRange& range, const Compression& compression,
                                      io::WorkerPool& pool) {
  const std::filesystem::path wal = pgdata / "pg_wal";
  const std::uint64_t first = pg::SegmentOf(range.start_lsn, range.segment_size);
  const std::uint64_t last = LastSegmentNumber(range);
  std::atomic<std::uint64_t> bytes{0};
  Status submitted = Ok();
  for (std::uint64_t seg = first; seg <= last && submitted; ++seg) {
    const auto path = wal / pg::SegmentFileName(range.timeline, seg, range.segment_size);
    submitted = pool.Submit([&storage, &master, path, &compression, &bytes] {
      return StoreOne(storage, master, path, compression, true, &bytes);
    });
  }
  const Status waited = pool.Wait();
  if (!submitted) return std::unexpected(submitted.error());
  if (!waited) return std::unexpected(waited.error());
  // The backup history file: informative (PostgreSQL does not need it to restore).
  const std::string history = pg::SegmentFileName(range.timeline, first, range.segment_size) +
                              fmt::format(".{:08X}.backup", range.start_lsn % range.segment_size);
  DRCTL_TRY(StoreOne(storage, master, wal / history, compression, false, &bytes));
  return BackupWalStats{last - first + 1, bytes.load()};
}

}  // namespace drctl::command
