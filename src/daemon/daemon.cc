#include "daemon/daemon.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "catalog/lock.h"
#include "catalog/memory_kek_cache.h"
#include "command/interrupt.h"
#include "command/status/status_report.h"
#include "common/log.h"
#include "common/process.h"
#include "daemon/alert_tracker.h"
#include "daemon/alerts.h"
#include "daemon/daemon_state.h"
#include "daemon/http_server.h"
#include "daemon/snapshot.h"
#include "storage/open.h"

namespace drctl::daemon {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

std::int64_t Now() {
  return std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The last line of `text` that says "error", else its last non-empty line.
std::string ErrorLine(const std::string& text) {
  std::string last;
  std::string error;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    last = line;
    if (line.find("error") != std::string::npos) error = line;
  }
  return error.empty() ? last : error;
}

// The first "new_bytes" number anywhere in a command's JSON output (a backup's new bytes).
std::uint64_t FindNewBytes(const nlohmann::json& j) {
  if (j.is_object()) {
    auto it = j.find("new_bytes");
    if (it != j.end() && it->is_number_unsigned()) return it->get<std::uint64_t>();
  }
  if (j.is_object() || j.is_array()) {
    for (const auto& v : j) {
      if (auto n = FindNewBytes(v); n > 0) return n;
    }
  }
  return 0;
}

struct Job {
  std::string name;
  CronExpr schedule;
  std::vector<std::string> args;
  JobRecord record;
  std::optional<Process> process;
  std::int64_t previous_scheduled = 0;  // restored when a run is stopped by shutdown
  std::uint64_t runs_ok = 0;
  std::uint64_t runs_failed = 0;
};

// A lock held in one repository, with the storage it lives in.
struct HeldLock {
  std::string repo;
  std::unique_ptr<storage::Storage> storage;
  std::optional<catalog::RepoLock> lock;
};

constexpr seconds kLockTtl{600};
constexpr seconds kLockRefresh{180};
constexpr std::size_t kRecentRuns = 20;

class Daemon {
 public:
  Daemon(const Config& config, DaemonOptions options)
      : config_(config),
        options_(std::move(options)),
        tracker_(config.alerts.repeat),
        notifier_(config.alerts) {}

  Status Run();

 private:
  Status Prepare();
  Status TakeRepoLocks(bool at_start);
  void AddJobs();
  void Tick(std::int64_t now);
  void StartJob(Job& job, std::int64_t now);
  void FinishJob(Job& job, std::int64_t now);
  void SuperviseStream(std::int64_t now);
  void StopEverything();
  void RefreshLoop();
  void Measure();
  void Deliver();                             // refresher thread only
  std::vector<Condition> Conditions() const;  // under mu_
  bool SomeRepoLags() const;                  // under mu_
  void SaveState();                           // under mu_
  DaemonSnapshot Snapshot();
  std::vector<std::string> ChildArgv(const std::vector<std::string>& args) const;

  const Config& config_;
  DaemonOptions options_;
  fs::path state_dir_;
  fs::path state_file_;
  int lock_fd_ = -1;
  std::vector<HeldLock> repo_locks_;
  std::int64_t locks_refreshed_ = 0;
  std::unique_ptr<HttpServer> http_;
  std::int64_t started_at_ = 0;

  // Key slots are unwrapped (slow KDF, ~128 MiB at the default cost) once, not every refresh.
  catalog::MemoryKekCache kek_cache_;

