// Packs and chunk blobs (doc/format/repository.md, "Chunks and packs"). A PackBuilder collects
// sealed chunks into one pack object in memory (packs are tens of MiB: bounded); ReadPackFooter
// recovers a pack's entries from the pack alone. Not thread-safe: one builder per writer thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/keys.h"
#include "common/config.h"
#include "common/result.h"

namespace drctl::catalog {

using PackId = std::array<std::uint8_t, 16>;

struct PackEntry {
  ChunkId chunk_id{};
  std::uint64_t offset = 0;  // of the sealed blob, from the start of the pack
  std::uint32_t length = 0;  // of the sealed blob
};

std::string PackKey(const PackId& id);  // "packs/ab/ab12..."

// The key that seals a pack's blobs and footer.
Key32 DerivePackKey(const MasterKey& master, const PackId& id);

// Compresses (as `compression` says, or stores plainly if that does not shrink it) and seals one
// chunk for a pack whose key is `pack_key`; appends the blob to `out`.
Status SealChunk(const Key32& pack_key, const ChunkId& id, std::string_view chunk,
                 const Compression& compression, std::string& out);

// Opens one blob: authenticates (kCorrupt naming `where` if damaged or misplaced), decompresses,
// and checks that the plaintext's id under `master` is `id`.
Result<std::string> OpenChunk(const MasterKey& master, const Key32& pack_key, const ChunkId& id,
                              std::string_view blob, const std::string& where);

class PackBuilder {
 public:
  PackBuilder(const MasterKey& master, Compression compression);

  // Adds a chunk with its id; returns its entry.
  Result<PackEntry> Add(const ChunkId& id, std::string_view chunk);

  const PackId& id() const { return id_; }
  std::size_t size() const { return data_.size(); }
  std::size_t chunks() const { return entries_.size(); }
  const std::vector<PackEntry>& entries() const { return entries_; }

  // Appends the sealed footer and trailer and returns the finished pack object. The builder is
  // spent afterwards.
  std::string Finish();

 private:
  MasterKey master_;
  Compression compression_;
  PackId id_{};
  Key32 key_{};
  std::string data_;
  std::vector<PackEntry> entries_;
};

// Parses and authenticates the footer of a whole pack object.
Result<std::vector<PackEntry>> ReadPackFooter(const MasterKey& master, const PackId& id,
                                              std::string_view pack, const std::string& where);

}  // namespace drctl::catalog
