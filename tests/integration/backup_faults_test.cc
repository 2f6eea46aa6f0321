// drctl backup under faults, against a real PostgreSQL 15 (one throwaway cluster per test, with
// pgbench data): killed with SIGKILL at random points, interrupted with SIGINT/SIGTERM, a damaged
// page, an unreachable server and a missing count_tables table. After each fault the repository
// must be valid (info works, the next backup succeeds and restores), the server must not be left
// in backup mode (no drctl session, no drctl_backup_* slot), and a cut-off backup's uploaded
// chunks must be reused by the next one.
//
// The repositories are created with the smallest pack size (1 MiB) instead of 32 MiB: pgbench
// data compresses so well that a whole scale-3 backup fits in one 32 MiB pack per worker, so
// nothing would be uploaded (and indexed) before the end and "a killed backup's chunks are
// reused" could not be observed. The seed of the random kill points is printed; set
// DRCTL_TEST_SEED to replay one.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "catalog/backup_catalog.h"
#include "catalog/repository.h"
#include "common/error.h"
#include "common/process.h"
#include "common/temp_dir.h"
#include "drctl_runner.h"
#include "postgres/connection.h"
#include "postgres/local_cluster.h"
#include "storage/open.h"

namespace drctl::testing {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr const char* kPass = "backup-faults-passphrase-4711";
constexpr std::uint32_t kChunkSize = 1U << 20;
constexpr std::uint32_t kPackSize = 1U << 20;  // the smallest a repository allows

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// The first JSON document of `text` (a failing command with --output json prints its result,
// then an error document).
json FirstJson(const std::string& text) {
  std::istringstream in(text);
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "): " << text;
    return json::object();
  }
  return j;
}

// Every document of `text`, in order.
std::vector<json> AllJson(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  try {
    while ((in >> std::ws) && in.peek() != EOF) {
      json j;
      in >> j;
      out.push_back(std::move(j));
    }
  } catch (const json::exception& e) {
    ADD_FAILURE() << "not JSON (" << e.what() << "): " << text;
  }
  return out;
}

bool IsTempObject(const fs::path& p) {
  return p.filename().string().find(".drctl-tmp-") != std::string::npos;
}

// Committed objects (not the temporary files of a writer that died) under `dir`, relative to
// `root`, with their sizes.
std::map<std::string, std::uintmax_t> Objects(const fs::path& root, const std::string& dir = "") {
  std::map<std::string, std::uintmax_t> out;
  std::error_code ec;
  const fs::path base = dir.empty() ? root : root / dir;
  if (!fs::exists(base, ec)) return out;
  for (auto it = fs::recursive_directory_iterator(base, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_regular_file(ec) || IsTempObject(it->path())) continue;
    out[fs::relative(it->path(), root).string()] = it->file_size(ec);
  }
  return out;
}

std::string Names(const std::map<std::string, std::uintmax_t>& objects) {
  std::string out;
  for (const auto& [name, size] : objects) out += name + " (" + std::to_string(size) + ") ";
  return out;
}

