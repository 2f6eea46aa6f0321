#include "command/command_output.h"

namespace drctl::command {

Result<std::vector<const RepoConfig*>> SelectRepos(const Config& config, const std::string& name) {
  if (config.repos.empty()) {
    return Fail(ErrorCode::kConfig, "no repository is configured",
                "add a [[repo]] section with a name and a url to the config");
  }
  std::vector<const RepoConfig*> out;
  if (name.empty()) {
    for (const auto& repo : config.repos) out.push_back(&repo);
    return out;
  }
  if (const RepoConfig* repo = config.FindRepo(name)) return std::vector{repo};
  std::string known;
  for (const auto& repo : config.repos) known += (known.empty() ? "" : ", ") + repo.name;
  return Fail(ErrorCode::kConfig, "no repository named '" + name + "' in the config",
              "configured: " + known);
}

}  // namespace drctl::command
