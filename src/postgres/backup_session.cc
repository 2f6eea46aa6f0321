#include "postgres/backup_session.h"

#include <libpq-fe.h>

#include <unistd.h>

#include <charconv>
#include <ctime>
#include <memory>

#include "postgres/pq_library.h"

namespace drctl::pg {
namespace {

// An SQL string literal (standard_conforming_strings is on in every supported version).
std::string Literal(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// A conninfo value in keyword=value syntax: single-quoted, with \ and ' escaped.
std::string ConninfoValue(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

template <typename T>
Result<T> Number(const std::optional<std::string>& text, std::string_view what) {
  T value{};
  if (text) {
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec == std::errc() && ptr == end) return value;
  }
  return Fail(ErrorCode::kPostgres, "PostgreSQL returned an unexpected " + std::string(what) +
                                        ": '" + text.value_or("NULL") + "'");
}

// "START TIMELINE: 1" in a backup_label.
Result<TimelineId> LabelTimeline(const std::string& label) {
  const std::string key = "START TIMELINE: ";
  const auto at = label.find(key);
  if (at != std::string::npos) {
    const auto end = label.find('\n', at);
    const std::string value =
        label.substr(at + key.size(), end == std::string::npos ? end : end - at - key.size());
    auto tli = Number<TimelineId>(value, "START TIMELINE");
    if (tli && *tli >= 1) return *tli;
  }
  return Fail(ErrorCode::kPostgres, "pg_backup_start's label has no valid START TIMELINE line");
}

}  // namespace

std::string ConninfoForDatabase(const std::string& conninfo, const std::string& database) {
  // Without libpq, Connection::Open reports why.
  if (!LoadPq()) return conninfo + " dbname=" + ConninfoValue(database);
  char* err = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &err);
  if (options == nullptr) {
    PQfreemem(err);
    return conninfo + " dbname=" + ConninfoValue(database);  // Open reports the syntax error
  }
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> guard(options, PQconninfoFree);
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string_view(o->keyword) == "dbname") continue;
    out += std::string(o->keyword) + "=" + ConninfoValue(o->val) + " ";
  }
  return out + "dbname=" + ConninfoValue(database);
}

Result<BackupSession> BackupSession::Open(const std::string& conninfo) {
  auto conn = Connection::Open(conninfo);
  if (!conn) return std::unexpected(conn.error());
  auto rows = conn->Query(
      "SELECT current_setting('server_version_num'), (SELECT system_identifier::text FROM "
      "pg_control_system()), current_setting('data_directory'), "
      "current_setting('data_checksums'), pg_is_in_recovery()::text, "
      "(SELECT setting FROM pg_settings WHERE name = 'wal_segment_size')");
  if (!rows) {
    return std::unexpected(rows.error().WithContext(
        "reading the server's identity (the backup role needs superuser or pg_read_all_settings "
        "and pg_monitor)"));
  }
  const Row& row = rows->front();
  ServerFacts facts;
  auto version = Number<std::uint32_t>(row[0], "server_version_num");
  if (!version) return std::unexpected(version.error());
  facts.version_num = *version;
  facts.system_identifier = row[1].value_or("");
  facts.data_directory = row[2].value_or("");
  facts.data_checksums = row[3] == std::optional<std::string>("on");
  facts.in_recovery = row[4] == std::optional<std::string>("true");
  auto segment = Number<std::uint64_t>(row[5], "wal_segment_size");
  if (!segment) return std::unexpected(segment.error());
  facts.wal_segment_size = *segment;
  if (facts.version_num / 10000 != 15) {
    return Fail(ErrorCode::kPrecondition,
                "PostgreSQL at " + conn->Where() + " is version " +
                    std::to_string(facts.version_num) + "; drctl backs up PostgreSQL 15",
                "point [postgres] conninfo at a PostgreSQL 15 server");
  }
  if (facts.in_recovery) {
    return Fail(ErrorCode::kPrecondition,
                "PostgreSQL at " + conn->Where() + " is a standby; drctl backs up primaries only",
                "point [postgres] conninfo at the primary");
  }
  return BackupSession(std::move(*conn), facts);
}

