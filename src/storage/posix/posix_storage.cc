#include "storage/posix/posix_storage.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>
#include <random>

namespace drctl::storage {
namespace {

constexpr std::string_view kTempMarker = ".drctl-tmp-";

std::string TempSuffix() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return std::to_string(getpid()) + "-" + std::to_string(counter.fetch_add(1)) + "-" +
         std::to_string(rng() % 1000000);
}

Error IoError(const std::string& what, const std::filesystem::path& path, int err) {
  const ErrorCode code = err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo;
  std::string hint;
  if (err == EACCES || err == EPERM) hint = "check the permissions of the repository directory";
  if (err == ENOSPC || err == EDQUOT) hint = "free space on the repository's file system";
  if (err == EROFS) hint = "the repository's file system is read-only";
  return Error(code, what + " " + path.string() + ": " + std::strerror(err), hint);
}

Status FsyncPath(const std::filesystem::path& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return std::unexpected(IoError("cannot open", path, errno));
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return std::unexpected(IoError("cannot fsync", path, err));
  return Ok();
}

Status WriteAll(int fd, std::string_view data, const std::filesystem::path& path) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::unexpected(IoError("cannot write", path, errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Ok();
}

class PosixStorage;

// Writes into a temporary file beside the target; Commit publishes it.
class PosixWriter : public ObjectWriter {
 public:
  PosixWriter(std::filesystem::path target, std::filesystem::path temp, int fd, WriteOptions o)
      : target_(std::move(target)), temp_(std::move(temp)), fd_(fd), options_(o) {}
  ~PosixWriter() override {
    if (fd_ >= 0) close(fd_);
    if (!committed_) unlink(temp_.c_str());
  }
  PosixWriter(const PosixWriter&) = delete;
  PosixWriter& operator=(const PosixWriter&) = delete;

  Status Write(std::string_view data) override { return WriteAll(fd_, data, temp_); }

  Status Commit() override {
    if (options_.durable && fsync(fd_) != 0) {
      return std::unexpected(IoError("cannot fsync", temp_, errno));
    }
    if (close(fd_) != 0) {
      fd_ = -1;
      return std::unexpected(IoError("cannot close", temp_, errno));
    }
    fd_ = -1;
    if (options_.if_absent) {
      // link(2) fails with EEXIST atomically; then the temporary name goes.
      if (link(temp_.c_str(), target_.c_str()) != 0) {
        const int err = errno;
        if (err == EEXIST) {
          return Fail(ErrorCode::kConflict, "object " + target_.string() + " exists already",
                      "objects are written once; this one must not be replaced");
        }
        return std::unexpected(IoError("cannot link", target_, err));
      }
      unlink(temp_.c_str());
    } else if (rename(temp_.c_str(), target_.c_str()) != 0) {
      return std::unexpected(IoError("cannot rename into", target_, errno));
    }
    committed_ = true;
    if (options_.durable) DRCTL_TRY(FsyncPath(target_.parent_path(), O_RDONLY | O_DIRECTORY));
    return Ok();
  }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  int fd_;
  WriteOptions options_;
  bool committed_ = false;
};

class PosixReader : public ObjectReader {
 public:
  PosixReader(std::filesystem::path path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReader() override { close(fd_); }
  PosixReader(const PosixReader&) = delete;
  PosixReader& operator=(const PosixReader&) = delete;

  Result<std::size_t> Read(std::string& out, std::size_t max) override {
    const std::size_t old = out.size();
    out.resize(old + max);
    while (true) {
      const ssize_t n = read(fd_, out.data() + old, max);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.resize(old);
        return std::unexpected(IoError("cannot read", path_, errno));
      }
      out.resize(old + static_cast<std::size_t>(n));
      return static_cast<std::size_t>(n);
    }
  }

 private:
  std::filesystem::path path_;
  int fd_;
};

class PosixStorage : public Storage {
 public:
  explicit PosixStorage(std::filesystem::path root) : root_(std::move(root)) {
    // Run as root on a repository that belongs to someone else (typically postgres, whose
    // archive_command writes WAL into it): new files and directories get that owner, so the
    // two never lock each other out.
    struct stat st {};
    if (geteuid() == 0 && stat(root_.c_str(), &st) == 0 && st.st_uid != 0) {
      owner_ = {st.st_uid, st.st_gid};
    }
  }

  std::string Describe() const override { return "file://" + root_.string(); }
  std::uint32_t Features() const override { return kFeatureRangeRead | kFeatureAtomicIfAbsent; }

  Result<ObjectInfo> Stat(std::string_view key) override {
    DRCTL_TRY(ValidateKey(key));
    const auto path = Path(key);
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return std::unexpected(IoError("cannot stat", path, errno));
    if (!S_ISREG(st.st_mode)) {
      return Fail(ErrorCode::kNotFound, "object " + path.string() + " is not a file");
    }
    return ObjectInfo{std::string(key), static_cast<std::uint64_t>(st.st_size), st.st_mtime};
  }

  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& visit) override {
    // Walk only the directory the prefix names (up to its last '/'), then filter by prefix.
    const auto slash = prefix.rfind('/');
    const std::string dir_key =
        slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
    std::vector<ObjectInfo> found;
    DRCTL_TRY(Walk(dir_key, prefix, found));
    std::sort(found.begin(), found.end(),
              [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    for (const auto& info : found) DRCTL_TRY(visit(info));
    return Ok();
  }

  Result<std::string> Read(std::string_view key, std::optional<ByteRange> range) override {
    DRCTL_TRY(ValidateKey(key));
    const auto path = Path(key);
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(IoError("cannot open", path, errno));
    struct stat st {};
    if (fstat(fd, &st) != 0) {
      const int err = errno;
      close(fd);
      return std::unexpected(IoError("cannot stat", path, err));
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t offset = 0;
    std::uint64_t length = size;
    if (range) {
      if (range->length == 0 || range->offset + range->length > size) {
        close(fd);
        return Fail(ErrorCode::kCorrupt,
                    "range " + std::to_string(range->offset) + "+" + std::to_string(range->length) +
                        " is past the end of " + path.string() + " (" + std::to_string(size) +
                        " bytes)",
                    "the object is truncated or an index points at the wrong place");
      }
      offset = range->offset;
      length = range->length;
    }
    std::string out(length, '\0');
    std::uint64_t done = 0;
    while (done < length) {
      const ssize_t n =
          pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const int err = n < 0 ? errno : 0;
        close(fd);
        if (err != 0) return std::unexpected(IoError("cannot read", path, err));
        return Fail(ErrorCode::kCorrupt, "object " + path.string() + " shrank while being read");
      }
      done += static_cast<std::uint64_t>(n);
    }
    close(fd);
    return out;
  }

  Result<std::unique_ptr<ObjectReader>> OpenRead(std::string_view key) override {
    DRCTL_TRY(ValidateKey(key));
    const auto path = Path(key);
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::unexpected(IoError("cannot open", path, errno));
    return std::make_unique<PosixReader>(path, fd);
  }

  Status Write(std::string_view key, std::string_view data, const WriteOptions& options) override {
    auto writer = OpenWrite(key, options);
    if (!writer) return std::unexpected(writer.error());
    DRCTL_TRY((*writer)->Write(data));
    return (*writer)->Commit();
  }

  Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                  const WriteOptions& options) override {
    DRCTL_TRY(ValidateKey(key));
    const auto target = Path(key);
    std::error_code ec;
    const bool created = std::filesystem::create_directories(target.parent_path(), ec);
    if (ec)
      return std::unexpected(IoError("cannot create directory", target.parent_path(), ec.value()));
    if (created && owner_) {
      for (auto dir = target.parent_path(); dir != root_ && dir.has_parent_path();
           dir = dir.parent_path()) {
        if (lchown(dir.c_str(), owner_->first, owner_->second) != 0) break;
      }
    }
    if (IsPosixTempName(target.filename().string())) {
      return Fail(ErrorCode::kInternal, "object key \"" + std::string(key) + "\" contains " +
                                            std::string(kTempMarker) +
                                            ", reserved for temporary files");
    }
    const auto temp = target.parent_path() /
                      (target.filename().string() + std::string(kTempMarker) + TempSuffix());
    const int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) return std::unexpected(IoError("cannot create", temp, errno));
    if (owner_ && fchown(fd, owner_->first, owner_->second) != 0) {
      const int err = errno;
      close(fd);
      unlink(temp.c_str());
      return std::unexpected(IoError("cannot give to the repository's owner", temp, err));
    }
    return std::make_unique<PosixWriter>(target, temp, fd, options);
  }

  Status Delete(std::string_view key) override {
    DRCTL_TRY(ValidateKey(key));
    const auto path = Path(key);
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return std::unexpected(IoError("cannot delete", path, errno));
    }
    return Ok();
  }

