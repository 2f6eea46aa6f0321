#include "catalog/manifest.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <set>
#include <unordered_set>
#include <utility>

#include "catalog/bytes.h"
#include "io/cipher.h"
#include "io/compress.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kMagic = "DRMF";
constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kInfo = "drctl manifest v1";
constexpr std::string_view kKeyPrefix = "backups/";
constexpr std::string_view kKeySuffix = ".manifest";
constexpr std::size_t kManifestIdSize = 16;
constexpr std::size_t kFrameSize = std::size_t{16} << 20;  // raw bytes per zstd frame, at most
constexpr Compression kBodyCompression{CompressionAlgo::kZstd, 3};
constexpr std::size_t kMaxLabel = 1024;
constexpr std::uint32_t kMaxMode = 07777;
constexpr std::string_view kRelkinds = "ritSvmcfpI";

std::string Hint() {
  return "this copy of the backup cannot be used; copy an intact manifest from a sibling "
         "repository, or delete this backup and take a new one";
}

std::unexpected<Error> Bad(const std::string& where, const std::string& why) {
  return Fail(ErrorCode::kCorrupt, "manifest " + where + ": " + why, Hint());
}

// ---- Encoding ----

void PutU8(std::string& out, std::uint8_t v) { out.push_back(static_cast<char>(v)); }