Result<BackupStart> BackupSession::Start(const std::string& label) {
  // The slot reserves WAL from now on, so no segment the backup needs is recycled before drctl
  // has stored it, whatever wal_keep_size and archiving say. It goes with the session.
  const std::string slot =
      "drctl_backup_" + std::to_string(getpid()) + "_" + std::to_string(std::time(nullptr));
  DRCTL_TRY(
      conn_.Exec("SELECT pg_create_physical_replication_slot(" + Literal(slot) + ", true, true)"));
  auto lsn_text = conn_.QueryValue("SELECT pg_backup_start(" + Literal(label) + ", true)::text");
  if (!lsn_text) return std::unexpected(lsn_text.error().WithContext("starting the backup"));
  active_ = true;
  auto lsn = ParseLsn(*lsn_text);
  if (!lsn) return std::unexpected(lsn.error());
  auto tli = conn_.QueryValue("SELECT timeline_id::text FROM pg_control_checkpoint()");
  if (!tli) return std::unexpected(tli.error());
  auto timeline = Number<TimelineId>(*tli, "timeline");
  if (!timeline) return std::unexpected(timeline.error());
  return BackupStart{*lsn, *timeline};
}

Result<BackupStop> BackupSession::Stop() {
  auto rows = conn_.Query("SELECT lsn::text, labelfile, spcmapfile FROM pg_backup_stop(false)");
  active_ = false;
  if (!rows) return std::unexpected(rows.error().WithContext("stopping the backup"));
  if (rows->size() != 1 || rows->front().size() != 3 || !rows->front()[0] || !rows->front()[1]) {
    return Fail(ErrorCode::kPostgres, "pg_backup_stop returned an unexpected result");
  }
  const Row& row = rows->front();
  auto lsn = ParseLsn(*row[0]);
  if (!lsn) return std::unexpected(lsn.error());
  BackupStop stop{*lsn, *row[1], row[2].value_or("")};
  auto tli = LabelTimeline(stop.backup_label);
  if (!tli) return std::unexpected(tli.error());
  return stop;
}

Result<std::uint64_t> BackupSession::OldestRunningXid() {
  auto xmin = conn_.QueryValue("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  if (!xmin) return std::unexpected(xmin.error());
  return Number<std::uint64_t>(*xmin, "snapshot xmin");
}

Result<std::vector<DatabaseRow>> BackupSession::Databases() {
  auto rows =
      conn_.Query("SELECT oid::text, datname, datallowconn::text FROM pg_database ORDER BY oid");
  if (!rows) return std::unexpected(rows.error());
  std::vector<DatabaseRow> out;
  for (const Row& row : *rows) {
    auto oid = Number<std::uint32_t>(row[0], "database oid");
    if (!oid) return std::unexpected(oid.error());
    out.push_back({*oid, row[1].value_or(""), row[2] == std::optional<std::string>("true")});
  }
  return out;
}

Result<std::vector<RelationRow>> QueryRelations(const std::string& conninfo,
                                                const DatabaseRow& database) {
  auto conn = Connection::Open(ConninfoForDatabase(conninfo, database.name));
  if (!conn) return std::unexpected(conn.error());
  auto rows = conn->Query(
      "SELECT c.oid::text, c.relfilenode::text, n.nspname || '.' || c.relname, c.relkind::text "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace ORDER BY c.oid");
  if (!rows) return std::unexpected(rows.error());
  std::vector<RelationRow> out;
  out.reserve(rows->size());
  for (const Row& row : *rows) {
    auto oid = Number<std::uint32_t>(row[0], "relation oid");
    auto node = Number<std::uint32_t>(row[1], "relfilenode");
    if (!oid) return std::unexpected(oid.error());
    if (!node) return std::unexpected(node.error());
    const std::string kind = row[3].value_or("r");
    out.push_back({database.oid, *oid, *node, row[2].value_or(""), kind.empty() ? 'r' : kind[0]});
  }
  return out;
}

Result<std::string> ResolveTable(Connection& conn, const std::string& table) {
  auto name = conn.Query(
      "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c JOIN "
      "pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass(" +
      Literal(table) + ")");
  if (!name) return std::unexpected(name.error());
  if (name->empty() || !name->front()[0]) {
    return Fail(
        ErrorCode::kNotFound,
        "table " + table + " named in [backup] count_tables does not exist on " + conn.Where(),
        "fix [backup] count_tables (names are SQL: public.\"User\")");
  }
  return *name->front()[0];
}

Result<std::uint64_t> CountRows(Connection& conn, const std::string& table) {
  auto name = ResolveTable(conn, table);
  if (!name) return std::unexpected(name.error());
  auto count = conn.QueryValue("SELECT count(*)::text FROM " + *name);
  if (!count) return std::unexpected(count.error());
  return Number<std::uint64_t>(*count, "row count");
}

}  // namespace drctl::pg
