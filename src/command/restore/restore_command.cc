#include "command/restore/restore_command.h"

#include <fstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "catalog/wal_store.h"
#include "command/interrupt.h"
#include "command/restore/restore_files.h"
#include "command/restore/restore_start.h"
#include "common/atomic_file.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "postgres/local_cluster.h"
#include "postgres/wal_names.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;

// The WAL from the backup's start to its stop, into pg_wal, from the first repository that has
// each segment.
Result<std::uint64_t> RestoreWal(const RestorePlan& plan, io::WorkerPool& pool) {
  const fs::path wal_dir = plan.pgdata / "pg_wal";
  std::atomic<std::uint64_t> bytes{0};
  Status submitted = Ok();
  for (const auto& name : plan.wal_segments) {
    if (!submitted) break;
    submitted = pool.Submit([&plan, &bytes, wal_dir, name]() -> Status {
      std::optional<Error> first;
      for (const auto& r : plan.repos) {
        auto content = catalog::FetchWal(r.repo->storage(), r.repo->master(), name);
        if (content) {
          bytes += content->size();
          return WriteFileAtomically(wal_dir / name, *content, 0600);
        }
        if (!first) first = content.error().WithContext("repo '" + r.name + "'");
      }
      return std::unexpected(*first);
    });
  }
  const Status waited = pool.Wait();
  if (!submitted) return std::unexpected(submitted.error());
  if (!waited) return std::unexpected(waited.error());
  return bytes.load();
}

Status SyncFilesystem(const fs::path& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return Fail(ErrorCode::kIo, "cannot open " + dir.string() + ": " + std::strerror(errno));
  const bool ok = syncfs(fd) == 0;
  const int err = errno;
  close(fd);
  if (!ok) {
    return Fail(ErrorCode::kIo,
                "cannot sync the filesystem of " + dir.string() + ": " + std::strerror(err),
                "the restored files may not be durable; check the disk and restore again");
  }
  return Ok();
}

