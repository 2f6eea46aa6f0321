#include "command/wal/wal_stream.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "catalog/repository.h"
#include "catalog/wal_store.h"
#include "command/interrupt.h"
#include "command/repo/repo_open.h"
#include "command/wal/cluster_id.h"
#include "common/atomic_file.h"
#include "common/log.h"
#include "postgres/replication.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kStatusInterval = std::chrono::seconds(1);  // standby status updates (mode off)
constexpr auto kFirstBackoff = std::chrono::seconds(1);
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxBatchMessages = 4096;  // then fsync/reply even if more is waiting

Error ErrnoError(const std::string& what, const fs::path& path) {
  return Error(ErrorCode::kIo, what + " " + path.string() + ": " + std::strerror(errno),
               "check the [wal] spool directory (space, permissions)");
}

std::string IsoTime(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Status SyncDir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return std::unexpected(ErrnoError("cannot open", dir));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return std::unexpected(ErrnoError("cannot fsync", dir));
  return Ok();
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(ErrnoError("cannot read", path));
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// Errors that retrying the connection cannot fix: the stream stops with them.
bool Permanent(const Error& error) {
  switch (error.code()) {
    case ErrorCode::kUnavailable:
    case ErrorCode::kPostgres:
    case ErrorCode::kIo:
    case ErrorCode::kTimeout:
    case ErrorCode::kCorrupt:
    case ErrorCode::kNotFound:
      return false;
    default:
      return true;
  }
}

struct StreamRepo {
  std::string name;
  catalog::Repository repo;
};

class Streamer {
 public:
  Streamer(const Config& config, fs::path dir, std::vector<StreamRepo> repos)
      : config_(config), dir_(std::move(dir)), repos_(std::move(repos)) {}
  Streamer(const Streamer&) = delete;
  Streamer& operator=(const Streamer&) = delete;
  ~Streamer() {
    if (fd_ >= 0) ::close(fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  Status Lock();
  Status Run();
  CommandOutput Output() const;

 private:
  Status Session();
  Status Prepare(pg::ReplicationConnection& conn, pg::Lsn* start);
  Status Stream(pg::ReplicationConnection& conn);
  Status Handle(const std::string& message, bool* reply_requested);
  Status Write(pg::Lsn start, std::string_view data);
  Status OpenSegment(std::uint64_t segno);
  void CloseSegment();
  Status SyncSegment();
  Status CompleteSegment();
  Status UploadPartial();
  Status UploadPending();
  Status Push(const std::string& name, std::string_view content);
  Status StoreHistory(pg::ReplicationConnection& conn, pg::TimelineId tli);
  Status Reply(pg::ReplicationConnection& conn, bool sync_first);
  Status Finish();
  Status StoreLeftovers();
  std::optional<pg::WalFileName> NewestInSpool();
  void Report();
  void WriteStatus(const std::string& state);
  std::string SegmentName(std::uint64_t segno) const {
    return pg::SegmentFileName(tli_, segno, segment_size_);
  }
  pg::Lsn SegmentStart() const { return *segno_ * segment_size_; }
  // The flush position reported to the server.
  pg::Lsn ReportedFlush() const {
    return config_.wal.synchronous == SyncMode::kRepository ? stored_ : synced_;
  }

  const Config& config_;
  fs::path dir_;
  std::vector<StreamRepo> repos_;
  int lock_fd_ = -1;

  std::uint64_t system_id_ = 0;
  std::uint64_t segment_size_ = 0;
  pg::TimelineId tli_ = 0;
  std::set<pg::TimelineId> histories_stored_;

  // The current segment: in memory (bounded: one segment) and in "<name>.partial" in the spool.
  std::optional<std::uint64_t> segno_;
  std::string buffer_;
  int fd_ = -1;
  std::size_t loaded_ = 0;            // bytes of it found in the spool at start (identical WAL)
  std::size_t uploaded_ = 0;          // bytes of it in the repositories as "<name>.partial"
  std::vector<std::string> pending_;  // completed segments not yet stored, oldest first

  pg::Lsn received_ = 0;  // written to the spool file
  pg::Lsn synced_ = 0;    // fsynced there
  pg::Lsn stored_ = 0;    // in every repository
  pg::Lsn server_ = 0;    // the server's WAL end, from its messages
  std::chrono::system_clock::time_point received_at_{}, stored_at_{};
  std::string state_ = "starting";
  std::optional<Error> last_error_;
  bool streamed_ = false;              // this session received something
  bool restart_now_ = false;           // the server ended a timeline: start the next one at once
  std::optional<pg::Lsn> next_start_;  // where the next timeline starts
  bool scanned_ = false;               // the spool's leftovers are in pending_
  std::uint64_t segments_stored_ = 0;
  std::uint64_t reconnects_ = 0;
};

Status Streamer::Lock() {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) {
    return Fail(ErrorCode::kIo,
                "cannot create the stream spool " + dir_.string() + ": " + ec.message(),
                "set [wal] spool to a directory drctl can write (it holds WAL not yet stored)");
  }
  fs::permissions(dir_, fs::perms::owner_all, ec);
  const fs::path lock = dir_ / "lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return std::unexpected(ErrnoError("cannot open", lock));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Fail(ErrorCode::kLocked, "another drctl wal stream uses the spool " + dir_.string(),
                "run one wal stream per spool; stop the other one first");
  }
  return Ok();
}

