#include "catalog/backup_catalog.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <functional>
#include <tuple>

#include "io/hash.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kBackupsPrefix = "backups/";
constexpr std::string_view kManifestSuffix = ".manifest";

// Keys directly under backups/ that end in ".manifest", ascending.
Result<std::vector<std::string>> ListManifestKeys(storage::Storage& storage) {
  std::vector<std::string> keys;
  DRCTL_TRY(storage.List(kBackupsPrefix, [&](const storage::ObjectInfo& info) {
    const std::string_view rest = std::string_view(info.key).substr(kBackupsPrefix.size());
    if (rest.find('/') == std::string_view::npos && rest.ends_with(kManifestSuffix)) {
      keys.push_back(info.key);
    }
    return Ok();
  }));
  return keys;
}

std::string Where(const storage::Storage& storage, std::string_view key) {
  return storage.Describe() + "/" + std::string(key);
}

Result<Manifest> ReadManifest(storage::Storage& storage, const MasterKey& master,
                              const std::string& key) {
  auto data = storage.Read(key);
  if (!data) return std::unexpected(data.error());
  return DecodeManifest(master, *data, key, Where(storage, key));
}

bool IsDamage(const Error& error) {
  return error.code() == ErrorCode::kCorrupt || error.code() == ErrorCode::kUnsupported;
}

Status RequireBackupId(std::string_view backup_id) {
  if (IsValidBackupId(backup_id)) return Ok();
  return Fail(ErrorCode::kUsage, "\"" + std::string(backup_id) + "\" is not a backup id",
              "a backup id looks like 20261125T190000Z-a1b2 (UTC start time and 4 hex digits)");
}

}  // namespace

std::string NewBackupId(std::int64_t unix_time) {
  const auto t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::array<char, 32> stamp{};
  const std::size_t n = std::strftime(stamp.data(), stamp.size(), "%Y%m%dT%H%M%SZ", &tm);
  const auto suffix = io::RandomArray<2>();
  return std::string(stamp.data(), n) + "-" + io::ToHex(suffix);
}

Result<std::vector<std::string>> ListBackupIds(storage::Storage& storage) {
  auto keys = ListManifestKeys(storage);
  if (!keys) return std::unexpected(keys.error());
  std::vector<std::string> ids;
  for (const auto& key : *keys) {
    if (auto id = BackupIdOfKey(key)) ids.push_back(std::move(*id));
  }
  return ids;
}

Result<Manifest> LoadManifest(storage::Storage& storage, const MasterKey& master,
                              std::string_view backup_id) {
  DRCTL_TRY(RequireBackupId(backup_id));
  const std::string key = ManifestKey(backup_id);
  auto manifest = ReadManifest(storage, master, key);
  if (!manifest && manifest.error().code() == ErrorCode::kNotFound) {
    return Fail(ErrorCode::kNotFound,
                "backup " + std::string(backup_id) + " not found in " + storage.Describe(),
                "check the backup id against the repository's backups; it may have expired");
  }
  return manifest;
}

Result<std::vector<Manifest>> LoadManifests(storage::Storage& storage, const MasterKey& master,
                                            const LoadOptions& options) {
  auto keys = ListManifestKeys(storage);
  if (!keys) return std::unexpected(keys.error());
  std::vector<Manifest> manifests;
  manifests.reserve(keys->size());
  for (const auto& key : *keys) {
    auto manifest = ReadManifest(storage, master, key);
    if (!manifest) {
      if (options.damaged != nullptr && IsDamage(manifest.error())) {
        options.damaged->push_back(manifest.error());
        continue;
      }
      return std::unexpected(manifest.error());
    }
    if (options.without_files) {
      manifest->files.clear();
      manifest->files.shrink_to_fit();
    }
    manifests.push_back(std::move(*manifest));
  }
  std::sort(manifests.begin(), manifests.end(), [](const Manifest& a, const Manifest& b) {
    // Two backups started in the same second: the WAL position orders them (ids would not).
    return std::tie(a.start_time, a.start_lsn, a.backup_id) <
           std::tie(b.start_time, b.start_lsn, b.backup_id);
  });
  return manifests;
}

Status WriteManifest(storage::Storage& storage, const MasterKey& master, const Manifest& manifest) {
  auto data = EncodeManifest(master, manifest);
  if (!data) return std::unexpected(data.error());
  const std::string key = ManifestKey(manifest.backup_id);
  auto written = storage.Write(key, *data, {.durable = true, .if_absent = true});
  if (!written && written.error().code() == ErrorCode::kConflict) {
    return Fail(
        ErrorCode::kConflict,
        "backup " + manifest.backup_id + " already has a manifest at " + Where(storage, key),
        "manifests are never replaced; take the backup again under a new id");
  }
  return written;
}

Status DeleteManifest(storage::Storage& storage, std::string_view backup_id) {
  DRCTL_TRY(RequireBackupId(backup_id));
  return storage.Delete(ManifestKey(backup_id));
}

Result<ChunkSet> LiveChunks(storage::Storage& storage, const MasterKey& master) {
  auto keys = ListManifestKeys(storage);
  if (!keys) return std::unexpected(keys.error());
  ChunkSet live;
  for (const auto& key : *keys) {
    auto manifest = ReadManifest(storage, master, key);
    if (!manifest) {
      return std::unexpected(manifest.error().WithContext(
          "cannot mark live chunks (garbage collection must not run without every manifest)"));
    }
    for (const auto& file : manifest->files) live.insert(file.chunks.begin(), file.chunks.end());
  }
  return live;
}

}  // namespace drctl::catalog
