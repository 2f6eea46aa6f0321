// The key-unwrapping cache in the spool (<spool>/kek/): wal push and wal get run once per WAL
// segment, and scrypt (~0.3 s, 128 MiB by design) would dominate each run. An entry holds one
// key slot's scrypt output, sealed (AES-256-GCM) under HKDF-SHA256(secret, random salt): it is
// useless without the secret, and useless for a slot that was removed or re-created (the entry's
// name binds the slot id, salt and scrypt parameters). Files are 0600 in a 0700 directory on the
// database host, never in a repository.
//
// The trade-off (doc/commands/wal.md): someone who steals an entry AND wants the passphrase can
// test guesses at HKDF speed instead of scrypt speed. The database host already holds the
// passphrase source ([encryption]), so this adds no exposure there; repositories are unchanged.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>

#include "catalog/key_slot.h"
#include "common/config.h"

namespace drctl::command {

// Entries written by root go to the owner of the cache directory, so that the archiver (the
// postgres user) can read what a root backup remembered.
//
// With `slot_ttl` (wal push and wal get only: one process per segment) it also keeps, per
// repository, the slot that opened it ("slot-<repo id>", the slot as stored: wrapped, nothing
// secret) and offers it for `slot_ttl` after it was read from the repository: a push then skips
// listing and reading keys/ (two of its five requests on S3). The price: a slot removed with
// `drctl repo key remove` still opens for these two commands on this host for up to `slot_ttl`.
class SpoolKekCache final : public catalog::KekCache {
 public:
  explicit SpoolKekCache(std::filesystem::path dir,
                         std::chrono::seconds slot_ttl = std::chrono::seconds(0))
      : dir_(std::move(dir)), slot_ttl_(slot_ttl) {}
  std::optional<catalog::Key32> Find(const catalog::KeySlot& slot,
                                     std::string_view secret) override;
  void Remember(const catalog::KeySlot& slot, std::string_view secret,
                const catalog::Key32& kek) override;
  std::optional<std::string> RecentSlot(std::string_view repo_id) override;
  void RememberSlot(std::string_view repo_id, const catalog::KeySlot& slot) override;

 private:
  std::filesystem::path EntryPath(const catalog::KeySlot& slot) const;
  std::filesystem::path SlotPath(std::string_view repo_id) const;
  // Writes a cache file (0600; given to the directory's owner when root writes it).
  void WriteEntry(const std::filesystem::path& path, std::string_view content) const;
  std::filesystem::path dir_;
  std::chrono::seconds slot_ttl_;
};

// How long wal push and wal get trust a remembered key slot (SpoolKekCache).
inline constexpr std::chrono::seconds kWalSlotTtl{60};

// The key cache's directory for every command on the database host (backup, restore, repo init,
// not just the WAL commands): "<spool>/kek". Run as root (backup and restore usually are) it is
// used only in a spool that already exists, and a kek/ it creates there belongs to the spool's
// owner: root must not take the spool from the archiver. nullopt when there is no usable spool.
std::optional<std::filesystem::path> HostKekCacheDir(const WalConfig& wal);

}  // namespace drctl::command