std::optional<pg::WalFileName> Streamer::NewestInSpool() {
  std::optional<pg::WalFileName> newest;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    auto name = pg::ParseWalFileName(entry.path().filename().string(), segment_size_);
    if (!name ||
        (name->kind != pg::WalFileKind::kSegment && name->kind != pg::WalFileKind::kPartial)) {
      continue;
    }
    if (!newest ||
        std::pair(name->timeline, name->segment) > std::pair(newest->timeline, newest->segment)) {
      newest = *name;
    }
  }
  return newest;
}

Status Streamer::OpenSegment(std::uint64_t segno) {
  CloseSegment();
  const fs::path path = dir_ / (SegmentName(segno) + ".partial");
  buffer_.assign(segment_size_, '\0');
  loaded_ = 0;
  uploaded_ = 0;
  std::error_code ec;
  if (fs::exists(path, ec)) {
    // Left by an earlier run: the server sends the segment again from its start; until then
    // these bytes (the same WAL) keep what is uploaded from shrinking.
    auto content = ReadFile(path);
    if (!content) return std::unexpected(content.error());
    loaded_ = std::min(content->size(), buffer_.size());
    std::copy_n(content->begin(), loaded_, buffer_.begin());
  }
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return std::unexpected(ErrnoError("cannot open", path));
  DRCTL_TRY(SyncDir(dir_));
  segno_ = segno;
  return Ok();
}

void Streamer::CloseSegment() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  segno_.reset();
}

