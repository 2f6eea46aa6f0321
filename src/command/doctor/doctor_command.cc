#include "command/doctor/doctor_command.h"

#include <charconv>
#include <map>
#include <span>

#include "command/doctor/doctor_checks.h"
#include "postgres/connection.h"

namespace drctl::command {
namespace {

// Settings doctor needs; the server must show each to drctl's role. Units are pg_settings' base
// units on PostgreSQL 15: archive_timeout s, max_slot_wal_keep_size MB, wal_segment_size B.
constexpr const char* kRequired[] = {"server_version_num",
                                     "archive_mode",
                                     "archive_command",
                                     "archive_timeout",
                                     "wal_level",
                                     "data_checksums",
                                     "max_wal_senders",
                                     "synchronous_standby_names",
                                     "max_slot_wal_keep_size",
                                     "wal_segment_size"};
// Shown only to some roles (data_directory) or to some versions (archive_library).
constexpr const char* kOptional[] = {"archive_library", "data_directory"};

template <typename T>
Result<T> Number(const std::optional<std::string>& text, std::string_view what,
                 const std::string& where) {
  T value{};
  if (text) {
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec == std::errc() && ptr == end) return value;
  }
  return Fail(ErrorCode::kPostgres, "PostgreSQL at " + where + " reported " + std::string(what) +
                                        " = '" + text.value_or("NULL") + "', not a number");
}

std::string InList(std::span<const char* const> names) {
  std::string out;
  for (const char* name : names) out += (out.empty() ? "'" : ", '") + std::string(name) + "'";
  return out;
}

Result<std::map<std::string, std::string>> ReadSettingRows(pg::Connection& conn) {
  auto rows = conn.Query("SELECT name, setting FROM pg_settings WHERE name IN (" +
                         InList(kRequired) + ", " + InList(kOptional) + ")");
  if (!rows) return std::unexpected(rows.error().WithContext("reading pg_settings"));
  std::map<std::string, std::string> settings;
  for (const auto& row : *rows) {
    if (row.size() == 2 && row[0] && row[1]) settings[*row[0]] = *row[1];
  }
  std::string missing;
  for (const char* name : kRequired) {
    if (!settings.contains(name)) missing += (missing.empty() ? "" : ", ") + std::string(name);
  }
  if (!missing.empty()) {
    return Fail(ErrorCode::kPostgres,
                "PostgreSQL at " + conn.Where() + " does not show " + missing + " to drctl's role",
                "grant pg_read_all_settings (or pg_monitor) to the role of [postgres] conninfo");
  }
  return settings;
}

Status ReadSettings(pg::Connection& conn, PostgresFacts& facts) {
  auto rows = ReadSettingRows(conn);
  if (!rows) return std::unexpected(rows.error());
  auto& m = *rows;
  const std::string where = conn.Where();
  PostgresSettings& s = facts.settings;
  auto version = Number<std::uint32_t>(m["server_version_num"], "server_version_num", where);
  DRCTL_TRY(version);
  auto timeout = Number<std::int64_t>(m["archive_timeout"], "archive_timeout", where);
  DRCTL_TRY(timeout);
  auto senders = Number<int>(m["max_wal_senders"], "max_wal_senders", where);
  DRCTL_TRY(senders);
  auto keep = Number<std::int64_t>(m["max_slot_wal_keep_size"], "max_slot_wal_keep_size", where);
  DRCTL_TRY(keep);
  auto segment = Number<std::uint64_t>(m["wal_segment_size"], "wal_segment_size", where);
  DRCTL_TRY(segment);
  facts.version_num = *version;
  facts.data_directory = m["data_directory"];
  s.archive_mode = m["archive_mode"];
  s.archive_command = m["archive_command"];
  s.archive_library = m["archive_library"];
  s.wal_level = m["wal_level"];
  s.archive_timeout = Seconds(*timeout);
  s.data_checksums = m["data_checksums"] == "on";
  s.max_wal_senders = *senders;
  s.synchronous_standby_names = m["synchronous_standby_names"];
  s.max_slot_wal_keep_size_mb = *keep;
  s.wal_segment_size = *segment;
  return Ok();
}

Status ReadPosition(pg::Connection& conn, PostgresFacts& facts) {
  auto rows = conn.Query(
      "SELECT pg_is_in_recovery()::text, CASE WHEN pg_is_in_recovery() THEN NULL ELSE "
      "pg_current_wal_lsn()::text END");
  if (!rows) return std::unexpected(rows.error());
  const pg::Row& row = rows->front();
  facts.in_recovery = row[0] == std::optional<std::string>("true");
  if (row[1]) {
    auto lsn = pg::ParseLsn(*row[1]);
    if (!lsn) return std::unexpected(lsn.error());
    facts.current_lsn = *lsn;
  }
  return Ok();
}

// The slot's row, matched here rather than in SQL so the name needs no quoting.
Status ReadSlot(pg::Connection& conn, const std::string& name, PostgresFacts& facts) {
  auto rows = conn.Query(
      "SELECT slot_name::text, slot_type, active::text, wal_status, restart_lsn::text, "
      "safe_wal_size::text FROM pg_replication_slots");
  if (!rows) return std::unexpected(rows.error().WithContext("reading pg_replication_slots"));
  for (const auto& row : *rows) {
    if (row[0] != std::optional<std::string>(name)) continue;
    SlotFacts slot;
    slot.physical = row[1] == std::optional<std::string>("physical");
    slot.active = row[2] == std::optional<std::string>("true");
    slot.wal_status = row[3].value_or("");
    if (row[4]) {
      auto lsn = pg::ParseLsn(*row[4]);
      if (!lsn) return std::unexpected(lsn.error());
      slot.restart_lsn = *lsn;
    }
    if (row[5]) {
      auto safe = Number<std::int64_t>(row[5], "safe_wal_size", conn.Where());
      DRCTL_TRY(safe);
      slot.safe_wal_size = *safe;
    }
    facts.slot = slot;
  }
  return Ok();
}

Status ReadArchiver(pg::Connection& conn, ArchiverFacts& archiver) {
  auto rows = conn.Query(
      "SELECT archived_count::text, coalesce(last_archived_wal, ''), failed_count::text, "
      "coalesce(last_failed_wal, ''), coalesce(last_failed_time::text, ''), "
      "(last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR "
      "last_failed_time > last_archived_time))::text FROM pg_stat_archiver");
  if (!rows) return std::unexpected(rows.error().WithContext("reading pg_stat_archiver"));
  const pg::Row& row = rows->front();
  auto archived = Number<std::uint64_t>(row[0], "archived_count", conn.Where());
  DRCTL_TRY(archived);
  auto failed = Number<std::uint64_t>(row[2], "failed_count", conn.Where());
  DRCTL_TRY(failed);
  archiver.archived_count = *archived;
  archiver.last_archived_wal = row[1].value_or("");
  archiver.failed_count = *failed;
  archiver.last_failed_wal = row[3].value_or("");
  archiver.last_failed_time = row[4].value_or("");
  archiver.failing = row[5] == std::optional<std::string>("true");
  return Ok();
}

Result<PostgresFacts> ReadFacts(pg::Connection& conn, const Config& config) {
  PostgresFacts facts;
  facts.server = conn.Where();
  DRCTL_TRY(ReadSettings(conn, facts));
  DRCTL_TRY(ReadPosition(conn, facts));
  DRCTL_TRY(ReadSlot(conn, config.wal.slot, facts));
  DRCTL_TRY(ReadArchiver(conn, facts.archiver));
  return facts;
}

}  // namespace

Result<CommandOutput> Doctor(const Config& config) {
  auto conn = pg::Connection::Open(config.postgres.conninfo);
  if (!conn) return DoctorUnreachable(conn.error(), config);
  auto facts = ReadFacts(*conn, config);
  if (!facts) return std::unexpected(facts.error().WithContext("drctl doctor"));
  return DoctorReport(EvaluateDoctor(*facts, config), facts->server);
}

}  // namespace drctl::command
