// Opens the storage a configured repository names, by URL scheme: file:// (posix) or s3://.
#pragma once

#include <memory>

#include "common/config.h"
#include "storage/storage.h"

namespace drctl::storage {

// `create`: for file://, create the directory if missing (repo init); otherwise it must exist.
Result<std::unique_ptr<Storage>> OpenStorage(const RepoConfig& repo, bool create = false);

}  // namespace drctl::storage