Status Streamer::Write(pg::Lsn start, std::string_view data) {
  if (start > received_) {
    return Fail(ErrorCode::kPostgres, "the server sent WAL from " + pg::FormatLsn(start) +
                                          " but drctl has it up to " + pg::FormatLsn(received_) +
                                          " only");
  }
  while (!data.empty()) {
    const std::uint64_t segno = start / segment_size_;
    const std::size_t offset = static_cast<std::size_t>(start % segment_size_);
    if (segno_ != segno) DRCTL_TRY(OpenSegment(segno));
    const std::size_t n = std::min(data.size(), static_cast<std::size_t>(segment_size_) - offset);
    std::copy_n(data.begin(), n, buffer_.begin() + static_cast<std::ptrdiff_t>(offset));
    for (std::size_t done = 0; done < n;) {
      const ssize_t w =
          ::pwrite(fd_, data.data() + done, n - done, static_cast<off_t>(offset + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return std::unexpected(ErrnoError("cannot write", dir_ / SegmentName(segno)));
      done += static_cast<std::size_t>(w);
    }
    start += n;
    data.remove_prefix(n);
    received_ = std::max(received_, start);
    received_at_ = std::chrono::system_clock::now();
    if (offset + n == segment_size_) DRCTL_TRY(CompleteSegment());
  }
  return Ok();
}

Status Streamer::SyncSegment() {
  if (fd_ < 0 || synced_ >= received_) {
    synced_ = std::max(synced_, received_);
    return Ok();
  }
  if (::fdatasync(fd_) != 0) {
    return std::unexpected(ErrnoError("cannot fsync", dir_ / SegmentName(*segno_)));
  }
  synced_ = received_;
  return Ok();
}

Status Streamer::CompleteSegment() {
  DRCTL_TRY(SyncSegment());
  const std::string name = SegmentName(*segno_);
  const fs::path partial = dir_ / (name + ".partial");
  if (::rename(partial.c_str(), (dir_ / name).c_str()) != 0) {
    return std::unexpected(ErrnoError("cannot rename", partial));
  }
  DRCTL_TRY(SyncDir(dir_));
  CloseSegment();
  pending_.push_back(name);
  return UploadPending();
}

Status Streamer::Push(const std::string& name, std::string_view content) {
  for (auto& r : repos_) {
    auto pushed = catalog::PushWal(r.repo.storage(), r.repo.master(), name, content,
                                   config_.backup.compression);
    if (!pushed) return std::unexpected(pushed.error().WithContext("repo '" + r.name + "'"));
  }
  return Ok();
}

// Stores the completed segments in order; stops at the first failure (kept for the next try).
Status Streamer::UploadPending() {
  while (!pending_.empty()) {
    const std::string name = pending_.front();
    auto content = ReadFile(dir_ / name);
    if (!content) return std::unexpected(content.error());
    if (content->size() != segment_size_) {
      return Fail(ErrorCode::kCorrupt,
                  "spool file " + (dir_ / name).string() + " has " +
                      std::to_string(content->size()) + " bytes, not a segment",
                  "move it away: drctl streams the segment again if the slot still has it");
    }
    DRCTL_TRY(Push(name, *content));
    for (auto& r : repos_) {
      // The partial uploads of this segment are superseded (a failure only leaves garbage).
      if (auto gone = r.repo.storage().Delete(catalog::WalObjectKey(name + ".partial")); !gone) {
        spdlog::warn("repo '{}': cannot delete {}.partial: {}", r.name, name,
                     gone.error().ToString());
      }
    }
    std::error_code ec;
    fs::remove(dir_ / name, ec);
    pending_.erase(pending_.begin());
    ++segments_stored_;
    auto parsed = pg::ParseWalFileName(name, segment_size_);
    if (parsed) stored_ = std::max(stored_, (parsed->segment + 1) * segment_size_);
    stored_at_ = std::chrono::system_clock::now();
    spdlog::info("wal stream: stored {}", name);
  }
  return Ok();
}

Status Streamer::UploadPartial() {
  DRCTL_TRY(SyncSegment());
  if (!pending_.empty()) DRCTL_TRY(UploadPending());
  if (!segno_) return Ok();
  const pg::Lsn start = SegmentStart();
  const std::size_t have = synced_ > start ? static_cast<std::size_t>(synced_ - start) : 0;
  const std::size_t length = std::max(have, loaded_);
  if (length <= uploaded_) {
    stored_ = std::max(stored_, start + std::min<std::size_t>(have, uploaded_));
    return Ok();
  }
  // The written prefix only: wal get pads a short partial segment with zeros.
  DRCTL_TRY(Push(SegmentName(*segno_) + ".partial", std::string_view(buffer_).substr(0, length)));
  uploaded_ = length;
  stored_ = std::max(stored_, start + have);
  stored_at_ = std::chrono::system_clock::now();
  return Ok();
}

Status Streamer::StoreHistory(pg::ReplicationConnection& conn, pg::TimelineId tli) {
  if (tli <= 1 || histories_stored_.contains(tli)) return Ok();
  auto history = conn.TimelineHistory(tli);
  if (!history) return std::unexpected(history.error());
  DRCTL_TRY(Push(pg::HistoryFileName(tli), *history));
  histories_stored_.insert(tli);
  return Ok();
}

Status Streamer::Reply(pg::ReplicationConnection& conn, bool sync_first) {
  if (sync_first) DRCTL_TRY(SyncSegment());
  if (sync_first && config_.wal.synchronous == SyncMode::kRepository) DRCTL_TRY(UploadPartial());
  pg::StandbyStatus status;
  status.write = received_;
  status.flush = ReportedFlush();
  status.apply = 0;  // nothing is applied here (as pg_receivewal)
  status.send_time = pg::ReplicationNow();
  return conn.Send(pg::BuildStandbyStatus(status));
}

Status Streamer::Prepare(pg::ReplicationConnection& conn, pg::Lsn* start) {
  auto id = conn.IdentifySystem();
  if (!id) return std::unexpected(id.error());
  if (system_id_ != 0 && id->system_identifier != system_id_) {
    return Fail(
        ErrorCode::kConflict,
        "the server at " + conn.Where() + " is now cluster " +
            std::to_string(id->system_identifier) + ", not " + std::to_string(system_id_),
        "[postgres] conninfo points at another cluster; restart wal stream after fixing it");
  }
  for (auto& r : repos_) {
    auto checked =
        CheckCluster(r.repo.storage(), id->system_identifier, "WAL streamed from " + conn.Where());
    if (!checked) return std::unexpected(checked.error().WithContext("repo '" + r.name + "'"));
  }
  system_id_ = id->system_identifier;
  auto size = conn.WalSegmentSize();
  if (!size) return std::unexpected(size.error());
  if (segment_size_ != 0 && *size != segment_size_) {
    return Fail(ErrorCode::kConflict, "the server's wal_segment_size changed");
  }
  segment_size_ = *size;

  auto slot = conn.ReadSlot(config_.wal.slot);
  if (!slot) return std::unexpected(slot.error());
  if (slot->exists && !slot->physical) {
    return Fail(ErrorCode::kConfig, "replication slot '" + config_.wal.slot + "' is not physical",
                "name another slot in [wal] slot");
  }
  if (!slot->exists) {
    auto created = conn.CreatePhysicalSlot(config_.wal.slot);
    if (!created && created.error().code() != ErrorCode::kConflict) {
      return std::unexpected(created.error());
    }
    if (created) spdlog::info("wal stream: created replication slot '{}'", config_.wal.slot);
  }

  if (!scanned_) {
    // Completed segments an earlier run left unstored: first in line.
    scanned_ = true;
    std::vector<std::pair<std::pair<pg::TimelineId, std::uint64_t>, std::string>> found;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      const std::string name = entry.path().filename().string();
      auto parsed = pg::ParseWalFileName(name, segment_size_);
      if (parsed && parsed->kind == pg::WalFileKind::kSegment) {
        found.push_back({{parsed->timeline, parsed->segment}, name});
      }
    }
    std::sort(found.begin(), found.end());
    for (const auto& f : found) pending_.push_back(f.second);
    DRCTL_TRY(UploadPending());
  }
  if (next_start_) {
    *start = *next_start_ - *next_start_ % segment_size_;  // the next timeline, after a switch
  } else if (segno_) {
    *start = SegmentStart();  // this run's current segment, from its start
  } else if (auto newest = NewestInSpool()) {
    tli_ = newest->timeline;
    const bool complete = newest->kind == pg::WalFileKind::kSegment;
    *start = (newest->segment + (complete ? 1 : 0)) * segment_size_;
  } else if (slot->exists && slot->restart_lsn) {
    tli_ = slot->restart_timeline.value_or(id->timeline);
    *start = *slot->restart_lsn - *slot->restart_lsn % segment_size_;
  } else {
    tli_ = id->timeline;
    *start = id->flush - id->flush % segment_size_;
  }
  if (tli_ == 0 || tli_ > id->timeline) tli_ = id->timeline;
  DRCTL_TRY(StoreHistory(conn, tli_));
  return Ok();
}

Status Streamer::Handle(const std::string& message, bool* reply_requested) {
  auto parsed = pg::ParseReplicationMessage(message);
  if (!parsed) return std::unexpected(parsed.error());
  if (const auto* keepalive = std::get_if<pg::PrimaryKeepalive>(&*parsed)) {
    server_ = std::max(server_, keepalive->wal_end);
    *reply_requested = *reply_requested || keepalive->reply_requested;
    return Ok();
  }
  const auto& data = std::get<pg::XLogData>(*parsed);
  server_ = std::max(server_, data.wal_end);
  streamed_ = true;
  return Write(data.start, data.data);
}

Status Streamer::Stream(pg::ReplicationConnection& conn) {
  const auto interval = std::chrono::duration_cast<Clock::duration>(config_.wal.partial_interval);
  auto next_reply = Clock::now() + kStatusInterval;
  auto next_partial = Clock::now() + interval;
  state_ = "streaming";
  WriteStatus(state_);
  while (!InterruptScope::Interrupted()) {
    const auto now = Clock::now();
    const auto wait = std::clamp(std::min(next_reply, next_partial) - now, Clock::duration::zero(),
                                 Clock::duration(std::chrono::seconds(1)));
    auto got = conn.Receive(std::chrono::duration_cast<std::chrono::milliseconds>(wait));
    bool reply_requested = false;
    bool got_data = false;
    for (std::size_t n = 0; got && got->kind == pg::Received::Kind::kMessage; ++n) {
      const pg::Lsn before = received_;
      DRCTL_TRY(Handle(got->message, &reply_requested));
      got_data = got_data || received_ != before;
      if (n + 1 >= kMaxBatchMessages) break;
      got = conn.Receive(std::chrono::milliseconds(0));
    }
    if (!got) return std::unexpected(got.error());
    if (got->kind == pg::Received::Kind::kEnd) {
      DRCTL_TRY(UploadPartial());
      if (got->next_timeline == 0) {
        return Fail(ErrorCode::kUnavailable, "the server at " + conn.Where() + " ended the stream");
      }
      spdlog::info("wal stream: timeline {} ended at {}; following timeline {}", tli_,
                   pg::FormatLsn(got->next_start), got->next_timeline);
      CloseSegment();
      tli_ = got->next_timeline;
      next_start_ = got->next_start;
      restart_now_ = true;
      return Fail(ErrorCode::kUnavailable, "timeline switch");
    }
    const bool sync = config_.wal.synchronous != SyncMode::kOff;
    if ((got_data && sync) || reply_requested || Clock::now() >= next_reply) {
      DRCTL_TRY(Reply(conn, true));
      next_reply = Clock::now() + kStatusInterval;
    }
    if (Clock::now() >= next_partial) {
      DRCTL_TRY(UploadPartial());
      Report();
      next_partial = Clock::now() + interval;
    }
  }
  // Stopping: everything received is made durable and stored, and the server told.
  DRCTL_TRY(UploadPartial());
  (void)Reply(conn, false);
  return Ok();
}

Status Streamer::Session() {
  state_ = "connecting";
  streamed_ = false;
  auto conn = pg::ReplicationConnection::Open(config_.postgres.conninfo,
                                              config_.wal.application_name, kConnectTimeout);
  if (!conn) return std::unexpected(conn.error());
  pg::Lsn start = 0;
  DRCTL_TRY(Prepare(*conn, &start));
  DRCTL_TRY(conn->StartReplication(config_.wal.slot, start, tli_));
  next_start_.reset();
  if (!segno_) {
    // A new segment (or the first run): from its start. Otherwise the server sends this
    // segment again from its start, the same bytes as the buffer holds.
    received_ = std::max(received_, start);
    synced_ = std::max(synced_, start);
  }
  if (stored_ == 0) stored_ = start;
  spdlog::info("wal stream: streaming from {} on timeline {} (slot '{}', {} repositories)",
               pg::FormatLsn(start), tli_, config_.wal.slot, repos_.size());
  last_error_.reset();
  return Stream(*conn);
}

Status Streamer::Run() {
  auto backoff = std::chrono::duration_cast<std::chrono::milliseconds>(kFirstBackoff);
  if (auto stored = StoreLeftovers(); !stored) {
    if (Permanent(stored.error())) return stored;
    spdlog::warn("wal stream: storing the spool's segments: {}", stored.error().ToString());
  }
  while (!InterruptScope::Interrupted()) {
    Status session = Session();
    if (session || InterruptScope::Interrupted()) break;  // Session returns Ok when interrupted
    if (restart_now_) {
      restart_now_ = false;
      continue;
    }
    if (Permanent(session.error())) {
      last_error_ = session.error();
      (void)Finish();
      WriteStatus("failed");
      return session;
    }
    if (streamed_) backoff = kFirstBackoff;
    // The server may be gone for good: what the spool has goes to the repositories now.
    if (auto flushed = Finish(); !flushed) {
      spdlog::warn("wal stream: storing the partial segment: {}", flushed.error().ToString());
    }
    last_error_ = session.error();
    ++reconnects_;
    spdlog::warn("wal stream: {}; retrying in {} s", session.error().ToString(),
                 std::chrono::duration_cast<std::chrono::seconds>(backoff).count());
    state_ = "retrying";
    WriteStatus(state_);
    const auto until = Clock::now() + backoff;
    while (Clock::now() < until && !InterruptScope::Interrupted()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    backoff = std::min<std::chrono::milliseconds>(backoff * 2, kMaxBackoff);
  }
  DRCTL_TRY(Finish());
  WriteStatus("stopped");
  return Ok();
}

// Before connecting: what an earlier run left in the spool (completed segments, the newest
// partial one) is stored, so it reaches the repositories even if the server never comes back.
// Names are read with the default segment size (the server's is not known yet); files they do
// not parse as are left for the pending scan after connecting.
Status Streamer::StoreLeftovers() {
  std::vector<std::pair<pg::WalFileName, std::string>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    auto parsed = pg::ParseWalFileName(name);
    if (parsed &&
        (parsed->kind == pg::WalFileKind::kSegment || parsed->kind == pg::WalFileKind::kPartial)) {
      files.emplace_back(*parsed, name);
    }
  }
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.timeline, a.first.segment) <
           std::pair(b.first.timeline, b.first.segment);
  });
  for (const auto& [parsed, name] : files) {
    auto content = ReadFile(dir_ / name);
    if (!content) return std::unexpected(content.error());
    if (content->empty()) continue;
    DRCTL_TRY(Push(name, *content));
    if (parsed.kind == pg::WalFileKind::kSegment) {
      for (auto& r : repos_) {
        (void)r.repo.storage().Delete(catalog::WalObjectKey(name + ".partial"));
      }
      fs::remove(dir_ / name, ec);
      ++segments_stored_;
    }
    spdlog::info("wal stream: stored {} left in the spool", name);
  }
  return Ok();
}