void PutStr(std::string& out, std::string_view s) {
  PutU32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

void PutI64(std::string& out, std::int64_t v) { PutU64(out, static_cast<std::uint64_t>(v)); }

void PutCount(std::string& out, std::size_t n) { PutU32(out, static_cast<std::uint32_t>(n)); }

void PutFile(std::string& out, const ManifestFile& f) {
  PutStr(out, f.path);
  PutU8(out, static_cast<std::uint8_t>(f.type));
  PutU32(out, f.mode);
  PutU64(out, f.size);
  PutI64(out, f.mtime_ns);
  PutStr(out, f.link_target);
  PutCount(out, f.chunks.size());
  for (const auto& id : f.chunks) PutBytes(out, id);
  PutCount(out, f.checksum_failures.size());
  for (const std::uint32_t block : f.checksum_failures) PutU32(out, block);
}

// Plaintext of the seal: the body cut into frames of at most kFrameSize raw bytes, each
// raw_size (u32) || compressed_size (u32) || zstd frame.
std::string Frame(std::string_view body) {
  std::string out;
  out.reserve(body.size() / 2 + 64);
  for (std::size_t at = 0; at < body.size(); at += kFrameSize) {
    const std::string_view raw = body.substr(at, kFrameSize);
    std::string compressed;
    if (!io::Compress(kBodyCompression, raw, compressed)) std::abort();  // <= 16 MiB: cannot fail
    PutU32(out, static_cast<std::uint32_t>(raw.size()));
    PutU32(out, static_cast<std::uint32_t>(compressed.size()));
    out.append(compressed);
  }
  return out;
}

// ---- Decoding ----

// Reads the body; the first failure is remembered (naming the field) and every later read
// returns zero values, so a parse runs to its end and reports the first problem.
class BodyParser {
 public:
  explicit BodyParser(std::string_view data) : data_(data) {}

  void set_context(std::string context) { context_ = std::move(context); }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }

  std::uint8_t U8(std::string_view field) {
    if (!Need(1, field)) return 0;
    return static_cast<std::uint8_t>(data_[pos_++]);
  }
  std::uint32_t U32(std::string_view field) {
    if (!Need(4, field)) return 0;
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v |= std::uint32_t{Byte(pos_ + i)} << (8 * i);
    pos_ += 4;
    return v;
  }
  std::uint64_t U64(std::string_view field) {
    if (!Need(8, field)) return 0;
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i) v |= std::uint64_t{Byte(pos_ + i)} << (8 * i);
    pos_ += 8;
    return v;
  }
  std::int64_t I64(std::string_view field) { return static_cast<std::int64_t>(U64(field)); }
  std::string Str(std::string_view field) {
    const std::uint32_t n = U32(field);
    if (!Need(n, field)) return {};
    std::string s(data_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  // A count of entries of at least `min_entry` bytes each: one that cannot fit in what is left
  // is refused before anything is allocated for it.
  std::uint32_t Count(std::string_view field, std::size_t min_entry) {
    const std::uint32_t n = U32(field);
    if (failed()) return 0;
    if (n > remaining() / min_entry) {
      Fail(field, "count " + std::to_string(n) + " exceeds what is left of the body");
      return 0;
    }
    return n;
  }
  void Ids(std::vector<ChunkId>& out, std::uint32_t n, std::string_view field) {
    if (!Need(std::size_t{n} * sizeof(ChunkId), field)) return;
    out.resize(n);
    for (auto& id : out) {
      std::memcpy(id.data(), data_.data() + pos_, id.size());
      pos_ += id.size();
    }
  }
  void Fail(std::string_view field, const std::string& why) {
    if (failed()) return;
    error_ = (context_.empty() ? "" : context_ + ".") + std::string(field) + ": " + why;
  }

 private:
  std::uint8_t Byte(std::size_t at) const { return static_cast<std::uint8_t>(data_[at]); }
  bool Need(std::size_t n, std::string_view field) {
    if (failed()) return false;
    if (remaining() < n) {
      Fail(field, "truncated (body ends at byte " + std::to_string(data_.size()) + ")");
      return false;
    }
    return true;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
  std::string context_;
  std::string error_;
};

// Minimum encoded sizes, for BodyParser::Count.
constexpr std::size_t kMinTablespace = 4 + 4;
constexpr std::size_t kMinFile = 4 + 1 + 4 + 8 + 8 + 4 + 4 + 4;
constexpr std::size_t kMinDatabase = 4 + 4;
constexpr std::size_t kMinRelation = 4 + 4 + 4 + 1 + 4;
constexpr std::size_t kMinRowCount = 4 + 8;

ManifestFile ParseFile(BodyParser& p) {
  ManifestFile f;
  f.path = p.Str("path");
  const std::uint8_t type = p.U8("type");
  if (type > static_cast<std::uint8_t>(FileType::kSymlink)) {
    p.Fail("type", "unknown file type " + std::to_string(type));
  }
  f.type = static_cast<FileType>(type);
  f.mode = p.U32("mode");
  f.size = p.U64("size");
  f.mtime_ns = p.I64("mtime");
  f.link_target = p.Str("link_target");
  const std::uint32_t chunks = p.Count("chunks", sizeof(ChunkId));
  p.Ids(f.chunks, chunks, "chunks");
  const std::uint32_t failures = p.Count("checksum_failures", 4);
  f.checksum_failures.reserve(failures);
  for (std::uint32_t i = 0; i < failures; ++i) {
    f.checksum_failures.push_back(p.U32("checksum_failures"));
  }
  return f;
}

void ParseCatalog(BodyParser& p, Manifest& m) {
  const std::uint32_t databases = p.Count("databases", kMinDatabase);
  m.databases.reserve(databases);
  for (std::uint32_t i = 0; i < databases; ++i) {
    DatabaseInfo d;
    d.oid = p.U32("databases.oid");
    d.name = p.Str("databases.name");
    m.databases.push_back(std::move(d));
  }
  const std::uint32_t relations = p.Count("relations", kMinRelation);
  m.relations.reserve(relations);
  for (std::uint32_t i = 0; i < relations; ++i) {
    RelationInfo r;
    r.database_oid = p.U32("relations.database_oid");
    r.oid = p.U32("relations.oid");
    r.relfilenode = p.U32("relations.relfilenode");
    r.relkind = static_cast<char>(p.U8("relations.relkind"));
    r.name = p.Str("relations.name");
    m.relations.push_back(std::move(r));
  }
  const std::uint32_t row_counts = p.Count("row_counts", kMinRowCount);
  std::string previous;
  for (std::uint32_t i = 0; i < row_counts; ++i) {
    std::string table = p.Str("row_counts.table");
    const std::uint64_t count = p.U64("row_counts.count");
    if (i > 0 && table <= previous) {
      p.Fail("row_counts", "tables not in strictly ascending order at \"" + table + "\"");
    }
    previous = table;
    m.row_counts.emplace_hint(m.row_counts.end(), std::move(table), count);
  }
}

// ---- Rules (doc/format/manifest.md) ----

bool AllDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsWalSegmentName(std::string_view s) {
  return s.size() == 24 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
         });
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.find('\0') != std::string_view::npos) return false;
  std::size_t at = 0;
  while (true) {
    const std::size_t slash = path.find('/', at);
    const std::string_view segment = path.substr(at, slash - at);
    if (segment.empty() || segment == "." || segment == "..") return false;
    if (slash == std::string_view::npos) return true;
    at = slash + 1;
  }
}

