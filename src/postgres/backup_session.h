// The SQL side of an online physical backup of PostgreSQL 15: the server's identity, a
// non-exclusive pg_backup_start/pg_backup_stop on one session, a temporary physical replication
// slot that keeps the backup's WAL in pg_wal until drctl has stored it, and the catalog snapshot
// a manifest records (databases, relations, exact row counts of named tables).
//
// Not thread-safe: one BackupSession per backup, used from one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "postgres/connection.h"
#include "postgres/wal_names.h"

namespace drctl::pg {

struct ServerFacts {
  std::uint32_t version_num = 0;  // server_version_num
  std::string system_identifier;  // decimal, from pg_control_system()
  std::string data_directory;     // SHOW data_directory
  bool data_checksums = false;
  std::uint64_t wal_segment_size = kDefaultWalSegmentSize;
  bool in_recovery = false;
};

struct BackupStart {
  Lsn lsn = 0;
  TimelineId timeline = 0;
};

struct BackupStop {
  Lsn lsn = 0;
  std::string backup_label;  // labelfile: written into the restored data directory
  std::string tablespace_map;
};

struct DatabaseRow {
  std::uint32_t oid = 0;
  std::string name;
  bool allow_connections = true;
};

struct RelationRow {
  std::uint32_t database_oid = 0;
  std::uint32_t oid = 0;
  std::uint32_t relfilenode = 0;
  std::string name;  // "schema.name"
  char relkind = 'r';
};

class BackupSession {
 public:
  // Connects and reads the server's facts. kPrecondition if the server is not PostgreSQL 15, or
  // is a standby (backups from standbys are not supported yet).
  static Result<BackupSession> Open(const std::string& conninfo);

  const ServerFacts& facts() const { return facts_; }

  // Creates a temporary physical replication slot (reserving WAL now) and starts a non-exclusive
  // backup with an immediate checkpoint. The slot lives as long as this session.
  Result<BackupStart> Start(const std::string& label);

  // Ends the backup (without waiting for archiving: drctl stores the WAL itself). The last
  // segment is switched, so every segment up to the stop LSN is complete in pg_wal.
  Result<BackupStop> Stop();

  // The oldest transaction still running (xid8 with epoch: pg_current_snapshot()'s xmin).
  Result<std::uint64_t> OldestRunningXid();

  // Whether Start succeeded and Stop has not run yet.
  bool active() const { return active_; }

  // Every database (template0 included; allow_connections says if it can be queried).
  Result<std::vector<DatabaseRow>> Databases();

 private:
  BackupSession(Connection conn, ServerFacts facts) : conn_(std::move(conn)), facts_(facts) {}
  Connection conn_;
  ServerFacts facts_;
  bool active_ = false;
};

// The relations of one database (tables, indexes, sequences, TOAST, views...), queried on a
// connection to it: `conninfo` with dbname replaced by `database`.
Result<std::vector<RelationRow>> QueryRelations(const std::string& conninfo,
                                                const DatabaseRow& database);

// `table` (an SQL name) resolved with to_regclass to its quoted schema-qualified name; kNotFound
// naming it if it does not exist. A backup checks its count_tables this way before it starts.
Result<std::string> ResolveTable(Connection& conn, const std::string& table);

// Exact row count of `table` (an SQL name, e.g. `public."User"`, resolved with to_regclass in the
// database of `conninfo`). kNotFound naming the table if it does not exist.
Result<std::uint64_t> CountRows(Connection& conn, const std::string& table);

// `conninfo` with its dbname set to `database` (appended as a keyword, so it overrides).
std::string ConninfoForDatabase(const std::string& conninfo, const std::string& database);

}  // namespace drctl::pg
