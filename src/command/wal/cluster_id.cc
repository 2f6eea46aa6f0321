#include "command/wal/cluster_id.h"

namespace drctl::command {
namespace {

constexpr std::string_view kClusterKey = "wal/cluster.json";

}  // namespace

Status CheckCluster(storage::Storage& storage, std::uint64_t system_identifier,
                    const std::string& what) {
  const std::string mine =
      "{\"system_identifier\": \"" + std::to_string(system_identifier) + "\"}\n";
  auto stored = storage.Read(kClusterKey);
  if (!stored) {
    if (stored.error().code() != ErrorCode::kNotFound) return std::unexpected(stored.error());
    auto written = storage.Write(kClusterKey, mine, {.durable = true, .if_absent = true});
    if (written || written.error().code() != ErrorCode::kConflict) return written;
    stored = storage.Read(kClusterKey);
    if (!stored) return std::unexpected(stored.error());
  }
  if (*stored != mine) {
    return Fail(ErrorCode::kConflict,
                what + " belongs to cluster " + std::to_string(system_identifier) + ", but " +
                    storage.Describe() + " archives another cluster (" + std::string(kClusterKey) +
                    ": " + *stored + ")",
                "give each cluster its own repository (or prefix)");
  }
  return Ok();
}

}  // namespace drctl::command
