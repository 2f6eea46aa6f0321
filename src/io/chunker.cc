#include "io/chunker.h"

#include <algorithm>
#include <utility>

namespace drctl::io {

Result<Chunker> Chunker::Create(std::size_t chunk_size) {
  if (chunk_size % kPageSize != 0 || chunk_size < kSmallestChunkSize ||
      chunk_size > kLargestChunkSize) {
    return Fail(ErrorCode::kInternal, "chunk size " + std::to_string(chunk_size) +
                                          " is not a multiple of " + std::to_string(kPageSize) +
                                          " between " + std::to_string(kSmallestChunkSize) +
                                          " and " + std::to_string(kLargestChunkSize) + " bytes");
  }
  return Chunker(chunk_size);
}

Status Chunker::Feed(std::string_view data, const Sink& sink) {
  stream_size_ += data.size();
  while (!data.empty()) {
    if (pending_.capacity() < chunk_size_) pending_.reserve(chunk_size_);
    const std::size_t n = std::min(chunk_size_ - pending_.size(), data.size());
    pending_.append(data.substr(0, n));
    data.remove_prefix(n);
    if (pending_.size() == chunk_size_) {
      std::string chunk = std::exchange(pending_, std::string());
      DRCTL_TRY(sink(std::move(chunk)));
    }
  }
  return Ok();
}

Status Chunker::Finish(const Sink& sink) {
  std::string chunk = std::exchange(pending_, std::string());
  stream_size_ = 0;
  if (chunk.empty()) return Ok();
  return sink(std::move(chunk));
}

void Chunker::Reset() {
  pending_ = std::string();
  stream_size_ = 0;
}

}  // namespace drctl::io
