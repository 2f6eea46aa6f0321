#include "catalog/fallback_reader.h"

namespace drctl::catalog {

Result<std::string> FallbackReader::Get(const ChunkId& id) {
  std::optional<Error> first;
  std::string others;
  for (ChunkStore* store : stores_) {
    auto chunk = store->Get(id);
    if (chunk) {
      if (first) ++fallbacks_;
      return chunk;
    }
    if (!first) {
      first = chunk.error();
    } else {
      others += "; also: " + chunk.error().message();
    }
  }
  if (!first) return Fail(ErrorCode::kInternal, "FallbackReader without stores");
  return std::unexpected(Error(first->code(), first->message() + others, first->hint()));
}

}  // namespace drctl::catalog
