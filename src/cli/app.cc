#include "cli/app.h"

#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

#include "cli/config_render.h"
#include "cli/output.h"
#include "command/backup/backup_command.h"
#include "command/demo/demo.h"
#include "command/doctor/doctor_command.h"
#include "command/drill/drill_command.h"
#include "command/expire/expire_command.h"
#include "command/repo/repo_commands.h"
#include "command/restore/restore_command.h"
#include "command/status/status_command.h"
#include "command/verify/verify_command.h"
#include "command/wal/wal_commands.h"
#include "command/wal/wal_stream.h"
#include "common/config.h"
#include "common/log.h"
#include "daemon/daemon.h"

#ifndef DRCTL_VERSION
#define DRCTL_VERSION "0.0.0"
#endif

namespace drctl::cli {
namespace {

struct Globals {
  std::string config_path;
  std::string output = "text";
  std::string log_level = "warn";
};

Result<Config> LoadConfig(const Globals& g) {
  std::optional<std::filesystem::path> explicit_path;
  if (!g.config_path.empty()) explicit_path = g.config_path;
  auto path = FindConfigFile(explicit_path);
  if (!path) return std::unexpected(path.error());
  return LoadConfigFile(*path);
}

int ConfigCheck(const Globals& g, const Output& out) {
  auto config = LoadConfig(g);
  if (!config) return out.Error(config.error());
  nlohmann::json j = ConfigToJson(*config);
  j["ok"] = true;
  out.Result(ConfigToText(*config), j);
  return 0;
}

int ListErrors(const Output& out) {
  nlohmann::json list = nlohmann::json::array();
  std::string text = "exit  name                retry      meaning\n";
  for (const auto& info : ErrorCatalog()) {
    const char* retry = info.retry == Retry::kNow        ? "yes"
                        : info.retry == Retry::kAfterFix ? "after-fix"
                                                         : "no";
    list.push_back({{"exit_code", info.exit_code},
                    {"name", std::string(info.name)},
                    {"retry", retry},
                    {"meaning", std::string(info.meaning)}});
    text += fmt::format("{:<5} {:<19} {:<10} {}\n", info.exit_code, info.name, retry, info.meaning);
  }
  out.Result(text, list);
  return 0;
}

// Prints a command's output, or its error; returns the exit code.
int Finish(const Result<command::CommandOutput>& result, const Output& out) {
  if (!result) return out.Error(result.error());
  if (result->failure) return out.PartialFailure(result->text, result->json, *result->failure);
  out.Result(result->text, result->json);
  return 0;
}

// Runs `body` with the loaded config; config errors end it.
template <typename Body>
int WithConfig(const Globals& g, const Output& out, Body body) {
  auto config = LoadConfig(g);
  if (!config) return out.Error(config.error());
  return Finish(body(*config), out);
}

// The new secret for `repo key add`: exactly one of the three flags.
Result<SecretRef> NewSecretFrom(const std::string& env, const std::string& file,
                                const std::string& cmd) {
  const int given = (env.empty() ? 0 : 1) + (file.empty() ? 0 : 1) + (cmd.empty() ? 0 : 1);
  if (given != 1) {
    return Fail(ErrorCode::kUsage,
                "name the new secret with exactly one of --passphrase-env, "
                "--passphrase-file or --passphrase-command",
                "secrets are never given on the command line itself");
  }
  if (!env.empty()) return SecretRef{SecretKind::kEnv, env};
  if (!file.empty()) return SecretRef{SecretKind::kFile, file};
  return SecretRef{SecretKind::kCommand, cmd};
}

int Demo(const command::DemoOptions& options, const Output& out) {
  if (!out.json()) std::cout << "drctl demo: a throwaway PostgreSQL and a local repository\n";
  auto report = command::RunDemo(options, [&](const command::DemoStep& step) {
    if (!out.json()) {
      std::cout << fmt::format("  {:<4} {:<26} {:>7.2f}s  {}\n", step.ok ? "ok" : "FAIL", step.name,
                               step.seconds, step.detail)
                << std::flush;
    }
  });
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& s : report.steps) {
    steps.push_back({{"name", s.name}, {"ok", s.ok}, {"seconds", s.seconds}, {"detail", s.detail}});
  }
  const std::string summary = report.ok ? "demo finished: every step passed\n"
                                        : "demo FAILED: see the failing step above\n";
  out.Result(out.json() ? "" : summary,
             {{"ok", report.ok}, {"workdir", report.workdir.string()}, {"steps", steps}});
  if (report.ok) return 0;
  return InfoFor(ErrorCode::kVerifyFailed).exit_code;
}

int Daemon(const Globals& g, const Output& out) {
  auto config = LoadConfig(g);
  if (!config) return out.Error(config.error());
  if (!config->source.empty()) config->source = std::filesystem::absolute(config->source);
  // The daemon logs what it does: at least info, unless --log-level asked for more.
  if (g.log_level == "warn") spdlog::set_level(spdlog::level::info);
  std::error_code ec;
  daemon::DaemonOptions options;
  options.drctl_binary = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  options.version = DRCTL_VERSION;
  auto ran = daemon::RunDaemon(*config, options);
  if (!ran) return out.Error(ran.error());
  return 0;
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"drctl: disaster recovery for PostgreSQL + Redis stacks", "drctl"};
  app.set_version_flag("--version", std::string("drctl ") + DRCTL_VERSION);
  app.require_subcommand(1);
  Globals g;
  app.add_option("--config", g.config_path,
                 "config file (default: $DRCTL_CONFIG, ./drctl.toml, /etc/drctl/drctl.toml)");
  app.add_option("--output", g.output, "result format on stdout")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--log-level", g.log_level, "log level on stderr")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  auto* config_cmd = app.add_subcommand("config", "configuration");
  config_cmd->require_subcommand(1);
  auto* check = config_cmd->add_subcommand(
      "check", "validate the config and print it, defaults filled in, secrets masked");

