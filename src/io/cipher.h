// Authenticated encryption of repository objects with AES-256-GCM (OpenSSL 3).
//
// Sealed format (doc/format/ should reference this): nonce (12 bytes, random) || ciphertext (as
// long as the plaintext) || tag (16 bytes). The associated data (aad) is authenticated but not
// stored: callers pass what binds the ciphertext to its place (e.g. the chunk id or the object
// key), so a sealed blob moved to another place fails to open.
//
// Nonces are random: a key must seal fewer than 2^32 messages (NIST SP 800-38D, 8.3), i.e. about
// 4 PiB of 1 MiB chunks per key.
//
// Thread-safety: all functions may be called concurrently. Each thread keeps one OpenSSL context
// per direction (thread_local) and only rekeys it, so a call allocates nothing beyond its output.
// The expanded key of the last call stays in that per-thread context until the next call.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl::io {

inline constexpr std::size_t kCipherKeySize = 32;
inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
inline constexpr std::size_t kSealOverhead = kNonceSize + kTagSize;

using CipherKey = std::span<const std::uint8_t, kCipherKeySize>;

// Encrypts and authenticates `plaintext` under `key` with a fresh random nonce; returns
// nonce || ciphertext || tag (plaintext.size() + kSealOverhead bytes). Cannot fail.
std::string Seal(CipherKey key, std::string_view plaintext, std::string_view aad);

// As above, but appends the sealed bytes to `out` (reserve plaintext.size() + kSealOverhead to
// avoid a reallocation). `plaintext` must not alias `out`.
void Seal(CipherKey key, std::string_view plaintext, std::string_view aad, std::string& out);

// Checks and decrypts what Seal produced with the same key and aad. Errors (kCorrupt, nothing
// returned or appended): "too short to be sealed data" when `sealed` is shorter than
// kSealOverhead; "authentication failed (wrong key or damaged data)" for any other mismatch:
// altered bytes, truncation, wrong key, wrong aad. GCM cannot tell a wrong key from damage:
// callers that try a key (key slots) turn kCorrupt into kWrongSecret themselves.
Result<std::string> Open(CipherKey key, std::string_view sealed, std::string_view aad);

// As above, but appends the plaintext to `out`; on error `out` is left as it was.
// `sealed` must not alias `out`.
Status Open(CipherKey key, std::string_view sealed, std::string_view aad, std::string& out);

namespace internal {

// Seal with a caller-chosen nonce, for known-answer tests only: reusing a nonce under one key
// breaks GCM completely. Appends nonce || ciphertext || tag to `out`.
void SealWithNonce(CipherKey key, std::span<const std::uint8_t, kNonceSize> nonce,
                   std::string_view plaintext, std::string_view aad, std::string& out);

}  // namespace internal
}  // namespace drctl::io
