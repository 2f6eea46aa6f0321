#include "command/restore/restore_start.h"

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "common/process.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ReadLines(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// The text after "LOG:  " of the last log line containing `needle`.
std::string LastLogLine(const std::vector<std::string>& log, std::string_view needle) {
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    const auto at = it->find(needle);
    if (at == std::string::npos) continue;
    const auto msg = it->find(":  ");
    return msg != std::string::npos && msg < at ? it->substr(msg + 3) : it->substr(at);
  }
  return "";
}

std::string Tail(const std::vector<std::string>& log, std::size_t n = 12) {
  std::string out;
  for (std::size_t i = log.size() > n ? log.size() - n : 0; i < log.size(); ++i) {
    out += log[i] + "\n";
  }
  return out;
}

// postmaster.pid: pid, data directory, start time, port, socket directory, ...
struct PidFile {
  pid_t pid = 0;
  int port = 0;
  std::string socket_dir;
};
std::optional<PidFile> ReadPidFile(const fs::path& pgdata) {
  const auto lines = ReadLines(pgdata / "postmaster.pid");
  if (lines.size() < 5) return std::nullopt;
  PidFile p;
  try {
    p.pid = static_cast<pid_t>(std::stol(lines[0]));
    p.port = std::stoi(lines[3]);
  } catch (...) {
    return std::nullopt;
  }
  p.socket_dir = lines[4];
  return p;
}

}  // namespace

Result<StartOutcome> StartRestored(const StartRequest& request) {
  StartOutcome outcome;
  outcome.log = request.pgdata / "drctl-restore.log";
  std::string options = "-c unix_socket_directories=" + request.pgdata.string();
  if (request.port != 0) options += " -p " + std::to_string(request.port);
  SpawnOptions spawn;
  spawn.argv = {request.bindir + "/pg_ctl",
                "-D",
                request.pgdata.string(),
                "-l",
                outcome.log.string(),
                "-o",
                options,
                "-W",
                "start"};
  spawn.user = request.os_user;
  spawn.parent_death_signal = 0;  // the server outlives drctl
  auto started = RunCommand(spawn, std::chrono::minutes(2));
  if (!started) return std::unexpected(started.error());
  if (started->exit_status != 0) {
    return Fail(ErrorCode::kPostgres,
                "pg_ctl start failed for " + request.pgdata.string() + ": " + started->err +
                    Tail(ReadLines(outcome.log)),
                "read " + outcome.log.string());
  }
  const auto begun = std::chrono::steady_clock::now();
  const auto deadline = begun + request.timeout;
  std::optional<PidFile> pid;
  for (;;) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Fail(ErrorCode::kTimeout,
                  "recovery in " + request.pgdata.string() + " did not reach its target in time",
                  "it goes on in the background; follow " + outcome.log.string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    const auto log = ReadLines(outcome.log);
    auto now_pid = ReadPidFile(request.pgdata);
    if (now_pid) pid = now_pid;
    const bool alive = pid && PidAlive(pid->pid) && now_pid;
    if (!alive && pid) {
      // The server is gone: a shutdown at the target, or a failed recovery.
      outcome.stop_detail = LastLogLine(log, "recovery stopping");
      if (request.target.action == "shutdown" && !outcome.stop_detail.empty()) {
        outcome.state = "shut down";
        break;
      }
      return Fail(ErrorCode::kPostgres,
                  "the restored server in " + request.pgdata.string() +
                      " stopped during recovery:\n" + Tail(log),
                  "see " + outcome.log.string() +
                      "; a target after the end of the archive cannot be reached");
    }
    if (!now_pid) {
      // A short replay can reach a shutdown target and end before the first look at the PID file.
      const std::string stopping = LastLogLine(log, "recovery stopping");
      if (request.target.action == "shutdown" && !stopping.empty() &&
          !LastLogLine(log, "database system is shut down").empty()) {
        outcome.stop_detail = stopping;
        outcome.state = "shut down";
        break;
      }
      // Not written yet, or the server failed before writing it.
      const bool fatal = !LastLogLine(log, "FATAL:").empty();
      if (fatal || std::chrono::steady_clock::now() - begun > std::chrono::seconds(60)) {
        return Fail(
            ErrorCode::kPostgres,
            "the restored server in " + request.pgdata.string() + " did not start:\n" + Tail(log),
            "see " + outcome.log.string());
      }
      continue;
    }
    const std::string conninfo = request.conninfo + " host='" + now_pid->socket_dir +
                                 "' port=" + std::to_string(now_pid->port) + " dbname=postgres";
    auto conn = pg::Connection::Open(conninfo, std::chrono::seconds(5));
    if (!conn) continue;  // not consistent yet
    auto rows = conn->Query(
        "SELECT pg_is_in_recovery()::text, CASE WHEN pg_is_in_recovery() THEN "
        "pg_get_wal_replay_pause_state() END, "
        "(SELECT timeline_id::text FROM pg_control_checkpoint())");
    if (!rows || rows->empty()) continue;
    const auto& row = rows->front();
    outcome.port = now_pid->port;
    if (row[0] == std::optional<std::string>("false")) {
      outcome.state = "promoted";
    } else if (row[1] == std::optional<std::string>("paused")) {
      outcome.state = "paused";
    } else {
      continue;
    }
    break;
  }
  if (outcome.port == 0) outcome.port = pid ? pid->port : request.port;
  const auto log = ReadLines(outcome.log);
  if (outcome.stop_detail.empty()) outcome.stop_detail = LastLogLine(log, "recovery stopping");
  outcome.redo_done = LastLogLine(log, "redo done at");
  outcome.last_transaction = LastLogLine(log, "last completed transaction");
  const std::string selected = LastLogLine(log, "selected new timeline ID");
  if (!selected.empty()) outcome.timeline = selected.substr(selected.rfind(' ') + 1);
  return outcome;
}

}  // namespace drctl::command
