// What a restore will do, decided and checked before anything is written: which backup, from
// which repositories, into which directories, and whether it can succeed: the backup exists and
// opens, every chunk it names is in some repository's index, every WAL segment it needs is
// stored, the targets are empty (or --delta) and writable, and each filesystem has room.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "catalog/chunk_store.h"
#include "catalog/manifest.h"
#include "catalog/repository.h"
#include "command/restore/recovery_target.h"
#include "common/config.h"

namespace drctl::command {

struct RestoreRequest {
  std::string repo;               // --repo: empty = every configured one, in config order
  std::string backup = "latest";  // --backup ID|latest
  std::filesystem::path pgdata;   // --pgdata
  std::map<std::uint32_t, std::filesystem::path> tablespace_map;  // --tablespace-map OID=DIR
  bool delta = false;
  RecoveryTarget target;  // point-in-time target (default: the end of the archive)
};

struct OpenedRepo {
  std::string name;
  std::unique_ptr<catalog::Repository> repo;
  std::unique_ptr<catalog::ChunkStore> store;  // indexes loaded
};

struct RestorePlan {
  catalog::Manifest manifest;
  std::string source_repo;        // where the manifest was read
  std::vector<OpenedRepo> repos;  // every repository that opened, preferred first
  std::filesystem::path pgdata;   // absolute
  std::map<std::uint32_t, std::filesystem::path> tablespaces;  // oid -> absolute directory
  std::vector<std::string> wal_segments;                       // start_wal .. stop_wal
  std::uint64_t chunk_size = 0;
  WalWindow window;  // the WAL stored continuously from the backup's start (source repository)
};

// "OID=DIR" → (oid, DIR); kUsage otherwise.
Result<std::pair<std::uint32_t, std::filesystem::path>> ParseTablespaceMapping(
    const std::string& text);

// Opens the repositories, finds the backup and checks everything the restore needs.
Result<RestorePlan> PlanRestore(const Config& config, const RestoreRequest& request);

}  // namespace drctl::command
