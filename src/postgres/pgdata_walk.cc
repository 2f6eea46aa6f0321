#include "postgres/pgdata_walk.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <set>

namespace drctl::pg {
namespace {

namespace fs = std::filesystem;

// Directories whose contents the server removes, recreates or does not need at start-up.
constexpr std::array<std::string_view, 7> kExcludedDirContents = {
    "pg_dynshmem",  "pg_notify",   "pg_replslot", "pg_serial",
    "pg_snapshots", "pg_stat_tmp", "pg_subtrans"};

// Files of the data directory's top level that must not be restored.
constexpr std::array<std::string_view, 10> kExcludedTopFiles = {
    "postmaster.pid",       "postmaster.opts",         "backup_label",    "tablespace_map",
    "backup_label.old",     "tablespace_map.old",      "backup_manifest", "current_logfiles",
    "current_logfiles.tmp", "postgresql.auto.conf.tmp"};

constexpr std::string_view kTempPrefix = "pgsql_tmp";
constexpr std::string_view kRelcacheInit = "pg_internal.init";
constexpr std::string_view kTablespaceVersionPrefix = "PG_15_";

// What a directory is, which decides the rules for its entries.
enum class DirKind : std::uint8_t {
  kRoot,               // the data directory
  kBase,               // base/
  kGlobal,             // global/: relation files
  kTblspc,             // pg_tblspc/: links to tablespaces
  kTablespace,         // a tablespace's directory: only PG_15_* counts
  kTablespaceVersion,  // <tablespace>/PG_15_*: database directories
  kDatabase,           // base/<oid> or <tablespace>/PG_15_*/<oid>: relation files
  kOther,
};

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Consumes a run of 1..10 digits from the front of `s` into `value`.
bool ConsumeNumber(std::string_view& s, std::uint32_t* value) {
  std::size_t n = 0;
  while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
  if (n == 0 || n > 10) return false;
  std::uint32_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, v);
  if (ec != std::errc() || ptr != s.data() + n) return false;
  if (value != nullptr) *value = v;
  s.remove_prefix(n);
  return true;
}

// "<digits>[_fsm|_vm|_init][.<digits>]" at the front of `s`, which must then be empty.
bool ParseRelationTail(std::string_view s, std::uint32_t* segment) {
  if (!ConsumeNumber(s, nullptr)) return false;
  for (std::string_view fork : {"_fsm", "_vm", "_init"}) {
    if (s.starts_with(fork)) {
      s.remove_prefix(fork.size());
      break;
    }
  }
  std::uint32_t seg = 0;
  if (!s.empty()) {
    if (s.front() != '.') return false;
    s.remove_prefix(1);
    if (!ConsumeNumber(s, &seg) || !s.empty()) return false;
  }
  if (segment != nullptr) *segment = seg;
  return true;
}

std::string Join(const std::string& rel, std::string_view name) {
  return rel.empty() ? std::string(name) : rel + "/" + std::string(name);
}

bool IsDir(const struct stat& st) { return S_ISDIR(st.st_mode); }

Error IoError(const std::string& what, const fs::path& path, int err) {
  return Error(ErrorCode::kIo, what + " " + path.string() + ": " + std::strerror(err),
               "check that drctl runs as root or as the PostgreSQL server's OS user, and that the "
               "file system is healthy");
}

class Walker {
 public:
  Status WalkDir(const fs::path& abs, const std::string& rel, DirKind kind,
                 std::uint32_t tablespace_oid) {
    auto names = ListDir(abs);
    if (!names.has_value()) return std::unexpected(std::move(names).error());
    for (const auto& name : *names) {
      DRCTL_TRY(Visit(abs, rel, kind, tablespace_oid, name, *names));
    }
    return Ok();
  }

  std::vector<PgFile> Take() && { return std::move(files_); }

 private:
  // The directory's entry names, sorted; empty when it vanished.
  static Result<std::set<std::string>> ListDir(const fs::path& abs) {
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(abs.c_str()), closedir);
    if (dir == nullptr) {
      if (errno == ENOENT) return std::set<std::string>{};
      return std::unexpected(IoError("cannot open directory", abs, errno));
    }
    std::set<std::string> names;
    errno = 0;
    while (const dirent* entry = readdir(dir.get())) {
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") names.emplace(name);
      errno = 0;
    }
    if (errno != 0) return std::unexpected(IoError("cannot read directory", abs, errno));
    return names;
  }

