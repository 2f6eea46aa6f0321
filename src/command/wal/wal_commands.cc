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

Status WriteAtomically(const std::string& destination, std::string_view content) {
  const std::string temp = destination + ".drctl-tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Fail(ErrorCode::kIo, "cannot create " + temp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      unlink(temp.c_str());
      return Fail(ErrorCode::kIo, "cannot write " + temp + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = fsync(fd) == 0;
  close(fd);
  if (!synced || rename(temp.c_str(), destination.c_str()) != 0) {
    unlink(temp.c_str());
    return Fail(ErrorCode::kIo,
                "cannot put WAL in place at " + destination + ": " + std::strerror(errno));
  }
  return Ok();
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
    if (!content) {
      if (content.error().code() != ErrorCode::kNotFound && !failure) {
        failure = content.error().WithContext("repo '" + repo->name + "'");
      }
      continue;
    }
    DRCTL_TRY(WriteAtomically(destination, *content));
    CommandOutput out;
    out.text = name + " from " + repo->name + "\n";
    out.json = {{"ok", true}, {"file", name}, {"repo", repo->name}, {"bytes", content->size()}};
    return out;
  }
  if (failure) return std::unexpected(*failure);
  return Fail(ErrorCode::kNotFound, name + " is not in the archive");
}

}  // namespace drctl::command
