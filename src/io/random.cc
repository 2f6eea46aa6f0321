#include "io/random.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdlib>

namespace drctl::io {

void FillRandom(std::span<std::uint8_t> out) {
  // RAND_bytes takes an int length: fill large buffers in pieces.
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) std::abort();
    out = out.subspan(n);
  }
}

std::vector<std::uint8_t> RandomBytes(std::size_t n) {
  std::vector<std::uint8_t> out(n);
  FillRandom(out);
  return out;
}

}  // namespace drctl::io
