// Where a secret comes from. The config names a source (an environment variable, a file, or a
// command whose standard output is the secret); the secret itself is never in the config, argv,
// logs or error messages.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"

namespace drctl {

enum class SecretKind : std::uint8_t { kEnv, kFile, kCommand };

struct SecretRef {
  SecretKind kind = SecretKind::kEnv;
  std::string source;  // variable name, file path, or shell command

  // "env DRCTL_PASSPHRASE (set)", "file /etc/drctl/pass", "command vault read ...": where the
  // secret comes from, never the secret.
  std::string Describe() const;
};

// Produces the secret. A trailing newline (from a file or a command) is removed. Errors name the
// source, never the value: kConfig for an unset/empty variable or empty output, kIo for an
// unreadable file, kCommandFailed for a command that fails.
Result<std::string> ResolveSecret(const SecretRef& ref);

}  // namespace drctl
