// `drctl restore --start`: starts the restored PostgreSQL with pg_ctl (detached: it keeps running
// after drctl exits), waits until recovery reaches its target (promoted, paused, or shut down, as
// --target-action says), and reports where recovery stopped, from the server's own log.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "command/restore/recovery_target.h"
#include "common/result.h"

namespace drctl::command {

struct StartRequest {
  std::filesystem::path pgdata;
  std::string bindir;    // PostgreSQL's bindir (pg::FindBindir)
  std::string os_user;   // run pg_ctl as this user (root only); empty: as drctl's user
  int port = 0;          // 0: the port in the restored configuration
  std::string conninfo;  // [postgres] conninfo: user and database to check with
  RecoveryTarget target;
  std::chrono::seconds timeout = std::chrono::hours(12);
};

struct StartOutcome {
  std::string state;  // "promoted", "paused", "shut down", "running"
  int port = 0;
  std::string stop_detail;       // "recovery stopping before commit of transaction 745, time ..."
  std::string redo_done;         // "redo done at 0/3000148"
  std::string last_transaction;  // "last completed transaction was at log time ..."
  std::string timeline;          // the server's timeline after promotion ("" if unknown)
  std::filesystem::path log;
};

// kPostgres with the end of the server log when the server cannot start or recovery fails
// (e.g. "recovery ended before configured recovery target was reached"); kTimeout after
// `timeout`.
Result<StartOutcome> StartRestored(const StartRequest& request);

}  // namespace drctl::command
