#include "catalog/chunk_store.h"

#include "io/random.h"

namespace drctl::catalog {

ChunkStore::ChunkStore(storage::Storage& storage, const MasterKey& master, Compression compression,
                       std::size_t pack_size)
    : storage_(storage), master_(master), compression_(compression), pack_size_(pack_size) {}

ChunkStore::~ChunkStore() = default;

Status ChunkStore::LoadIndexes() {
  std::vector<std::string> keys;
  DRCTL_TRY(storage_.List("index/", [&](const storage::ObjectInfo& info) {
    keys.push_back(info.key);
    return Ok();
  }));
  for (const auto& key : keys) {
    auto data = storage_.Read(key);
    if (!data) return std::unexpected(data.error().WithContext("loading the chunk index"));
    auto entries = DecodeIndex(master_, *data, storage_.Describe() + "/" + key);
    if (!entries) return std::unexpected(entries.error());
    std::lock_guard lock(mu_);
    for (const auto& e : *entries) known_[e.chunk_id] = {e.pack_id, e.offset, e.length};
  }
  return Ok();
}

std::optional<ChunkLocation> ChunkStore::Locate(const ChunkId& id) const {
  std::lock_guard lock(mu_);
  auto it = known_.find(id);
  if (it == known_.end()) return std::nullopt;
  return it->second;
}

bool ChunkStore::Contains(const ChunkId& id) const {
  std::lock_guard lock(mu_);
  return known_.contains(id);
}

std::size_t ChunkStore::size() const {
  std::lock_guard lock(mu_);
  return known_.size();
}

Result<std::unique_ptr<PackBuilder>> ChunkStore::TakeBuilder() {
  {
    std::lock_guard lock(mu_);
    if (!idle_builders_.empty()) {
      auto builder = std::move(idle_builders_.back());
      idle_builders_.pop_back();
      return builder;
    }
  }
  return std::make_unique<PackBuilder>(master_, compression_);
}

Result<ChunkId> ChunkStore::Put(std::string_view chunk) {
  const ChunkId id = master_.IdOf(chunk);
  {
    std::lock_guard lock(mu_);
    ++stats_.chunks_put;
    stats_.bytes_put += chunk.size();
    if (known_.contains(id) || !in_flight_.insert(id).second) return id;
  }
  auto builder = TakeBuilder();
  if (!builder) return std::unexpected(builder.error());
  auto entry = (*builder)->Add(id, chunk);
  if (!entry) return std::unexpected(entry.error());
  {
    std::lock_guard lock(mu_);
    ++stats_.chunks_new;
    stats_.bytes_new += chunk.size();
  }
  if ((*builder)->size() >= pack_size_) {
    DRCTL_TRY(UploadPack(std::move(*builder)));
  } else {
    std::lock_guard lock(mu_);
    idle_builders_.push_back(std::move(*builder));
  }
  return id;
}

Status ChunkStore::UploadPack(std::unique_ptr<PackBuilder> builder) {
  if (builder->chunks() == 0) return Ok();
  const PackId pack_id = builder->id();
  const std::vector<PackEntry> entries = builder->entries();
  const std::string pack = builder->Finish();
  const std::string key = PackKey(pack_id);
  auto written =
      storage_.Write(key, pack, storage::WriteOptions{.durable = true, .if_absent = false});
  std::vector<IndexEntry> indexed;
  {
    std::lock_guard lock(mu_);
    if (!written) {
      // The chunks are lost with the pack: let a later Put store them again.
      for (const auto& e : entries) in_flight_.erase(e.chunk_id);
      return std::unexpected(written.error().WithContext("uploading pack " + key));
    }
    ++stats_.packs_written;
    stats_.bytes_stored += pack.size();
    for (const auto& e : entries) {
      in_flight_.erase(e.chunk_id);
      known_[e.chunk_id] = {pack_id, e.offset, e.length};
      (index_every_pack_ ? indexed : uncommitted_)
          .push_back({e.chunk_id, pack_id, e.offset, e.length});
    }
  }
  if (indexed.empty()) return Ok();
  return WriteIndex(std::move(indexed));
}

Status ChunkStore::WriteIndex(std::vector<IndexEntry> entries) {
  const IndexId id = io::RandomArray<16>();
  const std::string key = IndexKey(id);
  auto written = storage_.Write(key, EncodeIndex(master_, id, entries),
                                storage::WriteOptions{.durable = true, .if_absent = true});
  std::lock_guard lock(mu_);
  if (!written) {
    // Kept for the next Commit, which retries writing them.
    uncommitted_.insert(uncommitted_.end(), entries.begin(), entries.end());
    return std::unexpected(written.error().WithContext("writing index " + key));
  }
  ++stats_.indexes_written;
  return Ok();
}

Status ChunkStore::Commit() {
  std::vector<std::unique_ptr<PackBuilder>> open;
  {
    std::lock_guard lock(mu_);
    open.swap(idle_builders_);
  }
  for (auto& builder : open) DRCTL_TRY(UploadPack(std::move(builder)));
  std::vector<IndexEntry> entries;
  {
    std::lock_guard lock(mu_);
    entries.swap(uncommitted_);
  }
  if (entries.empty()) return Ok();
  return WriteIndex(std::move(entries));
}

Result<std::string> ChunkStore::Get(const ChunkId& id) {
  ChunkLocation loc;
  {
    std::lock_guard lock(mu_);
    auto it = known_.find(id);
    if (it == known_.end()) {
      return Fail(ErrorCode::kNotFound,
                  "chunk " + io::ToHex(id) + " is not in " + storage_.Describe(),
                  "the repository lacks data a manifest needs; run drctl verify");
    }
    loc = it->second;
  }
  const std::string key = PackKey(loc.pack_id);
  const std::string where = storage_.Describe() + "/" + key;
  auto blob = storage_.Read(key, storage::ByteRange{loc.offset, loc.length});
  if (!blob) return std::unexpected(blob.error().WithContext("reading chunk " + io::ToHex(id)));
  if (blob->size() != loc.length) {
    return Fail(ErrorCode::kCorrupt, "pack " + where + " returned a short read (truncated?)");
  }
  return OpenChunk(master_, DerivePackKey(master_, loc.pack_id), id, *blob, where);
}

ChunkStoreStats ChunkStore::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace drctl::catalog