 private:
  std::optional<std::pair<uid_t, gid_t>> owner_;
  std::filesystem::path Path(std::string_view key) const { return root_ / std::string(key); }

  Status Walk(const std::string& dir_key, std::string_view prefix, std::vector<ObjectInfo>& out) {
    const auto dir = dir_key.empty() ? root_ : root_ / dir_key;
    DIR* d = opendir(dir.c_str());
    if (d == nullptr) {
      if (errno == ENOENT || errno == ENOTDIR) return Ok();
      return std::unexpected(IoError("cannot list", dir, errno));
    }
    struct CloseDir {
      void operator()(DIR* dir) const { closedir(dir); }
    };
    std::unique_ptr<DIR, CloseDir> guard(d);
    while (dirent* entry = readdir(d)) {
      const std::string_view name(entry->d_name);
      if (name == "." || name == "..") continue;
      const std::string key =
          dir_key.empty() ? std::string(name) : dir_key + "/" + std::string(name);
      // Descend only where keys below can still match the prefix.
      const bool could_match = key.starts_with(prefix) || prefix.starts_with(key + "/");
      if (!could_match) continue;
      struct stat st {};
      if (lstat((dir / std::string(name)).c_str(), &st) != 0) continue;  // vanished meanwhile
      if (S_ISDIR(st.st_mode)) {
        DRCTL_TRY(Walk(key, prefix, out));
      } else if (S_ISREG(st.st_mode) && !IsPosixTempName(name) && key.starts_with(prefix)) {
        out.push_back({key, static_cast<std::uint64_t>(st.st_size), st.st_mtime});
      }
    }
    return Ok();
  }

  std::filesystem::path root_;
};

}  // namespace

bool IsPosixTempName(std::string_view file_name) {
  return file_name.find(kTempMarker) != std::string_view::npos;
}

Result<std::unique_ptr<Storage>> OpenPosixStorage(const std::filesystem::path& root, bool create) {
  if (!root.is_absolute()) {
    return Fail(ErrorCode::kConfig, "repository path " + root.string() + " is not absolute",
                "write file:///absolute/path");
  }
  std::error_code ec;
  if (create) {
    std::filesystem::create_directories(root, ec);
    if (ec) return std::unexpected(IoError("cannot create repository directory", root, ec.value()));
  } else if (!std::filesystem::is_directory(root, ec)) {
    return Fail(ErrorCode::kNotFound, "repository directory " + root.string() + " does not exist",
                "check the repo url, or create the repository with drctl repo init");
  }
  return std::make_unique<PosixStorage>(root);
}

}  // namespace drctl::storage
