// What a physical backup of a PostgreSQL 15 cluster must copy: the files of the data directory
// and of every tablespace, minus what PostgreSQL documents as safe to skip ("Backing Up the Data
// Directory", and pg_basebackup's exclusion lists in basebackup.c). doc/postgres-files.md lists
// every rule with its reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::pg {

// One entry of the walk: a regular file, a directory, or a tablespace link.
struct PgFile {
  // Relative to the data directory, '/'-separated. Tablespace entries are reported under their
  // link: "pg_tblspc/<oid>" (the link) and "pg_tblspc/<oid>/PG_15_<catversion>/..." (its files).
  std::string relative_path;
  std::filesystem::path absolute_path;  // where to read it (inside the tablespace for those)
  std::uint64_t size = 0;               // 0 for directories and links
  std::uint32_t mode = 0;               // permission bits (st_mode & 07777)
  std::chrono::sys_time<std::chrono::nanoseconds> mtime{};
  bool is_dir = false;
  bool is_symlink = false;             // only pg_tblspc/<oid> links
  std::filesystem::path link_target;   // is_symlink: the tablespace's directory
  std::uint32_t tablespace_oid = 0;    // 0: the main data directory
  bool is_relation = false;            // a relation data file (see IsRelationFileName)
  std::uint32_t relation_segment = 0;  // is_relation: N of "<relfilenode>[_fork].N", else 0
};

// Enumerates `pgdata` (the data directory of a PostgreSQL 15 cluster, running or not) and the
// tablespaces linked from pg_tblspc, sorted by relative_path (a directory precedes its contents).
//
// Skipped, as pg_basebackup does:
// - contents of pg_wal (pg_wal and pg_wal/archive_status are listed as directories, also when
//   pg_wal is a symlink), pg_dynshmem, pg_notify, pg_serial, pg_snapshots, pg_stat_tmp,
//   pg_subtrans and pg_replslot (the directories themselves are listed, empty);
// - in the data directory's top level: postmaster.pid, postmaster.opts, backup_label,
//   tablespace_map, backup_label.old, tablespace_map.old, backup_manifest, current_logfiles,
//   current_logfiles.tmp, postgresql.auto.conf.tmp;
// - anywhere: pg_internal.init* and pgsql_tmp* (files and directories);
// - in database directories (base/<oid>, <tablespace>/PG_15_*/<oid>): temporary relations
//   ("t<backend>_<relfilenode>[_fork][.N]") and the non-init forks of unlogged relations (those
//   with a "<relfilenode>_init" file beside them);
// - symlinks other than pg_tblspc/<oid> and pg_wal, and special files (sockets, FIFOs);
// - in a tablespace directory, everything but the PG_15_* version directory.
//
// Entries that vanish during the walk (ENOENT) are skipped silently: a running server creates and
// removes files all the time, and WAL replay recreates whatever the backup needs. kNotFound when
// `pgdata` does not exist; kIo (naming the path) for any other failure, including a tablespace
// link whose directory is missing. Reads metadata only; thread-compatible.
Result<std::vector<PgFile>> WalkDataDirectory(const std::filesystem::path& pgdata);

// Relation data file names: "<digits>", optionally "_fsm", "_vm" or "_init", optionally ".<N>".
// On success stores N (0 without suffix) in `segment`.
bool IsRelationFileName(std::string_view name, std::uint32_t* segment);

// Temporary relation file names: "t<digits>_<digits>" with the same optional suffixes.
bool IsTempRelationFileName(std::string_view name);

}  // namespace drctl::pg
