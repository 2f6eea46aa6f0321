// Key slots: the master key wrapped under one secret each (doc/format/repository.md,
// "keys/<slot-id>.json"). Changing a passphrase adds or removes a slot; data is never rewritten.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog/keys.h"
#include "common/result.h"

namespace drctl::catalog {

enum class SlotKind : std::uint8_t { kPassphrase, kKeyFile, kCommand };

struct ScryptParams {
  std::uint64_t n = 1U << 17;  // ~128 MiB, ~0.3 s: slows guessing, not operators
  std::uint32_t r = 8;
  std::uint32_t p = 1;
};

struct KeySlot;

// Remembers slot-unwrapping keys (a slot's scrypt output) so that short, frequent commands
// (wal push, wal get: one process per WAL segment) do not pay scrypt each time. An entry must be
// bound to the secret (useless without it) and to the slot (salt, parameters): a removed slot or
// a changed passphrase makes it useless. Implementations must not fail loudly: a miss is normal.
class KekCache {
 public:
  KekCache() = default;
  KekCache(const KekCache&) = delete;
  KekCache& operator=(const KekCache&) = delete;
  virtual ~KekCache() = default;
  virtual std::optional<Key32> Find(const KeySlot& slot, std::string_view secret) = 0;
  virtual void Remember(const KeySlot& slot, std::string_view secret, const Key32& kek) = 0;
  // The key slot (as stored: its JSON) that opened repository `repo_id` moments ago, if this
  // cache keeps those: Repository::Open then skips listing and reading keys/ (two requests on
  // S3, per WAL segment for wal push and wal get). Trusting it means a slot removed in that
  // moment still opens here; a cache that does not accept this keeps none (the default).
  virtual std::optional<std::string> RecentSlot(std::string_view /*repo_id*/) {
    return std::nullopt;
  }
  virtual void RememberSlot(std::string_view /*repo_id*/, const KeySlot& /*slot*/) {}
};

struct KeySlot {
  std::string slot_id;  // hex, 8 bytes
  SlotKind kind = SlotKind::kPassphrase;
  std::string label;
  std::int64_t created = 0;
  ScryptParams kdf;
  std::vector<std::uint8_t> salt;
  std::string wrapped_key;  // sealed master key

  // Wraps `master` under `secret` into a new slot (fresh id and salt); `cache` (optional)
  // remembers the key scrypt derived, so the first Unwrap on this host does not derive it again.
  static KeySlot Create(const MasterKey& master, std::string_view secret, std::string_view repo_id,
                        SlotKind kind, std::string label, const ScryptParams& params = {},
                        KekCache* cache = nullptr);

  // Opens the slot with `secret`: kWrongSecret if it does not open.
  // With `cache`, a remembered unwrapping key is tried first (a stale one falls back to scrypt),
  // and the key scrypt derives is remembered when it opens the slot.
  Result<MasterKey> Unwrap(std::string_view secret, std::string_view repo_id,
                           KekCache* cache = nullptr) const;

  std::string ToJson() const;
  // Parses a stored slot; kCorrupt naming `object` for anything malformed or out of bounds.
  static Result<KeySlot> FromJson(std::string_view text, const std::string& object);

  std::string Key() const { return "keys/" + slot_id + ".json"; }
};

std::string_view SlotKindName(SlotKind kind);

}  // namespace drctl::catalog