  std::mutex mu_;  // guards everything below
  std::vector<Job> jobs_;
  std::deque<RecentRun> recent_;
  command::StatusReport status_;
  std::map<std::string, command::RepoFacts> last_facts_;  // last successful read, per repository
  AlertTracker tracker_;
  AlertNotifier notifier_;
  AlertOutbox outbox_;                    // refresher thread only (and Prepare, before it starts)
  nlohmann::json outbox_json_ = nullptr;  // its last saved form
  std::optional<Process> stream_;
  int stream_restarts_ = 0;
  int stream_failures_ = 0;
  std::int64_t stream_started_ = 0;
  std::int64_t stream_next_start_ = 0;
  std::string stream_last_exit_;

  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool wake_refresh_ = false;
};

std::vector<std::string> Daemon::ChildArgv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {
      options_.drctl_binary, "--config", config_.source.string(), "--output", "json",
      "--log-level",         "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Status Daemon::Prepare() {
  if (config_.source.empty()) {
    return Fail(ErrorCode::kConfig, "drctl daemon needs a config file",
                "write one (doc/config.md) and pass --config FILE or set DRCTL_CONFIG: the jobs "
                "it starts read the same file");
  }
  if (config_.repos.empty()) {
    return Fail(ErrorCode::kConfig, config_.source.string() + ": no [[repo]]: nothing to protect",
                "add a [[repo]] table (doc/config.md)");
  }
  state_dir_ = config_.daemon.state.empty() ? config_.wal.spool / "daemon" : config_.daemon.state;
  std::error_code ec;
  fs::create_directories(state_dir_ / "jobs", ec);
  if (ec) {
    return Fail(
        ErrorCode::kIo,
        "cannot create the daemon state directory " + state_dir_.string() + ": " + ec.message(),
        "set [daemon] state to a writable directory");
  }
  state_file_ = state_dir_ / "state.json";
  const fs::path lock_path = state_dir_ / "daemon.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return Fail(ErrorCode::kIo, "cannot open " + lock_path.string());
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const std::string holder = ReadAll(lock_path);
    return Fail(ErrorCode::kLocked,
                "another drctl daemon runs with the state directory " + state_dir_.string() +
                    (holder.empty() ? "" : " (pid " + holder.substr(0, holder.find('\n')) + ")"),
                "stop it first; one daemon per machine and repository");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) < 0) {
    return Fail(ErrorCode::kIo, "cannot write " + lock_path.string());
  }

  auto state = LoadDaemonState(state_file_);
  if (!state) return std::unexpected(state.error());
  if (!state->alerts.is_null()) {
    auto tracker = AlertTracker::FromJson(state->alerts, config_.alerts.repeat);
    if (!tracker) return std::unexpected(tracker.error());
    tracker_ = std::move(*tracker);
  }
  if (!state->outbox.is_null()) {
    auto outbox = AlertOutbox::FromJson(state->outbox);
    if (!outbox) return std::unexpected(outbox.error());
    outbox_ = std::move(*outbox);
  }
  outbox_json_ = outbox_.ToJson();
  AddJobs();
  const std::int64_t now = Now();
  for (auto& job : jobs_) {
    auto it = state->jobs.find(job.name);
    if (it != state->jobs.end()) {
      job.record = it->second;
    } else {
      // First start: nothing was missed, except a backup when the repository has none (the
      // first refresh tells; until then the backup waits for its schedule).
      job.record.last_scheduled = now;
    }
  }
  return TakeRepoLocks(true);
}

void Daemon::AddJobs() {
  const auto& s = config_.schedule;
  jobs_.push_back({.name = "backup", .schedule = s.backup, .args = {"backup"}});
  const auto& r = config_.retention;
  if (r.keep_last || r.hourly || r.daily || r.weekly || r.monthly || r.yearly || r.pitr) {
    jobs_.push_back({.name = "expire", .schedule = s.expire, .args = {"expire"}});
  } else {
    spdlog::warn("daemon: no [retention] rule: the expire job is off (doc/config.md)");
  }
  jobs_.push_back({.name = "verify", .schedule = s.verify, .args = {"verify"}});
  jobs_.push_back({.name = "drill", .schedule = s.drill, .args = {"drill"}});
  if (config_.repos.size() >= 2) {
    jobs_.push_back({.name = "sync", .schedule = s.sync, .args = {"repo", "sync"}});
  }
}

