// The spool ([wal] spool): local state of the WAL commands on the database host. Subdirectories:
//   archive/  async wal push: records of files stored ahead ("<name>.ok"), locks of files being
//             pushed ("<name>.lock"), the push-ahead process's lock and log ("push-ahead.*")
//   get/      segments wal get fetched ahead (prefetch), per repository set
//   stream/   wal stream's segments (WAL that may not be stored anywhere else yet: keep it)
//   kek/      the key-unwrapping cache (kek_cache.h)
//   cluster/  "<repo id>": the system identifier wal push found in that repository's
//             wal/cluster.json (written once, by the first push), so later calls need not read it
// Everything but stream/ can be deleted at any time: it only saves work. drctl works without it.
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "common/config.h"

namespace drctl::command {

// "<spool>/<sub>", created (mode 0700, parents too) when missing; nullopt when it cannot be
// created or written (the caller then works without it; the reason is logged at debug level).
std::optional<std::filesystem::path> SpoolDir(const WalConfig& wal, std::string_view sub);

}  // namespace drctl::command
