#include "common/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace drctl {

Status InitLogging(std::string_view level) {
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return Fail(ErrorCode::kUsage, "unknown log level '" + std::string(level) + "'",
                "use trace, debug, info, warn, error or off");
  }
  auto logger = spdlog::get("drctl");
  if (!logger) logger = spdlog::stderr_color_mt("drctl");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(parsed);
  spdlog::set_default_logger(logger);
  return Ok();
}

}  // namespace drctl