Status Daemon::TakeRepoLocks(bool at_start) {
  for (const auto& rc : config_.repos) {
    auto held = std::ranges::find(repo_locks_, rc.name, &HeldLock::repo);
    if (held != repo_locks_.end() && held->lock) continue;
    auto storage = storage::OpenStorage(rc);
    if (!storage) {
      spdlog::warn("daemon: repository {}: {} (its daemon lock is taken once it answers)", rc.name,
                   storage.error().message());
      continue;
    }
    auto lock =
        catalog::RepoLock::Acquire(**storage, catalog::LockKind::kDaemon, "daemon", kLockTtl);
    if (!lock) {
      if (lock.error().code() == ErrorCode::kLocked) {
        if (at_start) {
          return Fail(ErrorCode::kLocked, "repository " + rc.name + ": " + lock.error().message(),
                      "another drctl daemon protects this repository: stop it first (its lock "
                      "expires " +
                          std::to_string(kLockTtl.count() / 60) + " minutes after it dies)");
        }
        spdlog::error("daemon: repository {}: {}", rc.name, lock.error().message());
      } else {
        spdlog::warn("daemon: repository {}: cannot take the daemon lock yet: {}", rc.name,
                     lock.error().message());
      }
      continue;
    }
    if (held == repo_locks_.end()) {
      repo_locks_.push_back({.repo = rc.name, .storage = std::move(*storage), .lock = {}});
      held = repo_locks_.end() - 1;
    } else {
      held->storage = std::move(*storage);
    }
    // The lock refers to the storage it was taken in: keep that one.
    held->lock.emplace(std::move(*lock));
  }
  return Ok();
}

void Daemon::StartJob(Job& job, std::int64_t now) {
  const fs::path out = state_dir_ / "jobs" / (job.name + ".json");
  const fs::path log = state_dir_ / "jobs" / (job.name + ".log");
  std::error_code ec;
  fs::remove(out, ec);
  fs::remove(log, ec);
  SpawnOptions o;
  o.argv = ChildArgv(job.args);
  o.stdout_path = out.string();
  o.stderr_path = log.string();
  o.parent_death_signal = SIGTERM;  // a dying daemon lets its jobs stop cleanly
  job.previous_scheduled = job.record.last_scheduled;
  MarkStarted(job.schedule, job.record, now);
  auto p = Process::Spawn(o);
  if (!p) {
    MarkFinished(job.record, now, false, p.error().message(), 0, config_.daemon.retry,
                 config_.daemon.retry_max);
    job.runs_failed += 1;
    spdlog::error("daemon: job {} could not start: {}", job.name, p.error().message());
    return;
  }
  spdlog::info("daemon: job {} started (pid {})", job.name, p->pid());
  job.process.emplace(std::move(*p));
}

void Daemon::FinishJob(Job& job, std::int64_t now) {
  auto status = job.process->Wait(std::chrono::milliseconds(0));
  job.process.reset();
  const int exit_status = status ? *status : -1;
  const std::string out = ReadAll(state_dir_ / "jobs" / (job.name + ".json"));
  const std::string err = ReadAll(state_dir_ / "jobs" / (job.name + ".log"));
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  const bool ok = exit_status == 0;
  std::string error;
  if (!ok) {
    if (!j.is_discarded() && j.is_object() && j.contains("error")) {
      error = j["error"].value("message", std::string());
    }
    if (error.empty()) error = ErrorLine(err);
    error = "exit " + std::to_string(exit_status) + (error.empty() ? "" : ": " + error);
  }
  const std::uint64_t bytes = j.is_discarded() ? 0 : FindNewBytes(j);
  MarkFinished(job.record, now, ok, error, bytes, config_.daemon.retry, config_.daemon.retry_max);
  (ok ? job.runs_ok : job.runs_failed) += 1;
  recent_.push_front({.job = job.name,
                      .start = job.record.last_start,
                      .end = now,
                      .outcome = ok ? "ok" : "failed",
                      .detail = ok ? "" : error});
  if (recent_.size() > kRecentRuns) recent_.pop_back();
  if (ok) {
    spdlog::info("daemon: job {} finished in {:.0f}s", job.name, job.record.last_duration_seconds);
  } else {
    spdlog::error("daemon: job {} failed ({} in a row, retry at {}): {}", job.name,
                  job.record.consecutive_failures, job.record.retry_at, error);
  }
}

