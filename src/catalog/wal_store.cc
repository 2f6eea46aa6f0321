#include "catalog/wal_store.h"

#include "catalog/bytes.h"
#include "io/cipher.h"
#include "io/compress.h"
#include "io/hash.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kMagic = "DRWL";
// Version 1 objects carry a 32-byte content id after the version byte (HMAC-SHA256 over the
// whole raw file: as much CPU as compressing it). Version 2 objects do not: a writer that finds
// the name taken compares the stored content itself (rare: a retried or duplicate push).
constexpr std::uint8_t kVersion1 = 1;
constexpr std::uint8_t kVersion = 2;
constexpr std::size_t kContentIdSize = 32;
constexpr std::string_view kInfo = "drctl wal v1";
constexpr std::size_t kHeader = 5;  // algo (u8) + raw size (u32)

std::span<const std::uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

Key32 WalKey(const MasterKey& master, std::string_view file_name) {
  return master.Derive(Bytes(file_name), kInfo);
}

std::string Aad(std::string_view key) { return std::string(kInfo) + " " + std::string(key); }

// The plaintext identity of a WAL file in a version 1 object: its name and content digest, keyed
// so that it reveals nothing.
io::Digest ContentId(const MasterKey& master, std::string_view file_name,
                     std::string_view content) {
  const std::array<std::string_view, 3> parts = {file_name, std::string_view("\0", 1), content};
  return io::HmacSha256(master.id_key, parts);
}

std::string Seal(const MasterKey& master, std::string_view file_name, const PackedWal& packed,
                 const std::string& key) {
  std::string out;
  out.reserve(kMagic.size() + 1 + packed.plain.size() + io::kSealOverhead);
  out.append(kMagic);
  out.push_back(static_cast<char>(kVersion));
  io::Seal(WalKey(master, file_name), packed.plain, Aad(key), out);
  return out;
}

// The raw content of a stored object (either version), authenticated, into `content` (whose
// capacity is reused: a prefetcher decompresses segment after segment into one buffer).
Status Open(const MasterKey& master, std::string_view file_name, std::string_view object,
            const std::string& key, const std::string& where, std::string& content) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kCorrupt, "WAL object " + where + ": " + why,
                "fetch it from another repository, or run drctl verify");
  };
  if (object.size() < kMagic.size() + 1 + io::kSealOverhead || !object.starts_with(kMagic)) {
    return bad("not a drctl WAL object (truncated?)");
  }
  const auto version = static_cast<std::uint8_t>(object[kMagic.size()]);
  if (version != kVersion && version != kVersion1) {
    return Fail(ErrorCode::kUnsupported,
                "WAL object " + where + " has an unknown version " + std::to_string(version),
                "read it with the drctl version that wrote it");
  }
  const std::size_t header = kMagic.size() + 1 + (version == kVersion1 ? kContentIdSize : 0);
  if (object.size() < header + io::kSealOverhead) return bad("not a drctl WAL object (truncated?)");
  auto plain = io::Open(WalKey(master, file_name), object.substr(header), Aad(key));
  if (!plain) return bad("failed authentication (damaged, or sealed under another key)");
  ByteReader r(*plain);
  std::uint8_t algo = 0;
  std::uint32_t size = 0;
  if (!r.U8(algo) || !r.U32(size)) return bad("no header");
  const std::string_view payload = std::string_view(*plain).substr(kHeader);
  content.clear();
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
  return Ok();
}

}  // namespace

std::string WalObjectKey(std::string_view file_name) {
  return "wal/" + std::string(file_name.substr(0, 8)) + "/" + std::string(file_name);
}

PackedWal PackWal(std::string_view content, const Compression& compression,
                  std::size_t compress_threads) {
  PackedWal packed;
  std::string& plain = packed.plain;
  plain.push_back(0);
  PutU32(plain, static_cast<std::uint32_t>(content.size()));
  if (compression.algo != CompressionAlgo::kNone &&
      io::CompressInFrames(compression, content, compress_threads, plain) &&
      plain.size() - kHeader < content.size()) {
    plain[0] = static_cast<char>(compression.algo == CompressionAlgo::kLz4 ? 1 : 2);
  } else {
    plain.resize(kHeader);
    plain.append(content);
  }
  return packed;
}

