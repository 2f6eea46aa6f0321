#include "common/temp_dir.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace drctl {

Result<TempDir> TempDir::Create(std::string_view prefix, std::filesystem::path parent) {
  if (parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    parent = (tmp != nullptr && *tmp != '\0') ? tmp : "/tmp";
  }
  std::string templ = (parent / (std::string(prefix) + "XXXXXX")).string();
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    return Fail(
        ErrorCode::kIo,
        "cannot create a temporary directory in " + parent.string() + ": " + std::strerror(errno),
        "check that it exists and is writable");
  }
  return TempDir(std::filesystem::path(buf.data()));
}

TempDir::TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)), keep_(other.keep_) {
  other.path_.clear();
}

TempDir& TempDir::operator=(TempDir&& other) noexcept {
  if (this != &other) {
    std::error_code ec;
    if (!path_.empty() && !keep_) std::filesystem::remove_all(path_, ec);
    path_ = std::move(other.path_);
    keep_ = other.keep_;
    other.path_.clear();
  }
  return *this;
}

TempDir::~TempDir() {
  std::error_code ec;
  if (!path_.empty() && !keep_) std::filesystem::remove_all(path_, ec);
}

Result<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  auto* sa = reinterpret_cast<sockaddr*>(&addr);
  if (bind(fd, sa, sizeof(addr)) != 0 || getsockname(fd, sa, &len) != 0) {
    const int err = errno;
    close(fd);
    return Fail(ErrorCode::kIo, std::string("cannot find a free port: ") + std::strerror(err));
  }
  close(fd);
  return static_cast<int>(ntohs(addr.sin_port));
}

Status ChownToUser(const std::filesystem::path& path, const std::string& user) {
  if (geteuid() != 0 || user.empty()) return Ok();
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return Fail(ErrorCode::kPrecondition, "user '" + user + "' does not exist");
  }
  auto chown_one = [&](const std::filesystem::path& p) -> Status {
    if (lchown(p.c_str(), pw.pw_uid, pw.pw_gid) != 0) {
      return Fail(ErrorCode::kIo, "cannot chown " + p.string() + ": " + std::strerror(errno));
    }
    return Ok();
  };
  DRCTL_TRY(chown_one(path));
  std::error_code ec;
  if (!std::filesystem::is_directory(path, ec)) return Ok();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path, ec)) {
    DRCTL_TRY(chown_one(entry.path()));
  }
  return Ok();
}

}  // namespace drctl