Status Streamer::Finish() {
  if (segment_size_ == 0) return Ok();
  auto stored = UploadPartial();
  if (!stored) {
    last_error_ = stored.error();
    return stored;
  }
  return Ok();
}

void Streamer::Report() {
  const std::uint64_t lag = server_ > stored_ ? server_ - stored_ : 0;
  spdlog::info(
      "wal stream: received {}, flushed {}, stored {}, server {}, lag {} bytes (timeline {})",
      pg::FormatLsn(received_), pg::FormatLsn(synced_), pg::FormatLsn(stored_),
      pg::FormatLsn(server_), lag, tli_);
  WriteStatus(state_);
}

void Streamer::WriteStatus(const std::string& state) {
  nlohmann::json j = {
      {"state", state},
      {"pid", ::getpid()},
      {"slot", config_.wal.slot},
      {"synchronous", std::string(SyncModeName(config_.wal.synchronous))},
      {"timeline", tli_},
      {"segment", segno_ ? SegmentName(*segno_) : ""},
      {"received_lsn", pg::FormatLsn(received_)},
      {"flushed_lsn", pg::FormatLsn(synced_)},
      {"stored_lsn", pg::FormatLsn(stored_)},
      {"server_lsn", pg::FormatLsn(server_)},
      {"lag_bytes", server_ > stored_ ? server_ - stored_ : 0},
      {"segments_stored", segments_stored_},
      {"reconnects", reconnects_},
      {"updated_at", IsoTime(std::chrono::system_clock::now())},
      {"received_at", received_at_.time_since_epoch().count() == 0
                          ? nlohmann::json()
                          : nlohmann::json(IsoTime(received_at_))},
      {"stored_at", stored_at_.time_since_epoch().count() == 0
                        ? nlohmann::json()
                        : nlohmann::json(IsoTime(stored_at_))},
      {"last_error", last_error_ ? nlohmann::json(last_error_->ToString()) : nlohmann::json()},
  };
  if (auto written = WriteFileAtomically(dir_ / "status.json", j.dump(2) + "\n", 0644); !written) {
    spdlog::warn("wal stream: {}", written.error().ToString());
  }
}

CommandOutput Streamer::Output() const {
  CommandOutput out;
  out.text = "wal stream stopped: received up to " + pg::FormatLsn(received_) + ", stored up to " +
             pg::FormatLsn(stored_) + " (" + std::to_string(segments_stored_) +
             " segments stored)\n";
  out.json = {{"ok", true},
              {"received_lsn", pg::FormatLsn(received_)},
              {"stored_lsn", pg::FormatLsn(stored_)},
              {"segments_stored", segments_stored_},
              {"reconnects", reconnects_},
              {"timeline", tli_}};
  return out;
}

}  // namespace

Result<CommandOutput> WalStream(const Config& config, const WalStreamOptions& options) {
  auto selected = SelectRepos(config, options.repo);
  if (!selected) return std::unexpected(selected.error());
  std::vector<StreamRepo> repos;
  for (const RepoConfig* repo : *selected) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) return std::unexpected(opened.error());
    repos.push_back({repo->name, std::move(*opened)});
  }
  InterruptScope interrupts;
  Streamer streamer(config, config.wal.spool / "stream", std::move(repos));
  DRCTL_TRY(streamer.Lock());
  DRCTL_TRY(streamer.Run());
  return streamer.Output();
}

}  // namespace drctl::command
