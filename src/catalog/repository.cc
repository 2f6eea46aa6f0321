#include "catalog/repository.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "catalog/json_fields.h"
#include "io/random.h"

namespace drctl::catalog {
namespace {

std::string Where(storage::Storage& s, std::string_view key) {
  return s.Describe() + "/" + std::string(key);
}

Result<std::vector<KeySlot>> ReadSlots(storage::Storage& s) {
  std::vector<std::string> keys;
  DRCTL_TRY(s.List("keys/", [&](const storage::ObjectInfo& info) {
    keys.push_back(info.key);
    return Ok();
  }));
  std::vector<KeySlot> slots;
  for (const auto& key : keys) {
    auto text = s.Read(key);
    if (!text) return std::unexpected(text.error());
    auto slot = KeySlot::FromJson(*text, Where(s, key));
    if (!slot) return std::unexpected(slot.error());
    slots.push_back(std::move(*slot));
  }
  return slots;
}

}  // namespace

std::string RepoDescription::ToJson() const {
  nlohmann::json j = {{"format", "drctl-repository"},
                      {"version", version},
                      {"repo_id", repo_id},
                      {"created", FormatUtc(created)},
                      {"encryption", encrypted ? "aes-256-gcm" : "none"},
                      {"chunk_size", chunk_size},
                      {"pack_size", pack_size},
                      {"plain_master_key", nullptr}};
  if (plain_master) j["plain_master_key"] = EncodeBase64(plain_master->Bytes());
  return j.dump(2) + "\n";
}

Result<RepoDescription> RepoDescription::FromJson(std::string_view text,
                                                  const std::string& object) {
  auto f = JsonFields::Parse(text, object);
  if (!f) return std::unexpected(f.error());
  auto format = f->String("format");
  if (!format) return std::unexpected(format.error());
  if (*format != "drctl-repository") {
    return Fail(ErrorCode::kCorrupt, object + " is not a drctl repository description");
  }
  RepoDescription d;
  auto version = f->Int("version", 1, 1000);
  if (!version) return std::unexpected(version.error());
  if (*version != 1) {
    return Fail(
        ErrorCode::kUnsupported,
        object + " has format version " + std::to_string(*version) + ", this drctl reads version 1",
        "use a newer drctl");
  }
  auto id = f->Hex("repo_id", 16);
  if (!id) return std::unexpected(id.error());
  d.repo_id = io::ToHex(*id);
  auto created = f->String("created");
  if (!created) return std::unexpected(created.error());
  auto created_time = ParseUtc(*created);
  if (!created_time) return std::unexpected(created_time.error().WithContext(object));
  d.created = *created_time;
  auto enc = f->String("encryption");
  if (!enc) return std::unexpected(enc.error());
  if (*enc != "aes-256-gcm" && *enc != "none") {
    return Fail(ErrorCode::kCorrupt, object + ": unknown encryption \"" + *enc + "\"");
  }
  d.encrypted = *enc == "aes-256-gcm";
  auto chunk = f->Int("chunk_size", 65536, 16 << 20);
  auto pack = f->Int("pack_size", 1 << 20, 1 << 30);
  if (!chunk) return std::unexpected(chunk.error());
  if (!pack) return std::unexpected(pack.error());
  if (*chunk % 8192 != 0) {
    return Fail(ErrorCode::kCorrupt, object + ": chunk_size is not a multiple of 8192");
  }
  d.chunk_size = static_cast<std::uint32_t>(*chunk);
  d.pack_size = static_cast<std::uint32_t>(*pack);
  if (!d.encrypted) {
    auto key = f->Bytes("plain_master_key", MasterKey::kSize);
    if (!key) return std::unexpected(key.error());
    std::array<std::uint8_t, MasterKey::kSize> bytes{};
    std::copy(key->begin(), key->end(), bytes.begin());
    d.plain_master = MasterKey::FromBytes(bytes);
  } else if (!f->IsNull("plain_master_key")) {
    return Fail(ErrorCode::kCorrupt, object + ": an encrypted repository holds a plain key");
  }
  return d;
}

Result<Repository> Repository::Init(std::unique_ptr<storage::Storage> storage,
                                    const InitOptions& options) {
  bool empty = true;
  auto listed = storage->List("", [&](const storage::ObjectInfo&) -> Status {
    empty = false;
    return Fail(ErrorCode::kInterrupted, "one object is enough");
  });
  if (!listed && listed.error().code() != ErrorCode::kInterrupted) {
    return std::unexpected(listed.error());
  }
  if (!empty) {
    return Fail(ErrorCode::kPrecondition, storage->Describe() + " is not empty",
                "a repository is created in an empty location; choose another url or prefix");
  }
  if (options.encrypted && options.secret.empty()) {
    return Fail(ErrorCode::kConfig, "an encrypted repository needs a passphrase or key",
                "set [encryption] passphrase_env/_file/_command, or --encryption none");
  }
  RepoDescription d;
  d.repo_id = io::ToHex(io::RandomArray<16>());
  d.created = static_cast<std::int64_t>(std::time(nullptr));
  d.encrypted = options.encrypted;
  d.chunk_size = options.chunk_size;
  d.pack_size = options.pack_size;
  const MasterKey master = options.master.value_or(MasterKey::Generate());
  if (options.encrypted) {
    const KeySlot slot = KeySlot::Create(master, options.secret, d.repo_id, options.kind,
                                         options.label, options.kdf, options.kek_cache);
    DRCTL_TRY(storage->Write(slot.Key(), slot.ToJson(), {.durable = true, .if_absent = true}));
  } else {
    d.plain_master = master;
  }
  DRCTL_TRY(storage->Write(kDescriptionKey, d.ToJson(), {.durable = true, .if_absent = true}));
  return Repository(std::move(storage), std::move(d), master);
}

Result<Repository> Repository::Open(std::unique_ptr<storage::Storage> storage,
                                    const std::optional<std::string>& secret, KekCache* cache) {
  auto text = storage->Read(kDescriptionKey);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) {
      return Fail(ErrorCode::kNotFound, "there is no drctl repository at " + storage->Describe(),
                  "check the repo url, or create one with drctl repo init");
    }
    return std::unexpected(text.error());
  }
  auto d = RepoDescription::FromJson(*text, Where(*storage, kDescriptionKey));
  if (!d) return std::unexpected(d.error());
  if (!d->encrypted) {
    const MasterKey master = *d->plain_master;
    return Repository(std::move(storage), std::move(*d), master);
  }
  if (!secret || secret->empty()) {
    return Fail(ErrorCode::kConfig, storage->Describe() + " is encrypted and no secret was given",
                "set [encryption] passphrase_env, passphrase_file or passphrase_command");
  }
  if (cache != nullptr) {
    if (auto cached = cache->RecentSlot(d->repo_id)) {
      // Anything but a slot that opens: the repository's own slots decide.
      if (auto slot =
              KeySlot::FromJson(*cached, "the key cache's copy of a slot of " + d->repo_id)) {
        if (auto master = slot->Unwrap(*secret, d->repo_id, cache)) {
          return Repository(std::move(storage), std::move(*d), *master);
        }
      }
    }
  }
  auto slots = ReadSlots(*storage);
  if (!slots) return std::unexpected(slots.error());
  if (slots->empty()) {
    return Fail(ErrorCode::kCorrupt, storage->Describe() + " has no key slots",
                "the keys/ objects are gone; the data cannot be decrypted without them");
  }
  for (const auto& slot : *slots) {
    auto master = slot.Unwrap(*secret, d->repo_id, cache);
    if (master) {
      if (cache != nullptr) cache->RememberSlot(d->repo_id, slot);
      return Repository(std::move(storage), std::move(*d), *master);
    }
    if (master.error().code() != ErrorCode::kWrongSecret) return std::unexpected(master.error());
  }
  return Fail(ErrorCode::kWrongSecret,
              "the secret opens none of the " + std::to_string(slots->size()) + " key slots of " +
                  storage->Describe(),
              "check the passphrase, key file or key command ([encryption] in the config)");
}

