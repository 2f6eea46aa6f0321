#include "storage/storage.h"

namespace drctl::storage {
namespace {

class BufferedWriter : public ObjectWriter {
 public:
  BufferedWriter(Storage* storage, std::string key, WriteOptions options)
      : storage_(storage), key_(std::move(key)), options_(options) {}
  Status Write(std::string_view data) override {
    data_.append(data);
    return Ok();
  }
  Status Commit() override { return storage_->Write(key_, data_, options_); }

 private:
  Storage* storage_;
  std::string key_;
  WriteOptions options_;
  std::string data_;
};

}  // namespace

std::unique_ptr<ObjectWriter> NewBufferedWriter(Storage* storage, std::string key,
                                                WriteOptions options) {
  return std::make_unique<BufferedWriter>(storage, std::move(key), options);
}

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
