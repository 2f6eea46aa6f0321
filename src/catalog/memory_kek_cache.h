// A KekCache (key_slot.h) in process memory, for long-running processes (the daemon): a key slot
// is unwrapped with its slow KDF once per process and secret, not at every repository read.
// Entries are bound to the slot's id, KDF parameters and salt, and to the secret (by an HMAC of it
// under the salt), so a changed secret or a rewritten slot misses. The secret itself is not kept.
// Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "catalog/key_slot.h"

namespace drctl::catalog {

class MemoryKekCache : public KekCache {
 public:
  std::optional<Key32> Find(const KeySlot& slot, std::string_view secret) override;
  void Remember(const KeySlot& slot, std::string_view secret, const Key32& kek) override;

 private:
  static std::string EntryKey(const KeySlot& slot, std::string_view secret);
  std::mutex mu_;
  std::map<std::string, Key32> entries_;
};

}  // namespace drctl::catalog
