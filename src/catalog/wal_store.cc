#include "catalog/wal_store.h"

#include "catalog/bytes.h"
#include "io/cipher.h"
#include "io/compress.h"
#include "io/hash.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kMagic = "DRWL";
constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kInfo = "drctl wal v1";
constexpr std::size_t kHeader = 5;  // algo (u8) + raw size (u32)

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Key32 WalKey(const MasterKey& master, std::string_view file_name) {
  return master.Derive(Bytes(file_name), kInfo);
}

std::string Aad(std::string_view key) { return std::string(kInfo) + " " + std::string(key); }

// The plaintext identity of a WAL file: its name and content digest, keyed so that it reveals
// nothing. Stored in the clear part of the object to compare content without decrypting.
io::Digest ContentId(const MasterKey& master, std::string_view file_name,
                     std::string_view content) {
  const std::array<std::string_view, 3> parts = {file_name, std::string_view("\0", 1), content};
  return io::HmacSha256(master.id_key, parts);
}

std::string Encode(const MasterKey& master, std::string_view file_name, std::string_view content,
                   const Compression& compression, const std::string& key) {
  std::string plain;
  plain.push_back(0);
  PutU32(plain, static_cast<std::uint32_t>(content.size()));
  if (compression.algo != CompressionAlgo::kNone && io::Compress(compression, content, plain) &&
      plain.size() - kHeader < content.size()) {
    plain[0] = static_cast<char>(compression.algo == CompressionAlgo::kLz4 ? 1 : 2);
  } else {
    plain.resize(kHeader);
    plain.append(content);
  }
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion));
  PutBytes(out, ContentId(master, file_name, content));
  io::Seal(WalKey(master, file_name), plain, Aad(key), out);
  return out;
}

}  // namespace

std::string WalObjectKey(std::string_view file_name) {
  return "wal/" + std::string(file_name.substr(0, 8)) + "/" + std::string(file_name);
}

Result<WalPushResult> PushWal(storage::Storage& storage, const MasterKey& master,
                              std::string_view file_name, std::string_view content,
                              const Compression& compression) {
  if (content.size() > UINT32_MAX) {
    return Fail(ErrorCode::kUnsupported, "WAL file " + std::string(file_name) + " is over 4 GiB");
  }
  const std::string key = WalObjectKey(file_name);
  const std::string where = storage.Describe() + "/" + key;
  const bool partial = file_name.ends_with(".partial");
  if (partial) {
    // A partial segment grows while it is current (wal stream uploads it every partial_interval):
    // the newer upload replaces the older one, atomically.
    const std::string object = Encode(master, file_name, content, compression, key);
    DRCTL_TRY(storage.Write(key, object, {.durable = true}));
    return WalPushResult{false, object.size()};
  }
  auto existing = storage.Read(key, storage::ByteRange{0, kMagic.size() + 1 + 32});
  if (existing) {
    const auto id = ContentId(master, file_name, content);
    if (existing->substr(kMagic.size() + 1) ==
        std::string_view(reinterpret_cast<const char*>(id.data()), id.size())) {
      return WalPushResult{true, 0};
    }
    return Fail(ErrorCode::kConflict,
                "WAL file " + std::string(file_name) + " is already stored at " + where +
                    " with different content; it is not replaced",
                "two clusters (or a restored copy) archive into one repository, or pg_wal was "
                "damaged; investigate before archiving goes on");
  }
  if (existing.error().code() != ErrorCode::kNotFound) {
    // A stored object we cannot even read the header of is damaged: never overwrite it blindly.
    return std::unexpected(existing.error().WithContext("checking " + where));
  }
  const std::string object = Encode(master, file_name, content, compression, key);
  auto written = storage.Write(key, object, {.durable = true, .if_absent = true});
  if (!written) {
    if (written.error().code() == ErrorCode::kConflict) {
      // Someone stored it between our look and our write: compare again.
      return PushWal(storage, master, file_name, content, compression);
    }
    return std::unexpected(written.error());
  }
  return WalPushResult{false, object.size()};
}

Result<std::string> FetchWal(storage::Storage& storage, const MasterKey& master,
                             std::string_view file_name) {
  const std::string key = WalObjectKey(file_name);
  const std::string where = storage.Describe() + "/" + key;
  auto object = storage.Read(key);
  if (!object) return std::unexpected(object.error());
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kCorrupt, "WAL object " + where + ": " + why,
                "fetch it from another repository, or run drctl verify");
  };
  const std::size_t header = kMagic.size() + 1 + 32;
  if (object->size() < header + io::kSealOverhead || !object->starts_with(kMagic)) {
    return bad("not a drctl WAL object (truncated?)");
  }
  if (static_cast<std::uint8_t>((*object)[kMagic.size()]) != kVersion) {
    return Fail(ErrorCode::kUnsupported, "WAL object " + where + " has an unknown version");
  }
  auto plain =
      io::Open(WalKey(master, file_name), std::string_view(*object).substr(header), Aad(key));
  if (!plain) return bad("failed authentication (damaged, or sealed under another key)");
  ByteReader r(*plain);
  std::uint8_t algo = 0;
  std::uint32_t size = 0;
  if (!r.U8(algo) || !r.U32(size)) return bad("no header");
  const std::string_view payload = std::string_view(*plain).substr(kHeader);
  std::string content;
  if (algo == 0) {
    content.assign(payload);
  } else if (algo == 1 || algo == 2) {
    auto status = io::Decompress(algo == 1 ? CompressionAlgo::kLz4 : CompressionAlgo::kZstd,
                                 payload, size, content);
    if (!status) return bad(status.error().message());
  } else {
    return bad("unknown compression " + std::to_string(algo));
  }
  if (content.size() != size) return bad("wrong size");
  return content;
}

Result<std::vector<std::string>> ListWal(storage::Storage& storage) {
  std::vector<std::string> names;
  DRCTL_TRY(storage.List("wal/", [&](const storage::ObjectInfo& info) {
    names.push_back(info.key.substr(info.key.rfind('/') + 1));
    return Ok();
  }));
  return names;
}

}  // namespace drctl::catalog