// The read offset of `file` in process `pid`, if the process has it open.
std::optional<std::uint64_t> ReadOffset(pid_t pid, const fs::path& file) {
  const fs::path proc = "/proc/" + std::to_string(pid);
  std::error_code ec;
  for (auto it = fs::directory_iterator(proc / "fd", ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::error_code link_ec;
    if (fs::read_symlink(it->path(), link_ec) != file) continue;
    std::ifstream info(proc / "fdinfo" / it->path().filename());
    std::string key;
    std::uint64_t value = 0;
    while (info >> key >> value) {
      if (key == "pos:") return value;
    }
  }
  return std::nullopt;
}

// What a test needs of one repository: its directory and a config file naming it.
struct Repo {
  fs::path dir;
  std::string config;
};

class BackupFault : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = TempDir::Create("drctl-bf-");
    ASSERT_TRUE(d.has_value()) << d.error().ToString();
    dir_.emplace(std::move(*d));
    root_ = dir_->path();
    // The server user must traverse the workspace to reach its data directory and log.
    fs::permissions(root_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    std::ofstream(root_ / "pass") << kPass << "\n";
  }

  void TearDown() override {
    for (auto& child : children_) (void)child.Stop(SIGKILL, std::chrono::seconds(10));
    children_.clear();
    for (auto& c : restored_) (void)c.Stop(std::chrono::seconds(30));
    restored_.clear();
    conn_.reset();
    if (cluster_) (void)cluster_->Stop(std::chrono::seconds(30));
    cluster_.reset();
  }

  static pg::ClusterOptions Options(const fs::path& pgdata) {
    pg::ClusterOptions o;
    o.pgdata = pgdata;
    // autovacuum off: nothing rewrites files between two backups, nor reads the damaged table.
    o.settings = {"fsync=off", "autovacuum=off", "max_wal_size=1GB"};
    return o;
  }

  // A new cluster with `pgbench -i -s 3` data (300000 rows in pgbench_accounts).
  void StartCluster() {
    const auto options = Options(root_ / "pgdata");
    auto init = pg::LocalCluster::InitDb(options);
    ASSERT_TRUE(init.has_value()) << init.error().ToString();
    auto cluster = pg::LocalCluster::Start(options);
    ASSERT_TRUE(cluster.has_value()) << cluster.error().ToString();
    cluster_.emplace(std::move(*cluster));
    auto bindir = pg::FindBindir("");
    ASSERT_TRUE(bindir.has_value()) << bindir.error().ToString();
    auto pgbench = RunCommand({*bindir + "/pgbench", "-i", "-s", "3", "-q", "-h", "127.0.0.1", "-p",
                               std::to_string(cluster_->port()), "-U", "postgres", "postgres"},
                              std::chrono::minutes(3));
    ASSERT_TRUE(pgbench.has_value()) << pgbench.error().ToString();
    ASSERT_EQ(pgbench->exit_status, 0) << pgbench->err;
    ASSERT_NO_FATAL_FAILURE(Connect());
    ASSERT_TRUE(conn_->Exec("CHECKPOINT").has_value());
  }

  void Connect() {
    auto conn = pg::Connection::Open(cluster_->Conninfo());
    ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
    conn_.emplace(std::move(*conn));
  }

  std::string Value(const std::string& sql) {
    auto v = conn_->QueryValue(sql);
    EXPECT_TRUE(v.has_value()) << sql << ": " << v.error().ToString();
    return v.value_or("?");
  }

  // A new encrypted posix repository with 1 MiB packs (see the top of the file), and a config
  // naming it and this test's cluster. `extra` is appended to the config.
  Repo NewRepo(const std::string& name, const std::string& conninfo = "",
               const std::string& extra = "") {
    Repo r{root_ / name, (root_ / (name + ".toml")).string()};
    RepoConfig rc;
    rc.name = "local";
    rc.url = "file://" + r.dir.string();
    auto storage = storage::OpenStorage(rc, /*create=*/true);
    EXPECT_TRUE(storage.has_value()) << storage.error().ToString();
    if (storage) {
      catalog::InitOptions init;
      init.secret = kPass;
      init.kind = catalog::SlotKind::kKeyFile;
      init.kdf.n = 1024;
      init.chunk_size = kChunkSize;
      init.pack_size = kPackSize;
      auto created = catalog::Repository::Init(std::move(*storage), init);
      EXPECT_TRUE(created.has_value()) << created.error().ToString();
    }
    std::ofstream(r.config) << "[postgres]\nconninfo = \""
                            << (conninfo.empty() ? cluster_->Conninfo() : conninfo)
                            << "\"\npgdata = \"" << (root_ / "pgdata").string()
                            << "\"\n[[repo]]\nname = \"local\"\nurl = \"" << rc.url
                            << "\"\n[encryption]\npassphrase_file = \"" << (root_ / "pass").string()
                            << "\"\nscrypt_n = 1024\n"
                            << extra;
    return r;
  }

  static CommandResult Drctl(const Repo& repo, std::vector<std::string> args) {
    args.insert(args.begin(), {"--config", repo.config});
    return RunDrctl(args);
  }

  // `drctl backup` in the background, its output going to files under the workspace; null if it
  // cannot start. TearDown kills it if the test ends early.
  Process* SpawnBackup(const Repo& repo, const std::string& tag) {
    SpawnOptions o;
    o.argv = {DRCTL_BINARY, "--config", repo.config, "backup", "--no-progress"};
    o.stdout_path = (root_ / (tag + ".out")).string();
    o.stderr_path = (root_ / (tag + ".err")).string();
    auto p = Process::Spawn(o);
    EXPECT_TRUE(p.has_value()) << p.error().ToString();
    if (!p) return nullptr;
    children_.push_back(std::move(*p));
    return &children_.back();
  }

  // Waits until the server shows no trace of a backup: no other client session (drctl's backup
  // session and its catalog connections are gone, the one that ran pg_backup_start included) and
  // no drctl_backup_* slot. Returns what is left after `timeout` ("" when clean).
  std::string WaitServerClean(std::chrono::seconds timeout = std::chrono::seconds(10)) {
    const std::string starting =
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND query "
        "ILIKE '%pg_backup_start%' AND pid <> pg_backend_pid()";
    const std::string sessions =
        "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> "
        "pg_backend_pid()";
    const std::string slots =
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'drctl_backup_%'";
    const auto deadline = Clock::now() + timeout;
    std::string left;
    do {
      left.clear();
      if (Value(starting) != "0") left += "a session in pg_backup_start; ";
      if (Value(sessions) != "0") {
        left += "client sessions: " +
                Value(
                    "SELECT coalesce(string_agg(pid || ' ' || coalesce(state, '') || ' ' || "
                    "left(query, 60), '; '), '') FROM pg_stat_activity WHERE backend_type = "
                    "'client backend' AND pid <> "
                    "pg_backend_pid()") +
                "; ";
      }
      if (Value(slots) != "0") {
        left += "slots: " +
                Value(
                    "SELECT coalesce(string_agg(slot_name || ' active=' || active, "
                    "', '), '') FROM pg_replication_slots") +
                "; ";
      }
      if (left.empty()) return "";
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    } while (Clock::now() < deadline);
    return left;
  }

  std::optional<catalog::Repository> OpenRepository(const Repo& repo) {
    RepoConfig rc;
    rc.name = "local";
    rc.url = "file://" + repo.dir.string();
    auto storage = storage::OpenStorage(rc);
    EXPECT_TRUE(storage.has_value()) << storage.error().ToString();
    if (!storage) return std::nullopt;
    auto opened = catalog::Repository::Open(std::move(*storage), std::string(kPass));
    EXPECT_TRUE(opened.has_value()) << opened.error().ToString();
    if (!opened) return std::nullopt;
    return std::move(*opened);
  }

  // Plaintext bytes of backup `id` held in chunks that `known` (a store loaded before the backup)
  // already had, each distinct chunk counted once.
  std::uint64_t ReusedBytes(const Repo& repo, const std::string& id,
                            const catalog::ChunkStore& known) {
    auto opened = OpenRepository(repo);
    if (!opened) return 0;
    auto m = catalog::LoadManifest(opened->storage(), opened->master(), id);
    EXPECT_TRUE(m.has_value()) << m.error().ToString();
    if (!m) return 0;
    std::set<catalog::ChunkId> seen;
    std::uint64_t bytes = 0;
    for (const auto& f : m->files) {
      for (std::size_t i = 0; i < f.chunks.size(); ++i) {
        if (!known.Contains(f.chunks[i]) || !seen.insert(f.chunks[i]).second) continue;
        const std::uint64_t begin = i * std::uint64_t{kChunkSize};
        bytes += std::min<std::uint64_t>(kChunkSize, f.size - begin);
      }
    }
    return bytes;
  }

  // Loads the repository's indexes as they are now, for ReusedBytes.
  std::unique_ptr<catalog::ChunkStore> Snapshot(const Repo& repo, std::size_t* chunks) {
    *chunks = 0;
    auto opened = OpenRepository(repo);
    if (!opened) return nullptr;
    snapshot_repos_.push_back(std::move(*opened));
    auto store = snapshot_repos_.back().NewChunkStore(Compression{});
    auto loaded = store->LoadIndexes();
    EXPECT_TRUE(loaded.has_value()) << loaded.error().ToString();
    *chunks = store->size();
    return store;
  }

  // Restores backup `id` into a new directory, starts it and checks pgbench's rows are there.
  // The started cluster stays up (in restored_) for the caller to query; TearDown stops it.
  pg::LocalCluster* RestoreAndStart(const Repo& repo, const std::string& id,
                                    const std::string& tag) {
    const fs::path target = root_ / ("restored-" + tag);
    auto restore = Drctl(repo, {"restore", "--no-progress", "--pgdata", target.string(), "--backup",
                                id, "--owner", "postgres"});
    EXPECT_EQ(restore.exit_status, 0) << restore.err;
    if (restore.exit_status != 0) return nullptr;
    auto started = pg::LocalCluster::Start(Options(target));
    EXPECT_TRUE(started.has_value()) << started.error().ToString();
    if (!started) return nullptr;
    restored_.push_back(std::move(*started));
    pg::LocalCluster* c = &restored_.back();
    auto conn = pg::Connection::Open(c->Conninfo());
    EXPECT_TRUE(conn.has_value()) << conn.error().ToString();
    if (!conn) return nullptr;
    auto rows = conn->QueryValue("SELECT count(*) FROM pgbench_accounts");
    EXPECT_TRUE(rows.has_value()) << rows.error().ToString();
    EXPECT_EQ(rows.value_or("?"), "300000") << "in the restore of backup " << id;
    return c;
  }

  std::optional<TempDir> dir_;
  fs::path root_;
  std::optional<pg::LocalCluster> cluster_;
  std::optional<pg::Connection> conn_;
  std::vector<pg::LocalCluster> restored_;
  std::deque<Process> children_;                     // deque: SpawnBackup's pointers stay valid
  std::vector<catalog::Repository> snapshot_repos_;  // the repositories of Snapshot's stores
};