bool Daemon::SomeRepoLags() const {
  const command::RepoStatus* first = nullptr;
  for (const auto& r : status_.repos) {
    if (!r.facts.reachable) continue;
    if (first == nullptr) {
      first = &r;
      continue;
    }
    const auto& a = first->facts;
    const auto& b = r.facts;
    const std::string a_newest = a.backups.empty() ? "" : a.backups.back().id;
    const std::string b_newest = b.backups.empty() ? "" : b.backups.back().id;
    if (a_newest != b_newest || a.newest_wal != b.newest_wal) return true;
  }
  return false;
}

void Daemon::SuperviseStream(std::int64_t now) {
  if (!config_.daemon.wal_stream) return;
  if (stream_ && !stream_->Running()) {
    auto status = stream_->Wait(std::chrono::milliseconds(0));
    const std::string err = ReadAll(state_dir_ / "jobs" / "wal-stream.log");
    stream_last_exit_ = "exit " + std::to_string(status ? *status : -1) + ": " + ErrorLine(err);
    stream_.reset();
    // Backoff: 1 s doubling to 60 s; a run that lasted a minute resets it.
    stream_failures_ = now - stream_started_ >= 60 ? 1 : stream_failures_ + 1;
    const auto delay = RetryDelay(stream_failures_, seconds(1), seconds(60));
    stream_next_start_ = now + delay.count();
    spdlog::error("daemon: wal stream ended ({}); restarting in {}s", stream_last_exit_,
                  delay.count());
  }
  if (!stream_ && now >= stream_next_start_) {
    SpawnOptions o;
    o.argv = ChildArgv({"wal", "stream"});
    o.stdout_path = (state_dir_ / "jobs" / "wal-stream.json").string();
    o.stderr_path = (state_dir_ / "jobs" / "wal-stream.log").string();
    std::error_code ec;
    fs::remove(o.stderr_path, ec);
    o.parent_death_signal = SIGTERM;
    auto p = Process::Spawn(o);
    if (!p) {
      stream_last_exit_ = p.error().message();
      stream_next_start_ = now + 60;
      return;
    }
    if (stream_started_ != 0) stream_restarts_ += 1;
    stream_started_ = now;
    stream_.emplace(std::move(*p));
  }
  if (stream_ && now - stream_started_ >= 60) stream_failures_ = 0;
}

void Daemon::Tick(std::int64_t now) {
  bool finished = false;
  {
    std::lock_guard lock(mu_);
    for (auto& job : jobs_) {
      if (job.process) {
        if (job.process->Running()) continue;
        FinishJob(job, now);
        finished = true;
        continue;
      }
      if (NextRun(job.schedule, job.record) > now) continue;
      // Expire collects garbage under an exclusive repository lock: it runs alone, and nothing
      // starts while it runs (the others wait, due, and start when it ends).
      const bool expire_running = std::ranges::any_of(
          jobs_, [](const Job& j) { return j.name == "expire" && j.process.has_value(); });
      const bool any_running =
          std::ranges::any_of(jobs_, [](const Job& j) { return j.process.has_value(); });
      if (expire_running || (job.name == "expire" && any_running)) continue;
      if (job.name == "sync" && job.record.consecutive_failures == 0 && !SomeRepoLags()) {
        // Nothing lags: this scheduled time passes without a copy.
        MarkStarted(job.schedule, job.record, now);
        continue;
      }
      StartJob(job, now);
      finished = true;  // saves the state (the run's scheduled time)
    }
    SuperviseStream(now);
    if (finished) SaveState();
  }
  if (finished) {
    std::lock_guard w(wake_mu_);
    wake_refresh_ = true;
    wake_.notify_all();
  }
  if (now - locks_refreshed_ >= kLockRefresh.count()) {
    locks_refreshed_ = now;
    for (auto& held : repo_locks_) {
      if (!held.lock) continue;
      if (auto s = held.lock->Refresh(kLockTtl); !s) {
        spdlog::warn("daemon: repository {}: lock refresh failed: {}", held.repo,
                     s.error().message());
      }
    }
    (void)TakeRepoLocks(false);
  }
}

