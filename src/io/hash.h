// Digests and encodings over OpenSSL 3: SHA-256 (one-shot and incremental), HMAC-SHA256, MD5
// (only for S3's Content-MD5), hex and base64. Thread-safe: no shared state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace drctl::io {

using Digest = std::array<std::uint8_t, 32>;

Digest Sha256(std::string_view data);
Digest HmacSha256(std::span<const std::uint8_t> key, std::string_view data);
// HMAC-SHA256 of the concatenation of `parts`, without concatenating them in memory.
Digest HmacSha256(std::span<const std::uint8_t> key, std::span<const std::string_view> parts);
std::array<std::uint8_t, 16> Md5(std::string_view data);

// Incremental SHA-256 for streams. Not thread-safe.
class Sha256Stream {
 public:
  Sha256Stream();
  Sha256Stream(Sha256Stream&&) noexcept;
  Sha256Stream& operator=(Sha256Stream&&) noexcept;
  ~Sha256Stream();
  void Update(std::string_view data);
  Digest Finish();  // the stream can't be updated afterwards

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

std::string ToHex(std::span<const std::uint8_t> bytes);
std::string Base64(std::span<const std::uint8_t> bytes);

inline std::span<const std::uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace drctl::io
