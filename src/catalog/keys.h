// The repository master key and the keys derived from it (doc/format/repository.md, "Keys").
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "io/hash.h"

namespace drctl::catalog {

using Key32 = std::array<std::uint8_t, 32>;
using ChunkId = io::Digest;  // HMAC-SHA256 of the chunk's plaintext under the id key

struct MasterKey {
  static constexpr std::size_t kSize = 64;
  Key32 data_key{};  // master[0:32]: the root of every encryption key
  Key32 id_key{};    // master[32:64]: keys the chunk-id HMAC

  static MasterKey Generate();
  static MasterKey FromBytes(std::span<const std::uint8_t, kSize> bytes);
  std::array<std::uint8_t, kSize> Bytes() const;

  ChunkId IdOf(std::string_view chunk) const { return io::HmacSha256(id_key, chunk); }

  // HKDF-SHA256(data_key, salt = object_id, info) for a pack ("drctl pack v1"), an index
  // ("drctl index v1"), or any later per-object purpose.
  Key32 Derive(std::span<const std::uint8_t> object_id, std::string_view info) const;
};

}  // namespace drctl::catalog
