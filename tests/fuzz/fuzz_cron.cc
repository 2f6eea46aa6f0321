// Cron expressions on arbitrary text: never crashes; a parsed expression's next firing matches.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto cron = drctl::CronExpr::Parse(text);
  if (cron) {
    const drctl::CronExpr::TimePoint start(std::chrono::seconds(1790000000));
    const auto next = cron->Next(start);
    if (next <= start || !cron->Matches(next)) std::abort();
  }
  return 0;
}
