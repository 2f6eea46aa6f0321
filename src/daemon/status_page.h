// The daemon's status page for humans, served on GET /: the objectives of every repository at a
// glance, each repository's recoverable window drawn as a timeline with its backups and drills on
// it, the jobs and their recent runs, active alerts and the WAL stream (doc/http.md).
//
// One self-contained HTML document: inline CSS, inline SVG drawn on the server, no scripts and no
// external resources, so it renders under a strict Content-Security-Policy and without a network.
// Stable hooks for tests and user styles (<id> is the repository name with every character outside
// [A-Za-z0-9_-] replaced by '_'):
//   #health (class "banner ok|warn|fail|unknown"), #repo-<id>, #objectives-<id> holding
//   li.objective.ok|warn|fail[data-objective=rpo|backup_age|drill_age|rto],
//   svg#timeline-<id> holding rect.window, circle.backup, path.drill.passed|failed, line.now,
//   #jobs, #recent, #alerts, #stream.
#pragma once

#include <string>
#include <string_view>

#include "daemon/snapshot.h"

namespace drctl::daemon {

// The page for `s`. Every string that comes from the snapshot is HTML-escaped. Times are UTC; the
// timeline spans the data, at most the 14 days up to `s.now`. Pure: safe to call from any thread.
std::string RenderStatusPage(const DaemonSnapshot& s);

}  // namespace drctl::daemon
