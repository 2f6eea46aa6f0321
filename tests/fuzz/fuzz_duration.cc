// Durations on arbitrary text: never crashes; what parses formats back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = drctl::ParseDuration(text);
  if (parsed) {
    auto again = drctl::ParseDuration(drctl::FormatDuration(*parsed));
    if (!again || *again != *parsed) std::abort();
  }
  return 0;
}