// What `drctl --output json backup` said, checked for success.
json BackupJson(const CommandResult& r) {
  EXPECT_EQ(r.exit_status, 0) << r.err << r.out;
  json j = FirstJson(r.out);
  EXPECT_EQ(j.value("ok", false), true) << r.out;
  return j;
}

std::uint64_t U64(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number_unsigned() ? j[key].get<std::uint64_t>() : 0;
}

TEST_F(BackupFault, SigkillAtRandomPointsLeavesAValidRepositoryAndNoBackupOnTheServer) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  std::uint64_t seed = std::random_device{}();
  if (const char* env = std::getenv("DRCTL_TEST_SEED")) seed = std::stoull(env);
  std::cout << "[ seed     ] DRCTL_TEST_SEED=" << seed << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 random(seed);

  // How long a whole backup takes here, in a repository of its own; and what it stores when
  // nothing is in the repository yet.
  const Repo baseline_repo = NewRepo("repo-baseline");
  const auto t0 = Clock::now();
  const auto baseline_run = Drctl(baseline_repo, {"--output", "json", "backup", "--no-progress"});
  const auto duration = Clock::now() - t0;
  const json baseline = BackupJson(baseline_run);
  ASSERT_EQ(baseline_run.exit_status, 0);
  const std::uint64_t baseline_new = U64(baseline, "new_bytes");
  std::cout << "[ measured ] a full backup takes "
            << std::chrono::duration<double>(duration).count() << " s, stores " << baseline_new
            << " new bytes of " << U64(baseline, "logical_bytes") << std::endl;
  ASSERT_EQ(WaitServerClean(), "");

  // Three kills at random points, spread over [0.25, 0.95] of a backup's duration (one per
  // stratum), and one as soon as the first pack is indexed: a backup cut off mid-way through its
  // files, whose chunks must be partly reused, whatever the random points hit.
  constexpr int kRandomKills = 3;
  for (int i = 0; i <= kRandomKills; ++i) {
    SCOPED_TRACE("iteration " + std::to_string(i) + ", seed " + std::to_string(seed));
    const double u = std::uniform_real_distribution<double>(0, 1)(random);
    const double fraction = 0.25 + 0.70 * (i + u) / kRandomKills;
    const Repo repo = NewRepo("repo-kill-" + std::to_string(i));
    const std::string tag = "kill-" + std::to_string(i);
    const auto spawned = Clock::now();
    Process* spawned_child = SpawnBackup(repo, tag);
    ASSERT_NE(spawned_child, nullptr);
    Process& child = *spawned_child;
    if (i < kRandomKills) {
      std::this_thread::sleep_for(duration * fraction);
    } else {
      const auto deadline = spawned + std::chrono::seconds(60);
      while (Objects(repo.dir, "index").empty() && child.Running() && Clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(u * 20)));
    }
    const auto delay =
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - spawned);
    const bool was_running = child.Running();
    auto status = child.Stop(SIGKILL, std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value()) << status.error().ToString();
    const auto index = Objects(repo.dir, "index");
    const auto packs = Objects(repo.dir, "packs");
    std::cout << "[ kill " << i << "   ] after " << delay.count() << " ms ("
              << (i < kRandomKills ? std::to_string(static_cast<int>(fraction * 100)) + "%"
                                   : std::string("first index"))
              << " of a backup): " << (was_running ? "killed" : "had already exited") << ", status "
              << *status << ", " << packs.size() << " packs, " << index.size() << " index objects"
              << std::endl;
    if (was_running) {
      EXPECT_EQ(*status, 128 + SIGKILL) << ReadAll(root_ / (tag + ".err"));
    }
    if (i == kRandomKills) {
      ASSERT_TRUE(was_running && !index.empty()) << "the kill at the first index came too late";
    }

    // The server is out of backup mode: the killed session ended and took its slot with it.
    EXPECT_EQ(WaitServerClean(), "") << "after SIGKILL of drctl backup";

    // The repository is valid: info reads it, and nothing half-written is listed.
    auto info = Drctl(repo, {"--output", "json", "info"});
    ASSERT_EQ(info.exit_status, 0) << info.err;
    const json info_json = FirstJson(info.out);
    ASSERT_TRUE(info_json.contains("repos")) << info.out;
    EXPECT_EQ(info_json["repos"][0]["damaged_manifests"], json::array()) << info.out;
    // Listed only if it was killed after its manifest was written (its last milliseconds).
    const json& listed = info_json["repos"][0]["backups"];
    EXPECT_LE(listed.size(), 1U) << info.out;
    if (!listed.empty()) {
      std::cout << "[ kill " << i << "   ] the killed backup had committed its manifest"
                << std::endl;
      EXPECT_EQ(listed[0].value("status", ""), "complete") << info.out;
    }

    std::size_t known_chunks = 0;
    auto known = Snapshot(repo, &known_chunks);
    ASSERT_NE(known, nullptr);
    EXPECT_EQ(index.empty(), known_chunks == 0) << Names(index);

    // The next backup works, and reuses what the killed one uploaded.
    const auto next_run = Drctl(repo, {"--output", "json", "backup", "--no-progress"});
    const json next = BackupJson(next_run);
    ASSERT_EQ(next_run.exit_status, 0);
    const std::string id = next.value("backup_id", "");
    const std::uint64_t new_bytes = U64(next, "new_bytes");
    const std::uint64_t logical = U64(next, "logical_bytes");
    if (index.empty()) {
      std::cout << "[ kill " << i << "   ] killed before any pack was indexed: the next backup "
                << "has nothing to reuse, reuse not checked in this iteration" << std::endl;
    } else {
      const std::uint64_t reused = ReusedBytes(repo, id, *known);
      std::cout << "[ kill " << i << "   ] next backup: " << new_bytes << " new bytes of "
                << logical << ", " << reused << " bytes in chunks the killed one stored ("
                << known_chunks << " chunks)" << std::endl;
      EXPECT_GT(reused, 0U) << "the next backup uses none of the " << known_chunks
                            << " chunks the killed one indexed";
      EXPECT_LT(new_bytes, logical);
      EXPECT_LE(new_bytes + reused, logical);
      EXPECT_LT(new_bytes, baseline_new)
          << "the next backup stored as much as a backup into an empty repository";
    }
    EXPECT_EQ(WaitServerClean(), "") << "after the backup that followed the kill";
    ASSERT_NE(RestoreAndStart(repo, id, std::to_string(i)), nullptr);
    for (auto& c : restored_) (void)c.Stop(std::chrono::seconds(30));
    restored_.clear();
  }
}

