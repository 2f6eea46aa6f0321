#include "catalog/pack.h"

#include "catalog/bytes.h"
#include "io/cipher.h"
#include "io/compress.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kMagic = "DRPK";
constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kPackInfo = "drctl pack v1";
constexpr std::size_t kEntrySize = 32 + 8 + 4;
constexpr std::size_t kHeaderSize = 5;

std::string_view AsText(std::span<const std::uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string FooterAad(const PackId& id) {
  return std::string("drctl pack footer v1") + std::string(AsText(id));
}

std::uint8_t AlgoByte(CompressionAlgo algo) {
  switch (algo) {
    case CompressionAlgo::kNone:
      return 0;
    case CompressionAlgo::kLz4:
      return 1;
    case CompressionAlgo::kZstd:
      return 2;
  }
  return 0;
}

}  // namespace

std::string PackKey(const PackId& id) {
  const std::string hex = io::ToHex(id);
  return "packs/" + hex.substr(0, 2) + "/" + hex;
}

Key32 DerivePackKey(const MasterKey& master, const PackId& id) {
  return master.Derive(id, kPackInfo);
}

Status SealChunk(const Key32& pack_key, const ChunkId& id, std::string_view chunk,
                 const Compression& compression, std::string& out) {
  if (chunk.size() > UINT32_MAX) return Fail(ErrorCode::kInternal, "chunk larger than 4 GiB");
  std::string plain;
  plain.reserve(kHeaderSize + chunk.size());
  plain.push_back(static_cast<char>(AlgoByte(CompressionAlgo::kNone)));
  PutU32(plain, static_cast<std::uint32_t>(chunk.size()));
  if (compression.algo != CompressionAlgo::kNone) {
    DRCTL_TRY(io::Compress(compression, chunk, plain));
    if (plain.size() - kHeaderSize < chunk.size()) {
      plain[0] = static_cast<char>(AlgoByte(compression.algo));
    } else {  // incompressible: store as is
      plain.resize(kHeaderSize);
      plain.append(chunk);
    }
  } else {
    plain.append(chunk);
  }
  io::Seal(pack_key, plain, AsText(id), out);
  return Ok();
}

Result<std::string> OpenChunk(const MasterKey& master, const Key32& pack_key, const ChunkId& id,
                              std::string_view blob, const std::string& where) {
  auto plain = io::Open(pack_key, blob, AsText(id));
  if (!plain) {
    return Fail(ErrorCode::kCorrupt,
                "chunk " + io::ToHex(id) + " in " + where + " failed authentication",
                "the pack is damaged, or the index points at the wrong place; run drctl verify");
  }
  ByteReader r(*plain);
  std::uint8_t algo = 0;
  std::uint32_t raw_size = 0;
  if (!r.U8(algo) || !r.U32(raw_size)) {
    return Fail(ErrorCode::kCorrupt, "chunk " + io::ToHex(id) + " in " + where + " has no header");
  }
  const std::string_view payload = std::string_view(*plain).substr(kHeaderSize);
  std::string chunk;
  switch (algo) {
    case 0:
      chunk.assign(payload);
      break;
    case 1:
    case 2: {
      auto status = io::Decompress(algo == 1 ? CompressionAlgo::kLz4 : CompressionAlgo::kZstd,
                                   payload, raw_size, chunk);
      if (!status) return std::unexpected(status.error().WithContext("chunk in " + where));
      break;
    }
    default:
      return Fail(ErrorCode::kCorrupt, "chunk " + io::ToHex(id) + " in " + where +
                                           " uses unknown compression " + std::to_string(algo));
  }
  if (chunk.size() != raw_size || master.IdOf(chunk) != id) {
    return Fail(ErrorCode::kCorrupt,
                "chunk " + io::ToHex(id) + " in " + where + " does not match its id",
                "the repository is damaged; run drctl verify");
  }
  return chunk;
}

PackBuilder::PackBuilder(const MasterKey& master, Compression compression)
    : master_(master), compression_(compression), id_(io::RandomArray<16>()) {
  key_ = DerivePackKey(master_, id_);
  data_.append(kMagic);
  data_.push_back(static_cast<char>(kVersion));
}

Result<PackEntry> PackBuilder::Add(const ChunkId& id, std::string_view chunk) {
  PackEntry entry;
  entry.chunk_id = id;
  entry.offset = data_.size();
  DRCTL_TRY(SealChunk(key_, id, chunk, compression_, data_));
  entry.length = static_cast<std::uint32_t>(data_.size() - entry.offset);
  entries_.push_back(entry);
  return entry;
}

std::string PackBuilder::Finish() {
  std::string footer;
  footer.reserve(entries_.size() * kEntrySize);
  for (const auto& e : entries_) {
    PutBytes(footer, e.chunk_id);
    PutU64(footer, e.offset);
    PutU32(footer, e.length);
  }
  const std::size_t before = data_.size();
  io::Seal(key_, footer, FooterAad(id_), data_);
  PutU32(data_, static_cast<std::uint32_t>(data_.size() - before));
  data_.append(kMagic);
  return std::move(data_);
}

Result<std::vector<PackEntry>> ReadPackFooter(const MasterKey& master, const PackId& id,
                                              std::string_view pack, const std::string& where) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kCorrupt, "pack " + where + ": " + why,
                "the pack is damaged or truncated; run drctl verify");
  };
  if (pack.size() < kMagic.size() + 1 + 4 + kMagic.size() || !pack.starts_with(kMagic) ||
      !pack.ends_with(kMagic)) {
    return bad("no pack header or trailer (truncated?)");
  }
  if (static_cast<std::uint8_t>(pack[kMagic.size()]) != kVersion) return bad("unknown version");
  ByteReader len_reader(pack.substr(pack.size() - kMagic.size() - 4, 4));
  std::uint32_t footer_len = 0;
  len_reader.U32(footer_len);
  const std::size_t body_end = pack.size() - kMagic.size() - 4;
  if (footer_len > body_end - kMagic.size() - 1) return bad("footer length out of range");
  const std::string_view sealed = pack.substr(body_end - footer_len, footer_len);
  auto footer = io::Open(DerivePackKey(master, id), sealed, FooterAad(id));
  if (!footer) return bad("footer failed authentication");
  if (footer->size() % kEntrySize != 0) return bad("footer has a partial entry");
  std::vector<PackEntry> entries;
  ByteReader r(*footer);
  while (r.remaining() > 0) {
    PackEntry e;
    r.Bytes(e.chunk_id);
    r.U64(e.offset);
    r.U32(e.length);
    if (e.offset + e.length > body_end - footer_len) return bad("entry points past the chunks");
    entries.push_back(e);
  }
  return entries;
}

}  // namespace drctl::catalog
