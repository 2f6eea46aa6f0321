#include "command/wal/spool.h"

#include <unistd.h>

#include "common/log.h"

namespace drctl::command {

std::optional<std::filesystem::path> SpoolDir(const WalConfig& wal, std::string_view sub) {
  if (wal.spool.empty()) return std::nullopt;
  const std::filesystem::path dir = wal.spool / sub;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      spdlog::debug("spool {} unavailable: {}", dir.string(), ec.message());
      return std::nullopt;
    }
    // Only its owner may read it (it holds WAL and the key cache): the spool and what is new.
    for (auto p = dir; p != wal.spool.parent_path() && !p.empty(); p = p.parent_path()) {
      std::filesystem::permissions(p, std::filesystem::perms::owner_all, ec);
      if (p == wal.spool) break;
    }
  }
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    spdlog::debug("spool {} is not writable", dir.string());
    return std::nullopt;
  }
  return dir;
}

}  // namespace drctl::command