  auto* errors = app.add_subcommand("errors", "list the error codes and exit codes");

  command::DemoOptions demo_options;
  std::string demo_workdir;
  auto* demo = app.add_subcommand(
      "demo", "drctl's main job on embedded defaults, on a throwaway PostgreSQL");
  demo->add_option("--workdir", demo_workdir, "workspace directory (default: a temporary one)");
  demo->add_flag("--keep", demo_options.keep, "keep the workspace afterwards");
  demo->add_option("--users", demo_options.users, "rows in the sample \"User\" table")
      ->check(CLI::Range(1, 10000000));

  std::string repo_name;
  auto* repo_cmd = app.add_subcommand("repo", "repositories: create, manage keys");
  repo_cmd->require_subcommand(1);
  command::RepoInitOptions init_options;
  std::string encryption = "aes-256-gcm";
  auto* repo_init = repo_cmd->add_subcommand(
      "init", "create the configured repositories (refuses a non-empty location)");
  repo_init->add_option("--repo", init_options.repo, "only this repository");
  repo_init->add_option("--encryption", encryption, "aes-256-gcm (default) or none")
      ->check(CLI::IsMember({"aes-256-gcm", "none"}));
  auto* key_cmd = repo_cmd->add_subcommand("key", "key slots: add, list, remove");
  key_cmd->require_subcommand(1);
  auto* key_list = key_cmd->add_subcommand("list", "list the key slots");
  key_list->add_option("--repo", repo_name, "only this repository");
  command::RepoKeyAddOptions add_options;
  std::string new_env;
  std::string new_file;
  std::string new_cmd;
  auto* key_add =
      key_cmd->add_subcommand("add", "add a key slot for a new secret (data is not rewritten)");
  key_add->add_option("--repo", add_options.repo, "only this repository");
  key_add->add_option("--passphrase-env", new_env, "variable holding the new passphrase");
  key_add->add_option("--passphrase-file", new_file, "file holding the new passphrase or key");
  key_add->add_option("--passphrase-command", new_cmd, "command printing the new secret");
  key_add->add_option("--label", add_options.label, "a note on the slot (who, where)");
  std::string slot_id;
  auto* key_remove = key_cmd->add_subcommand("remove", "remove a key slot (never the last one)");
  key_remove->add_option("--repo", repo_name, "only this repository");
  key_remove->add_option("slot", slot_id, "slot id (drctl repo key list)")->required();
  command::RepoSyncOptions sync_options;
  auto* repo_sync = repo_cmd->add_subcommand(
      "sync", "copy what a repository lacks from its siblings, without decrypting");
  repo_sync->add_option("--from", sync_options.from, "source repository (default: all)");
  repo_sync->add_option("--to", sync_options.to, "target repository (default: all)");
  repo_sync->add_flag("--dry-run", sync_options.dry_run, "only count what is missing");
  auto* wal_cmd = app.add_subcommand("wal", "WAL: archive_command, restore_command, streaming");
  wal_cmd->require_subcommand(1);
  std::string wal_path;
  std::string wal_name;
  std::string wal_dest;
  auto* wal_push = wal_cmd->add_subcommand(
      "push", "store a WAL file in every repository (archive_command = 'drctl wal push %p')");
  wal_push->add_option("path", wal_path, "the file PostgreSQL passes as %p")->required();
  wal_push->add_option("--repo", repo_name, "only this repository");
  auto* wal_get = wal_cmd->add_subcommand(
      "get", "fetch a WAL file (restore_command = 'drctl wal get %f %p'); exit 4 if absent");
  wal_get->add_option("name", wal_name, "the file name PostgreSQL asks for (%f)")->required();
  wal_get->add_option("destination", wal_dest, "where to write it (%p)")->required();
  wal_get->add_option("--repo", repo_name, "only this repository");
  command::WalStreamOptions stream_options;
  auto* wal_stream = wal_cmd->add_subcommand(
      "stream", "stream WAL over replication into the repositories until SIGINT/SIGTERM");
  wal_stream->add_option("--repo", stream_options.repo, "only this repository");
  command::BackupOptions backup_options;
  bool no_progress = false;
  auto* backup = app.add_subcommand(
      "backup", "online physical backup of PostgreSQL into a repository (with its WAL)");
  backup->add_option("--repo", backup_options.repo, "repository (default: the first configured)");
  backup->add_option("--label", backup_options.label, "a label stored with the backup");
  backup->add_flag("--read-all", backup_options.read_all,
                   "read every file, also those unchanged since the last backup");
  backup->add_flag("--no-progress", no_progress, "no progress line on the terminal");