bool IsSystemIdentifier(std::string_view s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && s.size() <= 20 && AllDigits(s) && ec == std::errc() &&
         end == s.data() + s.size() && (s.size() == 1 || s[0] != '0');
}

std::optional<std::string> ValidateFile(const ManifestFile& f) {
  if (!IsSafeRelativePath(f.path)) return "path: not a relative path without . or .. segments";
  if (f.mode > kMaxMode) return "mode: " + std::to_string(f.mode) + " is above 07777";
  if (f.type != FileType::kSymlink && !f.link_target.empty()) {
    return "link_target: set on a " + std::string(FileTypeName(f.type));
  }
  if (f.type != FileType::kFile) {
    if (f.size != 0) return "size: non-zero on a " + std::string(FileTypeName(f.type));
    if (!f.chunks.empty()) return "chunks: present on a " + std::string(FileTypeName(f.type));
    if (!f.checksum_failures.empty()) {
      return "checksum_failures: present on a " + std::string(FileTypeName(f.type));
    }
  }
  if (f.type == FileType::kSymlink &&
      (f.link_target.empty() || f.link_target.find('\0') != std::string::npos)) {
    return "link_target: a symlink needs a target without NUL";
  }
  if (f.type == FileType::kFile) {
    if ((f.size == 0) != f.chunks.empty()) {
      return "chunks: " + std::to_string(f.chunks.size()) + " chunk(s) for " +
             std::to_string(f.size) + " bytes";
    }
    if (f.chunks.size() > f.size) return "chunks: more chunks than bytes";
  }
  for (std::size_t i = 1; i < f.checksum_failures.size(); ++i) {
    if (f.checksum_failures[i] <= f.checksum_failures[i - 1]) {
      return "checksum_failures: block numbers not strictly ascending";
    }
  }
  return std::nullopt;
}

std::optional<std::string> ValidateCatalog(const Manifest& m) {
  std::set<std::uint32_t> database_oids;
  for (std::size_t i = 0; i < m.databases.size(); ++i) {
    const auto& d = m.databases[i];
    const std::string at = "databases[" + std::to_string(i) + "]";
    if (d.oid == 0) return at + ".oid: 0";
    if (!database_oids.insert(d.oid).second)
      return at + ".oid: " + std::to_string(d.oid) + " twice";
    if (d.name.empty()) return at + ".name: empty";
  }
  std::set<std::pair<std::uint32_t, std::uint32_t>> relation_oids;
  for (std::size_t i = 0; i < m.relations.size(); ++i) {
    const auto& r = m.relations[i];
    const std::string at = "relations[" + std::to_string(i) + "]";
    if (!database_oids.contains(r.database_oid)) {
      return at + ".database_oid: " + std::to_string(r.database_oid) + " is not a listed database";
    }
    if (r.oid == 0) return at + ".oid: 0";
    if (!relation_oids.emplace(r.database_oid, r.oid).second) {
      return at + ".oid: " + std::to_string(r.oid) + " twice in one database";
    }
    if (r.name.empty()) return at + ".name: empty";
    if (r.relkind == '\0' || kRelkinds.find(r.relkind) == std::string_view::npos) {
      return at + ".relkind: not one of " + std::string(kRelkinds);
    }
  }
  for (const auto& [table, count] : m.row_counts) {
    if (table.empty()) return "row_counts: empty table name";
  }
  return std::nullopt;
}

