#include "command/drill/drill_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <random>

#include "catalog/backup_catalog.h"
#include "catalog/json_fields.h"
#include "command/drill/drill_report.h"
#include "command/interrupt.h"
#include "command/repo/repo_open.h"
#include "command/restore/recovery_target.h"
#include "command/restore/restore_command.h"
#include "command/verify/verify_command.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "postgres/backup_session.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"

namespace drctl::command {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

struct Check {
  std::string name;
  bool ok = false;
  std::string detail;
};

// What the drill restores to: the backup and the target.
struct Choice {
  std::string backup = "latest";
  RecoveryTarget target;
  std::string why;  // "latest backup, end of the archive", "random: ..."
};

std::string UtcText(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S+00", &tm);
  return buf;
}

Result<Choice> Choose(const Config& config, const DrillOptions& options, std::uint64_t seed) {
  Choice c;
  if (!options.random) {
    c.backup = options.backup;
    auto t = ParseRecoveryTarget("", "", "", "", options.immediate, false, "latest", "promote");
    if (!t) return std::unexpected(t.error());
    c.target = *t;
    c.why = "backup " + options.backup +
            (options.immediate ? ", to its consistency point" : ", to the end of the archive");
    return c;
  }
  // A random complete backup of the first selected repository and a random moment of its window.
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  auto repo = OpenRepo(config, *repos->front());
  if (!repo) return std::unexpected(repo.error());
  auto manifests = catalog::LoadManifests(repo->storage(), repo->master(), {.without_files = true});
  if (!manifests) return std::unexpected(manifests.error());
  if (manifests->empty()) {
    return Fail(ErrorCode::kNotFound, "repo '" + repos->front()->name + "' has no backup to drill",
                "take one with drctl backup");
  }
  std::mt19937_64 rng(seed);
  const auto& b =
      (*manifests)[std::uniform_int_distribution<std::size_t>(0, manifests->size() - 1)(rng)];
  auto stored = ListStoredWal(repo->storage());
  if (!stored) return std::unexpected(stored.error());
  const WalWindow window = ContinuousWal(b, *stored);
  c.backup = b.backup_id;
  Result<RecoveryTarget> t = std::unexpected(Error(ErrorCode::kInternal, ""));
  if (window.last_archived > b.stop_time + 1) {
    // Strictly inside: the last segment's objects are stored after their last commit.
    const std::int64_t at =
        std::uniform_int_distribution<std::int64_t>(b.stop_time + 1, window.last_archived - 1)(rng);
    t = ParseRecoveryTarget(UtcText(at), "", "", "", false, false, "current", "promote");
    c.why = "random: backup " + b.backup_id + ", time " + UtcText(at) + " (window " +
            UtcText(b.stop_time) + " .. " + UtcText(window.last_archived) + ")";
  } else {
    t = ParseRecoveryTarget("", "", "", "", true, false, "current", "promote");
    c.why = "random: backup " + b.backup_id + ", to its consistency point (no WAL after it)";
  }
  if (!t) return std::unexpected(t.error());
  c.target = *t;
  return c;
}

// The restored instance is isolated: no archiving into production's repository, no TCP, no
// synchronous standby to wait for (pg_amcheck --install-missing writes).
constexpr const char* kIsolation =
    "# drctl drill: an isolated instance\n"
    "archive_mode = 'off'\n"
    "listen_addresses = ''\n"
    "synchronous_standby_names = ''\n"
    "primary_conninfo = ''\n";

std::string Quoted(const std::string& table) {
  // "schema.name" as the manifest keeps it, already quoted where needed (e.g. public."User").
  return table;
}

}  // namespace

