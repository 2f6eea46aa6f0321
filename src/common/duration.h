// Durations as operators write them in the config: "90s", "15m", "6h", "7d", "2w", and
// combinations such as "1h30m". Bare numbers are rejected (no guessing the unit).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl {

using Seconds = std::chrono::seconds;

// Parses `text`; errors (code kConfig) say what is wrong with it. Zero ("0s") is allowed.
Result<Seconds> ParseDuration(std::string_view text);

// Shortest canonical spelling that ParseDuration reads back: 5400s -> "1h30m", 0 -> "0s".
std::string FormatDuration(Seconds value);

}  // namespace drctl
