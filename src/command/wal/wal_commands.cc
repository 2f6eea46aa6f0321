#include "command/wal/wal_commands.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/repository.h"
#include "catalog/wal_store.h"
#include "command/repo/repo_open.h"
#include "command/wal/cluster_id.h"
#include "common/atomic_file.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kIo, "cannot read WAL file " + path + ": " + std::strerror(errno),
                "archive_command must be given %p, the path PostgreSQL passes");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The system identifier in a segment's first page (XLogLongPageHeaderData.xlp_sysid, offset 24).
std::optional<std::uint64_t> SegmentSystemId(std::string_view segment) {
  if (segment.size() < 32) return std::nullopt;
  std::uint64_t id = 0;
  std::memcpy(&id, segment.data() + 24, sizeof(id));
  return id;
}

}  // namespace

Result<CommandOutput> WalPush(const Config& config, const std::string& path,
                              const std::string& repo_name) {
  const std::string name = std::filesystem::path(path).filename().string();
  auto parsed = pg::ParseWalFileName(name);
  if (!parsed) return std::unexpected(parsed.error());
  auto content = ReadWholeFile(path);
  if (!content) return std::unexpected(content.error());
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  CommandOutput out;
  out.json = {{"ok", true}, {"file", name}, {"repos", nlohmann::json::array()}};
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) return std::unexpected(opened.error());
    if (parsed->kind == pg::WalFileKind::kSegment || parsed->kind == pg::WalFileKind::kPartial) {
      if (auto sysid = SegmentSystemId(*content)) {
        DRCTL_TRY(CheckCluster(opened->storage(), *sysid, "WAL segment " + name));
      }
    }
    auto pushed = catalog::PushWal(opened->storage(), opened->master(), name, *content,
                                   config.backup.compression);
    if (!pushed) {
      return std::unexpected(pushed.error().WithContext("repo '" + repo->name + "'"));
    }
    out.text +=
        repo->name + ": " + name + (pushed->already_stored ? " already stored\n" : " stored\n");
    out.json["repos"].push_back({{"name", repo->name},
                                 {"already_stored", pushed->already_stored},
                                 {"bytes", pushed->stored_bytes}});
  }
  return out;
}

Result<CommandOutput> WalGet(const Config& config, const std::string& name,
                             const std::string& destination, const std::string& repo_name) {
  auto parsed = pg::ParseWalFileName(name);
  if (!parsed) return std::unexpected(parsed.error());
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  std::optional<Error> failure;
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) {
      if (!failure) failure = opened.error();
      continue;  // fall back to the next repository
    }
    auto content = catalog::FetchWal(opened->storage(), opened->master(), name);
    if (!content && content.error().code() == ErrorCode::kNotFound &&
        parsed->kind == pg::WalFileKind::kSegment) {
      // wal stream's partial upload of the current segment: what there is of it, zero-padded.
      content = catalog::FetchWal(opened->storage(), opened->master(), name + ".partial");
    }
    if (!content) {
      if (content.error().code() != ErrorCode::kNotFound && !failure) {
        failure = content.error().WithContext("repo '" + repo->name + "'");
      }
      continue;
    }
    DRCTL_TRY(WriteFileAtomically(destination, *content));
    CommandOutput out;
    out.text = name + " from " + repo->name + "\n";
    out.json = {{"ok", true}, {"file", name}, {"repo", repo->name}, {"bytes", content->size()}};
    return out;
  }
  if (failure) return std::unexpected(*failure);
  return Fail(ErrorCode::kNotFound, name + " is not in the archive");
}

}  // namespace drctl::command
