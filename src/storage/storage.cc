#include "storage/storage.h"

namespace drctl::storage {

Status Storage::DeleteMany(std::span<const std::string> keys) {
  for (const auto& key : keys) DRCTL_TRY(Delete(key));
  return Ok();
}

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kInternal,
                "invalid object key \"" + std::string(key) + "\": " + std::string(why));
  };
  if (key.empty()) return bad("empty");
  if (key.front() == '/' || key.back() == '/') return bad("leading or trailing '/'");
  if (key.find('\0') != std::string_view::npos) return bad("contains NUL");
  std::size_t start = 0;
  while (start <= key.size()) {
    auto end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const auto segment = key.substr(start, end - start);
    if (segment.empty()) return bad("empty segment");
    if (segment == "." || segment == "..") return bad("'.' or '..' segment");
    start = end + 1;
  }
  return Ok();
}

}  // namespace drctl::storage
