// Cryptographically secure random bytes from OpenSSL's CSPRNG (RAND_bytes): nonces, salts and
// master keys. Thread-safe. Never fails: RAND_bytes only fails when the CSPRNG cannot be seeded or
// is broken, and no caller could do anything sensible with such "randomness", so the process
// aborts instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace drctl::io {

// Fills `out` with random bytes.
void FillRandom(std::span<std::uint8_t> out);

// Returns `n` random bytes.
std::vector<std::uint8_t> RandomBytes(std::size_t n);

// Returns N random bytes in a fixed-size array, e.g. RandomArray<32>() for a key.
template <std::size_t N>
std::array<std::uint8_t, N> RandomArray() {
  std::array<std::uint8_t, N> out{};
  FillRandom(out);
  return out;
}

}  // namespace drctl::io
