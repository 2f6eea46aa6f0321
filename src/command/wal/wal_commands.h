// drctl wal push / wal get: PostgreSQL's archive_command and restore_command.
//   archive_command = 'drctl wal push %p'     restore_command = 'drctl wal get %f %p'
// push exits 0 only once the file is durable in every selected repository; a segment from
// another cluster (system identifier) or different content under an existing name is refused and
// nothing is overwritten. get writes the file atomically; when no repository has it (the end of
// the archive, which PostgreSQL asks for on purpose) it exits with not_found (4) and says nothing.
#pragma once

#include <string>

#include "command/command_output.h"
#include "common/config.h"

namespace drctl::command {

Result<CommandOutput> WalPush(const Config& config, const std::string& path,
                              const std::string& repo);

// Result: the output, or kNotFound (quiet: the CLI prints nothing for it) or another error.
Result<CommandOutput> WalGet(const Config& config, const std::string& name,
                             const std::string& destination, const std::string& repo);

}  // namespace drctl::command
