#include "storage/memory/memory_storage.h"

#include <ctime>
#include <map>
#include <mutex>

namespace drctl::storage {
namespace {

struct Object {
  std::string data;
  std::int64_t mtime = 0;
};

class MemoryReader : public ObjectReader {
 public:
  explicit MemoryReader(std::string data) : data_(std::move(data)) {}
  Result<std::size_t> Read(std::string& out, std::size_t max) override {
    const std::size_t n = std::min(max, data_.size() - pos_);
    out.append(data_, pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t pos_ = 0;
};

class MemoryStorage : public Storage {
 public:
  explicit MemoryStorage(std::string name) : name_(std::move(name)) {}

  std::string Describe() const override { return "memory://" + name_; }
  std::uint32_t Features() const override { return kFeatureRangeRead | kFeatureAtomicIfAbsent; }

  Result<ObjectInfo> Stat(std::string_view key) override {
    DRCTL_TRY(ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFound(key);
    return ObjectInfo{it->first, it->second.data.size(), it->second.mtime};
  }

  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& visit) override {
    std::vector<ObjectInfo> found;
    {
      std::lock_guard lock(mu_);
      for (auto it = objects_.lower_bound(std::string(prefix));
           it != objects_.end() && it->first.starts_with(prefix); ++it) {
        found.push_back({it->first, it->second.data.size(), it->second.mtime});
      }
    }
    for (const auto& info : found) DRCTL_TRY(visit(info));
    return Ok();
  }

  Result<std::string> Read(std::string_view key, std::optional<ByteRange> range) override {
    DRCTL_TRY(ValidateKey(key));
    std::lock_guard lock(mu_);
    auto it = objects_.find(std::string(key));
    if (it == objects_.end()) return NotFound(key);
    const std::string& data = it->second.data;
    if (!range) return data;
    if (range->length == 0 || range->offset + range->length > data.size()) {
      return Fail(ErrorCode::kCorrupt, "range " + std::to_string(range->offset) + "+" +
                                           std::to_string(range->length) + " is past the end of " +
                                           Describe() + "/" + std::string(key) + " (" +
                                           std::to_string(data.size()) + " bytes)");
    }
    return data.substr(range->offset, range->length);
  }

  Result<std::unique_ptr<ObjectReader>> OpenRead(std::string_view key) override {
    auto data = Read(key, std::nullopt);
    if (!data) return std::unexpected(data.error());
    return std::make_unique<MemoryReader>(std::move(*data));
  }

  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override {
    DRCTL_TRY(ValidateKey(key));
    return Put(std::string(key), std::string(data), options);
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                  const WriteOptions& options) override {
    DRCTL_TRY(ValidateKey(key));
    return NewBufferedWriter(this, std::string(key), options);
  }

  Status Delete(std::string_view key) override {
    DRCTL_TRY(ValidateKey(key));
    std::lock_guard lock(mu_);
    objects_.erase(std::string(key));
    return Ok();
  }

  Status Put(std::string key, std::string data, const WriteOptions& options) {
    std::lock_guard lock(mu_);
    if (options.if_absent && objects_.contains(key)) {
      return Fail(ErrorCode::kConflict, "object " + Describe() + "/" + key + " exists already");
    }
    objects_[std::move(key)] =
        Object{std::move(data), static_cast<std::int64_t>(std::time(nullptr))};
    return Ok();
  }

 private:
  std::unexpected<Error> NotFound(std::string_view key) const {
    return Fail(ErrorCode::kNotFound,
                "object " + Describe() + "/" + std::string(key) + " does not exist");
  }

  std::string name_;
  std::mutex mu_;
  std::map<std::string, Object> objects_;
};

}  // namespace

std::unique_ptr<Storage> NewMemoryStorage(std::string name) {
  return std::make_unique<MemoryStorage>(std::move(name));
}

}  // namespace drctl::storage
