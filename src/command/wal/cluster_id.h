// Which PostgreSQL cluster a repository archives: wal/cluster.json holds the system identifier
// of the first cluster that stored WAL or a backup there, and everything of another cluster is
// refused (two clusters' WAL under one name would be a silent disaster at restore time).
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "storage/storage.h"

namespace drctl::command {

// Records `system_identifier` if the repository has no cluster yet; kConflict naming `what` (the
// segment or backup) if it belongs to another cluster.
Status CheckCluster(storage::Storage& storage, std::uint64_t system_identifier,
                    const std::string& what);

}  // namespace drctl::command
