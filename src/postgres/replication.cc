#include "postgres/replication.h"

#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "postgres/connection.h"
#include "postgres/pq_library.h"

namespace drctl::pg {
namespace {

// Seconds from 1970-01-01 to 2000-01-01, PostgreSQL's epoch.
constexpr std::int64_t kPgEpochOffsetSeconds = 946684800;
constexpr std::size_t kXLogDataHeader = 1 + 8 + 8 + 8;
constexpr std::size_t kKeepaliveSize = 1 + 8 + 8 + 1;
constexpr std::size_t kStandbyStatusSize = 1 + 8 + 8 + 8 + 8 + 1;

std::uint64_t GetU64(std::string_view bytes, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<std::uint8_t>(bytes[at + i]);
  }
  return v;
}

void PutU64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

bool ParseUnsigned(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// Connection failures that retrying cannot fix: the server answered and said no.
bool PermanentLoginFailure(const std::string& message) {
  for (const char* needle :
       {"authentication failed", "password", "no pg_hba.conf entry", "must be superuser",
        "permission denied", "does not exist", "replication role"}) {
    if (message.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

Result<ReplicationMessage> ParseReplicationMessage(std::string_view bytes) {
  if (bytes.empty()) return Fail(ErrorCode::kCorrupt, "empty replication message");
  switch (bytes[0]) {
    case 'w': {
      if (bytes.size() < kXLogDataHeader) {
        return Fail(ErrorCode::kCorrupt,
                    "truncated XLogData message (" + std::to_string(bytes.size()) + " bytes)");
      }
      XLogData m;
      m.start = GetU64(bytes, 1);
      m.wal_end = GetU64(bytes, 9);
      m.send_time = static_cast<std::int64_t>(GetU64(bytes, 17));
      m.data = bytes.substr(kXLogDataHeader);
      if (m.start > UINT64_MAX - m.data.size()) {
        return Fail(ErrorCode::kCorrupt, "XLogData message at " + FormatLsn(m.start) +
                                             " runs past the end of the LSN space");
      }
      return m;
    }
    case 'k': {
      if (bytes.size() != kKeepaliveSize) {
        return Fail(ErrorCode::kCorrupt, "keepalive message of " + std::to_string(bytes.size()) +
                                             " bytes (expected " + std::to_string(kKeepaliveSize) +
                                             ")");
      }
      PrimaryKeepalive m;
      m.wal_end = GetU64(bytes, 1);
      m.send_time = static_cast<std::int64_t>(GetU64(bytes, 9));
      m.reply_requested = bytes[17] != 0;
      return m;
    }
    default: {
      char code[8];
      std::snprintf(code, sizeof(code), "0x%02X", static_cast<unsigned>(bytes[0]) & 0xFFU);
      return Fail(ErrorCode::kCorrupt, std::string("unknown replication message type ") + code);
    }
  }
}

std::string BuildStandbyStatus(const StandbyStatus& status) {
  std::string out;
  out.reserve(kStandbyStatusSize);
  out.push_back('r');
  PutU64(out, status.write);
  PutU64(out, status.flush);
  PutU64(out, status.apply);
  PutU64(out, static_cast<std::uint64_t>(status.send_time));
  out.push_back(status.reply_requested ? 1 : 0);
  return out;
}

Result<StandbyStatus> ParseStandbyStatus(std::string_view bytes) {
  if (bytes.size() != kStandbyStatusSize || bytes[0] != 'r') {
    return Fail(ErrorCode::kCorrupt,
                "not a standby status update (" + std::to_string(bytes.size()) + " bytes)");
  }
  StandbyStatus s;
  s.write = GetU64(bytes, 1);
  s.flush = GetU64(bytes, 9);
  s.apply = GetU64(bytes, 17);
  s.send_time = static_cast<std::int64_t>(GetU64(bytes, 25));
  s.reply_requested = bytes[33] != 0;
  return s;
}

std::int64_t ReplicationNow() {
  const auto since_unix = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return since_unix.count() - kPgEpochOffsetSeconds * 1000000;
}

Result<std::uint64_t> ParseSizeSetting(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  std::uint64_t value = 0;
  const std::string_view unit = text.substr(digits);
  std::uint64_t multiplier = 0;
  if (unit.empty() || unit == "B") {
    multiplier = 1;
  } else if (unit == "kB") {
    multiplier = 1ULL << 10;
  } else if (unit == "MB") {
    multiplier = 1ULL << 20;
  } else if (unit == "GB") {
    multiplier = 1ULL << 30;
  } else if (unit == "TB") {
    multiplier = 1ULL << 40;
  }
  if (multiplier == 0 || !ParseUnsigned(text.substr(0, digits), value) ||
      value > UINT64_MAX / multiplier) {
    return Fail(ErrorCode::kCorrupt, "\"" + std::string(text) + "\" is not a size setting");
  }
  return value * multiplier;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// ---- ReplicationConnection ----

void ReplicationConnection::Closer::operator()(pg_conn* conn) const { PQfinish(conn); }

ReplicationConnection::~ReplicationConnection() = default;

Result<ReplicationConnection> ReplicationConnection::Open(const std::string& conninfo,
                                                          const std::string& application_name,
                                                          std::chrono::seconds timeout) {
  if (auto pq = LoadPq(); !pq) {
    return std::unexpected(pq.error().WithContext("cannot connect to PostgreSQL for replication"));
  }
  const std::string connect_timeout = std::to_string(timeout.count());
  // Defaults first, then the operator's conninfo (expanded from "dbname"), then what streaming
  // needs: later keywords win.
  const char* keys[] = {"keepalives",       "keepalives_idle", "keepalives_interval",
                        "keepalives_count", "dbname",          "replication",
                        "application_name", "connect_timeout", nullptr};
  const char* values[] = {"1",
                          "10",
                          "5",
                          "3",
                          conninfo.c_str(),
                          "true",
                          application_name.c_str(),
                          connect_timeout.c_str(),
                          nullptr};
  pg_conn* raw = PQconnectdbParams(keys, values, 1);
  ReplicationConnection conn(raw);
  if (raw == nullptr) return Fail(ErrorCode::kInternal, "libpq could not allocate a connection");
  if (PQstatus(raw) != CONNECTION_OK) {
    const std::string message = Trim(PQerrorMessage(raw));
    // The message may quote the conninfo only when it failed to parse; libpq never prints the
    // password itself.
    if (PermanentLoginFailure(message)) {
      return Fail(ErrorCode::kAuth,
                  "PostgreSQL refused a replication connection: " + MaskConninfo(message),
                  "the role in [postgres] conninfo needs the REPLICATION attribute (or superuser) "
                  "and pg_hba.conf must allow it a 'replication' connection");
    }
    return Fail(ErrorCode::kUnavailable,
                "cannot connect to PostgreSQL for replication: " + MaskConninfo(message),
                "check that PostgreSQL is running and [postgres] conninfo is right");
  }
  return conn;
}

std::string ReplicationConnection::Where() const {
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  return std::string(host != nullptr ? host : "?") + ":" + (port != nullptr ? port : "?");
}

Result<std::vector<std::vector<std::optional<std::string>>>> ReplicationConnection::Command(
    const std::string& sql) {
  PGresult* res = PQexec(conn_.get(), sql.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
  const auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const std::string message = Trim(PQerrorMessage(conn_.get()));
    const bool broken = PQstatus(conn_.get()) != CONNECTION_OK;
    return Fail(broken ? ErrorCode::kUnavailable : ErrorCode::kPostgres,
                "PostgreSQL at " + Where() + " failed " + sql.substr(0, 80) + ": " + message);
  }
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (int r = 0; r < PQntuples(res); ++r) {
    std::vector<std::optional<std::string>> row;
    for (int c = 0; c < PQnfields(res); ++c) {
      if (PQgetisnull(res, r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(res, r, c)));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<SystemIdentity> ReplicationConnection::IdentifySystem() {
  auto rows = Command("IDENTIFY_SYSTEM");
  if (!rows) return std::unexpected(rows.error());
  auto bad = [&] {
    return Fail(ErrorCode::kPostgres,
                "PostgreSQL at " + Where() + " answered IDENTIFY_SYSTEM unexpectedly");
  };
  if (rows->size() != 1 || (*rows)[0].size() < 3) return bad();
  const auto& row = (*rows)[0];
  SystemIdentity id;
  std::uint64_t tli = 0;
  if (!row[0] || !row[1] || !row[2] || !ParseUnsigned(*row[0], id.system_identifier) ||
      !ParseUnsigned(*row[1], tli) || tli == 0 || tli > UINT32_MAX) {
    return bad();
  }
  id.timeline = static_cast<TimelineId>(tli);
  auto lsn = ParseLsn(*row[2]);
  if (!lsn) return bad();
  id.flush = *lsn;
  return id;
}

Result<std::uint64_t> ReplicationConnection::WalSegmentSize() {
  auto rows = Command("SHOW wal_segment_size");
  if (!rows) return std::unexpected(rows.error());
  if (rows->size() != 1 || (*rows)[0].size() != 1 || !(*rows)[0][0]) {
    return Fail(ErrorCode::kPostgres,
                "PostgreSQL at " + Where() + " did not show wal_segment_size");
  }
  return ParseSizeSetting(*(*rows)[0][0]);
}

Result<SlotState> ReplicationConnection::ReadSlot(const std::string& slot) {
  auto rows = Command("READ_REPLICATION_SLOT " + QuoteIdentifier(slot));
  if (!rows) return std::unexpected(rows.error());
  SlotState state;
  if (rows->size() != 1 || (*rows)[0].size() < 3 || !(*rows)[0][0]) return state;  // absent
  const auto& row = (*rows)[0];
  state.exists = true;
  state.physical = *row[0] == "physical";
  if (row[1]) {
    auto lsn = ParseLsn(*row[1]);
    if (lsn) state.restart_lsn = *lsn;
  }
  std::uint64_t tli = 0;
  if (row[2] && ParseUnsigned(*row[2], tli) && tli > 0 && tli <= UINT32_MAX) {
    state.restart_timeline = static_cast<TimelineId>(tli);
  }
  return state;
}

Status ReplicationConnection::CreatePhysicalSlot(const std::string& slot) {
  auto rows = Command("CREATE_REPLICATION_SLOT " + QuoteIdentifier(slot) + " PHYSICAL RESERVE_WAL");
  if (!rows) {
    if (rows.error().message().find("already exists") != std::string::npos) {
      return Fail(ErrorCode::kConflict, rows.error().message());
    }
    return std::unexpected(rows.error());
  }
  return Ok();
}

Result<std::string> ReplicationConnection::TimelineHistory(TimelineId timeline) {
  // The content is bytea-like text; fetch it as is (history files are small text files).
  PGresult* res = PQexec(conn_.get(), ("TIMELINE_HISTORY " + std::to_string(timeline)).c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
  if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 || PQnfields(res) != 2) {
    return Fail(ErrorCode::kPostgres, "PostgreSQL at " + Where() + " failed TIMELINE_HISTORY " +
                                          std::to_string(timeline) + ": " +
                                          Trim(PQerrorMessage(conn_.get())));
  }
  return std::string(PQgetvalue(res, 0, 1), static_cast<std::size_t>(PQgetlength(res, 0, 1)));
}

Status ReplicationConnection::StartReplication(const std::string& slot, Lsn start,
                                               TimelineId timeline) {
  const std::string sql = "START_REPLICATION SLOT " + QuoteIdentifier(slot) + " PHYSICAL " +
                          FormatLsn(start) + " TIMELINE " + std::to_string(timeline);
  PGresult* res = PQexec(conn_.get(), sql.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
  if (PQresultStatus(res) != PGRES_COPY_BOTH) {
    const bool broken = PQstatus(conn_.get()) != CONNECTION_OK;
    return Fail(
        broken ? ErrorCode::kUnavailable : ErrorCode::kPostgres,
        "PostgreSQL at " + Where() + " refused " + sql + ": " + Trim(PQerrorMessage(conn_.get())));
  }
  return Ok();
}

Result<Received> ReplicationConnection::Receive(std::chrono::milliseconds timeout) {
  for (int round = 0; round < 2; ++round) {
    char* buffer = nullptr;
    const int n = PQgetCopyData(conn_.get(), &buffer, 1);
    if (n > 0) {
      Received r;
      r.kind = Received::Kind::kMessage;
      r.message.assign(buffer, static_cast<std::size_t>(n));
      PQfreemem(buffer);
      return r;
    }
    if (n == -1) return EndOfCopy();
    if (n == -2) {
      return Fail(ErrorCode::kUnavailable, "replication stream from " + Where() +
                                               " broke: " + Trim(PQerrorMessage(conn_.get())));
    }
    if (round == 1) break;
    pollfd fd{PQsocket(conn_.get()), POLLIN, 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    if (ready < 0 && errno != EINTR) {
      return Fail(ErrorCode::kIo,
                  std::string("poll on the replication connection: ") + std::strerror(errno));
    }
    if (ready <= 0) return Received{};
    if (PQconsumeInput(conn_.get()) == 0) {
      return Fail(ErrorCode::kUnavailable, "replication stream from " + Where() +
                                               " broke: " + Trim(PQerrorMessage(conn_.get())));
    }
  }
  return Received{};
}

Result<Received> ReplicationConnection::EndOfCopy() {
  Received end;
  end.kind = Received::Kind::kEnd;
  std::string error;
  // The server ended the stream (CopyDone): answer with ours, then read the results: at the end
  // of a timeline, a row (next timeline, its start) then CommandComplete.
  for (int i = 0; i < 8; ++i) {
    PGresult* res = PQgetResult(conn_.get());
    if (res == nullptr) break;
    std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
    const auto status = PQresultStatus(res);
    if (status == PGRES_COPY_IN || status == PGRES_COPY_BOTH) {
      (void)PQputCopyEnd(conn_.get(), nullptr);
      (void)PQflush(conn_.get());
    } else if (status == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 2) {
      std::uint64_t tli = 0;
      if (ParseUnsigned(PQgetvalue(res, 0, 0), tli) && tli <= UINT32_MAX) {
        end.next_timeline = static_cast<TimelineId>(tli);
      }
      if (auto lsn = ParseLsn(PQgetvalue(res, 0, 1))) end.next_start = *lsn;
    } else if (status != PGRES_COMMAND_OK) {
      error = Trim(PQerrorMessage(conn_.get()));
    }
  }
  if (end.next_timeline == 0 && !error.empty()) {
    return Fail(ErrorCode::kUnavailable, "replication stream from " + Where() + " ended: " + error);
  }
  return end;
}

Status ReplicationConnection::Send(std::string_view message) {
  if (PQputCopyData(conn_.get(), message.data(), static_cast<int>(message.size())) != 1 ||
      PQflush(conn_.get()) != 0) {
    return Fail(ErrorCode::kUnavailable,
                "cannot send to " + Where() + ": " + Trim(PQerrorMessage(conn_.get())));
  }
  return Ok();
}

}  // namespace drctl::pg
