// Logging to stderr with levels (spdlog). Standard output is reserved for command results (text or
// JSON), so scripts can parse it while logs go elsewhere.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

#include "common/result.h"

namespace drctl {

// Sets up the stderr logger. `level`: trace, debug, info, warn, error, off.
Status InitLogging(std::string_view level);

}  // namespace drctl