  // lstat (or stat when `follow`); false when the entry vanished.
  static Result<bool> Stat(const fs::path& path, bool follow, struct stat* st) {
    const int rc = follow ? stat(path.c_str(), st) : lstat(path.c_str(), st);
    if (rc == 0) return true;
    if (errno == ENOENT) return false;
    return std::unexpected(IoError("cannot stat", path, errno));
  }

  void Add(const fs::path& abs, const std::string& rel, const struct stat& st,
           std::uint32_t tablespace_oid, bool as_dir) {
    PgFile file;
    file.relative_path = rel;
    file.absolute_path = abs;
    file.is_dir = as_dir;
    file.size = as_dir ? 0 : static_cast<std::uint64_t>(st.st_size);
    file.mode = static_cast<std::uint32_t>(st.st_mode) & 07777U;
    file.mtime = std::chrono::sys_time<std::chrono::nanoseconds>(
        std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec));
    file.tablespace_oid = tablespace_oid;
    files_.push_back(std::move(file));
  }

  static bool SkippedByName(DirKind kind, const std::string& name,
                            const std::set<std::string>& siblings) {
    if (name.starts_with(kTempPrefix) || name.starts_with(kRelcacheInit)) return true;
    if (kind == DirKind::kRoot && std::find(kExcludedTopFiles.begin(), kExcludedTopFiles.end(),
                                            name) != kExcludedTopFiles.end()) {
      return true;
    }
    if (kind != DirKind::kDatabase) return false;
    if (IsTempRelationFileName(name)) return true;
    // An unlogged relation: only its init fork is copied; the server resets the relation from it.
    if (!IsRelationFileName(name, nullptr)) return false;
    const std::string relfilenode = name.substr(0, name.find_first_not_of("0123456789"));
    const std::string tail = name.substr(relfilenode.size());
    return !tail.starts_with("_init") && siblings.contains(relfilenode + "_init");
  }

  static DirKind ChildKind(DirKind parent, const std::string& name) {
    switch (parent) {
      case DirKind::kRoot:
        if (name == "base") return DirKind::kBase;
        if (name == "global") return DirKind::kGlobal;
        if (name == "pg_tblspc") return DirKind::kTblspc;
        return DirKind::kOther;
      case DirKind::kBase:
      case DirKind::kTablespaceVersion:
        return AllDigits(name) ? DirKind::kDatabase : DirKind::kOther;
      case DirKind::kTablespace:
        return DirKind::kTablespaceVersion;
      default:
        return DirKind::kOther;
    }
  }

  Status Visit(const fs::path& dir, const std::string& dir_rel, DirKind kind,
               std::uint32_t tablespace_oid, const std::string& name,
               const std::set<std::string>& siblings) {
    if (SkippedByName(kind, name, siblings)) return Ok();
    if (kind == DirKind::kTablespace && !name.starts_with(kTablespaceVersionPrefix)) return Ok();
    const fs::path abs = dir / name;
    const std::string rel = Join(dir_rel, name);
    struct stat st {};
    auto exists = Stat(abs, false, &st);
    if (!exists.has_value()) return std::unexpected(std::move(exists).error());
    if (!*exists) return Ok();

    if (kind == DirKind::kRoot && (name == "pg_wal" || IsExcludedDirContents(name))) {
      return AddEmptyDir(abs, rel, st, name == "pg_wal");
    }
    if (kind == DirKind::kTblspc && AllDigits(name) && S_ISLNK(st.st_mode)) {
      return AddTablespace(abs, rel, name);
    }
    if (IsDir(st)) {
      Add(abs, rel, st, tablespace_oid, true);
      DirKind child = ChildKind(kind, name);
      std::uint32_t child_oid = tablespace_oid;
      if (kind == DirKind::kTblspc && AllDigits(name)) {  // an in-place tablespace
        child = DirKind::kTablespace;
        ConsumeOid(name, &child_oid);
      }
      return WalkDir(abs, rel, child, child_oid);
    }
    if (!S_ISREG(st.st_mode) || kind == DirKind::kTablespace) return Ok();
    Add(abs, rel, st, tablespace_oid, false);
    if (kind == DirKind::kDatabase || kind == DirKind::kGlobal) {
      files_.back().is_relation = IsRelationFileName(name, &files_.back().relation_segment);
    }
    return Ok();
  }

  static bool IsExcludedDirContents(const std::string& name) {
    return std::find(kExcludedDirContents.begin(), kExcludedDirContents.end(), name) !=
           kExcludedDirContents.end();
  }

  static void ConsumeOid(std::string_view name, std::uint32_t* oid) {
    if (!ConsumeNumber(name, oid)) *oid = 0;
  }

  // A directory listed without its contents (a symlink to one is listed as a directory).
  Status AddEmptyDir(const fs::path& abs, const std::string& rel, struct stat st, bool is_wal) {
    if (S_ISLNK(st.st_mode)) {
      struct stat target {};
      auto exists = Stat(abs, true, &target);
      if (!exists.has_value()) return std::unexpected(std::move(exists).error());
      if (*exists) st = target;
    }
    if (!IsDir(st) && !S_ISLNK(st.st_mode)) {
      if (S_ISREG(st.st_mode)) Add(abs, rel, st, 0, false);
      return Ok();
    }
    Add(abs, rel, st, 0, true);
    if (!is_wal) return Ok();
    // The server needs pg_wal/archive_status to exist; list it even if it is missing here.
    const fs::path status_dir = abs / "archive_status";
    struct stat status_st {};
    auto exists = Stat(status_dir, true, &status_st);
    if (!exists.has_value()) return std::unexpected(std::move(exists).error());
    Add(status_dir, rel + "/archive_status", *exists ? status_st : st, 0, true);
    return Ok();
  }

  // pg_tblspc/<oid> -> the tablespace's directory, walked under the link's name.
  Status AddTablespace(const fs::path& link, const std::string& rel, const std::string& name) {
    std::error_code ec;
    fs::path target = fs::read_symlink(link, ec);
    if (ec) {
      if (ec == std::errc::no_such_file_or_directory) return Ok();
      return std::unexpected(IoError("cannot read tablespace link", link, ec.value()));
    }
    const fs::path resolved = target.is_absolute() ? target : link.parent_path() / target;
    struct stat st {};
    auto exists = Stat(resolved, true, &st);
    if (!exists.has_value()) return std::unexpected(std::move(exists).error());
    if (!*exists || !IsDir(st)) {
      return Fail(ErrorCode::kIo,
                  "tablespace link " + link.string() + " points to " + target.string() +
                      ", which is not a directory",
                  "mount the tablespace's file system, or drop the tablespace in PostgreSQL");
    }
    std::uint32_t oid = 0;
    ConsumeOid(name, &oid);
    Add(link, rel, st, oid, false);
    files_.back().is_symlink = true;
    files_.back().link_target = target;
    return WalkDir(resolved, rel, DirKind::kTablespace, oid);
  }

  std::vector<PgFile> files_;
};

}  // namespace

