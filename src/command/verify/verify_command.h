// drctl verify: proves what a restore needs, per repository (doc/commands/verify.md): every
// manifest authenticates; every chunk it references is indexed, its pack exists and every blob of
// that pack authenticates; each backup's own WAL (start..stop) is stored and the WAL is continuous
// from the oldest backup's start to the end of the archive on each timeline (gaps listed); every
// WAL object authenticates; and each repository holds what the others hold (missing backups and
// WAL listed, with the lag). Incremental: packs and WAL objects proven before and unchanged since
// (verify_state.h) are not read again; `full` reads everything.
#pragma once

#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

struct VerifyOptions {
  std::string repo;  // empty: every configured repository
  bool full = false;
};

// The report; when anything makes a repository not (fully) restorable, the output carries a
// kVerifyFailed failure (exit 17) summarising the problems, which the report lists one by one.
Result<CommandOutput> Verify(const Config& config, const VerifyOptions& options);

}  // namespace drctl::command
