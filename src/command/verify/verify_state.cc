#include "command/verify/verify_state.h"

#include <nlohmann/json.hpp>

#include "io/cipher.h"
#include "io/hash.h"

namespace drctl::command {
namespace {

catalog::Key32 StateKey(const catalog::MasterKey& master) {
  return master.Derive(io::AsBytes(kVerifyStateKey), "drctl verify state v1");
}

}  // namespace

VerifyState LoadVerifyState(storage::Storage& storage, const catalog::MasterKey& master) {
  VerifyState state;
  auto sealed = storage.Read(kVerifyStateKey);
  if (!sealed) return state;
  auto plain = io::Open(StateKey(master), *sealed, kVerifyStateKey);
  if (!plain) return state;
  auto j = nlohmann::json::parse(*plain, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return state;
  try {
    state.verified_at = j.value("verified_at", std::int64_t{0});
    for (const auto& [key, proof] : j.at("objects").items()) {
      state.objects[key] = {proof.at(0).get<std::string>(), proof.at(1).get<std::int64_t>()};
    }
  } catch (const nlohmann::json::exception&) {
    return VerifyState{};
  }
  return state;
}

Status SaveVerifyState(storage::Storage& storage, const catalog::MasterKey& master,
                       const VerifyState& state) {
  nlohmann::json objects = nlohmann::json::object();
  for (const auto& [key, proof] : state.objects) {
    objects[key] = nlohmann::json::array({proof.stamp, proof.verified_at});
  }
  nlohmann::json j = {{"verified_at", state.verified_at}, {"objects", objects}};
  return storage.Write(kVerifyStateKey, io::Seal(StateKey(master), j.dump(), kVerifyStateKey),
                       {.durable = true});
}

}  // namespace drctl::command