// Who should own the restored files: --owner, else (as root) the owner of the directory that
// holds the target, if that is not root; empty: leave them as written.
std::string ResolveOwner(const RestoreOptions& options, const fs::path& pgdata) {
  if (!options.owner.empty() || geteuid() != 0) return options.owner;
  struct stat st {};
  if (stat(pgdata.parent_path().c_str(), &st) != 0 || st.st_uid == 0) return "";
  passwd pw{};
  passwd* found = nullptr;
  std::array<char, 4096> buf{};
  if (getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return "";
  }
  return pw.pw_name;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (const char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// restore_command for the restored server: this drctl binary with this config. Empty, with the
// reason in `why`, when the server's user cannot run it (binary, config or secret out of reach).
std::string RestoreCommand(const Config& config, const RestorePlan& plan,
                           const RestoreOptions& options, const std::string& owner,
                           std::string* why) {
  std::error_code ec;
  const fs::path exe = options.drctl_binary.empty() ? fs::read_symlink("/proc/self/exe", ec)
                                                    : fs::path(options.drctl_binary);
  if (ec) {
    *why = "cannot find drctl's own binary: " + ec.message();
    return "";
  }
  // A server started with pg_ctl has its own environment, not drctl's: secrets in environment
  // variables would be missing when it runs drctl (and each fetch would fail as "not found").
  if (!options.start) {
    if (config.encryption.enabled && config.encryption.passphrase.kind == SecretKind::kEnv) {
      *why = "the repository passphrase comes from the environment variable " +
             config.encryption.passphrase.source +
             ", which a server started later does not have (use --start, or passphrase_file / "
             "passphrase_command)";
      return "";
    }
    for (const auto& r : plan.repos) {
      const RepoConfig* rc = config.FindRepo(r.name);
      if (rc != nullptr && rc->is_s3()) {
        *why = "repo '" + r.name +
               "' takes its S3 credentials from environment variables, "
               "which a server started later does not have (use --start)";
        return "";
      }
    }
  }
  std::vector<std::string> argv = {exe.string()};
  if (!config.source.empty()) {
    argv.insert(argv.end(), {"--config", fs::absolute(config.source).string()});
  }
  // The same repository access the server will need: open the repository (secret included).
  std::vector<std::string> check = argv;
  check.insert(check.end(), {"repo", "key", "list", "--repo", plan.source_repo});
  auto ran = RunCommand(check, std::chrono::seconds(60), owner);
  if (!ran || ran->exit_status != 0) {
    *why = "the server's user" + (owner.empty() ? std::string() : " (" + owner + ")") +
           " cannot run '" + exe.string() + "' with this config and its secret" +
           (ran ? ": " + ran->err.substr(0, 300) : std::string());
    return "";
  }
  std::string command;
  for (const auto& a : argv) command += ShellQuote(a) + " ";
  return command + "wal get %f %p";
}

}  // namespace

Result<CommandOutput> Restore(const Config& config, const RestoreOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  InterruptScope interrupt;
  auto plan = PlanRestore(config, options.request);
  if (!plan) return std::unexpected(plan.error());
  const catalog::Manifest& m = plan->manifest;

  // Who will run the server, and whether it can fetch WAL through drctl: decided before writing.
  const std::string owner = ResolveOwner(options, plan->pgdata);
  std::string no_archive_reason;
  const std::string restore_command =
      RestoreCommand(config, *plan, options, owner, &no_archive_reason);
  if (restore_command.empty() && options.request.target.kind != TargetKind::kEndOfArchive) {
    return Fail(ErrorCode::kPrecondition,
                "cannot recover to " + DescribeTarget(options.request.target) + ": " +
                    no_archive_reason + "; nothing was written",
                "make the drctl binary, the config and its secret readable by the server's user "
                "(--owner), or restore without a target");
  }
  std::string bindir;
  if (options.start) {
    auto found = pg::FindBindir(config.postgres.bindir);
    if (!found) return std::unexpected(found.error());
    bindir = *found;
  }

  std::vector<catalog::ChunkStore*> stores;
  for (auto& r : plan->repos) stores.push_back(r.store.get());
  catalog::FallbackReader reader(stores);
  const std::size_t jobs = static_cast<std::size_t>(std::max(1, config.backup.jobs));
  io::WorkerPool pool(jobs, jobs * 4);

  Result<RestoreFileStats> files = RestoreFileStats{};
  {
    Progress progress("restore", m.stats.logical_size, options.progress);
    files = RestoreFiles(*plan, options.request.delta, reader, pool, progress);
  }
  if (!files) return std::unexpected(files.error());
  auto wal = RestoreWal(*plan, pool);
  if (!wal) return std::unexpected(wal.error());
  // backup_label makes PostgreSQL start recovery from the backup's checkpoint; the tablespace
  // links exist already, so no tablespace_map is needed.
  DRCTL_TRY(WriteFileAtomically(plan->pgdata / "backup_label", m.backup_label, 0600));
  std::error_code ec;
  fs::remove(plan->pgdata / "tablespace_map", ec);

  if (!restore_command.empty()) {
    DRCTL_TRY(WriteRecoveryConfig(plan->pgdata, options.request.target, restore_command));
  }
  if (!options.extra_settings.empty()) {
    const fs::path conf = plan->pgdata / "postgresql.auto.conf";
    std::ofstream out(conf, std::ios::app);
    out << "\n" << options.extra_settings;
    out.flush();
    if (!out) return Fail(ErrorCode::kIo, "cannot write " + conf.string());
  }
  if (!owner.empty()) {
    DRCTL_TRY(ChownToUser(plan->pgdata, owner));
    for (const auto& [oid, dir] : plan->tablespaces) DRCTL_TRY(ChownToUser(dir, owner));
  }
  DRCTL_TRY(SyncFilesystem(plan->pgdata));
  for (const auto& [oid, dir] : plan->tablespaces) DRCTL_TRY(SyncFilesystem(dir));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CommandOutput out;
  out.text = fmt::format(
      "restored backup {} from {} into {}\n"
      "  files       {} ({}), {} chunks fetched{}\n"
      "  wal         {} .. {} ({} segments) in pg_wal\n"
      "  duration    {:.1f}s, {}/s\n"
      "  recovery    {}\n",
      m.backup_id, plan->source_repo, plan->pgdata.string(), files->files,
      HumanBytes(static_cast<double>(files->bytes)), files->chunks_fetched,
      options.request.delta ? fmt::format(", {} already in place, {} extra files removed",
                                          files->chunks_kept, files->files_removed)
                            : std::string(),
      m.start_wal, m.stop_wal, plan->wal_segments.size(), seconds,
      HumanBytes(static_cast<double>(files->bytes) / std::max(seconds, 1e-6)),
      restore_command.empty()
          ? "to the backup's consistency point only (" + no_archive_reason + ")"
          : "to " + DescribeTarget(options.request.target) + " through drctl wal get");
  nlohmann::json tablespaces = nlohmann::json::array();
  for (const auto& [oid, dir] : plan->tablespaces) {
    tablespaces.push_back({{"oid", oid}, {"directory", dir.string()}});
  }
  out.json = {{"ok", true},
              {"backup_id", m.backup_id},
              {"repo", plan->source_repo},
              {"pgdata", plan->pgdata.string()},
              {"tablespaces", tablespaces},
              {"files", files->files},
              {"bytes", files->bytes},
              {"chunks_fetched", files->chunks_fetched},
              {"chunks_kept", files->chunks_kept},
              {"files_removed", files->files_removed},
              {"delta", options.request.delta},
              {"wal_segments", plan->wal_segments.size()},
              {"stop_lsn", pg::FormatLsn(m.stop_lsn)},
              {"owner", owner},
              {"target", DescribeTarget(options.request.target)},
              {"restore_command", !restore_command.empty()},
              {"duration_seconds", seconds}};
  if (!options.start) {
    out.text += "start it with: pg_ctl -D " + plan->pgdata.string() + " start\n";
    return out;
  }
  StartRequest start;
  start.pgdata = plan->pgdata;
  start.bindir = bindir;
  start.os_user = owner;
  start.port = options.port;
  start.conninfo = config.postgres.conninfo;
  start.target = restore_command.empty() ? RecoveryTarget{} : options.request.target;
  auto server = StartRestored(start);
  if (!server) return std::unexpected(server.error());
  out.text += fmt::format("started: {} on port {}{}{}{}\n  log {}\n", server->state, server->port,
                          server->stop_detail.empty() ? "" : "\n  " + server->stop_detail,
                          server->last_transaction.empty() ? "" : "\n  " + server->last_transaction,
                          server->timeline.empty() ? "" : "\n  new timeline " + server->timeline,
                          server->log.string());
  out.json["started"] = {{"state", server->state},
                         {"port", server->port},
                         {"recovery_stop", server->stop_detail},
                         {"redo_done", server->redo_done},
                         {"last_transaction", server->last_transaction},
                         {"timeline", server->timeline},
                         {"log", server->log.string()}};
  return out;
}

}  // namespace drctl::command
