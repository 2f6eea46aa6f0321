#include "common/secret.h"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "common/process.h"

namespace drctl {
namespace {

void TrimTrailingNewline(std::string& s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
}

}  // namespace

std::string SecretRef::Describe() const {
  switch (kind) {
    case SecretKind::kEnv: {
      const char* v = std::getenv(source.c_str());
      return "env " + source + (v != nullptr && *v != '\0' ? " (set)" : " (not set)");
    }
    case SecretKind::kFile:
      return "file " + source;
    case SecretKind::kCommand:
      return "command " + source;
  }
  return "?";
}

Result<std::string> ResolveSecret(const SecretRef& ref) {
  switch (ref.kind) {
    case SecretKind::kEnv: {
      const char* v = std::getenv(ref.source.c_str());
      if (v == nullptr || *v == '\0') {
        return Fail(ErrorCode::kConfig, "environment variable " + ref.source + " is not set",
                    "export it, or name another source in the config");
      }
      return std::string(v);
    }
    case SecretKind::kFile: {
      std::ifstream in(ref.source, std::ios::binary);
      if (!in) {
        return Fail(ErrorCode::kIo, "cannot read secret file " + ref.source,
                    "check that it exists and is readable by this user");
      }
      std::ostringstream buf;
      buf << in.rdbuf();
      std::string secret = buf.str();
      TrimTrailingNewline(secret);
      if (secret.empty())
        return Fail(ErrorCode::kConfig, "secret file " + ref.source + " is empty");
      return secret;
    }
    case SecretKind::kCommand: {
      auto run = RunCommand({"/bin/sh", "-c", ref.source}, std::chrono::seconds(60));
      if (!run) return std::unexpected(run.error().WithContext("secret command"));
      if (run->exit_status != 0) {
        // stderr may help; stdout may hold a partial secret and is never shown.
        return Fail(ErrorCode::kCommandFailed,
                    "secret command exited with status " + std::to_string(run->exit_status) +
                        (run->err.empty() ? "" : ": " + run->err.substr(0, 200)),
                    "run the command named in the config by hand to see why");
      }
      TrimTrailingNewline(run->out);
      if (run->out.empty()) return Fail(ErrorCode::kConfig, "secret command printed nothing");
      return std::move(run->out);
    }
  }
  return Fail(ErrorCode::kInternal, "unknown secret kind");
}

}  // namespace drctl
