// drctl wal push (archive_command), synchronous and asynchronous (push-ahead).
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "catalog/wal_store.h"
#include "command/repo/repo_open.h"
#include "command/wal/cluster_id.h"
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

// Stores one WAL file in every target (durable there before returning).
PushOutcome PushFile(std::vector<std::unique_ptr<OpenTarget>>& targets, const fs::path& path,
                     const Compression& compression, std::size_t compress_threads) {
  PushOutcome outcome;
  outcome.name = path.filename().string();
  auto parsed = pg::ParseWalFileName(outcome.name);
  if (!parsed) {
    outcome.error = parsed.error();
    return outcome;
  }
  auto content = ReadWalFile(path);
  if (!content) {
    outcome.error = content.error();
    return outcome;
  }
  const bool segment =
      parsed->kind == pg::WalFileKind::kSegment || parsed->kind == pg::WalFileKind::kPartial;
  const auto sysid = segment ? SegmentSystemId(content->bytes()) : std::nullopt;
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
                                   content->bytes(), compression, compress_threads);
    if (!pushed) {
      outcome.error = pushed.error().WithContext("repo '" + target->config->name + "'");
      return outcome;
    }
    outcome.stored.emplace_back(target->config->name, *pushed);
  }
  return outcome;
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
  if (auto dir = SpoolDir(config.wal, "kek")) cache.emplace(*dir);
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

  // Async: a previous call may have stored this very file already.
  if (spool) {
    const fs::path record = *spool / (name + ".ok");
    const std::string identity = FileIdentity(file);
    if (!identity.empty() && ReadSmallFile(record) == identity) {
      std::error_code ec;
      fs::remove(record, ec);
      out.text = name + " was stored ahead\n";
      out.json["stored_ahead"] = true;
      return out;
    }
  }

  // Every failure says how much waits behind it: the alert an operator needs.
  const std::vector<std::string> ready = ReadyFiles(file.parent_path());
  auto waiting = [&](const Error& error) {
    if (ready.empty()) return error;
    return error.WithContext(std::to_string(ready.size()) + " WAL files wait for archiving in " +
                             (file.parent_path() / "archive_status").string());
  };
  auto targets = OpenTargets(config, repo_name);
  if (!targets) return std::unexpected(waiting(targets.error()));

  std::vector<fs::path> batch{file};
  if (spool) {
    for (const auto& other : ready) {
      if (static_cast<int>(batch.size()) >= config.wal.push_ahead) break;
      if (other == name) continue;
      const fs::path other_path = file.parent_path() / other;
      if (ReadSmallFile(*spool / (other + ".ok")) == FileIdentity(other_path)) continue;
      batch.push_back(other_path);
    }
    // Records of files PostgreSQL no longer waits for are stale.
    std::error_code ec;
    for (fs::directory_iterator it(*spool, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string f = it->path().filename().string();
      if (!f.ends_with(".ok")) continue;
      if (!std::binary_search(ready.begin(), ready.end(), f.substr(0, f.size() - 3))) {
        std::error_code ignored;
        fs::remove(it->path(), ignored);
      }
    }
  }

  std::vector<PushOutcome> outcomes(batch.size());
  // One file: its compression spreads over the cores; a batch already keeps `jobs` threads busy.
  const std::size_t compress_threads =
      batch.size() == 1 ? std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 4) : 1;
  {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t i = next++; i < batch.size(); i = next++) {
        outcomes[i] = PushFile(*targets, batch[i], config.backup.compression, compress_threads);
        if (i > 0 && !outcomes[i].error) {
          // Durable in every repository: only now may a later call skip it.
          (void)WriteFileAtomically(*spool / (outcomes[i].name + ".ok"), FileIdentity(batch[i]));
        }
      }
    };
    const std::size_t threads =
        std::min<std::size_t>(batch.size(), static_cast<std::size_t>(config.wal.jobs));
    std::vector<std::jthread> pool;
    for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
  }

  const PushOutcome& mine = outcomes.front();
  if (mine.error) {
    Error error = *mine.error;
    if (!ready.empty()) {
      error = error.WithContext(std::to_string(ready.size()) + " WAL files wait for archiving in " +
                                (file.parent_path() / "archive_status").string());
    }
    return std::unexpected(error);
  }
  for (const auto& [repo, result] : mine.stored) {
    out.text +=
        fmt::format("{}: {} {}\n", repo, name, result.already_stored ? "already stored" : "stored");
    out.json["repos"].push_back({{"name", repo},
                                 {"already_stored", result.already_stored},
                                 {"bytes", result.stored_bytes}});
  }
  if (spool) {
    nlohmann::json ahead = nlohmann::json::array();
    std::size_t failed = 0;
    for (std::size_t i = 1; i < outcomes.size(); ++i) {
      if (outcomes[i].error) {
        ++failed;
        spdlog::warn("pushing {} ahead failed (it is pushed again when PostgreSQL asks): {}",
                     outcomes[i].name, outcomes[i].error->ToString());
      } else {
        ahead.push_back(outcomes[i].name);
      }
    }
    if (!ahead.empty()) out.text += "stored ahead: " + std::to_string(ahead.size()) + " more\n";
    out.json["stored_ahead_files"] = ahead;
    out.json["ahead_failed"] = failed;
  }
  return out;
}

}  // namespace drctl::command