  command::RestoreOptions restore_options;
  std::vector<std::string> tablespace_maps;
  std::string restore_pgdata;
  auto* restore = app.add_subcommand(
      "restore", "restore a backup into a data directory that starts with pg_ctl start");
  restore->add_option("--pgdata", restore_pgdata, "target data directory (absent or empty)")
      ->required();
  restore->add_option("--backup", restore_options.request.backup, "backup id, or latest")
      ->default_str("latest");
  restore->add_option("--repo", restore_options.request.repo,
                      "read only this repository (default: every one, with fallback)");
  restore->add_flag("--delta", restore_options.request.delta,
                    "target may hold a data directory: rewrite only what differs");
  restore->add_option("--tablespace-map", tablespace_maps,
                      "OID=DIR: restore tablespace OID into DIR (repeatable)");
  restore->add_option("--owner", restore_options.owner,
                      "chown the restored files to this user (as root; default: the owner of "
                      "the parent directory)");
  restore->add_flag("--no-progress", no_progress, "no progress line on the terminal");
  struct {
    std::string time, xid, lsn, name, timeline = "latest", action = "promote";
    bool immediate = false, exclusive = false;
  } target;
  restore->add_option("--target-time", target.time,
                      "recover to this time (with a zone: 2026-11-25 21:00:00+00)");
  restore->add_option("--target-xid", target.xid, "recover to this transaction");
  restore->add_option("--target-lsn", target.lsn, "recover to this WAL location (X/Y)");
  restore->add_option("--target-name", target.name,
                      "recover to this restore point (pg_create_restore_point)");
  restore->add_flag("--immediate", target.immediate, "stop as soon as the backup is consistent");
  restore->add_flag("--exclusive", target.exclusive,
                    "stop just before the target instead of just after it");
  restore->add_option("--target-timeline", target.timeline, "latest (default), current or N");
  restore->add_option("--target-action", target.action,
                      "at the target: promote (default), pause or shutdown");
  restore->add_flag("--start", restore_options.start,
                    "start the restored server and wait until recovery reaches the target");
  restore->add_option("--port", restore_options.port, "port for --start (default: configured)");

  command::ExpireOptions expire_options;
  auto* expire = app.add_subcommand(
      "expire", "apply [retention]: delete expired backups, unneeded WAL, unreferenced packs");
  expire->add_option("--repo", expire_options.repo, "only this repository");
  expire->add_flag("--dry-run", expire_options.dry_run, "print the plan, delete nothing");

  command::VerifyOptions verify_options;
  auto* verify = app.add_subcommand(
      "verify", "prove the repositories restorable: manifests, chunks, packs, WAL, copies");
  verify->add_option("--repo", verify_options.repo, "only this repository");
  verify->add_flag("--full", verify_options.full,
                   "read everything, also what an earlier verify proved and is unchanged");
  auto* doctor = app.add_subcommand(
      "doctor", "check the PostgreSQL settings the objectives depend on, and say what to change");

  command::DrillOptions drill_options;
  std::uint64_t drill_seed = 0;
  auto* drill = app.add_subcommand(
      "drill", "restore test: restore into a scratch instance, check it, measure the RTO");
  drill->add_option("--repo", drill_options.repo, "read only this repository");
  drill->add_option("--backup", drill_options.backup, "backup id, or latest")
      ->default_str("latest");
  drill->add_flag("--random", drill_options.random,
                  "a random backup and a random moment of its recoverable window");
  auto* seed_option = drill->add_option("--seed", drill_seed, "seed for --random (replays one)");
  drill->add_flag("--immediate", drill_options.immediate,
                  "recover only to the backup's consistency point (row counts compared exactly)");
  drill->add_flag("--keep", drill_options.keep, "leave the instance running for a human");

  auto* info = app.add_subcommand("info", "repositories: format, encryption, keys, size");
  info->add_option("--repo", repo_name, "only this repository");