Result<WalPushResult> PushWal(storage::Storage& storage, const MasterKey& master,
                              std::string_view file_name, std::string_view content,
                              const Compression& compression, std::size_t compress_threads) {
  if (content.size() > UINT32_MAX) {
    return Fail(ErrorCode::kUnsupported, "WAL file " + std::string(file_name) + " is over 4 GiB");
  }
  return PushWal(storage, master, file_name, content,
                 PackWal(content, compression, compress_threads));
}

Result<WalPushResult> PushWal(storage::Storage& storage, const MasterKey& master,
                              std::string_view file_name, std::string_view content,
                              const PackedWal& packed, const WalPushOptions& options) {
  if (content.size() > UINT32_MAX) {
    return Fail(ErrorCode::kUnsupported, "WAL file " + std::string(file_name) + " is over 4 GiB");
  }
  const std::string key = WalObjectKey(file_name);
  const std::string where = storage.Describe() + "/" + key;
  const std::string object = Seal(master, file_name, packed, key);
  if (file_name.ends_with(".partial")) {
    // A partial segment grows while it is current (wal stream uploads it every partial_interval):
    // the newer upload replaces the older one, atomically.
    DRCTL_TRY(storage.Write(key, object, {.durable = true}));
    return WalPushResult{false, object.size()};
  }
  // Written only where the name is free (posix: an atomic link; S3: a HEAD just before the
  // PUT, or the caller's moments before): the usual case costs no read. A taken name is read and
  // compared (a retried push).
  const bool atomic = (storage.Features() & storage::kFeatureAtomicIfAbsent) != 0;
  auto written =
      storage.Write(key, object, {.durable = true, .if_absent = atomic || !options.checked_free});
  if (written) return WalPushResult{false, object.size()};
  if (written.error().code() != ErrorCode::kConflict) return std::unexpected(written.error());
  auto existing = storage.Read(key);
  if (!existing) {
    if (existing.error().code() == ErrorCode::kNotFound && !options.retried) {
      // Deleted between the write and the read (expire of a lost race): try once more.
      return PushWal(storage, master, file_name, content, packed, {.retried = true});
    }
    return std::unexpected(existing.error().WithContext("checking " + where));
  }
  std::string stored;
  if (auto opened = Open(master, file_name, *existing, key, where, stored); !opened) {
    // A stored object we cannot read is damaged: never overwrite it blindly.
    return std::unexpected(opened.error().WithContext("checking " + where));
  }
  if (stored == content) return WalPushResult{true, 0};
  return Fail(ErrorCode::kConflict,
              "WAL file " + std::string(file_name) + " is already stored at " + where +
                  " with different content; it is not replaced",
              "two clusters (or a restored copy) archive into one repository, or pg_wal was "
              "damaged; investigate before archiving goes on");
}

Status FetchWal(storage::Storage& storage, const MasterKey& master, std::string_view file_name,
                std::string& content) {
  const std::string key = WalObjectKey(file_name);
  auto object = storage.Read(key);
  if (!object) return std::unexpected(object.error());
  return Open(master, file_name, *object, key, storage.Describe() + "/" + key, content);
}

Result<std::string> FetchWal(storage::Storage& storage, const MasterKey& master,
                             std::string_view file_name) {
  std::string content;
  DRCTL_TRY(FetchWal(storage, master, file_name, content));
  return content;
}

std::string SealWalObjectV1(const MasterKey& master, std::string_view file_name,
                            std::string_view content) {
  const std::string key = WalObjectKey(file_name);
  std::string plain;
  plain.push_back(0);
  PutU32(plain, static_cast<std::uint32_t>(content.size()));
  plain.append(content);
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion1));
  PutBytes(out, ContentId(master, file_name, content));
  io::Seal(WalKey(master, file_name), plain, Aad(key), out);
  return out;
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
