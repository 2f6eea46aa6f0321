#include "catalog/index.h"

#include <algorithm>

#include "catalog/bytes.h"
#include "io/cipher.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kMagic = "DRIX";
constexpr std::uint8_t kVersion = 1;
constexpr std::string_view kInfo = "drctl index v1";
constexpr std::size_t kEntrySize = 32 + 16 + 8 + 4;

}  // namespace

std::string IndexKey(const IndexId& id) { return "index/" + io::ToHex(id); }

std::string EncodeIndex(const MasterKey& master, const IndexId& id,
                        std::vector<IndexEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const IndexEntry& a, const IndexEntry& b) { return a.chunk_id < b.chunk_id; });
  std::string plain;
  plain.reserve(entries.size() * kEntrySize);
  for (const auto& e : entries) {
    PutBytes(plain, e.chunk_id);
    PutBytes(plain, e.pack_id);
    PutU64(plain, e.offset);
    PutU32(plain, e.length);
  }
  std::string out(kMagic);
  out.push_back(static_cast<char>(kVersion));
  PutBytes(out, id);
  io::Seal(master.Derive(id, kInfo), plain, kInfo, out);
  return out;
}

Result<std::vector<IndexEntry>> DecodeIndex(const MasterKey& master, std::string_view data,
                                            const std::string& where, IndexId* id_out) {
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kCorrupt, "index " + where + ": " + why,
                "the index is damaged; restore it from another repository or rebuild it from the "
                "pack footers");
  };
  ByteReader r(data);
  std::array<std::uint8_t, 4> magic{};
  std::uint8_t version = 0;
  IndexId id{};
  if (!r.Bytes(magic) ||
      std::string_view(reinterpret_cast<const char*>(magic.data()), 4) != kMagic ||
      !r.U8(version) || !r.Bytes(id)) {
    return bad("no index header (truncated or not an index)");
  }
  if (version != kVersion) return bad("unknown version " + std::to_string(version));
  auto plain = io::Open(master.Derive(id, kInfo), data.substr(r.position()), kInfo);
  if (!plain) return bad("failed authentication");
  if (plain->size() % kEntrySize != 0) return bad("partial entry");
  std::vector<IndexEntry> entries;
  entries.reserve(plain->size() / kEntrySize);
  ByteReader er(*plain);
  while (er.remaining() > 0) {
    IndexEntry e;
    er.Bytes(e.chunk_id);
    er.Bytes(e.pack_id);
    er.U64(e.offset);
    er.U32(e.length);
    entries.push_back(e);
  }
  if (id_out != nullptr) *id_out = id;
  return entries;
}

}  // namespace drctl::catalog
