// drctl wal push (archive_command), synchronous and asynchronous (push-ahead).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "catalog/wal_store.h"
#include "command/repo/repo_open.h"
#include "command/wal/cluster_id.h"
#include "command/wal/detached.h"
#include "command/wal/kek_cache.h"
#include "command/wal/spool.h"
#include "command/wal/wal_commands.h"
#include "common/atomic_file.h"
#include "io/mapped_file.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

// The file mapped, not read: no copy out of the page cache and no fresh 16 MiB buffer (every
// page of fresh memory costs a fault and a zeroing in a process that lives for one segment).
// A file that is not there is an I/O error here (exit 5), not the quiet "not found" of wal get:
// PostgreSQL passes only files that exist, so the path is wrong.
Result<io::MappedFile> ReadWalFile(const fs::path& path) {
  auto mapped =
      io::MappedFile::Open(path, "archive_command must be given %p, the path PostgreSQL passes");
  if (!mapped && mapped.error().code() == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kIo, mapped.error().message(), mapped.error().hint());
  }
  return mapped;
}

// The system identifier in a segment's first page (XLogLongPageHeaderData.xlp_sysid, offset 24).
std::optional<std::uint64_t> SegmentSystemId(std::string_view segment) {
  if (segment.size() < 32) return std::nullopt;
  std::uint64_t id = 0;
  std::memcpy(&id, segment.data() + 24, sizeof(id));
  return id;
}

// What an async push-ahead record says about the file it stored: a later call for the same
// name trusts the record only if the file is still that file.
std::string FileIdentity(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return std::to_string(st.st_size) + " " + std::to_string(st.st_ino) + " " +
         std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + "\n";
}

std::string ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

struct OpenTarget {
  OpenTarget(const RepoConfig* c, catalog::Repository r) : config(c), repo(std::move(r)) {}
  const RepoConfig* config = nullptr;
  catalog::Repository repo;
  std::optional<fs::path> cluster_record;       // <spool>/cluster/<repo id>: see ClusterKnown
  std::string checked_free;                     // a file name found free here just now
  std::mutex mutex;                             // guards checked_clusters
  std::vector<std::uint64_t> checked_clusters;  // system identifiers CheckCluster accepted
};

// Whether an earlier call found this repository archiving cluster `sysid` (its record in the
// spool): wal/cluster.json is written once, by the first push, so one call per segment need not
// read it again (a request per segment on S3).
bool ClusterKnown(const OpenTarget& target, std::uint64_t sysid) {
  return target.cluster_record && ReadSmallFile(*target.cluster_record) == std::to_string(sysid);
}

struct PushOutcome {
  std::string name;
  std::optional<Error> error;
  std::vector<std::pair<std::string, catalog::WalPushResult>> stored;  // per repository
};

// Stores one WAL file, `content` packed as `packed` (catalog::PackWal), in every target (durable
// there before returning).
PushOutcome PushContent(std::vector<std::unique_ptr<OpenTarget>>& targets, const std::string& name,
                        const pg::WalFileName& parsed, std::string_view content,
                        const catalog::PackedWal& packed) {
  PushOutcome outcome;
  outcome.name = name;
  const bool segment =
      parsed.kind == pg::WalFileKind::kSegment || parsed.kind == pg::WalFileKind::kPartial;
  const auto sysid = segment ? SegmentSystemId(content) : std::nullopt;
  for (auto& target : targets) {
    if (sysid) {
      std::lock_guard lock(target->mutex);
      auto& checked = target->checked_clusters;
      if (std::find(checked.begin(), checked.end(), *sysid) == checked.end()) {
        if (!ClusterKnown(*target, *sysid)) {
          if (auto status =
                  CheckCluster(target->repo.storage(), *sysid, "WAL segment " + outcome.name);
              !status) {
            outcome.error = status.error();
            return outcome;
          }
          if (target->cluster_record) {
            (void)WriteFileAtomically(*target->cluster_record, std::to_string(*sysid), 0600, false);
          }
        }
        checked.push_back(*sysid);
      }
    }
    auto pushed = catalog::PushWal(target->repo.storage(), target->repo.master(), outcome.name,
                                   content, packed, {.checked_free = target->checked_free == name});
    if (!pushed) {
      outcome.error = pushed.error().WithContext("repo '" + target->config->name + "'");
      return outcome;
    }
    outcome.stored.emplace_back(target->config->name, *pushed);
  }
  return outcome;
}