void Daemon::StopEverything() {
  std::lock_guard lock(mu_);
  for (auto& job : jobs_) {
    if (job.process) (void)::kill(job.process->pid(), SIGTERM);
  }
  if (stream_) (void)::kill(stream_->pid(), SIGTERM);
  for (auto& job : jobs_) {
    if (!job.process) continue;
    spdlog::info("daemon: stopping job {} (pid {})", job.name, job.process->pid());
    (void)job.process->Stop(SIGTERM, std::chrono::minutes(5));
    job.process.reset();
    // Not a failure, and not a run: the next start runs it again.
    job.record.last_scheduled = job.previous_scheduled;
  }
  if (stream_) (void)stream_->Stop(SIGTERM, std::chrono::seconds(60));
  stream_.reset();
  SaveState();
}

std::vector<Condition> Daemon::Conditions() const {
  std::vector<Condition> out;
  for (const auto& r : status_.repos) {
    for (const auto& c : r.objectives) {
      if (c.health != command::Health::kFail) continue;
      out.push_back(
          {.key = "objective:" + c.name + ":" + r.facts.repo,
           .summary = "repository " + r.facts.repo + ": " + c.name + " breached: " + c.detail,
           .details = {{"repo", r.facts.repo},
                       {"objective", c.name},
                       {"value_seconds", c.value_seconds ? nlohmann::json(*c.value_seconds)
                                                         : nlohmann::json(nullptr)},
                       {"objective_seconds", c.objective_seconds}}});
    }
  }
  for (const auto& job : jobs_) {
    if (job.record.last_outcome != "failed") continue;
    out.push_back({.key = "job:" + job.name,
                   .summary = "job " + job.name + " failed (" +
                              std::to_string(job.record.consecutive_failures) +
                              " in a row): " + job.record.last_error,
                   .details = {{"job", job.name},
                               {"consecutive_failures", job.record.consecutive_failures},
                               {"error", job.record.last_error}}});
  }
  if (config_.daemon.wal_stream && stream_failures_ >= 3) {
    out.push_back({.key = "job:wal-stream",
                   .summary = "drctl wal stream keeps failing: " + stream_last_exit_,
                   .details = {{"restarts", stream_restarts_}}});
  }
  return out;
}

void Daemon::Measure() {
  command::StatusReport report;
  report.postgres = command::MeasurePostgres(config_);
  report.measured_at = Now();
  std::vector<command::RepoFacts> facts;
  facts.reserve(config_.repos.size());
  for (const auto& rc : config_.repos) {
    facts.push_back(command::MeasureRepo(config_, rc, &kek_cache_));
  }

  std::lock_guard lock(mu_);
  for (auto& f : facts) {
    if (f.reachable) {
      last_facts_[f.repo] = f;
    } else if (auto it = last_facts_.find(f.repo); it != last_facts_.end()) {
      // Judge on what was last read (backups do not vanish when the network does).
      command::RepoFacts known = it->second;
      known.reachable = false;
      known.error = f.error;
      f = std::move(known);
    }
    report.repos.push_back(
        command::EvaluateObjectives(f, report.postgres, config_.objectives, report.measured_at));
    report.health = command::Worst(report.health, report.repos.back().health);
  }
  status_ = std::move(report);
  // A repository without any backup gets its first one now rather than at the next schedule.
  for (auto& job : jobs_) {
    if (job.name != "backup" || job.process || job.record.last_start != 0) continue;
    for (const auto& r : status_.repos) {
      if (r.facts.reachable && r.facts.backups.empty()) {
        job.record.last_scheduled = 0;
        break;
      }
    }
  }
  const auto now = Now();
  for (const auto& e : tracker_.Update(Conditions(), now)) {
    spdlog::log(e.state == "resolved" ? spdlog::level::info : spdlog::level::err,
                "daemon: alert {}{} {}", e.state, e.reminder ? " (reminder)" : "", e.summary);
    if (notifier_.enabled()) outbox_.Add(e, notifier_.channels(), now);
  }
  outbox_json_ = outbox_.ToJson();
  SaveState();
}

