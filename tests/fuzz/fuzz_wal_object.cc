// WAL objects (doc/format/repository.md, "WAL") on arbitrary bytes: never crash, fail only as
// kCorrupt or kUnsupported, and what is pushed comes back unchanged.
//
// Input: 1 selector byte, then:
//   0: a whole stored object, fetched under a fixed master key (random bytes fail authentication);
//   1: a file's content, pushed (zstd, in 2 frames when large enough) and fetched back: equal;
//   2: the same as a version 1 object (content id, uncompressed), fetched back and re-pushed;
//   3: 4 bytes of position, then a content: pushed, one stored byte flipped at that position,
//      fetched: refused, never different content.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "catalog/keys.h"
#include "catalog/wal_store.h"
#include "storage/memory/memory_storage.h"

namespace {

constexpr std::string_view kName = "000000010000000000000003";

const drctl::catalog::MasterKey& FuzzKey() {
  static const drctl::catalog::MasterKey kKey = [] {
    std::array<std::uint8_t, drctl::catalog::MasterKey::kSize> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 5 + 1);
    return drctl::catalog::MasterKey::FromBytes(bytes);
  }();
  return kKey;
}

void CheckFailure(const drctl::Error& error) {
  if (error.code() != drctl::ErrorCode::kCorrupt &&
      error.code() != drctl::ErrorCode::kUnsupported) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view bytes = std::string_view(reinterpret_cast<const char*>(data), size).substr(1);
  auto storage = drctl::storage::NewMemoryStorage();
  const std::string key = drctl::catalog::WalObjectKey(kName);
  const drctl::Compression zstd{drctl::CompressionAlgo::kZstd, 1};
  switch (data[0] % 4) {
    case 0: {
      if (!storage->Write(key, bytes)) std::abort();
      auto got = drctl::catalog::FetchWal(*storage, FuzzKey(), kName);
      if (!got) CheckFailure(got.error());
      break;
    }
    case 1: {
      if (!drctl::catalog::PushWal(*storage, FuzzKey(), kName, bytes, zstd, 2)) std::abort();
      auto got = drctl::catalog::FetchWal(*storage, FuzzKey(), kName);
      if (!got || *got != bytes) std::abort();
      break;
    }
    case 2: {
      if (!storage->Write(key, drctl::catalog::SealWalObjectV1(FuzzKey(), kName, bytes))) {
        std::abort();
      }
      auto got = drctl::catalog::FetchWal(*storage, FuzzKey(), kName);
      if (!got || *got != bytes) std::abort();
      auto again = drctl::catalog::PushWal(*storage, FuzzKey(), kName, bytes, zstd);
      if (!again || !again->already_stored) std::abort();
      break;
    }
    default: {
      if (bytes.size() < 4) return 0;
      std::uint32_t position = 0;
      std::memcpy(&position, bytes.data(), sizeof(position));
      bytes.remove_prefix(4);
      if (!drctl::catalog::PushWal(*storage, FuzzKey(), kName, bytes, zstd)) std::abort();
      std::string object = storage->Read(key).value();
      object[position % object.size()] ^= 0x01;
      if (!storage->Write(key, object)) std::abort();
      auto got = drctl::catalog::FetchWal(*storage, FuzzKey(), kName);
      if (got) std::abort();  // every byte is authenticated (magic, version, nonce, data, tag)
      CheckFailure(got.error());
      break;
    }
  }
  return 0;
}