// Reads, packs and stores one WAL file in every target.
PushOutcome PushFile(std::vector<std::unique_ptr<OpenTarget>>& targets, const fs::path& path,
                     const Compression& compression, std::size_t compress_threads) {
  const std::string name = path.filename().string();
  auto parsed = pg::ParseWalFileName(name);
  auto content = parsed ? ReadWalFile(path) : std::unexpected(parsed.error());
  if (!content) return PushOutcome{.name = name, .error = content.error(), .stored = {}};
  return PushContent(targets, name, *parsed, content->bytes(),
                     catalog::PackWal(content->bytes(), compression, compress_threads));
}

// Files PostgreSQL has marked ready for archiving (<pg_wal>/archive_status/<name>.ready), sorted.
std::vector<std::string> ReadyFiles(const fs::path& wal_dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(wal_dir / "archive_status", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file.ends_with(".ready")) names.push_back(file.substr(0, file.size() - 6));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::unique_ptr<OpenTarget>>> OpenTargets(const Config& config,
                                                             const std::string& repo_name) {
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  std::optional<SpoolKekCache> cache;
  if (auto dir = SpoolDir(config.wal, "kek")) cache.emplace(*dir, kWalSlotTtl);
  const auto clusters = SpoolDir(config.wal, "cluster");
  std::vector<std::unique_ptr<OpenTarget>> targets;
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo, cache ? &*cache : nullptr);
    if (!opened) return std::unexpected(opened.error());
    targets.push_back(std::make_unique<OpenTarget>(repo, std::move(*opened)));
    if (clusters)
      targets.back()->cluster_record = *clusters / targets.back()->repo.description().repo_id;
  }
  return targets;
}

// Whether the spool holds a push-ahead record for this very file (stored, durable everywhere).
bool HasRecord(const fs::path& spool, const fs::path& file) {
  const std::string identity = FileIdentity(file);
  return !identity.empty() && ReadSmallFile(spool / (file.filename().string() + ".ok")) == identity;
}

