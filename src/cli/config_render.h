// The effective configuration as `drctl config check` prints it: every key with its value,
// defaults filled in, secrets shown only as where they come from.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/config.h"

namespace drctl::cli {

nlohmann::json ConfigToJson(const Config& config);
std::string ConfigToText(const Config& config);

}  // namespace drctl::cli
