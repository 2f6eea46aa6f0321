// The backups of a repository, as their manifests say (doc/format/manifest.md): listing, loading,
// writing (the commit of a backup), deleting (expiry), and the mark set of garbage collection.
// There is no other catalog: the manifests under backups/ are the truth, so a fresh machine sees
// exactly what the repository holds.
//
// Thread-safety: every function may be called concurrently (Storage is thread-safe); a write and
// a load racing may or may not see the new manifest, never a partial one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/gc.h"
#include "catalog/keys.h"
#include "catalog/manifest.h"
#include "common/result.h"
#include "storage/storage.h"

namespace drctl::catalog {

struct LoadOptions {
  // Null: any damaged manifest (kCorrupt, kUnsupported) fails the load. Non-null: damaged
  // manifests are skipped and their errors appended here (listing and restore of the other
  // backups can go on; the caller reports them). Other errors (unreachable storage) always fail.
  std::vector<Error>* damaged = nullptr;
  // Drop each manifest's file list (and with it its chunk lists) once decoded: what listing and
  // retention need, in memory proportional to the number of backups only.
  bool without_files = false;
};

// A new backup id for a backup starting at `unix_time`: "YYYYMMDDTHHMMSSZ-" (UTC) and 4 random
// lowercase hex digits, so ids sort by start time and two backups in one second differ.
std::string NewBackupId(std::int64_t unix_time);

// Ids of the backups whose manifest objects exist, ascending (i.e. by start time), without
// reading them. Keys under backups/ that are not "<valid id>.manifest" are not listed.
Result<std::vector<std::string>> ListBackupIds(storage::Storage& storage);

// One backup's manifest: kUsage if `backup_id` is not a backup id, kNotFound (naming the backup and
// the repository) if it has no manifest, else as DecodeManifest.
Result<Manifest> LoadManifest(storage::Storage& storage, const MasterKey& master,
                              std::string_view backup_id);

// Every manifest under backups/ ("<anything>.manifest" directly below it; one whose name is not a
// valid backup id is damaged), sorted by start time, then start LSN (two backups of one cluster
// started in the same second), then backup id.
Result<std::vector<Manifest>> LoadManifests(storage::Storage& storage, const MasterKey& master,
                                            const LoadOptions& options = {});

// Commits a backup: encodes `manifest` and writes it durably, only if absent (kConflict naming
// the backup if a manifest with its id exists; it is never replaced). The caller must have made
// every chunk it names and the WAL it needs durable first.
Status WriteManifest(storage::Storage& storage, const MasterKey& master, const Manifest& manifest);

// Removes a backup from the repository (its chunks become garbage for the next GC). kUsage if
// `backup_id` is not a backup id; deleting an absent manifest succeeds (expiry may be re-run).
Status DeleteManifest(storage::Storage& storage, std::string_view backup_id);

// The mark set of garbage collection: every chunk of every manifest. Refuses (returns the error)
// if any manifest cannot be read, authenticated or understood, whatever its kind: a manifest
// left out would make its chunks look unreferenced. Reads one manifest at a time, so memory is
// the set of distinct live chunk ids.
Result<ChunkSet> LiveChunks(storage::Storage& storage, const MasterKey& master);

}  // namespace drctl::catalog
