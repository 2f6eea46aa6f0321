#include "command/wal/kek_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "command/wal/spool.h"
#include "common/atomic_file.h"
#include "io/cipher.h"
#include "io/hash.h"
#include "io/kdf.h"
#include "io/random.h"

namespace drctl::command {
namespace {

constexpr std::string_view kMagic = "DRKC1";
constexpr std::size_t kSaltSize = 16;

std::optional<catalog::Key32> WrappingKey(std::string_view secret, std::string_view salt,
                                          const std::string& name) {
  if (secret.empty()) return std::nullopt;
  auto derived =
      io::HkdfSha256(io::AsBytes(secret), io::AsBytes(salt), "drctl kek cache v1 " + name, 32);
  if (!derived) return std::nullopt;
  catalog::Key32 key{};
  std::copy_n(derived->begin(), key.size(), key.begin());
  return key;
}

// An entry's bytes, or "" for anything but a small regular file: never through a link, never
// blocking on a FIFO someone put there.
std::string ReadEntry(const std::filesystem::path& path) {
  constexpr std::size_t kMaxEntry = 4096;
  const int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return {};
  std::string entry;
  struct stat st {};
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<std::size_t>(st.st_size) <= kMaxEntry) {
    entry.resize(kMaxEntry);
    const ssize_t n = read(fd, entry.data(), entry.size());
    entry.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  }
  close(fd);
  return entry;
}

}  // namespace

std::filesystem::path SpoolKekCache::EntryPath(const catalog::KeySlot& slot) const {
  std::string binding = "slot " + slot.slot_id + " n " + std::to_string(slot.kdf.n) + " r " +
                        std::to_string(slot.kdf.r) + " p " + std::to_string(slot.kdf.p) + " salt ";
  binding.append(reinterpret_cast<const char*>(slot.salt.data()), slot.salt.size());
  const auto digest = io::Sha256(binding);
  return dir_ / io::ToHex(std::span<const std::uint8_t>(digest.data(), 16));
}

std::optional<catalog::Key32> SpoolKekCache::Find(const catalog::KeySlot& slot,
                                                  std::string_view secret) {
  const auto path = EntryPath(slot);
  const std::string entry = ReadEntry(path);
  if (entry.size() < kMagic.size() + kSaltSize + io::kSealOverhead || !entry.starts_with(kMagic)) {
    return std::nullopt;
  }
  const std::string name = path.filename().string();
  const auto key =
      WrappingKey(secret, std::string_view(entry).substr(kMagic.size(), kSaltSize), name);
  if (!key) return std::nullopt;
  auto plain = io::Open(*key, std::string_view(entry).substr(kMagic.size() + kSaltSize), name);
  if (!plain || plain->size() != 32) return std::nullopt;
  catalog::Key32 kek{};
  std::copy_n(plain->begin(), kek.size(), kek.begin());
  return kek;
}

void SpoolKekCache::Remember(const catalog::KeySlot& slot, std::string_view secret,
                             const catalog::Key32& kek) {
  const auto path = EntryPath(slot);
  const std::string name = path.filename().string();
  const auto salt = io::RandomBytes(kSaltSize);
  const std::string salt_bytes(reinterpret_cast<const char*>(salt.data()), salt.size());
  const auto key = WrappingKey(secret, salt_bytes, name);
  if (!key) return;
  std::string entry(kMagic);
  entry += salt_bytes;
  io::Seal(*key, std::string_view(reinterpret_cast<const char*>(kek.data()), kek.size()), name,
           entry);
  WriteEntry(path, entry);
}

void SpoolKekCache::WriteEntry(const std::filesystem::path& path, std::string_view content) const {
  // A cache: failing to write it costs only time.
  if (!WriteFileAtomically(path, content, 0600)) return;
  // lchown: the directory's owner may have put a link there; it must not get its target.
  struct stat dir {};
  if (geteuid() == 0 && stat(dir_.c_str(), &dir) == 0 && dir.st_uid != 0) {
    (void)lchown(path.c_str(), dir.st_uid, dir.st_gid);
  }
}

std::filesystem::path SpoolKekCache::SlotPath(std::string_view repo_id) const {
  // The repository id is hex from a parsed description; anything else gets no entry.
  const bool hex = !repo_id.empty() && repo_id.size() <= 64 &&
                   std::all_of(repo_id.begin(), repo_id.end(),
                               [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  return hex ? dir_ / ("slot-" + std::string(repo_id)) : std::filesystem::path();
}

std::optional<std::string> SpoolKekCache::RecentSlot(std::string_view repo_id) {
  const auto path = SlotPath(repo_id);
  if (slot_ttl_.count() <= 0 || path.empty()) return std::nullopt;
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return std::nullopt;
  const auto age =
      std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
  if (age < std::chrono::seconds(-1) || age > slot_ttl_) return std::nullopt;
  std::string entry = ReadEntry(path);
  if (entry.empty()) return std::nullopt;
  return entry;
}

void SpoolKekCache::RememberSlot(std::string_view repo_id, const catalog::KeySlot& slot) {
  const auto path = SlotPath(repo_id);
  if (slot_ttl_.count() <= 0 || path.empty()) return;
  WriteEntry(path, slot.ToJson());
}

std::optional<std::filesystem::path> HostKekCacheDir(const WalConfig& wal) {
  if (wal.spool.empty()) return std::nullopt;
  struct stat spool {};
  const bool exists = stat(wal.spool.c_str(), &spool) == 0 && S_ISDIR(spool.st_mode);
  if (geteuid() == 0 && !exists) return std::nullopt;
  auto dir = SpoolDir(wal, "kek");
  if (!dir) return std::nullopt;
  if (geteuid() == 0) {
    // The spool's owner controls what is in it: root uses kek/ only as a real directory (never
    // a link to elsewhere) and never follows a link when giving it to that owner.
    struct stat kek {};
    if (lstat(dir->c_str(), &kek) != 0 || !S_ISDIR(kek.st_mode)) return std::nullopt;
    if (exists && spool.st_uid != 0) (void)lchown(dir->c_str(), spool.st_uid, spool.st_gid);
  }
  return dir;
}

}  // namespace drctl::command
