// drctl daemon (doc/commands/daemon.md): runs in the foreground, starts each job of [schedule] as
// a child `drctl` process when it is due (never two runs of one job at once; one catch-up run
// after downtime; retries with backoff), keeps `drctl wal stream` running when configured,
// measures the objectives every [daemon] refresh, alerts on breaches and failed jobs (and their
// recovery), serves /metrics, /status, /healthz and the status page, and keeps its state in
// [daemon] state so that a restart continues where it stopped. One daemon per state directory and
// per repository (a daemon lock in each). SIGTERM or SIGINT stop it cleanly: running jobs get
// SIGTERM and are waited for, so the repository stays valid.
#pragma once

#include <functional>
#include <string>

#include "common/config.h"
#include "common/result.h"

namespace drctl::daemon {

struct DaemonOptions {
  std::string drctl_binary;  // what runs the jobs (the daemon's own executable)
  std::string version;
  // Called once the HTTP endpoint listens (its port), or with 0 when it is off.
  std::function<void(int port)> on_ready;
};

// Runs until SIGTERM/SIGINT. Errors: kConfig (no config file, bad listen address), kLocked
// (another daemon holds the state directory or a repository), kIo (state directory).
Status RunDaemon(const Config& config, const DaemonOptions& options);

}  // namespace drctl::daemon
