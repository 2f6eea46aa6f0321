#include "postgres/connection.h"

#include <libpq-fe.h>

#include <regex>

#include "postgres/pq_library.h"

namespace drctl::pg {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

void Connection::Closer::operator()(pg_conn* conn) const { PQfinish(conn); }

Connection::~Connection() = default;

std::string MaskConninfo(const std::string& conninfo) {
  static const std::regex kPassword(R"((password\s*=\s*)('([^'\\]|\\.)*'|\S+))");
  return std::regex_replace(conninfo, kPassword, "$1****");
}

Result<Connection> Connection::Open(const std::string& conninfo, std::chrono::seconds timeout) {
  if (auto pq = LoadPq(); !pq) {
    return std::unexpected(
        pq.error().WithContext("cannot connect to PostgreSQL (" + MaskConninfo(conninfo) + ")"));
  }
  const std::string full = conninfo + " connect_timeout=" + std::to_string(timeout.count());
  pg_conn* raw = PQconnectdb(full.c_str());
  Connection conn(raw);
  if (raw == nullptr) return Fail(ErrorCode::kInternal, "libpq could not allocate a connection");
  if (PQstatus(raw) != CONNECTION_OK) {
    std::string message = Trim(PQerrorMessage(raw));
    const bool auth = message.find("authentication failed") != std::string::npos ||
                      message.find("password") != std::string::npos;
    return Fail(auth ? ErrorCode::kAuth : ErrorCode::kPostgres,
                "cannot connect to PostgreSQL (" + MaskConninfo(conninfo) + "): " + message,
                auth ? "check the user and the password (PGPASSWORD or ~/.pgpass)"
                     : "check that PostgreSQL is running and [postgres] conninfo is right");
  }
  return conn;
}

std::string Connection::Where() const {
  const char* host = PQhost(conn_.get());
  const char* port = PQport(conn_.get());
  return std::string(host != nullptr ? host : "?") + ":" + (port != nullptr ? port : "?");
}

Status Connection::Exec(const std::string& sql) {
  auto rows = Query(sql);
  if (!rows) return std::unexpected(rows.error());
  return Ok();
}

Result<std::vector<Row>> Connection::Query(const std::string& sql) {
  PGresult* res = PQexec(conn_.get(), sql.c_str());
  std::unique_ptr<PGresult, decltype(&PQclear)> guard(res, PQclear);
  const auto status = PQresultStatus(res);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return Fail(ErrorCode::kPostgres,
                "PostgreSQL at " + Where() + " failed: " + Trim(PQerrorMessage(conn_.get())),
                "the statement was: " + sql.substr(0, 200));
  }
  std::vector<Row> rows;
  const int nrows = PQntuples(res);
  const int ncols = PQnfields(res);
  rows.reserve(static_cast<std::size_t>(nrows));
  for (int r = 0; r < nrows; ++r) {
    Row row;
    row.reserve(static_cast<std::size_t>(ncols));
    for (int c = 0; c < ncols; ++c) {
      if (PQgetisnull(res, r, c) != 0) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(res, r, c), static_cast<std::size_t>(PQgetlength(res, r, c))));
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::string> Connection::QueryValue(const std::string& sql) {
  auto rows = Query(sql);
  if (!rows) return std::unexpected(rows.error());
  const std::optional<std::string> value =
      rows->size() == 1 && (*rows)[0].size() == 1 ? (*rows)[0][0] : std::nullopt;
  if (!value) {
    return Fail(ErrorCode::kPostgres,
                "expected one value from PostgreSQL at " + Where() + ", got " +
                    std::to_string(rows->size()) + " rows",
                "the statement was: " + sql.substr(0, 200));
  }
  return *value;
}

}  // namespace drctl::pg
