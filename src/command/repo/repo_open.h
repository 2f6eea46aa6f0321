// Opening a configured repository with the configured secret: the first step of every command
// that reads or writes one.
#pragma once

#include <optional>
#include <string>

#include "catalog/repository.h"
#include "common/config.h"

namespace drctl::command {

// The repository secret from [encryption] (nullopt when encryption is disabled in the config).
Result<std::optional<std::string>> RepoSecret(const Config& config);

// Opens `repo` (its storage, then its key slots with RepoSecret). Errors name the repository.
// `cache`: remembered key-slot unwrapping keys; without one, the host's cache in the spool
// (HostKekCache, wal/kek_cache.h) when there is one.
Result<catalog::Repository> OpenRepo(const Config& config, const RepoConfig& repo,
                                     catalog::KekCache* cache = nullptr);

}  // namespace drctl::command
