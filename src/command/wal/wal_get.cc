// drctl wal get (restore_command), with prefetch: after delivering a segment, a detached
// background process fetches the next `prefetch` segments of the timeline into the spool, `jobs`
// at a time, so that replay is not bound by one object-store round trip per segment.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "catalog/wal_store.h"
#include "command/repo/repo_open.h"
#include "command/wal/detached.h"
#include "command/wal/kek_cache.h"
#include "command/wal/spool.h"
#include "command/wal/wal_commands.h"
#include "common/atomic_file.h"
#include "io/hash.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

// Prefetched files older than this are removed (a restore that ended long ago).
constexpr auto kStaleAfter = std::chrono::hours(1);

struct Source {
  const RepoConfig* config = nullptr;
  std::optional<catalog::Repository> repo;  // opened on first use
  std::optional<Error> open_error;
};

class Fetcher {
 public:
  Fetcher(const Config& config, const std::vector<const RepoConfig*>& repos) : config_(config) {
    if (auto dir = SpoolDir(config.wal, "kek")) cache_.emplace(*dir, kWalSlotTtl);
    for (const RepoConfig* r : repos) sources_.push_back(Source{r, std::nullopt, std::nullopt});
  }

  void OpenAll() {
    for (auto& source : sources_) Open(source);
  }

  // The file from the first repository that has it, into `content` (its capacity reused), and
  // that repository's name (a segment falls back to "<name>.partial", padded with zeros to a
  // whole segment). kNotFound when none has it; another error when one that might have it could
  // not be read.
  Result<std::string> Fetch(const std::string& name, bool segment, std::string& content) {
    std::optional<Error> failure;
    for (auto& source : sources_) {
      Open(source);
      if (!source.repo) {
        if (!failure) failure = source.open_error;
        continue;  // fall back to the next repository
      }
      auto got = catalog::FetchWal(source.repo->storage(), source.repo->master(), name, content);
      if (!got && got.error().code() == ErrorCode::kNotFound && segment) {
        // wal stream's upload of the current segment: what there is of it.
        got = catalog::FetchWal(source.repo->storage(), source.repo->master(), name + ".partial",
                                content);
        if (got && content.size() < pg::kDefaultWalSegmentSize) {
          content.resize(pg::kDefaultWalSegmentSize, '\0');
        }
      }
      if (!got) {
        if (got.error().code() != ErrorCode::kNotFound && !failure) {
          failure = got.error().WithContext("repo '" + source.config->name + "'");
        }
        continue;
      }
      return source.config->name;
    }
    if (failure) return std::unexpected(*failure);
    return Fail(ErrorCode::kNotFound, name + " is not in the archive");
  }

 private:
  void Open(Source& source) {
    if (source.repo || source.open_error) return;
    auto opened = OpenRepo(config_, *source.config, cache_ ? &*cache_ : nullptr);
    if (opened) {
      source.repo.emplace(std::move(*opened));
    } else {
      source.open_error = opened.error();
    }
  }

  const Config& config_;
  std::optional<SpoolKekCache> cache_;
  std::vector<Source> sources_;
};

// One spool directory per set of repositories: the same name in another cluster's repository
// is another file.
std::optional<fs::path> PrefetchDir(const Config& config,
                                    const std::vector<const RepoConfig*>& repos) {
  std::string identity;
  for (const RepoConfig* r : repos) identity += r->url + "\n" + r->endpoint + "\n";
  const auto digest = io::Sha256(identity);
  return SpoolDir(config.wal, "get/" + io::ToHex(std::span<const std::uint8_t>(digest.data(), 8)));
}

