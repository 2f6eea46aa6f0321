#include "daemon/daemon_state.h"

#include <fstream>
#include <sstream>

#include "common/atomic_file.h"

namespace drctl::daemon {

Result<DaemonState> LoadDaemonState(const std::filesystem::path& file) {
  DaemonState state;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return state;
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) return Fail(ErrorCode::kIo, "cannot read " + file.string());
  return ParseDaemonState(text.str(), file);
}

Result<DaemonState> ParseDaemonState(std::string_view text, const std::filesystem::path& file) {
  DaemonState state;
  auto bad = [&](const std::string& why) {
    return Fail(ErrorCode::kCorrupt, "daemon state " + file.string() + ": " + why,
                "move the file away to start with a fresh state (job times and active alerts "
                "are forgotten)");
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || *version != 1) {
    return bad("unknown version");
  }
  const auto jobs = j.value("jobs", nlohmann::json::object());
  if (!jobs.is_object()) return bad("\"jobs\" is not an object");
  for (const auto& [name, record] : jobs.items()) {
    auto r = RecordFromJson(record);
    if (!r) return bad("job " + name + ": " + r.error().message());
    state.jobs[name] = *r;
  }
  state.alerts = j.value("alerts", nlohmann::json(nullptr));
  state.outbox = j.value("outbox", nlohmann::json(nullptr));
  return state;
}

Status SaveDaemonState(const std::filesystem::path& file, const DaemonState& state) {
  nlohmann::json jobs = nlohmann::json::object();
  for (const auto& [name, record] : state.jobs) jobs[name] = RecordToJson(record);
  const nlohmann::json j = {
      {"version", 1}, {"jobs", jobs}, {"alerts", state.alerts}, {"outbox", state.outbox}};
  return WriteFileAtomically(file, j.dump(2) + "\n", 0600);
}

}  // namespace drctl::daemon
