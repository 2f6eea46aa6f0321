// A repository: its description, its key slots, and access to its chunk store
// (doc/format/repository.md). A Repository owns its Storage.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/chunk_store.h"
#include "catalog/key_slot.h"
#include "catalog/keys.h"
#include "storage/storage.h"

namespace drctl::catalog {

inline constexpr std::string_view kDescriptionKey = "drctl-repo.json";

struct RepoDescription {
  int version = 1;
  std::string repo_id;  // hex, 16 bytes
  std::int64_t created = 0;
  bool encrypted = true;
  std::uint32_t chunk_size = 1U << 20;
  std::uint32_t pack_size = 32U << 20;
  std::optional<MasterKey> plain_master;  // only when !encrypted

  std::string ToJson() const;
  static Result<RepoDescription> FromJson(std::string_view text, const std::string& object);
};

struct InitOptions {
  bool encrypted = true;
  std::string secret;  // required when encrypted
  SlotKind kind = SlotKind::kPassphrase;
  std::string label = "initial";
  ScryptParams kdf;
  std::uint32_t chunk_size = 1U << 20;
  std::uint32_t pack_size = 32U << 20;
  // The master key of a sibling repository (same config): repositories that share it have the
  // same chunk ids, so packs copy between them as they are, without decrypting. Empty: new key.
  std::optional<MasterKey> master;
  // Remembers the new key slot's scrypt output (KeySlot::Create), optional.
  KekCache* kek_cache = nullptr;
};

struct RepoUsage {
  std::uint64_t objects = 0;
  std::uint64_t bytes = 0;
  std::uint64_t packs = 0;
  std::uint64_t indexes = 0;
};

class Repository {
 public:
  // Creates a repository in an empty location (kPrecondition if anything is there). Writes the key
  // slot first and the description last: an interrupted init leaves no repository.
  static Result<Repository> Init(std::unique_ptr<storage::Storage> storage,
                                 const InitOptions& options);

  // Opens an existing repository; `secret` unlocks it when it is encrypted (kWrongSecret if no
  // slot opens; kNotFound if there is no repository there).
  // `cache` (optional) remembers slot-unwrapping keys (KekCache).
  static Result<Repository> Open(std::unique_ptr<storage::Storage> storage,
                                 const std::optional<std::string>& secret,
                                 KekCache* cache = nullptr);

  Repository(Repository&&) noexcept = default;
  Repository& operator=(Repository&&) noexcept = default;
  ~Repository() = default;

  const RepoDescription& description() const { return description_; }
  const MasterKey& master() const { return master_; }
  storage::Storage& storage() { return *storage_; }

  Result<std::vector<KeySlot>> ListKeys();
  // Adds a slot for `secret` (the repository must be encrypted). Returns it.
  Result<KeySlot> AddKey(std::string_view secret, SlotKind kind, std::string label,
                         const ScryptParams& params = {});
  // Removes a slot by id; refuses to remove the last one (kPrecondition).
  Status RemoveKey(std::string_view slot_id);

  // A chunk store over this repository (indexes not loaded yet).
  std::unique_ptr<ChunkStore> NewChunkStore(Compression compression);

  Result<RepoUsage> Usage();

 private:
  Repository(std::unique_ptr<storage::Storage> storage, RepoDescription description,
             MasterKey master)
      : storage_(std::move(storage)), description_(std::move(description)), master_(master) {}
  std::unique_ptr<storage::Storage> storage_;
  RepoDescription description_;
  MasterKey master_;
};

}  // namespace drctl::catalog
