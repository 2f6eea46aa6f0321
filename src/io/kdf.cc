#include "io/kdf.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <bit>
#include <memory>
#include <string>

namespace drctl::io {
namespace {

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

struct KdfFree {
  void operator()(EVP_KDF* kdf) const { EVP_KDF_free(kdf); }
  void operator()(EVP_KDF_CTX* ctx) const { EVP_KDF_CTX_free(ctx); }
};

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no OpenSSL error recorded";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

// OSSL_PARAM takes non-const pointers even for inputs it only reads.
OSSL_PARAM Octets(const char* name, const void* data, std::size_t size) {
  return OSSL_PARAM_construct_octet_string(name, const_cast<void*>(data), size);
}

// Runs the KDF `name` with `params` (terminated by OSSL_PARAM_END) into `out`. On failure returns
// OpenSSL's reason.
Result<void> Derive(const char* name, const OSSL_PARAM* params, std::vector<std::uint8_t>& out) {
  std::unique_ptr<EVP_KDF, KdfFree> kdf(EVP_KDF_fetch(nullptr, name, nullptr));
  if (!kdf) return Fail(ErrorCode::kInternal, std::string(name) + " is not available in OpenSSL");
  std::unique_ptr<EVP_KDF_CTX, KdfFree> ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    return Fail(ErrorCode::kInternal, std::string(name) + " failed: " + OpenSslError());
  }
  return Ok();
}

}  // namespace

Result<std::vector<std::uint8_t>> HkdfSha256(std::span<const std::uint8_t> ikm,
                                             std::span<const std::uint8_t> salt,
                                             std::string_view info, std::size_t length) {
  if (ikm.empty()) return Fail(ErrorCode::kInternal, "HKDF-SHA256 needs input keying material");
  if (length == 0 || length > kHkdfSha256MaxLength) {
    return Fail(ErrorCode::kInternal, "HKDF-SHA256 output length " + std::to_string(length) +
                                          " is outside 1.." + std::to_string(kHkdfSha256MaxLength));
  }
  std::vector<OSSL_PARAM> params;
  params.push_back(
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0));
  params.push_back(Octets(OSSL_KDF_PARAM_KEY, ikm.data(), ikm.size()));
  // Empty salt and info are left out: OpenSSL then uses RFC 5869's defaults (zero salt).
  if (!salt.empty()) params.push_back(Octets(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()));
  if (!info.empty()) params.push_back(Octets(OSSL_KDF_PARAM_INFO, info.data(), info.size()));
  params.push_back(OSSL_PARAM_construct_end());

  std::vector<std::uint8_t> out(length);
  DRCTL_TRY(Derive(OSSL_KDF_NAME_HKDF, params.data(), out));
  return out;
}

Status ValidateScryptParams(std::uint64_t n, std::uint32_t r, std::uint32_t p) {
  const std::string hint =
      "the stored key derivation parameters are damaged or were not written by drctl (limits: "
      "N a power of two, r and p at least 1, p at most 16, 128*N*r at most 1 GiB)";
  const std::string params = "scrypt parameters N=" + std::to_string(n) +
                             " r=" + std::to_string(r) + " p=" + std::to_string(p);
  if (n < 2 || !std::has_single_bit(n)) {
    return Fail(ErrorCode::kCorrupt, params + ": N is not a power of two greater than 1", hint);
  }
  if (r == 0 || p == 0) {
    return Fail(ErrorCode::kCorrupt, params + ": r and p must be at least 1", hint);
  }
  if (p > kScryptMaxP) {
    return Fail(ErrorCode::kCorrupt,
                params + ": p exceeds the limit of " + std::to_string(kScryptMaxP), hint);
  }
  // 128 * N * r without overflow: compare N against the limit divided by 128 * r.
  if (n > kScryptMaxMemory / (std::uint64_t{128} * r)) {
    return Fail(ErrorCode::kCorrupt,
                params + ": would need more than the " + std::to_string(kScryptMaxMemory / kMiB) +
                    " MiB memory limit (128*N*r bytes)",
                hint);
  }
  return Ok();
}

Result<std::vector<std::uint8_t>> Scrypt(std::string_view passphrase,
                                         std::span<const std::uint8_t> salt, std::uint64_t n,
                                         std::uint32_t r, std::uint32_t p, std::size_t length) {
  DRCTL_TRY(ValidateScryptParams(n, r, p));
  if (length == 0 || length > kScryptMaxLength) {
    return Fail(ErrorCode::kInternal, "scrypt output length " + std::to_string(length) +
                                          " is outside 1.." + std::to_string(kScryptMaxLength));
  }
  // OpenSSL's own limit (default 32 MiB) counts V (128*r*(N+2)) and B (128*r*p); ours was
  // checked above, so let OpenSSL allocate what these valid parameters need.
  std::uint64_t max_memory = std::uint64_t{128} * r * (n + 2 + p);
  std::uint64_t n_param = n;
  std::uint32_t r_param = r;
  std::uint32_t p_param = p;
  const OSSL_PARAM params[] = {
      Octets(OSSL_KDF_PARAM_PASSWORD, passphrase.data(), passphrase.size()),
      Octets(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n_param),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r_param),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p_param),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_memory),
      OSSL_PARAM_construct_end(),
  };
  std::vector<std::uint8_t> out(length);
  if (auto derived = Derive(OSSL_KDF_NAME_SCRYPT, params, out); !derived) {
    return Fail(ErrorCode::kPrecondition,
                "scrypt with N=" + std::to_string(n) + " r=" + std::to_string(r) +
                    " could not run: " + derived.error().message(),
                "it needs " + std::to_string((max_memory + kMiB - 1) / kMiB) +
                    " MiB of memory: free memory or raise this process's memory limit");
  }
  return out;
}

}  // namespace drctl::io
