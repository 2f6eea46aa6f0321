#include "catalog/keys.h"

#include <algorithm>
#include <cstdlib>

#include "io/kdf.h"
#include "io/random.h"

namespace drctl::catalog {

MasterKey MasterKey::Generate() {
  const auto bytes = io::RandomArray<kSize>();
  return FromBytes(bytes);
}

MasterKey MasterKey::FromBytes(std::span<const std::uint8_t, kSize> bytes) {
  MasterKey key;
  std::copy_n(bytes.begin(), 32, key.data_key.begin());
  std::copy_n(bytes.begin() + 32, 32, key.id_key.begin());
  return key;
}

std::array<std::uint8_t, MasterKey::kSize> MasterKey::Bytes() const {
  std::array<std::uint8_t, kSize> out{};
  std::copy(data_key.begin(), data_key.end(), out.begin());
  std::copy(id_key.begin(), id_key.end(), out.begin() + 32);
  return out;
}

Key32 MasterKey::Derive(std::span<const std::uint8_t> object_id, std::string_view info) const {
  const auto derived = io::HkdfSha256(data_key, object_id, info, 32);
  if (!derived) std::abort();  // only fails for lengths over 8160 bytes: a bug
  Key32 out{};
  std::copy_n(derived->begin(), 32, out.begin());
  return out;
}

}  // namespace drctl::catalog
