#include "command/repo/repo_open.h"

#include "command/wal/kek_cache.h"
#include "storage/open.h"

namespace drctl::command {

Result<std::optional<std::string>> RepoSecret(const Config& config) {
  if (!config.encryption.enabled) return std::optional<std::string>();
  auto secret = ResolveSecret(config.encryption.passphrase);
  if (!secret) {
    return std::unexpected(secret.error().WithContext(
        "repository passphrase (" + config.encryption.passphrase.Describe() + ")"));
  }
  return std::optional<std::string>(std::move(*secret));
}

Result<catalog::Repository> OpenRepo(const Config& config, const RepoConfig& repo,
                                     catalog::KekCache* cache) {
  auto storage = storage::OpenStorage(repo);
  if (!storage) return std::unexpected(storage.error());
  auto secret = RepoSecret(config);
  if (!secret) return std::unexpected(secret.error());
  std::optional<SpoolKekCache> host_cache;
  if (cache == nullptr && secret->has_value()) {
    if (auto dir = HostKekCacheDir(config.wal)) cache = &host_cache.emplace(*dir);
  }
  auto opened = catalog::Repository::Open(std::move(*storage), *secret, cache);
  if (!opened) return std::unexpected(opened.error().WithContext("repo '" + repo.name + "'"));
  return opened;
}

}  // namespace drctl::command
