// A libpq connection. Errors are kPostgres (or kAuth for a rejected login) and name the server
// (host:port), never the password. Not thread-safe: one connection per thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

struct pg_conn;

namespace drctl::pg {

using Row = std::vector<std::optional<std::string>>;  // nullopt is SQL NULL

class Connection {
 public:
  // Connects with `conninfo` (libpq syntax); gives up after `timeout`.
  static Result<Connection> Open(const std::string& conninfo,
                                 std::chrono::seconds timeout = std::chrono::seconds(10));

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  ~Connection();

  // Runs one or more statements that return no rows we need.
  Status Exec(const std::string& sql);

  // Runs a query; returns every row as text.
  Result<std::vector<Row>> Query(const std::string& sql);

  // Runs a query that returns exactly one row with one non-NULL column.
  Result<std::string> QueryValue(const std::string& sql);

  // "host:port" of the server, for messages.
  std::string Where() const;

 private:
  struct Closer {
    void operator()(pg_conn* conn) const;
  };
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  std::unique_ptr<pg_conn, Closer> conn_;
};

// Removes password=... from a conninfo so it can be shown.
std::string MaskConninfo(const std::string& conninfo);

}  // namespace drctl::pg
