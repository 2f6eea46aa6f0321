// PostgreSQL's physical streaming replication protocol, client side (what pg_receivewal speaks):
// a walsender connection (replication=true), its commands (IDENTIFY_SYSTEM, SHOW,
// READ_REPLICATION_SLOT, CREATE_REPLICATION_SLOT, TIMELINE_HISTORY, START_REPLICATION) and the
// CopyBoth messages inside START_REPLICATION:
//   XLogData          'w' int64 start, int64 wal_end, int64 send_time, bytes...
//   Primary keepalive 'k' int64 wal_end, int64 send_time, byte reply_requested
//   Standby status    'r' int64 write, int64 flush, int64 apply, int64 send_time, byte reply
// (integers big-endian; times in microseconds since 2000-01-01 00:00 UTC).
//
// The message functions are pure (bytes in, values out) so they can be unit-tested and fuzzed:
// the bytes come from the server and are parsed strictly (kCorrupt for anything malformed).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"
#include "postgres/wal_names.h"

struct pg_conn;

namespace drctl::pg {

// ---- Messages (pure) ----

struct XLogData {
  Lsn start = 0;    // LSN of data[0]
  Lsn wal_end = 0;  // the server's WAL end (flush position) when it sent this
  std::int64_t send_time = 0;
  std::string_view data;  // points into the parsed buffer
};

struct PrimaryKeepalive {
  Lsn wal_end = 0;
  std::int64_t send_time = 0;
  bool reply_requested = false;
};

using ReplicationMessage = std::variant<XLogData, PrimaryKeepalive>;

// Parses one CopyData payload of START_REPLICATION. kCorrupt (naming what is wrong) for an empty,
// truncated or unknown message, and for XLogData whose end would overflow the LSN space.
Result<ReplicationMessage> ParseReplicationMessage(std::string_view bytes);

struct StandbyStatus {
  Lsn write = 0;
  Lsn flush = 0;
  Lsn apply = 0;
  std::int64_t send_time = 0;
  bool reply_requested = false;
};

// The 34-byte 'r' message.
std::string BuildStandbyStatus(const StandbyStatus& status);
// Inverse of BuildStandbyStatus (tests, fuzzing); kCorrupt unless exactly one 'r' message.
Result<StandbyStatus> ParseStandbyStatus(std::string_view bytes);

// Now, in the protocol's clock (microseconds since 2000-01-01 UTC).
std::int64_t ReplicationNow();

// A size setting as SHOW prints it ("16MB", "1GB", "8192", "64kB"), in bytes. kCorrupt otherwise.
Result<std::uint64_t> ParseSizeSetting(std::string_view text);

// ---- The connection ----

struct SystemIdentity {
  std::uint64_t system_identifier = 0;
  TimelineId timeline = 0;
  Lsn flush = 0;  // the server's current WAL flush position
};

struct SlotState {
  bool exists = false;
  bool physical = true;
  std::optional<Lsn> restart_lsn;
  std::optional<TimelineId> restart_timeline;
};

// What Receive got: a message, nothing before the timeout, or the end of the stream. The end
// carries the next timeline when the server ended it because its timeline changed (0 otherwise).
struct Received {
  enum class Kind : std::uint8_t { kNothing, kMessage, kEnd };
  Kind kind = Kind::kNothing;
  std::string message;
  TimelineId next_timeline = 0;
  Lsn next_start = 0;
};

// One walsender connection. Not thread-safe. Errors are kPostgres (server said no), kAuth (login
// or replication not permitted: retrying does not help), kUnavailable (cannot reach the server or
// the connection broke: retry later); they name the server, never the password.
class ReplicationConnection {
 public:
  // Connects with `conninfo` (libpq key=value or URI) plus replication=true and
  // application_name; gives up after `timeout`.
  static Result<ReplicationConnection> Open(const std::string& conninfo,
                                            const std::string& application_name,
                                            std::chrono::seconds timeout);

  ReplicationConnection(ReplicationConnection&&) noexcept = default;
  ReplicationConnection& operator=(ReplicationConnection&&) noexcept = default;
  ~ReplicationConnection();

  Result<SystemIdentity> IdentifySystem();
  Result<std::uint64_t> WalSegmentSize();  // SHOW wal_segment_size
  Result<SlotState> ReadSlot(const std::string& slot);
  // CREATE_REPLICATION_SLOT slot PHYSICAL RESERVE_WAL; kConflict if it exists already.
  Status CreatePhysicalSlot(const std::string& slot);
  // The content of timeline `timeline`'s history file (TIMELINE_HISTORY).
  Result<std::string> TimelineHistory(TimelineId timeline);
  // START_REPLICATION SLOT slot PHYSICAL start TIMELINE timeline: the stream begins.
  Status StartReplication(const std::string& slot, Lsn start, TimelineId timeline);

  // While streaming: waits up to `timeout` for the next CopyData message. A signal interrupts
  // the wait (returns kNothing). kUnavailable when the connection broke.
  Result<Received> Receive(std::chrono::milliseconds timeout);
  // Sends one CopyData message (a standby status update) and flushes it.
  Status Send(std::string_view message);

  std::string Where() const;

 private:
  struct Closer {
    void operator()(pg_conn* conn) const;
  };
  explicit ReplicationConnection(pg_conn* conn) : conn_(conn) {}
  Result<std::vector<std::vector<std::optional<std::string>>>> Command(const std::string& sql);
  Result<Received> EndOfCopy();
  std::unique_ptr<pg_conn, Closer> conn_;
};

// Quotes an identifier for a replication command ("slot" with doubled quotes).
std::string QuoteIdentifier(std::string_view name);

}  // namespace drctl::pg
