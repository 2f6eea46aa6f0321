// Writing restored chunks at their offsets. Whole pages go around the page cache (O_DIRECT) when
// the filesystem allows it: a restore writes each byte once and nothing reads it back soon, and
// on a virtual machine whose page cache must first be backed by the host, buffered writes of a
// whole data directory cost several times a direct write. What is not a whole page (a file's
// tail, or everything on a filesystem without O_DIRECT such as tmpfs) goes through an ordinary
// descriptor. Either way durability comes from the caller's syncfs at the end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl::command {

inline constexpr std::size_t kDirectAlignment = 4096;

class FileWriter {
 public:
  // Creates `path` (mode `mode`) and sets its size to `size` bytes: emptied first, or with
  // `keep` (a delta restore) keeping the bytes already there and readable through fd(). With
  // `direct` it also opens a second, O_DIRECT descriptor if the filesystem supports one.
  static Result<FileWriter> Create(const std::string& path, std::uint32_t mode, std::uint64_t size,
                                   bool keep, bool direct);
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;
  ~FileWriter();

  // Writes `data` at `offset` (thread-safe for disjoint ranges). `offset` must be a multiple of
  // kDirectAlignment for the direct path; any other offset goes through the page cache.
  Status Write(std::string_view data, std::uint64_t offset) const;

  bool direct() const { return direct_fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  FileWriter(std::string path, int fd, int direct_fd)
      : path_(std::move(path)), fd_(fd), direct_fd_(direct_fd) {}
  Status WriteBuffered(std::string_view data, std::uint64_t offset) const;
  void Close();

  std::string path_;
  int fd_ = -1;
  int direct_fd_ = -1;
};

}  // namespace drctl::command
