// Open of arbitrary bytes under a fixed key: never crashes and never succeeds (forging a GCM tag
// is what random inputs cannot do; only Seal's output opens). Every failure is kCorrupt.
//
// Input: 1 byte of associated-data length (up to 32), that many bytes of associated data, then
// the sealed bytes.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "io/cipher.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::array<std::uint8_t, drctl::io::kCipherKeySize> kKey = {
      0x42, 0x13, 0x37, 0x00, 0xff, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
      0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
      0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b};
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t aad_size = std::min<std::size_t>(data[0] % 33, size - 1);
  const std::string_view aad = bytes.substr(1, aad_size);
  const std::string_view sealed = bytes.substr(1 + aad_size);

  std::string out = "prefix";
  auto status = drctl::io::Open(kKey, sealed, aad, out);
  if (status.has_value()) std::abort();  // a forgery: authentication is broken
  if (status.error().code() != drctl::ErrorCode::kCorrupt || out != "prefix") std::abort();
  return 0;
}
