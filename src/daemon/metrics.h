// The daemon's snapshot as Prometheus metrics (text exposition format 0.0.4), served on /metrics.
// The families and their meaning are listed in doc/http.md; names, labels and units are part of
// drctl's contract (dashboards and alert rules depend on them): only add, never rename.
#pragma once

#include <string>
#include <string_view>

#include "daemon/snapshot.h"

namespace drctl::daemon {

// Every family carries # HELP and # TYPE; values are in base units (seconds, bytes); label values
// are escaped (backslash, double quote, newline). A value that is not known (never measured, never
// ran) has no sample rather than a made-up one. Pure: safe to call from any thread.
std::string RenderMetrics(const DaemonSnapshot& s);

// `value` escaped for a label value between double quotes: \ -> \\, " -> \", newline -> \n.
std::string EscapeLabelValue(std::string_view value);

}  // namespace drctl::daemon
