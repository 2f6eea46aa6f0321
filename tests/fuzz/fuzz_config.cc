// The config loader on arbitrary bytes: never crashes; every rejection is a kConfig error that
// names the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = drctl::ParseConfig(text, "fuzz.toml");
  if (!config) {
    if (config.error().code() != drctl::ErrorCode::kConfig) std::abort();
    if (!config.error().message().starts_with("fuzz.toml")) std::abort();
  }
  return 0;
}
