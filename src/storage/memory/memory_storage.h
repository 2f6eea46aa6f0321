// An in-memory Storage for unit tests of logic above storage. Same contract as the real backends
// (checked by the same contract tests); never the only proof that something works.
#pragma once

#include <memory>

#include "storage/storage.h"

namespace drctl::storage {

std::unique_ptr<Storage> NewMemoryStorage(std::string name = "memory");

}  // namespace drctl::storage
