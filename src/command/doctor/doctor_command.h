// drctl doctor: reads the PostgreSQL settings the objectives depend on over `[postgres] conninfo`
// (pg_settings, the `[wal] slot` row of pg_replication_slots, pg_stat_archiver) and judges them
// with EvaluateDoctor (doctor_checks.h). Read-only: it changes nothing on the server.
#pragma once

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

// The checks as a report. A FAIL check makes `failure` kVerifyFailed (exit 17); WARNs alone exit
// 0. When PostgreSQL cannot be reached, the report is one FAIL check "connection" and the failure
// is the connection's error (kPostgres, or kAuth for a rejected login). An error result only when
// the server answers but the facts cannot be read (e.g. a role that may not see the settings).
Result<CommandOutput> Doctor(const Config& config);

}  // namespace drctl::command