void Daemon::Deliver() {
  // Only this thread touches the outbox; deliveries (bounded by [alerts] timeout) run without
  // the daemon's lock, so the schedule and HTTP never wait for a slow receiver.
  if (outbox_.entries().empty()) return;
  outbox_.Flush(notifier_, Now());
  std::lock_guard lock(mu_);
  outbox_json_ = outbox_.ToJson();
  SaveState();
}

void Daemon::RefreshLoop() {
  while (!stopping_) {
    Measure();
    Deliver();
    std::unique_lock w(wake_mu_);
    wake_.wait_for(w, config_.daemon.refresh, [&] { return stopping_ || wake_refresh_; });
    wake_refresh_ = false;
  }
}

void Daemon::SaveState() {
  DaemonState state;
  for (const auto& job : jobs_) state.jobs[job.name] = job.record;
  state.alerts = tracker_.ToJson();
  state.outbox = outbox_json_;
  if (auto s = SaveDaemonState(state_file_, state); !s) {
    spdlog::error("daemon: {}", s.error().message());
  }
}

DaemonSnapshot Daemon::Snapshot() {
  std::lock_guard lock(mu_);
  DaemonSnapshot s;
  s.started_at = started_at_;
  s.now = Now();
  s.version = options_.version;
  s.status = status_;
  for (const auto& job : jobs_) {
    const auto& r = job.record;
    JobView v;
    v.name = job.name;
    v.schedule = job.schedule.text();
    v.running = job.process.has_value();
    if (r.last_start != 0) v.last_start = r.last_start;
    if (r.last_end != 0) v.last_end = r.last_end;
    v.last_outcome = r.last_outcome;
    v.last_error = r.last_error;
    v.last_duration_seconds = r.last_duration_seconds;
    v.consecutive_failures = r.consecutive_failures;
    v.next_run = NextRun(job.schedule, r);
    v.runs_ok = job.runs_ok;
    v.runs_failed = job.runs_failed;
    v.last_bytes = r.last_bytes;
    if (r.last_success != 0) v.last_success = r.last_success;
    s.jobs.push_back(std::move(v));
  }
  s.recent.assign(recent_.begin(), recent_.end());
  for (const auto& a : tracker_.Active()) {
    s.alerts.push_back({.key = a.key, .message = a.summary, .since = a.since});
  }
  s.stream = {.enabled = config_.daemon.wal_stream,
              .running = stream_.has_value(),
              .restarts = stream_restarts_,
              .last_exit = stream_last_exit_};
  return s;
}

Status Daemon::Run() {
  DRCTL_TRY(Prepare());
  started_at_ = Now();
  if (!config_.daemon.listen.empty()) {
    std::optional<std::string> token;
    if (config_.daemon.token) {
      auto t = ResolveSecret(*config_.daemon.token);
      if (!t) return std::unexpected(t.error());
      token = std::move(*t);
    }
    auto server = HttpServer::Start(config_.daemon.listen, config_.daemon.allow_remote, token,
                                    [this] { return Snapshot(); });
    if (!server) return std::unexpected(server.error());
    http_ = std::move(*server);
    spdlog::info("daemon: listening on {} (port {})", config_.daemon.listen, http_->port());
  }
  if (options_.on_ready) options_.on_ready(http_ ? http_->port() : 0);
  command::InterruptScope interrupt;
  std::thread refresher([this] { RefreshLoop(); });
  spdlog::info("daemon: started with {} jobs (state {})", jobs_.size(), state_dir_.string());
  while (!command::InterruptScope::Interrupted()) {
    Tick(Now());
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  spdlog::info("daemon: stopping (signal {})", command::InterruptScope::Signal());
  stopping_ = true;
  {
    std::lock_guard w(wake_mu_);
    wake_.notify_all();
  }
  StopEverything();
  refresher.join();
  if (http_) http_->Stop();
  for (auto& held : repo_locks_) {
    if (held.lock) (void)held.lock->Release();
  }
  spdlog::info("daemon: stopped");
  return Ok();
}

}  // namespace

Status RunDaemon(const Config& config, const DaemonOptions& options) {
  Daemon daemon(config, options);
  return daemon.Run();
}

}  // namespace drctl::daemon
