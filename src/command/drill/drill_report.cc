#include "command/drill/drill_report.h"

#include <algorithm>
#include <ctime>

#include "io/cipher.h"
#include "io/hash.h"
#include "io/random.h"

namespace drctl::command {
namespace {

constexpr std::string_view kInfo = "drctl drill report v1";

catalog::Key32 ReportKey(const catalog::MasterKey& master, const std::string& key) {
  return master.Derive(io::AsBytes(key), kInfo);
}

std::string ReportKeyName(const std::string& drill_id) { return "drills/" + drill_id + ".json"; }

}  // namespace

std::string NewDrillId(std::int64_t unix_time) {
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  return std::string("drill-") + stamp + "-" + io::ToHex(io::RandomArray<2>());
}

Status WriteDrillReport(storage::Storage& storage, const catalog::MasterKey& master,
                        const std::string& drill_id, const nlohmann::json& report) {
  const std::string key = ReportKeyName(drill_id);
  return storage.Write(key, io::Seal(ReportKey(master, key), report.dump(), key),
                       {.durable = true, .if_absent = true});
}

Result<std::vector<nlohmann::json>> LatestDrillReports(storage::Storage& storage,
                                                       const catalog::MasterKey& master,
                                                       std::size_t count,
                                                       std::vector<std::string>* damaged) {
  std::vector<std::string> keys;
  DRCTL_TRY(storage.List("drills/", [&](const storage::ObjectInfo& info) {
    if (info.key.ends_with(".json")) keys.push_back(info.key);
    return Ok();
  }));
  // Ids start with the UTC start time: newest last in byte order.
  std::sort(keys.begin(), keys.end(), std::greater<>());
  std::vector<nlohmann::json> out;
  for (const auto& key : keys) {
    if (out.size() >= count) break;
    auto sealed = storage.Read(key);
    if (!sealed) return std::unexpected(sealed.error());
    auto plain = io::Open(ReportKey(master, key), *sealed, key);
    auto j = plain ? nlohmann::json::parse(*plain, nullptr, false) : nlohmann::json();
    if (!plain || j.is_discarded() || !j.is_object()) {
      if (damaged != nullptr) damaged->push_back(storage.Describe() + "/" + key);
      continue;
    }
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace drctl::command