TEST_F(BackupFault, SigintAndSigtermStopCleanlyAndKeepTheChunks) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  // About 130 MB more in one file, so the backup is still reading files when the signal comes,
  // and the signal can come in the middle of a file.
  ASSERT_TRUE(conn_
                  ->Exec("CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((-g)::text) AS "
                         "v FROM generate_series(1, 1000000) g; CHECKPOINT")
                  .has_value());
  const fs::path big = root_ / "pgdata" / Value("SELECT pg_relation_filepath('big')");
  const std::uint64_t big_size = fs::file_size(big);
  ASSERT_GT(big_size, 64U << 20);
  for (const int sig : {SIGINT, SIGTERM}) {
    const std::string name = sig == SIGINT ? "sigint" : "sigterm";
    SCOPED_TRACE(name);
    const Repo repo = NewRepo("repo-" + name);
    const auto started = Clock::now();
    Process* spawned_child = SpawnBackup(repo, name);
    ASSERT_NE(spawned_child, nullptr);
    Process& child = *spawned_child;
    // About 0.3 s in (earlier on a machine fast enough to be past a quarter of the big file),
    // while drctl is in the first half of the big file: in the middle of storing files.
    const auto deadline = started + std::chrono::seconds(60);
    std::optional<std::uint64_t> at_signal;
    while (Clock::now() < deadline && child.Running()) {
      at_signal = ReadOffset(child.pid(), big);
      const bool late = Clock::now() - started >= std::chrono::milliseconds(300);
      if (at_signal && *at_signal < big_size / 2 && (late || *at_signal >= big_size / 4)) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_TRUE(child.Running() && at_signal && *at_signal < big_size / 2)
        << "no signal sent: the backup ended or read the big file too fast: "
        << ReadAll(root_ / (name + ".err"));
    const auto at = std::chrono::duration<double>(Clock::now() - started).count();
    const auto signalled = Clock::now();
    ASSERT_EQ(kill(child.pid(), sig), 0);
    // How far drctl reads on into the file after the signal (it should stop within a chunk or
    // two: the worker queue is bounded, the reader checks the flag before each chunk).
    std::uint64_t furthest = *at_signal;
    while (child.Running() && Clock::now() < deadline) {
      furthest = std::max(furthest, ReadOffset(child.pid(), big).value_or(0));
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto status = child.Wait(std::chrono::seconds(10));
    ASSERT_TRUE(status.has_value()) << status.error().ToString();
    const double latency = std::chrono::duration<double>(Clock::now() - signalled).count();
    const std::string err = ReadAll(root_ / (name + ".err"));
    std::cout << "[ " << name << "  ] sent after " << at << " s at offset " << *at_signal
              << " of the big file (" << big_size << " bytes); read on to " << furthest << ", exit "
              << latency << " s later; drctl said: " << err;
    EXPECT_LE(furthest - *at_signal, std::uint64_t{8} * kChunkSize)
        << "drctl went on reading the file it was reading for " << latency << " s after the signal";
    EXPECT_EQ(*status, InfoFor(ErrorCode::kInterrupted).exit_code) << err;
    EXPECT_NE(err.find("interrupted by signal " + std::to_string(sig)), std::string::npos) << err;
    EXPECT_NE(err.find("chunks stored so far are kept"), std::string::npos) << err;
    EXPECT_EQ(Objects(repo.dir, "backups"), (std::map<std::string, std::uintmax_t>{}))
        << "an interrupted backup must not write a manifest";
    EXPECT_EQ(Objects(repo.dir, "locks"), (std::map<std::string, std::uintmax_t>{}))
        << "an interrupted backup releases its lock";
    EXPECT_EQ(WaitServerClean(), "") << "after " << name;

    std::size_t known_chunks = 0;
    auto known = Snapshot(repo, &known_chunks);
    ASSERT_NE(known, nullptr);
    EXPECT_GT(known_chunks, 0U) << "the interrupted backup committed no chunk";
    const auto next_run = Drctl(repo, {"--output", "json", "backup", "--no-progress"});
    const json next = BackupJson(next_run);
    ASSERT_EQ(next_run.exit_status, 0);
    const std::uint64_t new_bytes = U64(next, "new_bytes");
    const std::uint64_t logical = U64(next, "logical_bytes");
    const std::uint64_t reused = ReusedBytes(repo, next.value("backup_id", ""), *known);
    std::cout << "[ " << name << "  ] next backup: " << new_bytes << " new bytes of " << logical
              << ", " << reused << " in chunks of the interrupted one" << std::endl;
    EXPECT_LT(new_bytes, logical);
    EXPECT_GT(reused, 0U);
    EXPECT_LE(new_bytes + reused, logical);
    EXPECT_EQ(WaitServerClean(), "") << "after the backup that followed " << name;
  }
}

TEST_F(BackupFault, PageChecksumFailureIsReportedStoredAndRestorable) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  ASSERT_TRUE(conn_
                  ->Exec("CREATE TABLE t WITH (autovacuum_enabled = false) AS SELECT g AS id, "
                         "md5(g::text) AS v FROM generate_series(1, 3000) g")
                  .has_value());
  ASSERT_GE(std::stoll(Value("SELECT pg_relation_size('t') / 8192")), 10);
  const std::string relpath = Value("SELECT pg_relation_filepath('t')");
  ASSERT_TRUE(conn_->Exec("CHECKPOINT").has_value());
  conn_.reset();
  const pg::ClusterOptions options = cluster_->options();
  ASSERT_TRUE(cluster_->Stop().has_value());
  cluster_.reset();

  // One byte in the tuple area of block 3.
  const fs::path file = options.pgdata / relpath;
  constexpr std::streamoff kOffset = 3 * 8192 + 4000;
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << file;
    f.seekg(kOffset);
    char byte = 0;
    f.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    f.seekp(kOffset);
    f.write(&byte, 1);
    ASSERT_TRUE(f.good()) << file;
  }
  auto restarted = pg::LocalCluster::Start(options);
  ASSERT_TRUE(restarted.has_value()) << restarted.error().ToString();
  cluster_.emplace(std::move(*restarted));
  ASSERT_NO_FATAL_FAILURE(Connect());  // t is not read: the server would refuse the page

  const Repo repo = NewRepo("repo");
  auto run = Drctl(repo, {"--output", "json", "backup", "--no-progress"});
  EXPECT_EQ(run.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code) << run.err << run.out;
  const auto docs = AllJson(run.out);
  ASSERT_EQ(docs.size(), 1U) << "one document: the backup's result with the error: " << run.out;
  const json& result = docs[0];
  EXPECT_EQ(result.value("ok", true), false) << run.out;
  EXPECT_EQ(result.value("status", ""), "complete_with_checksum_failures") << run.out;
  EXPECT_EQ(result["checksum_failures"],
            json::parse(R"([{"path": ")" + relpath + R"(", "blocks": [3]}])"))
      << run.out;
  EXPECT_EQ(result["error"].value("code", ""), "corrupt") << run.out;
  EXPECT_NE(run.err.find("checksum failures in 1 pages"), std::string::npos) << run.err;
  const std::string id = result.value("backup_id", "");

  // Text output names the file and the block (read again: --read-all).
  auto text = Drctl(repo, {"backup", "--no-progress", "--read-all"});
  EXPECT_EQ(text.exit_status, InfoFor(ErrorCode::kCorrupt).exit_code) << text.err;
  EXPECT_NE(text.out.find("complete_with_checksum_failures"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("CHECKSUM FAILURES: 1 pages"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("    " + relpath + " blocks 3\n"), std::string::npos) << text.out;

  // Both are listed, with their status.
  auto info = Drctl(repo, {"--output", "json", "info"});
  ASSERT_EQ(info.exit_status, 0) << info.err;
  const json backups = FirstJson(info.out)["repos"][0]["backups"];
  ASSERT_EQ(backups.size(), 2U) << info.out;
  EXPECT_EQ(backups[0].value("backup_id", ""), id);
  for (const auto& b : backups) {
    EXPECT_EQ(b.value("status", ""), "complete_with_checksum_failures") << info.out;
  }
  EXPECT_EQ(WaitServerClean(), "");

  // It restores, faithfully: the damaged page comes back damaged, the rest is intact.
  pg::LocalCluster* restored = RestoreAndStart(repo, id, "checksum");
  ASSERT_NE(restored, nullptr);
  auto conn = pg::Connection::Open(restored->Conninfo());
  ASSERT_TRUE(conn.has_value()) << conn.error().ToString();
  auto damaged = conn->QueryValue("SELECT count(*) FROM t");
  ASSERT_FALSE(damaged.has_value()) << "the damaged page was restored as a valid page";
  EXPECT_NE(damaged.error().message().find("invalid page in block 3"), std::string::npos)
      << damaged.error().ToString();
}

TEST_F(BackupFault, UnreachableServerFailsBeforeWritingAnything) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value()) << port.error().ToString();
  const std::string conninfo =
      "host=127.0.0.1 port=" + std::to_string(*port) + " user=postgres dbname=postgres";
  const Repo repo = NewRepo("repo", conninfo);
  const auto before = Objects(repo.dir);
  auto run = Drctl(repo, {"backup", "--no-progress"});
  EXPECT_EQ(run.exit_status, InfoFor(ErrorCode::kPostgres).exit_code) << run.err;
  EXPECT_NE(run.err.find("cannot connect to PostgreSQL"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("port=" + std::to_string(*port)), std::string::npos)
      << "the message names the server: " << run.err;
  EXPECT_EQ(Names(Objects(repo.dir)), Names(before)) << "objects were written: " << run.err;
}

