// file:// repositories: objects are files under a root directory, keys map to relative paths.
// Writes go to a temporary name in the same directory ("<name>.drctl-tmp-<unique>"), are fsynced,
// then renamed into place and the directory fsynced (WriteOptions::durable), so a crash leaves
// either the old state or the whole object, plus at worst a temporary file that List() does not
// show and that a later GC removes. if_absent uses link(2), which fails atomically if the name
// exists.
#pragma once

#include <filesystem>
#include <memory>

#include "storage/storage.h"

namespace drctl::storage {

// Opens (creating the root if `create`) a posix storage rooted at `root`.
Result<std::unique_ptr<Storage>> OpenPosixStorage(const std::filesystem::path& root,
                                                  bool create = true);

// True for the temporary files a crashed writer can leave behind.
bool IsPosixTempName(std::string_view file_name);

}  // namespace drctl::storage