std::optional<std::string> ValidateHeaderFields(const Manifest& m) {
  if (!IsValidBackupId(m.backup_id)) return "backup_id: \"" + m.backup_id + "\" is not a backup id";
  if (m.label.size() > kMaxLabel) return "label: longer than 1024 bytes";
  if (m.status != BackupStatus::kComplete &&
      m.status != BackupStatus::kCompleteWithChecksumFailures) {
    return "status: unknown value " + std::to_string(static_cast<int>(m.status));
  }
  if (m.drctl_version.empty()) return "drctl_version: empty";
  if (!IsSystemIdentifier(m.pg.system_identifier)) {
    return "pg.system_identifier: \"" + m.pg.system_identifier + "\" is not a 64-bit decimal";
  }
  if (m.pg.version_num < 90600 || m.pg.version_num > 9999999) {
    return "pg.version_num: " + std::to_string(m.pg.version_num) + " is not a PostgreSQL version";
  }
  if (m.pg.timeline == 0) return "pg.timeline: 0";
  if (m.start_lsn > m.stop_lsn) return "stop_lsn: before start_lsn";
  if (m.start_time < 0) return "start_time: negative";
  if (m.start_time > m.stop_time) return "stop_time: before start_time";
  if (!IsWalSegmentName(m.start_wal)) return "start_wal: not a WAL segment name";
  if (!IsWalSegmentName(m.stop_wal)) return "stop_wal: not a WAL segment name";
  if (m.backup_label.empty()) return "backup_label: empty";
  if (!std::isfinite(m.stats.duration_seconds) || m.stats.duration_seconds < 0) {
    return "stats.duration_seconds: not a finite non-negative number";
  }
  return std::nullopt;
}

}  // namespace

std::string_view BackupStatusName(BackupStatus status) {
  switch (status) {
    case BackupStatus::kComplete:
      return "complete";
    case BackupStatus::kCompleteWithChecksumFailures:
      return "complete_with_checksum_failures";
  }
  return "unknown";
}

std::string_view FileTypeName(FileType type) {
  switch (type) {
    case FileType::kFile:
      return "file";
    case FileType::kDirectory:
      return "dir";
    case FileType::kSymlink:
      return "symlink";
  }
  return "unknown";
}

std::uint64_t Manifest::ChunkCount() const {
  std::uint64_t n = 0;
  for (const auto& f : files) n += f.chunks.size();
  return n;
}

