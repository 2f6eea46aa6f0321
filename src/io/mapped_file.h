// A whole file mapped read-only into memory (mmap with MAP_POPULATE): the bytes of a WAL segment
// without copying them out of the page cache and without a fresh 16 MiB buffer, whose pages a
// short-lived process (one archive_command per segment) would pay a fault and a zeroing for each.
// The file must not shrink while it is mapped (reading past its new end raises SIGBUS): it is for
// files nobody writes any more, as PostgreSQL's completed segments are while archive_command runs.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl::io {

class MappedFile {
 public:
  // kNotFound if the file does not exist, kIo for any other failure; both name the path and the
  // system's reason, `hint` says what to do.
  static Result<MappedFile> Open(const std::filesystem::path& path, const std::string& hint);

  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::string_view bytes() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, std::size_t size) : data_(data), size_(size) {}
  const char* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace drctl::io
