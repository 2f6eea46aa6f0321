#include "io/cipher.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "io/random.h"

namespace drctl::io {
namespace {

constexpr int kEncrypt = 1;
constexpr int kDecrypt = 0;
// EVP_CipherUpdate takes an int length: larger inputs go through in pieces of this size.
constexpr std::size_t kMaxUpdate = std::size_t{1} << 30;

// OpenSSL cipher calls on a valid context only fail on allocation failure or misuse.
void Check(int ok) {
  if (ok != 1) std::abort();
}

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

CtxPtr NewContext(int direction) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) std::abort();
  Check(EVP_CipherInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr, direction));
  return ctx;
}

// Per-thread contexts with the cipher already fetched: each call passes only key and nonce
// (cipher = nullptr), which reuses the provider context instead of allocating a new one.
EVP_CIPHER_CTX* ThreadContext(int direction) {
  thread_local CtxPtr seal = NewContext(kEncrypt);
  thread_local CtxPtr open = NewContext(kDecrypt);
  return direction == kEncrypt ? seal.get() : open.get();
}

EVP_CIPHER_CTX* Start(int direction, CipherKey key, const std::uint8_t* nonce,
                      std::string_view aad) {
  EVP_CIPHER_CTX* ctx = ThreadContext(direction);
  Check(EVP_CipherInit_ex(ctx, nullptr, nullptr, key.data(), nonce, direction));
  for (std::size_t at = 0; at < aad.size(); at += kMaxUpdate) {
    const std::size_t n = std::min(aad.size() - at, kMaxUpdate);
    int len = 0;
    Check(EVP_CipherUpdate(ctx, nullptr, &len,
                           reinterpret_cast<const unsigned char*>(aad.data() + at),
                           static_cast<int>(n)));
  }
  return ctx;
}

// GCM is a stream mode: each update writes exactly as many bytes as it reads.
void Crypt(EVP_CIPHER_CTX* ctx, std::string_view in, std::uint8_t* out) {
  for (std::size_t at = 0; at < in.size(); at += kMaxUpdate) {
    const std::size_t n = std::min(in.size() - at, kMaxUpdate);
    int len = 0;
    Check(EVP_CipherUpdate(ctx, out + at, &len,
                           reinterpret_cast<const unsigned char*>(in.data() + at),
                           static_cast<int>(n)));
    if (static_cast<std::size_t>(len) != n) std::abort();
  }
}

}  // namespace

namespace internal {

void SealWithNonce(CipherKey key, std::span<const std::uint8_t, kNonceSize> nonce,
                   std::string_view plaintext, std::string_view aad, std::string& out) {
  EVP_CIPHER_CTX* ctx = Start(kEncrypt, key, nonce.data(), aad);
  const std::size_t old_size = out.size();
  const std::size_t new_size = old_size + plaintext.size() + kSealOverhead;
  // The callback's size argument is not used: libstdc++ 12 passes the grown capacity there.
  out.resize_and_overwrite(new_size, [&](char* buffer, std::size_t /*capacity*/) {
    auto* dst = reinterpret_cast<std::uint8_t*>(buffer + old_size);
    std::memcpy(dst, nonce.data(), kNonceSize);
    Crypt(ctx, plaintext, dst + kNonceSize);
    std::uint8_t* tag = dst + kNonceSize + plaintext.size();
    int len = 0;
    Check(EVP_CipherFinal_ex(ctx, tag, &len));  // writes nothing in GCM
    Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize), tag));
    return new_size;
  });
}

}  // namespace internal

void Seal(CipherKey key, std::string_view plaintext, std::string_view aad, std::string& out) {
  const auto nonce = RandomArray<kNonceSize>();
  internal::SealWithNonce(key, nonce, plaintext, aad, out);
}

std::string Seal(CipherKey key, std::string_view plaintext, std::string_view aad) {
  std::string out;
  Seal(key, plaintext, aad, out);
  return out;
}

Status Open(CipherKey key, std::string_view sealed, std::string_view aad, std::string& out) {
  const std::string hint =
      "the object is damaged, truncated or was not written by drctl with "
      "this repository's key; `drctl verify` lists damaged objects";
  if (sealed.size() < kSealOverhead) {
    return Fail(ErrorCode::kCorrupt,
                "encrypted data is too short to be sealed data: " + std::to_string(sealed.size()) +
                    " bytes, at least " + std::to_string(kSealOverhead) + " expected",
                hint);
  }
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(sealed.data());
  const std::string_view ciphertext = sealed.substr(kNonceSize, sealed.size() - kSealOverhead);
  std::array<std::uint8_t, kTagSize> tag{};
  std::memcpy(tag.data(), bytes + sealed.size() - kTagSize, kTagSize);

  EVP_CIPHER_CTX* ctx = Start(kDecrypt, key, bytes, aad);
  Check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize), tag.data()));
  const std::size_t old_size = out.size();
  const std::size_t new_size = old_size + ciphertext.size();
  bool authentic = false;
  out.resize_and_overwrite(new_size, [&](char* buffer, std::size_t /*capacity*/) {
    auto* dst = reinterpret_cast<std::uint8_t*>(buffer + old_size);
    Crypt(ctx, ciphertext, dst);
    int len = 0;
    authentic = EVP_CipherFinal_ex(ctx, dst + ciphertext.size(), &len) == 1;
    if (authentic) return new_size;
    // Unauthenticated plaintext must not linger in the caller's spare capacity.
    OPENSSL_cleanse(dst, ciphertext.size());
    return old_size;
  });
  if (!authentic) {
    return Fail(ErrorCode::kCorrupt, "authentication failed (wrong key or damaged data)", hint);
  }
  return Ok();
}

Result<std::string> Open(CipherKey key, std::string_view sealed, std::string_view aad) {
  std::string out;
  DRCTL_TRY(Open(key, sealed, aad, out));
  return out;
}

}  // namespace drctl::io