Result<CommandOutput> Drill(const Config& config, const DrillOptions& options) {
  const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
  const std::string id = NewDrillId(now);
  const std::uint64_t seed = options.seed.value_or(std::random_device{}());
  const auto started = Clock::now();
  // SIGTERM/SIGINT (the daemon stopping, Ctrl-C): the drill skips what is left, tears its
  // instance down and stores no report (an interrupted drill proves nothing either way).
  InterruptScope interrupt;
  std::vector<Check> checks;
  nlohmann::json report = {{"drill_id", id},
                           {"started_utc", catalog::FormatUtc(now)},
                           {"random", options.random},
                           {"seed", seed}};
  auto bindir = pg::FindBindir(config.postgres.bindir);
  if (!bindir) return std::unexpected(bindir.error());
  const std::string owner = ::geteuid() == 0 ? "postgres" : "";

  const fs::path scratch = config.drill.directory / id;
  const fs::path pgdata = scratch / "pgdata";
  std::error_code ec;
  fs::create_directories(scratch, ec);
  if (ec) {
    return Fail(ErrorCode::kIo,
                "cannot create the drill directory " + scratch.string() + ": " + ec.message(),
                "set [drill] directory to a place with room for one restored copy");
  }
  if (!owner.empty()) DRCTL_TRY(ChownToUser(scratch, owner));
  report["directory"] = scratch.string();

  std::string repo_name;
  std::string backup_id;
  int port = 0;
  bool running = false;
  double restore_seconds = 0;
  double recovery_seconds = 0;
  auto step = [&](const std::string& name, bool ok, const std::string& detail) {
    checks.push_back({name, ok, detail});
    return ok;
  };

  // The repository first: damage a restore might not notice would make a drill pass for the wrong
  // reason (a damaged newest manifest hides that backup; a WAL gap ends recovery early, quietly).
  // Incremental: what an earlier verify proved is not read again.
  {
    VerifyOptions vo;
    vo.repo = options.repo;
    auto verified = Verify(config, vo);
    if (!verified) {
      step("repository", false, verified.error().ToString());
    } else if (verified->failure) {
      std::string detail = verified->failure->message() + ":";
      for (const auto& r : verified->json["repos"]) {
        for (const auto& p : r["problems"]) {
          detail += " [" + r.value("name", "") + "] " + p.value("kind", "") + " " +
                    p.value("object", "") + ": " + p.value("message", "") + ";";
        }
      }
      step("repository", false, detail);
    } else {
      step("repository", true, "verify: restorable, every check passed");
    }
  }

  auto choice = Choose(config, options, seed);
  if (step("choose", choice.has_value(), choice ? choice->why : choice.error().ToString())) {
    report["target"] = DescribeTarget(choice->target);
    auto free_port = FreeLoopbackPort();
    if (step("port", free_port.has_value(),
             free_port ? "instance on port " + std::to_string(*free_port)
                       : free_port.error().ToString())) {
      port = *free_port;
      RestoreOptions ro;
      ro.request.pgdata = pgdata;
      ro.request.backup = choice->backup;
      ro.request.repo = options.repo;
      ro.request.target = choice->target;
      ro.progress = false;
      ro.owner = owner;
      ro.drctl_binary = options.drctl_binary;
      ro.start = true;
      ro.port = port;
      ro.extra_settings = kIsolation;
      const auto t0 = Clock::now();
      auto restored = Restore(config, ro);
      const double total = Since(t0);
      running = fs::exists(pgdata / "postmaster.pid");
      if (restored) {
        restore_seconds = restored->json.value("duration_seconds", 0.0);
        recovery_seconds = std::max(0.0, total - restore_seconds);
        repo_name = restored->json.value("repo", "");
        backup_id = restored->json.value("backup_id", "");
        report["backup_id"] = backup_id;
        report["repo"] = repo_name;
        step("restore", true,
             fmt::format("backup {} from repo '{}' in {:.1f}s, isolated (no archiving, no TCP)",
                         backup_id, repo_name, restore_seconds));
        const auto started_json = restored->json.value("started", nlohmann::json::object());
        report["recovery"] = {{"state", started_json.value("state", "")},
                              {"stop", started_json.value("recovery_stop", "")},
                              {"last_transaction", started_json.value("last_transaction", "")}};
        step("recovery", started_json.value("state", "") == "promoted",
             fmt::format("{} in {:.1f}s{}", started_json.value("state", ""), recovery_seconds,
                         started_json.value("recovery_stop", "").empty()
                             ? ""
                             : "; " + started_json.value("recovery_stop", "")));
      } else {
        // Starting and recovering fails as postgres or timeout; anything else is the restore.
        const ErrorCode code = restored.error().code();
        const bool in_recovery = code == ErrorCode::kPostgres || code == ErrorCode::kTimeout;
        step(in_recovery ? "recovery" : "restore", false, restored.error().ToString());
      }
    }
  }

  // Checks on the running instance.
  const std::string base =
      config.postgres.conninfo + " host='" + pgdata.string() + "' port=" + std::to_string(port);
  if (running && checks.back().ok && !InterruptScope::Interrupted()) {
    auto amcheck =
        RunCommand({*bindir + "/pg_amcheck", "-h", pgdata.string(), "-p", std::to_string(port),
                    "--all", "--install-missing", "--heapallindexed"},
                   std::chrono::hours(6), owner);
    step("pg_amcheck", amcheck && amcheck->exit_status == 0,
         amcheck ? (amcheck->exit_status == 0
                        ? "heap and btree of every database: no corruption"
                        : "exit " + std::to_string(amcheck->exit_status) + ": " +
                              amcheck->out.substr(0, 2000) + amcheck->err.substr(0, 2000))
                 : amcheck.error().ToString());
    // The row counts the backup recorded.
    std::map<std::string, std::uint64_t> counts;
    if (auto repos = SelectRepos(config, repo_name); repos) {
      if (auto repo = OpenRepo(config, *repos->front()); repo) {
        if (auto m = catalog::LoadManifest(repo->storage(), repo->master(), backup_id); m) {
          counts = m->row_counts;
        }
      }
    }
    const bool exact = choice && choice->target.kind == TargetKind::kImmediate;
    auto conn = pg::Connection::Open(base, std::chrono::seconds(10));
    for (const auto& [table, expected] : counts) {
      auto got = conn ? conn->QueryValue("SELECT count(*) FROM " + Quoted(table))
                      : Result<std::string>(std::unexpected(conn.error()));
      if (!got) {
        step("row count " + table, false, got.error().ToString());
        continue;
      }
      const std::string detail = fmt::format("{} rows (the backup counted {}{})", *got, expected,
                                             exact ? ""
                                                   : "; compared only at the backup's "
                                                     "consistency point");
      step("row count " + table, !exact || *got == std::to_string(expected), detail);
    }
    for (const auto& check : config.drill.checks) {
      auto c = pg::Connection::Open(pg::ConninfoForDatabase(base, check.database),
                                    std::chrono::seconds(10));
      auto got = c ? c->QueryValue(check.query) : Result<std::string>(std::unexpected(c.error()));
      step("check " + check.name, got && *got == check.expect,
           got ? "got '" + *got + "', expected '" + check.expect + "'" : got.error().ToString());
    }
  }
  const double rto = restore_seconds + recovery_seconds;
  const double objective = static_cast<double>(config.objectives.rto.count());
  const bool restored_and_recovered = std::any_of(
      checks.begin(), checks.end(), [](const Check& c) { return c.name == "recovery" && c.ok; });
  if (restored_and_recovered) {
    step("rto", rto <= objective,
         fmt::format("measured {:.1f}s (restore {:.1f}s + recovery {:.1f}s), objective {}s", rto,
                     restore_seconds, recovery_seconds, config.objectives.rto.count()));
  }

  // Tear down, unless a human wants it.
  if (running && !options.keep) {
    (void)RunCommand({*bindir + "/pg_ctl", "-D", pgdata.string(), "-m", "immediate", "-w", "stop"},
                     std::chrono::minutes(2), owner);
  }
  if (!options.keep) fs::remove_all(scratch, ec);

  if (InterruptScope::Interrupted()) {
    return Fail(ErrorCode::kInterrupted,
                "drill " + id + " stopped by signal " + std::to_string(InterruptScope::Signal()) +
                    (options.keep ? "" : "; its instance was torn down") + ", no report stored",
                "run the drill again");
  }
  bool ok = true;
  nlohmann::json checks_json = nlohmann::json::array();
  std::string text = fmt::format("drill {}: {}\n", id, report.value("target", std::string("-")));
  for (const auto& c : checks) {
    ok = ok && c.ok;
    checks_json.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
    text += fmt::format("  {:4} {:24} {}\n", c.ok ? "ok" : "FAIL", c.name, c.detail);
  }
  report["checks"] = checks_json;
  report["ok"] = ok;
  report["timings"] = {{"restore_seconds", restore_seconds},
                       {"recovery_seconds", recovery_seconds},
                       {"rto_seconds", rto},
                       {"rto_objective_seconds", config.objectives.rto.count()},
                       {"total_seconds", Since(started)}};
  report["kept"] = options.keep && running;
  if (options.keep && running) {
    report["port"] = port;
    text += fmt::format("  kept running: port {}, socket and data in {}\n", port, pgdata.string());
  }
  // Into the repository the restore read from (or the first selected one).
  auto repos = SelectRepos(config, repo_name.empty() ? options.repo : repo_name);
  if (repos) {
    auto repo = OpenRepo(config, *repos->front());
    Status written = repo ? WriteDrillReport(repo->storage(), repo->master(), id, report)
                          : Status(std::unexpected(repo.error()));
    report["report_stored_in"] = written ? repos->front()->name : "";
    text += written ? "  report stored in repo '" + repos->front()->name + "'\n"
                    : "  report NOT stored: " + written.error().ToString() + "\n";
  }
  CommandOutput out;
  out.text = text;
  out.json = report;
  if (!ok) {
    std::string failed;
    for (const auto& c : checks) {
      if (!c.ok) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    out.failure = Error(ErrorCode::kVerifyFailed, "drill " + id + " failed: " + failed,
                        "the report lists each check and what was wrong");
  }
  return out;
}

}  // namespace drctl::command
