// Recovery targets as an operator types them (drctl restore --target-*): never crash; a time
// that parses is normalised to UTC and parses again to the same instant; what parses yields
// recovery settings whose quoted values keep every quote doubled.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "command/restore/recovery_target.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const bool exclusive = (data[0] & 0x08) != 0;
  using drctl::command::ParseRecoveryTarget;
  drctl::Result<drctl::command::RecoveryTarget> target =
      std::unexpected(drctl::Error(drctl::ErrorCode::kUsage, "unset"));
  switch (data[0] & 0x07) {
    case 0:
      target = ParseRecoveryTarget(text, "", "", "", false, exclusive, "latest", "promote");
      if (target) {
        auto again =
            ParseRecoveryTarget(target->value, "", "", "", false, exclusive, "latest", "promote");
        if (!again || again->time_micros != target->time_micros) std::abort();
      }
      break;
    case 1:
      target = ParseRecoveryTarget("", text, "", "", false, exclusive, "latest", "promote");
      break;
    case 2:
      target = ParseRecoveryTarget("", "", text, "", false, exclusive, "latest", "promote");
      break;
    case 3:
      target = ParseRecoveryTarget("", "", "", text, false, exclusive, "latest", "promote");
      break;
    case 4:
      target = ParseRecoveryTarget("", "", "", "x", false, false, text, "promote");
      break;
    default:
      target = ParseRecoveryTarget("", "", "", "x", false, false, "latest", text);
      break;
  }
  if (target) {
    const std::string settings = drctl::command::RecoverySettings(*target, "drctl wal get %f %p");
    if (settings.find("recovery_target_timeline = '") == std::string::npos) std::abort();
  }
  return 0;
}