  auto* status = app.add_subcommand(
      "status", "objectives now: RPO exposure, backup age, drill age, RTO (exit 15 if breached)");
  status->add_option("--repo", repo_name, "only this repository");

  auto* daemon_cmd = app.add_subcommand(
      "daemon", "run the schedule in the foreground, measure the objectives, alert, serve HTTP");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    app.exit(e);
    return InfoFor(ErrorCode::kUsage).exit_code;
  }
  const Output out(g.output == "json" ? OutputFormat::kJson : OutputFormat::kText);
  if (auto logging = InitLogging(g.log_level); !logging) return out.Error(logging.error());

  if (*check) return ConfigCheck(g, out);
  if (*errors) return ListErrors(out);
  if (*repo_init) {
    init_options.no_encryption = encryption == "none";
    return WithConfig(g, out, [&](const Config& c) {
      init_options.kdf.n = static_cast<std::uint64_t>(c.encryption.scrypt_n);
      return command::RepoInit(c, init_options);
    });
  }
  if (*key_list) {
    return WithConfig(g, out, [&](const Config& c) { return command::RepoKeyList(c, repo_name); });
  }
  if (*key_add) {
    auto secret = NewSecretFrom(new_env, new_file, new_cmd);
    if (!secret) return out.Error(secret.error());
    add_options.new_secret = *secret;
    add_options.kind = new_file.empty() ? (new_cmd.empty() ? catalog::SlotKind::kPassphrase
                                                           : catalog::SlotKind::kCommand)
                                        : catalog::SlotKind::kKeyFile;
    return WithConfig(g, out, [&](const Config& c) {
      add_options.kdf.n = static_cast<std::uint64_t>(c.encryption.scrypt_n);
      return command::RepoKeyAdd(c, add_options);
    });
  }
  if (*key_remove) {
    return WithConfig(
        g, out, [&](const Config& c) { return command::RepoKeyRemove(c, repo_name, slot_id); });
  }
  if (*repo_sync) {
    return WithConfig(g, out, [&](const Config& c) { return command::RepoSync(c, sync_options); });
  }
  if (*wal_push) {
    return WithConfig(g, out,
                      [&](const Config& c) { return command::WalPush(c, wal_path, repo_name); });
  }
  if (*wal_stream) {
    return WithConfig(g, out,
                      [&](const Config& c) { return command::WalStream(c, stream_options); });
  }
  if (*wal_get) {
    auto config = LoadConfig(g);
    if (!config) return out.Error(config.error());
    auto got = command::WalGet(*config, wal_name, wal_dest, repo_name);
    // The end of the archive is normal during recovery: PostgreSQL asks on purpose. Quiet.
    if (!got && got.error().code() == ErrorCode::kNotFound) return got.error().exit_code();
    return Finish(got, out);
  }
  if (*backup) {
    backup_options.progress = !no_progress;
    return WithConfig(g, out, [&](const Config& c) { return command::Backup(c, backup_options); });
  }
  if (*restore) {
    restore_options.progress = !no_progress;
    restore_options.request.pgdata = restore_pgdata;
    auto parsed_target = command::ParseRecoveryTarget(
        target.time, target.xid, target.lsn, target.name, target.immediate, target.exclusive,
        target.timeline, target.action);
    if (!parsed_target) return out.Error(parsed_target.error());
    restore_options.request.target = *parsed_target;
    for (const auto& text : tablespace_maps) {
      auto mapping = command::ParseTablespaceMapping(text);
      if (!mapping) return out.Error(mapping.error());
      restore_options.request.tablespace_map[mapping->first] = mapping->second;
    }
    return WithConfig(g, out,
                      [&](const Config& c) { return command::Restore(c, restore_options); });
  }
  if (*expire) {
    return WithConfig(g, out, [&](const Config& c) { return command::Expire(c, expire_options); });
  }
  if (*drill) {
    if (*seed_option) drill_options.seed = drill_seed;
    return WithConfig(g, out, [&](const Config& c) { return command::Drill(c, drill_options); });
  }
  if (*verify) {
    return WithConfig(g, out, [&](const Config& c) { return command::Verify(c, verify_options); });
  }
  if (*doctor) return WithConfig(g, out, [](const Config& c) { return command::Doctor(c); });
  if (*info) {
    return WithConfig(g, out, [&](const Config& c) { return command::Info(c, repo_name); });
  }
  if (*status) {
    return WithConfig(g, out,
                      [&](const Config& c) { return command::StatusCommand(c, repo_name); });
  }
  if (*daemon_cmd) return Daemon(g, out);
  if (*demo) {
    demo_options.workdir = demo_workdir;
    return Demo(demo_options, out);
  }
  return InfoFor(ErrorCode::kUsage).exit_code;
}

}  // namespace drctl::cli