bool IsRelationFileName(std::string_view name, std::uint32_t* segment) {
  return ParseRelationTail(name, segment);
}

bool IsTempRelationFileName(std::string_view name) {
  if (!name.starts_with('t')) return false;
  name.remove_prefix(1);
  if (!ConsumeNumber(name, nullptr) || !name.starts_with('_')) return false;
  name.remove_prefix(1);
  return ParseRelationTail(name, nullptr);
}

Result<std::vector<PgFile>> WalkDataDirectory(const std::filesystem::path& pgdata) {
  struct stat st {};
  if (stat(pgdata.c_str(), &st) != 0) {
    if (errno == ENOENT) {
      return Fail(ErrorCode::kNotFound, "data directory " + pgdata.string() + " does not exist",
                  "set postgres.pgdata to the cluster's data directory (SHOW data_directory)");
    }
    return std::unexpected(IoError("cannot stat data directory", pgdata, errno));
  }
  if (!S_ISDIR(st.st_mode)) {
    return Fail(ErrorCode::kIo, "data directory " + pgdata.string() + " is not a directory",
                "set postgres.pgdata to the cluster's data directory (SHOW data_directory)");
  }
  Walker walker;
  DRCTL_TRY(walker.WalkDir(pgdata, "", DirKind::kRoot, 0));
  auto files = std::move(walker).Take();
  std::sort(files.begin(), files.end(),
            [](const PgFile& a, const PgFile& b) { return a.relative_path < b.relative_path; });
  return files;
}

}  // namespace drctl::pg
