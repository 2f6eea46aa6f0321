// Reads chunks from the first of several sibling repositories that can serve them: a repository
// that is unreachable, lacks a chunk, or holds a damaged copy does not stop a restore while
// another one has it. Thread-safe if the stores are.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "catalog/chunk_store.h"

namespace drctl::catalog {

class FallbackReader {
 public:
  // Stores in order of preference; they must outlive the reader.
  explicit FallbackReader(std::vector<ChunkStore*> stores) : stores_(std::move(stores)) {}

  // The chunk from the first store that returns it authenticated. When every store fails, the
  // error of the first, with the others' reasons appended.
  Result<std::string> Get(const ChunkId& id);

  std::uint64_t fallbacks() const { return fallbacks_.load(); }

 private:
  std::vector<ChunkStore*> stores_;
  std::atomic<std::uint64_t> fallbacks_{0};
};

}  // namespace drctl::catalog
