#include "catalog/memory_kek_cache.h"

#include <fmt/format.h>

#include "io/hash.h"

namespace drctl::catalog {

std::string MemoryKekCache::EntryKey(const KeySlot& slot, std::string_view secret) {
  const io::Digest bound = io::HmacSha256(slot.salt, secret);
  return fmt::format("{}/{}/{}/{}/{}/{}", slot.slot_id, slot.kdf.n, slot.kdf.r, slot.kdf.p,
                     io::ToHex(slot.salt), io::ToHex(bound));
}

std::optional<Key32> MemoryKekCache::Find(const KeySlot& slot, std::string_view secret) {
  const std::string key = EntryKey(slot, secret);
  std::lock_guard lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void MemoryKekCache::Remember(const KeySlot& slot, std::string_view secret, const Key32& kek) {
  const std::string key = EntryKey(slot, secret);
  std::lock_guard lock(mu_);
  entries_[key] = kek;
}

}  // namespace drctl::catalog
