// drctl doctor's rules (doc/commands/doctor.md): the PostgreSQL settings the objectives depend
// on, judged OK / WARN / FAIL, each with what is set now, what it should be and the exact change.
//
// Reading the facts (doctor_command.h) is separate from judging them (EvaluateDoctor, a pure
// function), so every rule is unit-tested without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "command/command_output.h"
#include "command/status/status_report.h"
#include "common/config.h"
#include "common/duration.h"
#include "postgres/wal_names.h"

namespace drctl::command {

// The settings doctor reads, in pg_settings' base units.
struct PostgresSettings {
  std::string archive_mode = "off";  // off, on, always
  std::string archive_command;
  std::string archive_library;  // PostgreSQL 15: when set, archive_command is not used
  std::string wal_level = "replica";
  Seconds archive_timeout{0};  // 0: disabled
  bool data_checksums = false;
  int max_wal_senders = 10;
  std::string synchronous_standby_names;
  std::int64_t max_slot_wal_keep_size_mb = -1;  // -1: unlimited
  std::uint64_t wal_segment_size = 16 * 1024 * 1024;
};

// The row of pg_replication_slots for `[wal] slot`.
struct SlotFacts {
  bool physical = true;
  bool active = false;
  std::string wal_status;                     // reserved, extended, unreserved, lost; "" if NULL
  std::optional<pg::Lsn> restart_lsn;         // nullopt: the slot reserves no WAL (yet)
  std::optional<std::int64_t> safe_wal_size;  // bytes; nullopt without max_slot_wal_keep_size
};

// pg_stat_archiver.
struct ArchiverFacts {
  std::uint64_t archived_count = 0;
  std::string last_archived_wal;
  std::uint64_t failed_count = 0;
  std::string last_failed_wal;
  std::string last_failed_time;
  bool failing = false;  // the last attempt failed (a failure newer than the last success)
};

// Everything doctor reads from one server.
struct PostgresFacts {
  std::string server;             // "host:port", for messages
  std::uint32_t version_num = 0;  // server_version_num
  bool in_recovery = false;
  std::string data_directory;          // "" when the user may not read it
  std::optional<pg::Lsn> current_lsn;  // pg_current_wal_lsn(); nullopt in recovery
  PostgresSettings settings;
  std::optional<SlotFacts> slot;  // nullopt: no slot named `[wal] slot`
  ArchiverFacts archiver;
};

struct DoctorCheck {
  std::string name;            // stable: "server", "wal_level", "archiving", "archive_timeout", ...
  Health level = Health::kOk;  // OK, WARN, FAIL as `drctl status` judges objectives
  std::string found;           // what is set now
  std::string want;            // what it should be
  std::string fix;             // the exact change; "" when OK
};

// An inactive slot retaining more WAL than this is a WARN (pg_wal fills while nothing reads).
inline constexpr std::uint64_t kInactiveSlotRetainedWarnBytes = std::uint64_t{1} << 30;

// Judges `facts` against `config`. WAL reaches the repository by streaming when
// config.daemon.wal_stream is true or `[wal] synchronous` is not off (a synchronous mode means a
// stream runs); otherwise by archiving. Checks that do not apply to the chosen path are left out.
std::vector<DoctorCheck> EvaluateDoctor(const PostgresFacts& facts, const Config& config);

// What an archive_command does, as far as drctl can tell from its text.
enum class ArchiveCommandKind : std::uint8_t {
  kEmpty,             // "": PostgreSQL keeps every segment until a command is set
  kDrctl,             // runs drctl's `wal push %p` (options may stand between drctl and `wal`)
  kDrctlWithoutPath,  // runs `drctl wal push` without %p: every attempt fails
  kOther,             // something else (maybe a wrapper that calls drctl; doctor cannot see)
};
ArchiveCommandKind ClassifyArchiveCommand(std::string_view archive_command);

// True when `names` (synchronous_standby_names: "a, b", "FIRST 1 (a, b)", "ANY 2 (a, \"B\")",
// "*") lists `application_name`; names compare case-insensitively, as PostgreSQL does.
bool ListsStandby(std::string_view names, std::string_view application_name);

// The command's output: a table and {"server", "checks": [...], "ok"}. When a check FAILs,
// `failure` is kVerifyFailed (exit 17) naming them; WARNs alone leave it unset (exit 0).
CommandOutput DoctorReport(const std::vector<DoctorCheck>& checks, const std::string& server);

// The output when PostgreSQL cannot be reached: one FAIL check "connection" and `error` (which
// names the masked conninfo) as the failure.
CommandOutput DoctorUnreachable(const Error& error, const Config& config);

}  // namespace drctl::command
