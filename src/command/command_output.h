// What a command produces for the operator: a text rendering and the same facts as JSON. The CLI
// prints one of them (--output); commands never print themselves.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"

namespace drctl::command {

struct CommandOutput {
  std::string text;
  nlohmann::json json;
  // Set when the command did its work but part of it failed: the CLI prints the output, then
  // the error, and exits with the error's code.
  std::optional<Error> failure;
};

// The repositories a command acts on: the one named by --repo, or every configured one.
// kConfig when none is configured or the name is unknown.
Result<std::vector<const RepoConfig*>> SelectRepos(const Config& config, const std::string& name);

}  // namespace drctl::command
