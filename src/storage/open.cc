#include "storage/open.h"

#include "storage/posix/posix_storage.h"
#include "storage/s3/s3_storage.h"

namespace drctl::storage {

Result<std::unique_ptr<Storage>> OpenStorage(const RepoConfig& repo, bool create) {
  if (repo.url.starts_with("file://")) {
    auto s = OpenPosixStorage(repo.url.substr(7), create);
    if (!s) return std::unexpected(s.error().WithContext("repo '" + repo.name + "'"));
    return s;
  }
  if (repo.is_s3()) {
    auto options = s3::S3OptionsFromRepo(repo);
    if (!options) return std::unexpected(options.error().WithContext("repo '" + repo.name + "'"));
    return s3::OpenS3Storage(*options);
  }
  return Fail(ErrorCode::kConfig, "repo '" + repo.name + "' has an unsupported url " + repo.url);
}

}  // namespace drctl::storage
