// The storage contract on the local backends (memory, posix, and fault with no rules armed).
// The S3 backend runs the same suite against Swift in tests/integration/.
#include "storage/storage_contract.h"

#include "common/temp_dir.h"
#include "storage/fault/fault_storage.h"
#include "storage/memory/memory_storage.h"
#include "storage/posix/posix_storage.h"

namespace drctl::storage {
namespace {

// Posix storages live in temporary directories kept for the life of the test binary.
std::unique_ptr<Storage> MakePosix() {
  static std::vector<TempDir> dirs;
  auto dir = TempDir::Create("drctl-posix-contract-");
  if (!dir) return nullptr;
  auto storage = OpenPosixStorage(dir->path() / "repo");
  dirs.push_back(std::move(*dir));
  return storage ? std::move(*storage) : nullptr;
}

INSTANTIATE_TEST_SUITE_P(
    Local, StorageContract,
    ::testing::Values(StorageFactory{"Memory", [] { return NewMemoryStorage(); }},
                      StorageFactory{"Posix", MakePosix},
                      StorageFactory{"FaultWithoutRules",
                                     []() -> std::unique_ptr<Storage> {
                                       return std::make_unique<FaultStorage>(NewMemoryStorage());
                                     }}),
    PrintFactory);

}  // namespace
}  // namespace drctl::storage
