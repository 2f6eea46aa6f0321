// The one boundary between drctl and where repositories live. A Storage is a flat namespace of
// immutable objects under keys; backends: posix/ (file://), s3/ (s3://), memory/ (tests), and
// decorators such as fault/ (tests). Every backend has the same contract, stated here; a test
// suite (storage_contract_test.h) checks each backend against it.
//
// Keys are relative, '/'-separated, non-empty, without empty, "." or ".." segments, without a
// leading or trailing '/', and without NUL; ValidateKey() says why a key is refused. Objects are
// written whole (Write) or streamed (OpenWrite); a written object is visible only once complete
// (never partially), so a crash leaves either nothing or the whole object.
//
// Errors: kNotFound (no such object), kAuth (credentials rejected), kUnavailable (unreachable,
// 5xx, throttled, after the backend's own retries), kTimeout, kIo (local file system), kCorrupt
// (the backend detected damage, e.g. a size or checksum mismatch), kConflict (WriteOptions::
// if_absent and the object exists). Messages name the object (Describe() + key).
//
// Thread-safety: all methods may be called concurrently from several threads; readers and
// writers returned by OpenRead/OpenWrite are used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::storage {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::int64_t mtime = 0;  // seconds since the epoch (last modified)
};

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // bytes to read from offset; must be > 0
};

struct WriteOptions {
  // Return only once the object survives a crash of this machine (posix: fsync of the file and
  // its directory; S3: the service's acknowledgement).
  bool durable = true;
  // Fail with kConflict when the object exists already (posix: link(2) semantics; S3: a Stat
  // before the upload, which is best effort against concurrent writers).
  bool if_absent = false;
};

// Optional capabilities (Features()).
enum Feature : std::uint32_t {
  kFeatureRangeRead = 1U << 0,   // Read with a range reads only those bytes
  kFeatureServerCopy = 1U << 1,  // Copy without moving bytes through drctl
  // WriteOptions::if_absent is atomic (posix: link(2)). Without it (S3) it is a Stat before the
  // upload, which a caller may as well do earlier, overlapping other work.
  kFeatureAtomicIfAbsent = 1U << 2,
};

// Streaming reader of one object. Not thread-safe.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  // Appends up to `max` bytes to `out`; returns the number appended, 0 at the end. A reader
  // that gets fewer bytes in total than the object's size reports kCorrupt (truncated).
  virtual Result<std::size_t> Read(std::string& out, std::size_t max) = 0;
};

// Streaming writer of one object. Nothing is visible until Commit() succeeds; destroying a
// writer without Commit() abandons the object (S3: aborts the multipart upload). Not thread-safe.
class ObjectWriter {
 public:
  virtual ~ObjectWriter() = default;
  virtual Status Write(std::string_view data) = 0;
  virtual Status Commit() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Where this storage is, for messages: "file:///var/lib/drctl/repo", "s3://bucket/prefix".
  virtual std::string Describe() const = 0;
  virtual std::uint32_t Features() const = 0;

  // Metadata of one object; kNotFound if absent.
  virtual Result<ObjectInfo> Stat(std::string_view key) = 0;

  // Calls `visit` for every object whose key starts with `prefix` (plain string prefix; "" lists
  // all), in ascending byte order of key. Stops early and returns the error if `visit` fails.
  virtual Status List(std::string_view prefix,
                      const std::function<Status(const ObjectInfo&)>& visit) = 0;

  // The whole object, or `range` of it (kNotFound if absent; a range past the end is kCorrupt,
  // as the caller's index and the object disagree). For objects that fit in memory.
  virtual Result<std::string> Read(std::string_view key,
                                   std::optional<ByteRange> range = std::nullopt) = 0;

  // Streams an object of any size.
  virtual Result<std::unique_ptr<ObjectReader>> OpenRead(std::string_view key) = 0;

  // Writes a whole object (replacing an existing one unless options.if_absent).
  virtual Status Write(std::string_view key, std::string_view data,
                       const WriteOptions& options = {}) = 0;

  // Streams an object of any size; see ObjectWriter.
  virtual Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                          const WriteOptions& options = {}) = 0;

  // Deletes one object; deleting an absent object succeeds.
  virtual Status Delete(std::string_view key) = 0;

  // Deletes several objects (S3: DeleteObjects in batches of 1000). Absent objects succeed.
  virtual Status DeleteMany(std::span<const std::string> keys);
};

// A writer that buffers the whole object in memory and calls storage->Write(key, ...) on Commit:
// for backends without native streaming (memory, decorators). `storage` must outlive it.
std::unique_ptr<ObjectWriter> NewBufferedWriter(Storage* storage, std::string key,
                                                WriteOptions options);

// Why `key` is not a valid object key (kInternal: keys are built by drctl, a bad one is a bug),
// or Ok.
Status ValidateKey(std::string_view key);

// Forwards everything to another Storage; decorators override only what they change (leveldb's
// EnvWrapper). Does not own the target unless constructed with a unique_ptr.
class StorageWrapper : public Storage {
 public:
  explicit StorageWrapper(Storage* target) : target_(target) {}
  explicit StorageWrapper(std::unique_ptr<Storage> target)
      : owned_(std::move(target)), target_(owned_.get()) {}

  std::string Describe() const override { return target_->Describe(); }
  std::uint32_t Features() const override { return target_->Features(); }
  Result<ObjectInfo> Stat(std::string_view key) override { return target_->Stat(key); }
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& visit) override {
    return target_->List(prefix, visit);
  }
  Result<std::string> Read(std::string_view key, std::optional<ByteRange> range) override {
    return target_->Read(key, range);
  }
  Result<std::unique_ptr<ObjectReader>> OpenRead(std::string_view key) override {
    return target_->OpenRead(key);
  }
  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override {
    return target_->Write(key, data, options);
  }
  Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                  const WriteOptions& options) override {
    return target_->OpenWrite(key, options);
  }
  Status Delete(std::string_view key) override { return target_->Delete(key); }
  Status DeleteMany(std::span<const std::string> keys) override {
    return target_->DeleteMany(keys);
  }

 protected:
  Storage* target() const { return target_; }

 private:
  std::unique_ptr<Storage> owned_;
  Storage* target_;
};

}  // namespace drctl::storage
