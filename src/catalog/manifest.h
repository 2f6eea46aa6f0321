// Backup manifests (doc/format/manifest.md): the object that makes a backup visible. It is
// written last, after every chunk it names and the WAL the backup needs are durable, and it is
// everything a fresh machine needs to restore the backup: PostgreSQL identity, start/stop points,
// backup_label and tablespace map, every file with its chunk list, and a catalog snapshot.
//
// An encoded manifest is "DRMF" || version || manifest id || sealed(zstd frames of a binary body);
// the seal's AAD names the object key, so a manifest moved to another key does not open.
//
// Encoding and decoding check the same rules (ValidateManifest): drctl never writes a manifest it
// would refuse to read, and a manifest that breaks a rule is kCorrupt, never half-used.
// Thread-safety: all functions are safe to call concurrently; a Manifest is a plain value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/keys.h"
#include "common/result.h"

namespace drctl::catalog {

enum class BackupStatus : std::uint8_t {
  kComplete = 0,
  kCompleteWithChecksumFailures = 1,  // some file has PostgreSQL page checksum failures
};

enum class FileType : std::uint8_t { kFile = 0, kDirectory = 1, kSymlink = 2 };

std::string_view BackupStatusName(BackupStatus status);  // "complete", ...
std::string_view FileTypeName(FileType type);            // "file", "dir", "symlink"

struct PgIdentity {
  std::string system_identifier;  // decimal digits, as pg_control_system() prints it
  std::uint32_t version_num = 0;  // server_version_num, e.g. 150004
  std::uint32_t timeline = 0;     // timeline the backup started on (>= 1)
  bool operator==(const PgIdentity&) const = default;
};

struct Tablespace {
  std::uint32_t oid = 0;
  std::string location;  // the original absolute path pg_tblspc/<oid> pointed to
  bool operator==(const Tablespace&) const = default;
};

struct ManifestFile {
  std::string path;  // relative to PGDATA ("base/5/16384", "pg_tblspc/16385/PG_15_.../16386")
  FileType type = FileType::kFile;
  std::uint32_t mode = 0;       // permission bits (at most 07777)
  std::uint64_t size = 0;       // bytes read (files only; 0 for directories and symlinks)
  std::int64_t mtime_ns = 0;    // Unix time in nanoseconds (st_mtim)
  std::string link_target;      // symlinks only (non-empty)
  std::vector<ChunkId> chunks;  // files only, in file order (none when size 0)
  std::vector<std::uint32_t> checksum_failures;  // block numbers, strictly ascending (files only)
  bool operator==(const ManifestFile&) const = default;
};

struct DatabaseInfo {
  std::uint32_t oid = 0;
  std::string name;
  bool operator==(const DatabaseInfo&) const = default;
};

struct RelationInfo {
  std::uint32_t database_oid = 0;  // one of the manifest's databases
  std::uint32_t oid = 0;
  std::uint32_t relfilenode = 0;  // 0 for mapped catalogs (pg_class.relfilenode)
  std::string name;               // "schema.name"
  char relkind = 'r';             // pg_class.relkind: r i S t v m c f p I
  bool operator==(const RelationInfo&) const = default;
};

struct BackupStats {
  std::uint64_t logical_size = 0;  // sum of file sizes
  std::uint64_t new_bytes = 0;     // bytes this backup added to the repository (after dedup)
  double duration_seconds = 0;     // finite, >= 0
  bool operator==(const BackupStats&) const = default;
};

struct Manifest {
  std::string backup_id;  // "20261125T190000Z-a1b2" (IsValidBackupId)
  std::string label;      // operator's label, may be empty (at most 1024 bytes)
  BackupStatus status = BackupStatus::kComplete;
  std::string drctl_version;  // version of the drctl that wrote it (non-empty)
  PgIdentity pg;
  std::uint64_t start_lsn = 0;  // pg::Lsn; start_lsn <= stop_lsn
  std::uint64_t stop_lsn = 0;
  std::int64_t start_time = 0;  // Unix seconds; 0 <= start_time <= stop_time
  std::int64_t stop_time = 0;
  // The oldest transaction (xid8, with epoch) still running just after pg_backup_stop: any
  // transaction at or above it ends after the backup's stop point, so point-in-time recovery to
  // it can start from this backup. 0: unknown.
  std::uint64_t stop_xmin = 0;
  std::string start_wal;  // WAL segment names (24 uppercase hex digits)
  std::string stop_wal;
  std::string backup_label;    // labelfile of pg_backup_stop (non-empty)
  std::string tablespace_map;  // spcmapfile of pg_backup_stop (may be empty)
  std::vector<Tablespace> tablespaces;
  std::vector<ManifestFile> files;  // distinct paths, in the order the backup recorded them
  std::vector<DatabaseInfo> databases;
  std::vector<RelationInfo> relations;
  std::map<std::string, std::uint64_t> row_counts;  // "schema.table" -> exact count
  BackupStats stats;

  std::uint64_t ChunkCount() const;
  bool operator==(const Manifest&) const = default;
};

// The largest decoded body a reader accepts (about 30 TiB of data at 1 MiB chunks): anything
// larger is damage, refused before it exhausts memory.
inline constexpr std::size_t kMaxManifestBodySize = std::size_t{1} << 30;

// "YYYYMMDDTHHMMSSZ-hhhh": a UTC start time (so ids sort by time) and 4 lowercase hex digits.
bool IsValidBackupId(std::string_view id);

// "backups/<backup id>.manifest" (the id is not checked here).
std::string ManifestKey(std::string_view backup_id);

// The backup id of a key "backups/<id>.manifest" with a valid id; nullopt for any other key.
std::optional<std::string> BackupIdOfKey(std::string_view key);

// Why `manifest` breaks a rule of doc/format/manifest.md ("Body"), as one phrase naming the
// field ("files[3].path: ..."); nullopt when it is valid.
std::optional<std::string> ValidateManifest(const Manifest& manifest);

// Encodes and seals `manifest` for the object ManifestKey(manifest.backup_id), under a fresh
// random manifest id. kInternal (a bug in the caller) if ValidateManifest refuses it.
Result<std::string> EncodeManifest(const MasterKey& master, const Manifest& manifest);

// Authenticates and decodes the object stored at `object_key`; `where` names it in messages
// (storage description + key). kUnsupported if its version is not 1 (written by a newer drctl,
// or a damaged version byte); kCorrupt for anything else that is wrong: bad header, failed
// authentication (damage, truncation, wrong key, object moved to another key), a body that does
// not parse or breaks a rule, or a backup id that does not match `object_key`.
Result<Manifest> DecodeManifest(const MasterKey& master, std::string_view data,
                                std::string_view object_key, const std::string& where);

namespace internal {

// The layers of the format, exposed for tests and the fuzz target (which cannot forge a seal).
// The binary body (no validation when encoding: tests build invalid bodies with it).
std::string EncodeManifestBody(const Manifest& manifest);
// Parses and validates a body; kCorrupt naming `where`.
Result<Manifest> DecodeManifestBody(std::string_view body, const std::string& where);
// Parses the sealed plaintext (zstd frames), then the body; refuses a body over `max_body`.
Result<Manifest> DecodeManifestPlaintext(std::string_view plaintext, const std::string& where,
                                         std::size_t max_body = kMaxManifestBodySize);
// EncodeManifest without validation, so tests can seal authentic but invalid manifests.
std::string EncodeManifestUnchecked(const MasterKey& master, const Manifest& manifest);

}  // namespace internal
}  // namespace drctl::catalog
