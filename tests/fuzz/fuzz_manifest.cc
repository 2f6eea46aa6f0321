// Backup manifests on arbitrary bytes: never crash, never accept what breaks a rule, and what the
// body parser accepts encodes back to the same bytes (the body encoding is canonical).
//
// Input: 1 selector byte, then the bytes for one layer of doc/format/manifest.md:
//   0: a whole manifest object, opened under a fixed master key as backups/<kFuzzId>.manifest
//      (random bytes fail authentication; the seed corpus holds authentic objects);
//   1: the sealed plaintext (zstd frames, then the body), limited to a 4 MiB body;
//   2: the binary body.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "catalog/keys.h"
#include "catalog/manifest.h"

namespace {

constexpr std::string_view kFuzzId = "20261125T190000Z-f022";

const drctl::catalog::MasterKey& FuzzKey() {
  static const drctl::catalog::MasterKey kKey = [] {
    std::array<std::uint8_t, drctl::catalog::MasterKey::kSize> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 3);
    return drctl::catalog::MasterKey::FromBytes(bytes);
  }();
  return kKey;
}

void Check(const drctl::Result<drctl::catalog::Manifest>& manifest) {
  if (manifest.has_value()) {
    if (drctl::catalog::ValidateManifest(*manifest).has_value()) std::abort();
  } else if (manifest.error().code() != drctl::ErrorCode::kCorrupt &&
             manifest.error().code() != drctl::ErrorCode::kUnsupported) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes =
      std::string_view(reinterpret_cast<const char*>(data), size).substr(1);
  switch (data[0] % 3) {
    case 0: {
      const std::string key = drctl::catalog::ManifestKey(kFuzzId);
      Check(drctl::catalog::DecodeManifest(FuzzKey(), bytes, key, "fuzz/" + key));
      break;
    }
    case 1: {
      auto manifest = drctl::catalog::internal::DecodeManifestPlaintext(bytes, "fuzz", 4U << 20);
      if (!manifest && manifest.error().code() != drctl::ErrorCode::kCorrupt) std::abort();
      Check(manifest);
      break;
    }
    default: {
      auto manifest = drctl::catalog::internal::DecodeManifestBody(bytes, "fuzz");
      if (!manifest && manifest.error().code() != drctl::ErrorCode::kCorrupt) std::abort();
      Check(manifest);
      if (manifest && drctl::catalog::internal::EncodeManifestBody(*manifest) != bytes) {
        std::abort();
      }
      break;
    }
  }
  return 0;
}
