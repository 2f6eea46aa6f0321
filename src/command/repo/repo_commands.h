// drctl repo init / repo key add|list|remove / info: creating repositories, managing their key
// slots, and describing them. Each acts on every configured repository, or the one --repo names.
// Secrets come from SecretRefs (config or --passphrase-env/-file/-command), never from argv.
#pragma once

#include <string>

#include "catalog/key_slot.h"
#include "command/command_output.h"
#include "common/config.h"
#include "common/secret.h"

namespace drctl::command {

struct RepoInitOptions {
  std::string repo;            // empty: all configured
  bool no_encryption = false;  // --encryption none
  catalog::ScryptParams kdf;   // slot parameters (tests use cheaper ones)
};

Result<CommandOutput> RepoInit(const Config& config, const RepoInitOptions& options);

Result<CommandOutput> RepoKeyList(const Config& config, const std::string& repo);

struct RepoKeyAddOptions {
  std::string repo;
  SecretRef new_secret;
  catalog::SlotKind kind = catalog::SlotKind::kPassphrase;
  std::string label = "added";
  catalog::ScryptParams kdf;
};

Result<CommandOutput> RepoKeyAdd(const Config& config, const RepoKeyAddOptions& options);

Result<CommandOutput> RepoKeyRemove(const Config& config, const std::string& repo,
                                    const std::string& slot_id);

struct RepoSyncOptions {
  std::string from;  // empty: every configured repository
  std::string to;    // empty: every configured repository
  bool dry_run = false;
};

// Copies what each target lacks from each source, without decrypting (siblings share a key).
Result<CommandOutput> RepoSync(const Config& config, const RepoSyncOptions& options);

// Every selected repository: location, format, encryption, key slots, objects and bytes. A
// repository that cannot be opened is listed with its error and the output's failure is set (the
// first such error), so one broken repository does not hide the others.
Result<CommandOutput> Info(const Config& config, const std::string& repo);

}  // namespace drctl::command