// Moves a prefetched file to `destination`, or copies it across filesystems. Not made durable
// (no fsync of the directory): PostgreSQL reads it at once and fetches it again after a crash.
Status Deliver(const fs::path& spooled, const fs::path& destination) {
  if (::rename(spooled.c_str(), destination.c_str()) == 0) return Ok();
  std::ifstream in(spooled, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (!in) return Fail(ErrorCode::kIo, "cannot read prefetched " + spooled.string());
  DRCTL_TRY(WriteFileAtomically(destination, buf.str(), 0600, false));
  std::error_code ec;
  fs::remove(spooled, ec);
  return Ok();
}

// Removes prefetched segments before `name` on its timeline (replay has passed them) and any
// older than kStaleAfter.
void Prune(const fs::path& dir, const std::string& name) {
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    std::error_code e;
    const bool passed = f.size() == name.size() && f.compare(0, 8, name, 0, 8) == 0 && f < name;
    const auto mtime = fs::last_write_time(it->path(), e);
    if (passed || (!e && now - mtime > kStaleAfter)) fs::remove(it->path(), e);
  }
}

// The background part: fetch the `count` segments after `name` that are not in `dir` yet.
void Prefetch(Fetcher& fetcher, const fs::path& dir, const pg::WalFileName& after, int count,
              int jobs) {
  // Runs detached (StartDetached), holding the prefetch lock until it exits.
  std::vector<std::string> wanted;
  for (int i = 1; i <= count; ++i) {
    const std::string next =
        pg::SegmentFileName(after.timeline, after.segment + static_cast<std::uint64_t>(i));
    if (!fs::exists(dir / next)) wanted.push_back(next);
  }
  std::atomic<std::size_t> index{0};
  std::atomic<bool> end_of_archive{false};
  fetcher.OpenAll();  // before the threads: Fetch then only reads the opened repositories
  auto work = [&] {
    std::string content;  // one buffer per thread for all its segments: no fresh 16 MiB each
    for (std::size_t i = index++; i < wanted.size() && !end_of_archive; i = index++) {
      // Whole segments only: a partial one may still grow.
      auto got = fetcher.Fetch(wanted[i], false, content);
      if (!got) {
        if (got.error().code() == ErrorCode::kNotFound) end_of_archive = true;
        continue;
      }
      // A cache: complete or absent, never fsynced (it can be fetched again).
      (void)WriteFileAtomically(dir / wanted[i], content, 0600, false);
    }
  };
  std::vector<std::jthread> threads;
  for (int t = 1; t < jobs; ++t) threads.emplace_back(work);
  work();
}

}  // namespace

Result<CommandOutput> WalGet(const Config& config, const std::string& name,
                             const std::string& destination, const std::string& repo_name) {
  auto parsed = pg::ParseWalFileName(name);
  if (!parsed) return std::unexpected(parsed.error());
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  const bool segment = parsed->kind == pg::WalFileKind::kSegment;
  const auto dir = segment && config.wal.prefetch > 0 ? PrefetchDir(config, *repos) : std::nullopt;
  Fetcher fetcher(config, *repos);
  CommandOutput out;
  if (dir && fs::exists(*dir / name)) {
    DRCTL_TRY(Deliver(*dir / name, destination));
    out.text = name + " from the prefetch spool\n";
    out.json = {{"ok", true}, {"file", name}, {"prefetched", true}};
  } else {
    std::string content;
    auto got = fetcher.Fetch(name, segment, content);
    if (!got) return std::unexpected(got.error());
    // Not fsynced: PostgreSQL reads it at once and fetches it again after a crash.
    DRCTL_TRY(WriteFileAtomically(destination, content, 0600, false));
    out.text = name + " from " + *got + "\n";
    out.json = {{"ok", true}, {"file", name}, {"repo", *got}, {"bytes", content.size()}};
  }
  if (dir) {
    Prune(*dir, name);
    // One prefetcher at a time: when one runs, nothing to start. Called while single-threaded.
    StartDetached(*dir / ".lock", std::nullopt, "drctl-prefetch",
                  [&] { Prefetch(fetcher, *dir, *parsed, config.wal.prefetch, config.wal.jobs); });
  }
  return out;
}

}  // namespace drctl::command
