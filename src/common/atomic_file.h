// Writing a small file so that it is either absent/old or complete and durable: the content goes
// to "<path>.drctl-tmp", is fsynced, then renamed over `path` (the temporary file is removed on
// failure). Used for WAL files handed to PostgreSQL, backup_label and recovery settings.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string_view>

#include "common/result.h"

namespace drctl {

// kIo naming the file on any failure.
// `durable` false skips the fsync (the file is still complete or absent, but may be lost in a
// crash): for files that can be fetched again, like WAL handed to a recovering server.
Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode = 0600, bool durable = true);

}  // namespace drctl
