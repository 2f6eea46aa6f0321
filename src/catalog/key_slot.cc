#include "catalog/key_slot.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "catalog/json_fields.h"
#include "io/cipher.h"
#include "io/kdf.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

// Bounds a stored slot must respect: a damaged or hostile slot must not exhaust memory or time.
constexpr std::uint64_t kMaxN = 1U << 20;
constexpr std::uint32_t kMaxR = 32;
constexpr std::uint32_t kMaxP = 16;

std::string Aad(std::string_view repo_id, std::string_view slot_id) {
  return "drctl key slot v1 " + std::string(repo_id) + " " + std::string(slot_id);
}

Result<Key32> Kek(std::string_view secret, const std::vector<std::uint8_t>& salt,
                  const ScryptParams& p) {
  auto derived = io::Scrypt(secret, salt, p.n, p.r, p.p, 32);
  if (!derived) return std::unexpected(derived.error());
  Key32 kek{};
  std::copy_n(derived->begin(), 32, kek.begin());
  return kek;
}

}  // namespace

std::string_view SlotKindName(SlotKind kind) {
  switch (kind) {
    case SlotKind::kPassphrase:
      return "passphrase";
    case SlotKind::kKeyFile:
      return "keyfile";
    case SlotKind::kCommand:
      return "command";
  }
  return "?";
}

KeySlot KeySlot::Create(const MasterKey& master, std::string_view secret, std::string_view repo_id,
                        SlotKind kind, std::string label, const ScryptParams& params,
                        KekCache* cache) {
  KeySlot slot;
  slot.slot_id = io::ToHex(io::RandomArray<8>());
  slot.kind = kind;
  slot.label = std::move(label);
  slot.created = static_cast<std::int64_t>(std::time(nullptr));
  slot.kdf = params;
  slot.salt = io::RandomBytes(16);
  const auto kek = Kek(secret, slot.salt, params);
  if (!kek) std::abort();  // parameters are ours and valid: a failure here is a bug
  const auto bytes = master.Bytes();
  slot.wrapped_key =
      io::Seal(*kek, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
               Aad(repo_id, slot.slot_id));
  if (cache != nullptr) cache->Remember(slot, secret, *kek);
  return slot;
}

Result<MasterKey> KeySlot::Unwrap(std::string_view secret, std::string_view repo_id,
                                  KekCache* cache) const {
  auto open = [&](const Key32& kek) -> std::optional<MasterKey> {
    auto plain = io::Open(kek, wrapped_key, Aad(repo_id, slot_id));
    if (!plain || plain->size() != MasterKey::kSize) return std::nullopt;
    std::array<std::uint8_t, MasterKey::kSize> bytes{};
    std::copy(plain->begin(), plain->end(), bytes.begin());
    return MasterKey::FromBytes(bytes);
  };
  if (cache != nullptr) {
    if (auto remembered = cache->Find(*this, secret)) {
      if (auto master = open(*remembered)) return *master;
    }
  }
  auto kek = Kek(secret, salt, kdf);
  if (!kek) return std::unexpected(kek.error());
  auto master = open(*kek);
  if (!master) {
    return Fail(ErrorCode::kWrongSecret, "the secret does not open key slot " + slot_id,
                "check the passphrase, key file or key command");
  }
  if (cache != nullptr) cache->Remember(*this, secret, *kek);
  return *master;
}

std::string KeySlot::ToJson() const {
  nlohmann::json j = {
      {"slot_id", slot_id},
      {"kind", std::string(SlotKindName(kind))},
      {"label", label},
      {"created", FormatUtc(created)},
      {"kdf",
       {{"name", "scrypt"},
        {"n", kdf.n},
        {"r", kdf.r},
        {"p", kdf.p},
        {"salt", EncodeBase64(salt)}}},
      {"wrapped_key", EncodeBase64({reinterpret_cast<const std::uint8_t*>(wrapped_key.data()),
                                    wrapped_key.size()})},
  };
  return j.dump(2) + "\n";
}

Result<KeySlot> KeySlot::FromJson(std::string_view text, const std::string& object) {
  auto f = JsonFields::Parse(text, object);
  if (!f) return std::unexpected(f.error());
  KeySlot slot;
  auto id = f->Hex("slot_id", 8);
  if (!id) return std::unexpected(id.error());
  slot.slot_id = io::ToHex(*id);
  auto kind = f->String("kind");
  if (!kind) return std::unexpected(kind.error());
  if (*kind == "passphrase") {
    slot.kind = SlotKind::kPassphrase;
  } else if (*kind == "keyfile") {
    slot.kind = SlotKind::kKeyFile;
  } else if (*kind == "command") {
    slot.kind = SlotKind::kCommand;
  } else {
    return Fail(ErrorCode::kCorrupt, object + ": unknown slot kind \"" + *kind + "\"");
  }
  auto label = f->String("label");
  if (!label) return std::unexpected(label.error());
  slot.label = *label;
  auto created = f->String("created");
  if (!created) return std::unexpected(created.error());
  auto created_time = ParseUtc(*created);
  if (!created_time) return std::unexpected(created_time.error().WithContext(object));
  slot.created = *created_time;
  auto kdf = f->Object("kdf");
  if (!kdf) return std::unexpected(kdf.error());
  auto name = kdf->String("name");
  if (!name) return std::unexpected(name.error());
  if (*name != "scrypt")
    return Fail(ErrorCode::kCorrupt, object + ": unknown kdf \"" + *name + "\"");
  auto n = kdf->Int("n", 2, static_cast<std::int64_t>(kMaxN));
  auto r = kdf->Int("r", 1, kMaxR);
  auto p = kdf->Int("p", 1, kMaxP);
  if (!n) return std::unexpected(n.error());
  if (!r) return std::unexpected(r.error());
  if (!p) return std::unexpected(p.error());
  const auto un = static_cast<std::uint64_t>(*n);
  if ((un & (un - 1)) != 0)
    return Fail(ErrorCode::kCorrupt, object + ": kdf n is not a power of 2");
  slot.kdf = {un, static_cast<std::uint32_t>(*r), static_cast<std::uint32_t>(*p)};
  auto salt = kdf->Bytes("salt", 16);
  if (!salt) return std::unexpected(salt.error());
  slot.salt = *salt;
  auto wrapped = f->Bytes("wrapped_key", MasterKey::kSize + io::kSealOverhead);
  if (!wrapped) return std::unexpected(wrapped.error());
  slot.wrapped_key.assign(wrapped->begin(), wrapped->end());
  return slot;
}

}  // namespace drctl::catalog
