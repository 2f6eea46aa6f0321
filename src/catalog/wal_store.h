// WAL in the repository (doc/format/repository.md, "WAL"): one object per file PostgreSQL
// archives (segments, partial segments, timeline and backup history files), compressed and
// sealed, under wal/<timeline>/<file name>. An object is written once: pushing the same name
// again with the same content succeeds, with different content it is refused (kConflict) and the
// stored object is never replaced. The exception is a partial segment ("<segment>.partial"): it
// grows while it is the current one (wal stream), so a newer upload replaces it atomically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/keys.h"
#include "common/config.h"
#include "common/result.h"
#include "storage/storage.h"

namespace drctl::catalog {

// "wal/00000001/000000010000000000000003" for a file name PostgreSQL uses in pg_wal: grouped by
// timeline (the name's first 8 hex digits; for history files, their own timeline).
std::string WalObjectKey(std::string_view file_name);

struct WalPushResult {
  bool already_stored = false;  // identical content was there: nothing written
  std::uint64_t stored_bytes = 0;
};

// A WAL file's content as it is sealed into its object: compressed (or not, when that does not
// make it smaller), before encryption. It needs no key: a push can pack the file while the
// repositories are still being opened (PackWal on one thread, OpenRepo on another).
struct PackedWal {
  std::string plain;
};
// Compresses `content` on up to `compress_threads` threads (io::CompressInFrames).
PackedWal PackWal(std::string_view content, const Compression& compression,
                  std::size_t compress_threads = 1);

struct WalPushOptions {
  // The caller found the name free moments ago (a Stat while the file was being packed, on a
  // storage without kFeatureAtomicIfAbsent, whose if_absent is that same Stat): write at once.
  bool checked_free = false;
  bool retried = false;  // PushWal's own
};

// Stores `content` (packed as `packed`, from PackWal of that content) as WAL file `file_name`,
// durable before returning.
Result<WalPushResult> PushWal(storage::Storage& storage, const MasterKey& master,
                              std::string_view file_name, std::string_view content,
                              const PackedWal& packed, const WalPushOptions& options = {});
// The same, packing `content` itself.
Result<WalPushResult> PushWal(storage::Storage& storage, const MasterKey& master,
                              std::string_view file_name, std::string_view content,
                              const Compression& compression, std::size_t compress_threads = 1);

// Fetches and verifies WAL file `file_name`: kNotFound if absent (end of archive), kCorrupt if
// damaged.
Result<std::string> FetchWal(storage::Storage& storage, const MasterKey& master,
                             std::string_view file_name);

// As above, into `content` (replaced; its capacity is reused, so fetching segment after segment
// into one string touches no fresh memory).
Status FetchWal(storage::Storage& storage, const MasterKey& master, std::string_view file_name,
                std::string& content);

// A version 1 object (with the content id drctl wrote until version 2, uncompressed), as older
// drctl versions stored it: for tests that prove such objects are still read and compared.
std::string SealWalObjectV1(const MasterKey& master, std::string_view file_name,
                            std::string_view content);

// File names of the stored WAL objects, sorted by timeline, then name (in byte order, so a
// timeline's history file comes before its segments).
Result<std::vector<std::string>> ListWal(storage::Storage& storage);

}  // namespace drctl::catalog
