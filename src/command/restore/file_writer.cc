#include "command/restore/file_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace drctl::command {
namespace {

Status IoError(const std::string& what, const std::string& path) {
  return Fail(ErrorCode::kIo, "cannot " + what + " " + path + ": " + std::strerror(errno),
              "check the target filesystem (space, permissions)");
}

// A page-aligned buffer per worker thread, grown to the largest chunk it has written.
struct AlignedBuffer {
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  std::unique_ptr<char, Free> data;
  std::size_t capacity = 0;

  char* Reserve(std::size_t size) {
    if (size > capacity) {
      void* p = std::aligned_alloc(kDirectAlignment, size);
      if (p == nullptr) return nullptr;
      data.reset(static_cast<char*>(p));
      capacity = size;
    }
    return data.get();
  }
};

// 0 when written; the errno of the failed pwrite otherwise (EINTR retried).
int PwriteAll(int fd, const char* data, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = pwrite(fd, data + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace

Result<FileWriter> FileWriter::Create(const std::string& path, std::uint32_t mode,
                                      std::uint64_t size, bool keep, bool direct) {
  const int flags = (keep ? O_RDWR : (O_WRONLY | O_TRUNC)) | O_CREAT | O_CLOEXEC;
  const int fd = open(path.c_str(), flags, mode);
  if (fd < 0) return std::unexpected(IoError("create", path).error());
  FileWriter writer(path, fd, -1);
  if (fchmod(fd, mode) != 0 || ftruncate(fd, static_cast<off_t>(size)) != 0) {
    return std::unexpected(IoError("size", path).error());
  }
  // Only worth a descriptor when at least one whole page goes direct; EINVAL (tmpfs and other
  // filesystems without O_DIRECT) means the buffered path alone.
  if (direct && size >= kDirectAlignment) {
    writer.direct_fd_ = open(path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  }
  return writer;
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      direct_fd_(std::exchange(other.direct_fd_, -1)) {}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    Close();
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    direct_fd_ = std::exchange(other.direct_fd_, -1);
  }
  return *this;
}

FileWriter::~FileWriter() { Close(); }

void FileWriter::Close() {
  if (direct_fd_ >= 0) close(direct_fd_);
  if (fd_ >= 0) close(fd_);
  direct_fd_ = fd_ = -1;
}

Status FileWriter::WriteBuffered(std::string_view data, std::uint64_t offset) const {
  const int err = PwriteAll(fd_, data.data(), data.size(), offset);
  if (err != 0) {
    errno = err;
    return IoError("write", path_);
  }
  // Start writeback now, so the disk works while the CPUs decompress the next chunks and the
  // final syncfs has little left to flush (a hint: errors surface at syncfs).
  (void)sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(data.size()),
                        SYNC_FILE_RANGE_WRITE);
  return Ok();
}

Status FileWriter::Write(std::string_view data, std::uint64_t offset) const {
  const std::size_t whole = data.size() / kDirectAlignment * kDirectAlignment;
  if (direct_fd_ < 0 || whole == 0 || offset % kDirectAlignment != 0) {
    return WriteBuffered(data, offset);
  }
  thread_local AlignedBuffer buffer;
  char* aligned = buffer.Reserve(whole);
  if (aligned == nullptr) return WriteBuffered(data, offset);
  std::memcpy(aligned, data.data(), whole);
  const int err = PwriteAll(direct_fd_, aligned, whole, offset);
  // EINVAL: the device wants a larger alignment than a page; EOPNOTSUPP: a filesystem that
  // opened the descriptor but refuses direct writes. The page cache takes it then.
  if (err == EINVAL || err == EOPNOTSUPP) return WriteBuffered(data, offset);
  if (err != 0) {
    errno = err;
    return IoError("write", path_);
  }
  if (whole == data.size()) return Ok();
  return WriteBuffered(data.substr(whole), offset + whole);
}

}  // namespace drctl::command