// Records and locks of files PostgreSQL no longer waits for are stale.
void ForgetStale(const fs::path& spool, const std::vector<std::string>& ready) {
  std::error_code ec;
  for (fs::directory_iterator it(spool, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    const std::size_t suffix = f.ends_with(".ok") ? 3 : f.ends_with(".lock") ? 5 : 0;
    if (suffix == 0 || f.starts_with("push-ahead")) continue;
    if (!std::binary_search(ready.begin(), ready.end(), f.substr(0, f.size() - suffix))) {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
}

// The same from a call, when no push-ahead process runs (it cleans up while it runs; without
// one, as when PostgreSQL has one file at a time, the calls must, or records pile up).
void ForgetStaleIfIdle(const fs::path& spool, const std::vector<std::string>& ready) {
  FileLock idle(spool / "push-ahead.lock");
  if (idle.Try()) ForgetStale(spool, ready);
}

constexpr auto kLockWait = std::chrono::minutes(10);
constexpr auto kPushAheadFor = std::chrono::seconds(60);
constexpr auto kPushAheadIdle = std::chrono::milliseconds(300);

// The push-ahead process (detached, one per spool): pushes the files PostgreSQL has marked ready,
// among the first `push_ahead` of them, that have no record, `jobs` at a time, and writes each
// one's record once it is durable in every repository. It follows PostgreSQL as it marks more
// files ready, and exits when nothing new is ready for a moment (or after kPushAheadFor: the next
// call starts a new one, with the config as it is then).
void PushAhead(const Config& config, const std::string& repo_name, const fs::path& wal_dir,
               const fs::path& spool) {
  auto targets = OpenTargets(config, repo_name);
  if (!targets) {
    spdlog::warn("push-ahead: {} (PostgreSQL's calls push their files themselves)",
                 targets.error().ToString());
    return;
  }
  std::mutex mutex;
  std::deque<std::string> queue;
  std::set<std::string> taken;  // queued once at most, whatever became of it
  const auto until = std::chrono::steady_clock::now() + kPushAheadFor;
  auto next = [&]() -> std::optional<std::string> {
    for (auto idle = std::chrono::steady_clock::now() + kPushAheadIdle;;) {
      {
        std::lock_guard lock(mutex);
        if (queue.empty()) {
          const auto ready = ReadyFiles(wal_dir);
          ForgetStale(spool, ready);
          const std::size_t window =
              std::min(ready.size(), static_cast<std::size_t>(config.wal.push_ahead));
          for (std::size_t i = 0; i < window; ++i) {
            if (taken.insert(ready[i]).second && !HasRecord(spool, wal_dir / ready[i])) {
              queue.push_back(ready[i]);
            }
          }
        }
        if (!queue.empty()) {
          std::string name = std::move(queue.front());
          queue.pop_front();
          return name;
        }
      }
      const auto now = std::chrono::steady_clock::now();
      if (now > idle || now > until) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  };
  auto work = [&] {
    while (auto name = next()) {
      const fs::path path = wal_dir / *name;
      FileLock lock(spool / (*name + ".lock"));
      if (!lock.Try() || HasRecord(spool, path)) continue;  // a call has it, or had it
      const PushOutcome outcome = PushFile(*targets, path, config.backup.compression, 1);
      if (outcome.error) {
        spdlog::warn("pushing {} ahead failed (it is pushed when PostgreSQL asks for it): {}",
                     *name, outcome.error->ToString());
        continue;
      }
      // Durable in every repository: only now may a call skip it.
      (void)WriteFileAtomically(spool / (*name + ".ok"), FileIdentity(path), 0600, false);
    }
  };
  std::vector<std::jthread> pool;
  for (int t = 1; t < config.wal.jobs; ++t) pool.emplace_back(work);
  work();
}

CommandOutput StoredAhead(CommandOutput out, const std::string& name) {
  out.text = name + " was stored ahead\n";
  out.json["stored_ahead"] = true;
  return out;
}

}  // namespace

Result<CommandOutput> WalPush(const Config& config, const std::string& path,
                              const std::string& repo_name) {
  const fs::path file(path);
  const std::string name = file.filename().string();
  auto parsed = pg::ParseWalFileName(name);
  if (!parsed) return std::unexpected(parsed.error());
  const auto spool = config.wal.async ? SpoolDir(config.wal, "archive") : std::nullopt;
  CommandOutput out;
  out.json = {{"ok", true}, {"file", name}, {"repos", nlohmann::json::array()}};
  const std::vector<std::string> ready = ReadyFiles(file.parent_path());

  // Async: the push-ahead process may have stored this very file already, or be storing it.
  std::optional<FileLock> lock;
  if (spool) {
    if (HasRecord(*spool, file)) return StoredAhead(std::move(out), name);
    const std::size_t window =
        std::min(ready.size(), static_cast<std::size_t>(config.wal.push_ahead));
    const bool ahead = std::any_of(
        ready.begin(), ready.begin() + static_cast<long>(window), [&](const std::string& other) {
          return other != name && !HasRecord(*spool, file.parent_path() / other);
        });
    // Before anything opens a connection or a thread: the push-ahead process is a fork.
    const bool started =
        ahead &&
        StartDetached(*spool / "push-ahead.lock", *spool / "push-ahead.log", "drctl-pushahead",
                      [&] { PushAhead(config, repo_name, file.parent_path(), *spool); });
    out.json["pushing_ahead"] = started;
    if (!started) ForgetStaleIfIdle(*spool, ready);
    lock.emplace(*spool / (name + ".lock"));
    (void)lock->Wait(kLockWait);
    if (HasRecord(*spool, file)) return StoredAhead(std::move(out), name);
  }

  // Every failure says how much waits behind it: the alert an operator needs.
  auto waiting = [&](const Error& error) {
    if (ready.empty()) return error;
    return error.WithContext(std::to_string(ready.size()) + " WAL files wait for archiving in " +
                             (file.parent_path() / "archive_status").string());
  };
  auto content = ReadWalFile(file);
  if (!content) return std::unexpected(waiting(content.error()));
  // One file: its compression spreads over the cores. It needs no key, so it runs while the
  // repositories are opened (on S3: loading libcurl, a TLS handshake, a round trip or more).
  const std::size_t compress_threads =
      std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4);
  auto packing = std::async(std::launch::async, [&] {
    return catalog::PackWal(content->bytes(), config.backup.compression, compress_threads);
  });
  auto targets = OpenTargets(config, repo_name);
  if (targets && !name.ends_with(".partial")) {
    // Still packing: where a write checks a name with a request before uploading (S3: HEAD), do
    // that now.
    for (auto& target : *targets) {
      auto& storage = target->repo.storage();
      if ((storage.Features() & storage::kFeatureAtomicIfAbsent) != 0) continue;
      auto stat = storage.Stat(catalog::WalObjectKey(name));
      if (!stat && stat.error().code() == ErrorCode::kNotFound) target->checked_free = name;
    }
  }
  const catalog::PackedWal packed = packing.get();
  if (!targets) return std::unexpected(waiting(targets.error()));
  const PushOutcome mine = PushContent(*targets, name, *parsed, content->bytes(), packed);
  if (mine.error) return std::unexpected(waiting(*mine.error));
  if (spool) (void)WriteFileAtomically(*spool / (name + ".ok"), FileIdentity(file), 0600, false);
  for (const auto& [repo, result] : mine.stored) {
    out.text +=
        fmt::format("{}: {} {}\n", repo, name, result.already_stored ? "already stored" : "stored");
    out.json["repos"].push_back({{"name", repo},
                                 {"already_stored", result.already_stored},
                                 {"bytes", result.stored_bytes}});
  }
  return out;
}

}  // namespace drctl::command
