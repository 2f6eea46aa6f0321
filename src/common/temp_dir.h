// A uniquely named directory that is removed with everything in it when the object dies, unless
// Keep() was called (e.g. to leave a failed drill's files for a human).
#pragma once

#include <filesystem>
#include <string_view>

#include "common/result.h"

namespace drctl {

class TempDir {
 public:
  // Creates `<parent>/<prefix>XXXXXX` (parent defaults to $TMPDIR or /tmp), mode 0700.
  static Result<TempDir> Create(std::string_view prefix, std::filesystem::path parent = {});

  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
  bool keep_ = false;
};

// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
Result<int> FreeLoopbackPort();

// Makes `path` (recursively) owned by `user` when running as root; a no-op otherwise.
Status ChownToUser(const std::filesystem::path& path, const std::string& user);

}  // namespace drctl