Result<std::vector<KeySlot>> Repository::ListKeys() { return ReadSlots(*storage_); }

Result<KeySlot> Repository::AddKey(std::string_view secret, SlotKind kind, std::string label,
                                   const ScryptParams& params) {
  if (!description_.encrypted) {
    return Fail(ErrorCode::kPrecondition, storage_->Describe() + " is not encrypted",
                "key slots exist only in encrypted repositories");
  }
  if (secret.empty()) return Fail(ErrorCode::kConfig, "the new secret is empty");
  KeySlot slot =
      KeySlot::Create(master_, secret, description_.repo_id, kind, std::move(label), params);
  DRCTL_TRY(storage_->Write(slot.Key(), slot.ToJson(), {.durable = true, .if_absent = true}));
  return slot;
}

Status Repository::RemoveKey(std::string_view slot_id) {
  auto slots = ListKeys();
  if (!slots) return std::unexpected(slots.error());
  const KeySlot* target = nullptr;
  for (const auto& s : *slots) {
    if (s.slot_id == slot_id) target = &s;
  }
  if (target == nullptr) {
    return Fail(ErrorCode::kNotFound,
                "no key slot " + std::string(slot_id) + " in " + storage_->Describe(),
                "drctl repo key list shows the slots");
  }
  if (slots->size() == 1) {
    return Fail(ErrorCode::kPrecondition, "key slot " + std::string(slot_id) + " is the last one",
                "add another key first (drctl repo key add); without a slot the data is lost");
  }
  return storage_->Delete(target->Key());
}

std::unique_ptr<ChunkStore> Repository::NewChunkStore(Compression compression) {
  return std::make_unique<ChunkStore>(*storage_, master_, compression, description_.pack_size);
}

Result<RepoUsage> Repository::Usage() {
  RepoUsage usage;
  DRCTL_TRY(storage_->List("", [&](const storage::ObjectInfo& info) {
    ++usage.objects;
    usage.bytes += info.size;
    if (info.key.starts_with("packs/")) ++usage.packs;
    if (info.key.starts_with("index/")) ++usage.indexes;
    return Ok();
  }));
  return usage;
}

}  // namespace drctl::catalog
