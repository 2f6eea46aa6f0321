// Index objects: where each chunk lives (doc/format/repository.md, "Index objects").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "catalog/keys.h"
#include "catalog/pack.h"
#include "common/result.h"

namespace drctl::catalog {

using IndexId = std::array<std::uint8_t, 16>;

struct IndexEntry {
  ChunkId chunk_id{};
  PackId pack_id{};
  std::uint64_t offset = 0;
  std::uint32_t length = 0;
};

std::string IndexKey(const IndexId& id);  // "index/<hex>"

// Serializes `entries` (sorted here by chunk id) into a sealed index object.
std::string EncodeIndex(const MasterKey& master, const IndexId& id,
                        std::vector<IndexEntry> entries);

// Parses and authenticates an index object; kCorrupt naming `where` if anything is wrong.
Result<std::vector<IndexEntry>> DecodeIndex(const MasterKey& master, std::string_view data,
                                            const std::string& where, IndexId* id_out = nullptr);

}  // namespace drctl::catalog