bool IsValidBackupId(std::string_view id) {
  // YYYYMMDD T HHMMSS Z - hhhh
  if (id.size() != 21 || id[8] != 'T' || id[15] != 'Z' || id[16] != '-') return false;
  if (!AllDigits(id.substr(0, 8)) || !AllDigits(id.substr(9, 6))) return false;
  const auto hex = id.substr(17);
  if (!std::all_of(hex.begin(), hex.end(),
                   [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
    return false;
  }
  auto num = [&](std::size_t at, std::size_t len) {
    int v = 0;
    for (std::size_t i = at; i < at + len; ++i) v = v * 10 + (id[i] - '0');
    return v;
  };
  const int month = num(4, 2);
  const int day = num(6, 2);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && num(9, 2) < 24 && num(11, 2) < 60 &&
         num(13, 2) < 61;
}

std::string ManifestKey(std::string_view backup_id) {
  std::string key(kKeyPrefix);
  key.append(backup_id);
  key.append(kKeySuffix);
  return key;
}

std::optional<std::string> BackupIdOfKey(std::string_view key) {
  if (!key.starts_with(kKeyPrefix) || !key.ends_with(kKeySuffix)) return std::nullopt;
  const std::string_view id =
      key.substr(kKeyPrefix.size(), key.size() - kKeyPrefix.size() - kKeySuffix.size());
  if (!IsValidBackupId(id)) return std::nullopt;
  return std::string(id);
}

std::optional<std::string> ValidateManifest(const Manifest& m) {
  if (auto why = ValidateHeaderFields(m)) return why;
  std::set<std::uint32_t> tablespace_oids;
  for (std::size_t i = 0; i < m.tablespaces.size(); ++i) {
    const auto& t = m.tablespaces[i];
    const std::string at = "tablespaces[" + std::to_string(i) + "]";
    if (t.oid == 0) return at + ".oid: 0";
    if (!tablespace_oids.insert(t.oid).second)
      return at + ".oid: " + std::to_string(t.oid) + " twice";
    if (!t.location.starts_with('/') || t.location.find('\0') != std::string::npos) {
      return at + ".location: not an absolute path";
    }
  }
  std::unordered_set<std::string_view> paths;
  paths.reserve(m.files.size());
  bool any_failures = false;
  for (std::size_t i = 0; i < m.files.size(); ++i) {
    const auto& f = m.files[i];
    const std::string at = "files[" + std::to_string(i) + "].";
    if (auto why = ValidateFile(f)) return at + *why;
    if (!paths.insert(f.path).second) return at + "path: \"" + f.path + "\" listed twice";
    any_failures = any_failures || !f.checksum_failures.empty();
  }
  if (any_failures != (m.status == BackupStatus::kCompleteWithChecksumFailures)) {
    return "status: " + std::string(BackupStatusName(m.status)) + " but " +
           (any_failures ? "some" : "no") + " file has page checksum failures";
  }
  return ValidateCatalog(m);
}

Result<std::string> EncodeManifest(const MasterKey& master, const Manifest& manifest) {
  if (auto why = ValidateManifest(manifest)) {
    return Fail(ErrorCode::kInternal,
                "manifest of backup \"" + manifest.backup_id + "\" is invalid: " + *why,
                "this is a bug in drctl; please report it with the log");
  }
  return internal::EncodeManifestUnchecked(master, manifest);
}

Result<Manifest> DecodeManifest(const MasterKey& master, std::string_view data,
                                std::string_view object_key, const std::string& where) {
  ByteReader r(data);
  std::array<std::uint8_t, 4> magic{};
  std::uint8_t version = 0;
  std::array<std::uint8_t, kManifestIdSize> id{};
  if (!r.Bytes(magic) ||
      std::string_view(reinterpret_cast<const char*>(magic.data()), magic.size()) != kMagic ||
      !r.U8(version)) {
    return Bad(where, "no manifest header (truncated or not a manifest)");
  }
  if (version != kVersion) {
    return Fail(ErrorCode::kUnsupported,
                "manifest " + where + ": format version " + std::to_string(version) +
                    " is not supported (this drctl reads version 1)",
                "a newer drctl wrote it: upgrade drctl to read it; if no drctl wrote such a "
                "version, the object is damaged: copy it from a sibling repository");
  }
  if (!r.Bytes(id)) return Bad(where, "header truncated");
  const std::string aad = std::string(kInfo) + " " + std::string(object_key);
  auto plain = io::Open(master.Derive(id, kInfo), data.substr(r.position()), aad);
  if (!plain) {
    return Bad(where,
               "failed authentication (damaged, truncated, moved from another key, or sealed "
               "under another repository's key)");
  }
  auto manifest = internal::DecodeManifestPlaintext(*plain, where);
  if (!manifest) return manifest;
  if (ManifestKey(manifest->backup_id) != object_key) {
    return Bad(where, "holds backup \"" + manifest->backup_id + "\" but is stored as \"" +
                          std::string(object_key) + "\"");
  }
  return manifest;
}

namespace internal {

std::string EncodeManifestBody(const Manifest& m) {
  std::string out;
  out.reserve(4096 + m.ChunkCount() * sizeof(ChunkId) + m.files.size() * 64);
  PutStr(out, m.backup_id);
  PutStr(out, m.label);
  PutU8(out, static_cast<std::uint8_t>(m.status));
  PutStr(out, m.drctl_version);
  PutStr(out, m.pg.system_identifier);
  PutU32(out, m.pg.version_num);
  PutU32(out, m.pg.timeline);
  PutU64(out, m.start_lsn);
  PutU64(out, m.stop_lsn);
  PutI64(out, m.start_time);
  PutI64(out, m.stop_time);
  PutU64(out, m.stop_xmin);
  PutStr(out, m.start_wal);
  PutStr(out, m.stop_wal);
  PutStr(out, m.backup_label);
  PutStr(out, m.tablespace_map);
  PutCount(out, m.tablespaces.size());
  for (const auto& t : m.tablespaces) {
    PutU32(out, t.oid);
    PutStr(out, t.location);
  }
  PutCount(out, m.files.size());
  for (const auto& f : m.files) PutFile(out, f);
  PutCount(out, m.databases.size());
  for (const auto& d : m.databases) {
    PutU32(out, d.oid);
    PutStr(out, d.name);
  }
  PutCount(out, m.relations.size());
  for (const auto& r : m.relations) {
    PutU32(out, r.database_oid);
    PutU32(out, r.oid);
    PutU32(out, r.relfilenode);
    PutU8(out, static_cast<std::uint8_t>(r.relkind));
    PutStr(out, r.name);
  }
  PutCount(out, m.row_counts.size());
  for (const auto& [table, count] : m.row_counts) {
    PutStr(out, table);
    PutU64(out, count);
  }
  PutU64(out, m.stats.logical_size);
  PutU64(out, m.stats.new_bytes);
  PutU64(out, std::bit_cast<std::uint64_t>(m.stats.duration_seconds));
  return out;
}

Result<Manifest> DecodeManifestBody(std::string_view body, const std::string& where) {
  BodyParser p(body);
  Manifest m;
  m.backup_id = p.Str("backup_id");
  m.label = p.Str("label");
  const std::uint8_t status = p.U8("status");
  if (status > static_cast<std::uint8_t>(BackupStatus::kCompleteWithChecksumFailures)) {
    p.Fail("status", "unknown value " + std::to_string(status));
  }
  m.status = static_cast<BackupStatus>(status);
  m.drctl_version = p.Str("drctl_version");
  m.pg.system_identifier = p.Str("pg.system_identifier");
  m.pg.version_num = p.U32("pg.version_num");
  m.pg.timeline = p.U32("pg.timeline");
  m.start_lsn = p.U64("start_lsn");
  m.stop_lsn = p.U64("stop_lsn");
  m.start_time = p.I64("start_time");
  m.stop_time = p.I64("stop_time");
  m.stop_xmin = p.U64("stop_xmin");
  m.start_wal = p.Str("start_wal");
  m.stop_wal = p.Str("stop_wal");
  m.backup_label = p.Str("backup_label");
  m.tablespace_map = p.Str("tablespace_map");
  const std::uint32_t tablespaces = p.Count("tablespaces", kMinTablespace);
  m.tablespaces.reserve(tablespaces);
  for (std::uint32_t i = 0; i < tablespaces; ++i) {
    Tablespace t;
    t.oid = p.U32("tablespaces.oid");
    t.location = p.Str("tablespaces.location");
    m.tablespaces.push_back(std::move(t));
  }
  const std::uint32_t files = p.Count("files", kMinFile);
  m.files.reserve(files);
  for (std::uint32_t i = 0; i < files && !p.failed(); ++i) {
    p.set_context("files[" + std::to_string(i) + "]");
    m.files.push_back(ParseFile(p));
  }
  p.set_context({});
  ParseCatalog(p, m);
  m.stats.logical_size = p.U64("stats.logical_size");
  m.stats.new_bytes = p.U64("stats.new_bytes");
  m.stats.duration_seconds = std::bit_cast<double>(p.U64("stats.duration_seconds"));
  if (!p.failed() && p.remaining() != 0) {
    p.Fail("body", std::to_string(p.remaining()) + " unexpected trailing bytes");
  }
  if (p.failed()) return Bad(where, p.error());
  if (auto why = ValidateManifest(m)) return Bad(where, *why);
  return m;
}

Result<Manifest> DecodeManifestPlaintext(std::string_view plaintext, const std::string& where,
                                         std::size_t max_body) {
  std::string body;
  ByteReader r(plaintext);
  std::size_t frame = 0;
  for (; r.remaining() > 0; ++frame) {
    const std::string at = "frame " + std::to_string(frame) + ": ";
    std::uint32_t raw_size = 0;
    std::uint32_t compressed_size = 0;
    if (!r.U32(raw_size) || !r.U32(compressed_size)) return Bad(where, at + "truncated header");
    if (raw_size == 0 || raw_size > kFrameSize) {
      return Bad(where, at + "raw size " + std::to_string(raw_size) + " out of range");
    }
    if (raw_size > max_body - body.size()) {
      return Bad(where, at + "body larger than " + std::to_string(max_body) + " bytes");
    }
    if (compressed_size == 0 || compressed_size > r.remaining()) {
      return Bad(where,
                 at + "compressed size " + std::to_string(compressed_size) + " out of range");
    }
    if (auto st = io::Decompress(CompressionAlgo::kZstd,
                                 plaintext.substr(r.position(), compressed_size), raw_size, body);
        !st) {
      return Bad(where, at + st.error().message());
    }
    r.Skip(compressed_size);
  }
  if (frame == 0) return Bad(where, "empty body");
  return DecodeManifestBody(body, where);
}

std::string EncodeManifestUnchecked(const MasterKey& master, const Manifest& manifest) {
  const auto id = io::RandomArray<kManifestIdSize>();
  const std::string plain = Frame(EncodeManifestBody(manifest));
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion));
  PutBytes(out, id);
  out.reserve(out.size() + plain.size() + io::kSealOverhead);
  const std::string aad = std::string(kInfo) + " " + ManifestKey(manifest.backup_id);
  io::Seal(master.Derive(id, kInfo), plain, aad, out);
  return out;
}

}  // namespace internal
}  // namespace drctl::catalog
