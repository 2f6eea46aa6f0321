// Key derivation over OpenSSL 3's EVP_KDF: HKDF-SHA256 (RFC 5869) derives subkeys from a
// random master key; scrypt (RFC 7914) turns a passphrase into a key-slot wrapping key.
// Thread-safe: no shared state.
//
// Scrypt parameters are stored in key slots, so they are input from the repository: absurd
// values (from damage or from a hostile repository) are refused as kCorrupt before any memory is
// allocated, never attempted. Accepted: N a power of two >= 2, r >= 1, 1 <= p <= kScryptMaxP,
// and 128 * N * r (the memory scrypt needs) at most kScryptMaxMemory.
//
// Recommended for new key slots: N = 2^17, r = 8, p = 1 (kScryptDefault*): about 128 MiB of
// memory and 0.3 to 0.5 s on one core of a current x86-64 server (0.45 s measured on the
// development machine). That is paid once per command that opens the repository, and makes
// each passphrase guess as expensive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::io {

inline constexpr std::uint64_t kScryptDefaultN = std::uint64_t{1} << 17;
inline constexpr std::uint32_t kScryptDefaultR = 8;
inline constexpr std::uint32_t kScryptDefaultP = 1;
inline constexpr std::uint64_t kScryptMaxMemory = std::uint64_t{1} << 30;  // 1 GiB
inline constexpr std::uint32_t kScryptMaxP = 16;
inline constexpr std::size_t kScryptMaxLength = 1024;
inline constexpr std::size_t kHkdfSha256MaxLength = 255 * 32;  // RFC 5869: 255 hash lengths

// `length` bytes of HKDF-SHA256 (extract then expand) from input keying material `ikm`, an
// optional `salt` (empty: RFC 5869's zero salt) and a context label `info` (binary allowed).
// kInternal when ikm is empty or length is outside 1..kHkdfSha256MaxLength: the caller's bug.
Result<std::vector<std::uint8_t>> HkdfSha256(std::span<const std::uint8_t> ikm,
                                             std::span<const std::uint8_t> salt,
                                             std::string_view info, std::size_t length);

// Checks stored scrypt parameters against the limits above without running scrypt. kCorrupt
// with a message naming the parameter and the limit.
Status ValidateScryptParams(std::uint64_t n, std::uint32_t r, std::uint32_t p);

// `length` bytes of scrypt(passphrase, salt, N, r, p). Errors: kCorrupt for parameters
// ValidateScryptParams refuses; kInternal for length outside 1..kScryptMaxLength (caller's bug);
// kPrecondition when OpenSSL cannot run it (in practice: the memory could not be allocated).
Result<std::vector<std::uint8_t>> Scrypt(std::string_view passphrase,
                                         std::span<const std::uint8_t> salt, std::uint64_t n,
                                         std::uint32_t r, std::uint32_t p, std::size_t length);

}  // namespace drctl::io