TEST_F(BackupFault, MissingCountTableFailsNamingItAndEndsTheBackup) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const Repo repo = NewRepo("repo", "",
                            "[backup]\ncount_tables = [\"public.pgbench_accounts\", "
                            "\"public.no_such_table\"]\n");
  auto run = Drctl(repo, {"backup", "--no-progress"});
  EXPECT_EQ(run.exit_status, InfoFor(ErrorCode::kNotFound).exit_code) << run.err;
  EXPECT_NE(run.err.find("public.no_such_table"), std::string::npos) << run.err;
  EXPECT_EQ(Objects(repo.dir, "backups"), (std::map<std::string, std::uintmax_t>{}))
      << "a failed backup must not be listed";
  EXPECT_EQ(Objects(repo.dir, "packs"), (std::map<std::string, std::uintmax_t>{}))
      << "the table is checked before the backup starts: nothing read, nothing stored";
  EXPECT_EQ(Objects(repo.dir, "locks"), (std::map<std::string, std::uintmax_t>{}))
      << "a failed backup releases its lock";
  EXPECT_EQ(WaitServerClean(), "") << "after a failed backup";
  auto info = Drctl(repo, {"info"});
  EXPECT_EQ(info.exit_status, 0) << info.err;
}

// A filesystem too small for the restore: refused before anything is written (a 4 MiB tmpfs;
// CI runs as root, which may mount one).
TEST_F(BackupFault, RestoreWithoutFreeSpaceRefusesBeforeWriting) {
  ASSERT_NO_FATAL_FAILURE(StartCluster());
  const Repo repo = NewRepo("repo");
  auto backup = Drctl(repo, {"backup", "--no-progress"});
  ASSERT_EQ(backup.exit_status, 0) << backup.err;
  const fs::path small = root_ / "small";
  fs::create_directories(small);
  auto mounted = RunCommand({"mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.string()},
                            std::chrono::seconds(30));
  ASSERT_TRUE(mounted.has_value() && mounted->exit_status == 0)
      << "this test needs root to mount a small tmpfs: " << (mounted ? mounted->err : "");
  struct Unmount {
    fs::path dir;
    ~Unmount() { (void)RunCommand({"umount", dir.string()}, std::chrono::seconds(30)); }
  } unmount{small};
  auto run = Drctl(repo, {"restore", "--pgdata", (small / "pgdata").string(), "--no-progress"});
  EXPECT_EQ(run.exit_status, InfoFor(ErrorCode::kPrecondition).exit_code) << run.err;
  EXPECT_NE(run.err.find("not enough free space"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(small.string()), std::string::npos) << "names the filesystem: " << run.err;
  EXPECT_TRUE(fs::is_empty(small)) << "nothing may be written";
}

}  // namespace
}  // namespace drctl::testing
