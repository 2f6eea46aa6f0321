#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace drctl {

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content, mode_t mode,
                           bool durable) {
  const std::string temp = path.string() + ".drctl-tmp";
  const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Fail(ErrorCode::kIo, "cannot create " + temp + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      close(fd);
      unlink(temp.c_str());
      return Fail(ErrorCode::kIo, "cannot write " + temp + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  const bool synced = !durable || fsync(fd) == 0;
  const int sync_err = errno;
  close(fd);
  if (!synced || rename(temp.c_str(), path.c_str()) != 0) {
    const int err = synced ? errno : sync_err;
    unlink(temp.c_str());
    return Fail(ErrorCode::kIo, "cannot put " + path.string() + " in place: " + std::strerror(err));
  }
  return Ok();
}

}  // namespace drctl
