// drctl's configuration: one TOML file (doc/config.md is the reference). Loading validates every
// key: unknown keys, wrong types and bad values are kConfig errors naming the key and the line.
// Secrets are never values in the file; the file names where they come from (SecretRef).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/cron.h"
#include "common/duration.h"
#include "common/result.h"
#include "common/secret.h"

namespace drctl {

struct PostgresConfig {
  std::string conninfo = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";
  std::string pgdata;
  std::string bindir;  // empty: found from pg_config
  int line = 0;
};

struct RepoConfig {
  std::string name;
  std::string url;  // file:///dir or s3://bucket/prefix
  std::string endpoint;
  std::string region = "us-east-1";
  bool path_style = false;
  std::string ca_file;
  // S3 credentials: `<name>_env`, `<name>_file` or `<name>_command` (secret.h). The session token
  // is optional: an unset variable (the default source) means none.
  SecretRef access_key_id{SecretKind::kEnv, "AWS_ACCESS_KEY_ID"};
  SecretRef secret_access_key{SecretKind::kEnv, "AWS_SECRET_ACCESS_KEY"};
  SecretRef session_token{SecretKind::kEnv, "AWS_SESSION_TOKEN"};
  int line = 0;

  bool is_s3() const { return url.starts_with("s3://"); }
};

enum class CompressionAlgo : std::uint8_t { kNone, kLz4, kZstd };

struct Compression {
  CompressionAlgo algo = CompressionAlgo::kZstd;
  int level = 3;
  std::string ToString() const;
};

// Parses "zstd:N" (N in 1..19, "zstd" alone is level 3), "lz4" or "none".
Result<Compression> ParseCompression(std::string_view text);

struct EncryptionConfig {
  bool enabled = true;  // turned off only by `enabled = false`, and `drctl info` says so
  SecretRef passphrase{SecretKind::kEnv, "DRCTL_PASSPHRASE"};
  int scrypt_n = 1 << 17;  // cost of new key slots (power of 2; 2^10 for tests, 2^20 max)
};

struct BackupConfig {
  int jobs = 2;
  Compression compression;
  std::vector<std::string> count_tables;  // tables whose exact row count goes in the manifest
};

enum class SyncMode : std::uint8_t { kOff, kLocal, kRepository };

// [wal]: archiving (wal push), fetching (wal get) and streaming (wal stream).
struct WalConfig {
  // Local state: the async push queue, wal get's prefetched segments, wal stream's segments, and
  // the key-unwrapping cache. Created when missing; drctl works without it (slower) when it
  // cannot be created.
  std::filesystem::path spool = "/var/spool/drctl";
  bool async = false;   // wal push starts a detached push-ahead process (doc/commands/wal.md)
  int jobs = 4;         // parallel pushes and fetches
  int push_ahead = 16;  // async: the push-ahead process goes this many ready files ahead
  int prefetch = 8;     // wal get: segments fetched ahead into the spool
  Seconds partial_interval = std::chrono::seconds(10);  // wal stream: partial segment uploads
  std::string slot = "drctl";                           // wal stream: physical replication slot
  std::string application_name = "drctl";               // wal stream: for synchronous_standby_names
  SyncMode synchronous = SyncMode::kOff;  // wal stream: acknowledge flush only once durable
};

std::string_view SyncModeName(SyncMode mode);
Result<SyncMode> ParseSyncMode(std::string_view text);

// One operator check a drill runs on the restored instance: `query`'s first column of its first
// row, as text, must equal `expect`.
struct DrillCheck {
  std::string name;
  std::string database = "postgres";
  std::string query;
  std::string expect;
};

// [drill] and its [[drill.check]] tables.
struct DrillConfig {
  std::filesystem::path directory = "/var/tmp/drctl-drill";  // scratch instances go below it
  std::vector<DrillCheck> checks;
};

struct RetentionConfig {
  std::optional<int> keep_last, hourly, daily, weekly, monthly, yearly;
  std::optional<Seconds> pitr;
};

// [objectives]: what `drctl status` and the daemon measure against (doc/commands/status.md).
struct ObjectivesConfig {
  Seconds rpo = std::chrono::minutes(15);      // data a disaster right now may lose, at most
  Seconds rto = std::chrono::hours(4);         // a drill's restore + recovery time, at most
  Seconds backup_age = std::chrono::hours(7);  // the newest backup's age, at most
  Seconds drill_age = std::chrono::days(8);    // time since the last successful drill, at most
};

// [schedule]: when the daemon runs each job (cron expressions, UTC).
struct ScheduleConfig {
  CronExpr backup = CronExpr::Parse("0 */6 * * *").value();
  CronExpr expire = CronExpr::Parse("30 1 * * *").value();
  CronExpr verify = CronExpr::Parse("0 2 * * *").value();
  CronExpr drill = CronExpr::Parse("0 3 * * 0").value();
  // Copies what a lagging repository lacks (repo sync); runs only with two or more repositories
  // and only when one lags another.
  CronExpr sync = CronExpr::Parse("*/15 * * * *").value();
};

struct DaemonConfig {
  std::string listen = "127.0.0.1:9187";       // "" turns the HTTP endpoint off
  bool allow_remote = false;                   // listen on a non-loopback address only when true
  std::optional<SecretRef> token;              // bearer token for everything but /healthz
  bool wal_stream = false;                     // keep `drctl wal stream` running
  Seconds refresh = std::chrono::seconds(30);  // how often the objectives are measured
  Seconds retry = std::chrono::minutes(1);     // first retry of a failed job (doubles)
  Seconds retry_max = std::chrono::hours(1);   // longest wait between retries
  std::filesystem::path state;  // empty: <wal.spool>/daemon (state.json, lock, job logs)
};

struct AlertsConfig {
  std::string webhook;  // JSON POST on each alert and recovery
  std::string command;  // run with the alert as JSON on stdin (through /bin/sh -c)
  Seconds repeat = std::chrono::hours(24);     // re-send a still-active alert after this; 0: never
  Seconds timeout = std::chrono::seconds(10);  // per delivery
};

struct Config {
  std::filesystem::path source;  // the file it was read from; empty for the embedded defaults
  PostgresConfig postgres;
  std::vector<RepoConfig> repos;
  EncryptionConfig encryption;
  BackupConfig backup;
  WalConfig wal;
  DrillConfig drill;
  RetentionConfig retention;
  ObjectivesConfig objectives;
  ScheduleConfig schedule;
  DaemonConfig daemon;
  AlertsConfig alerts;

  const RepoConfig* FindRepo(std::string_view name) const;
};

// Parses TOML text; `source` names it in error messages.
Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source);

// Reads and parses a file.
Result<Config> LoadConfigFile(const std::filesystem::path& path);

// Which file to read: `explicit_path` (--config) if given, else $DRCTL_CONFIG, else ./drctl.toml,
// else /etc/drctl/drctl.toml. An explicitly named file that does not exist is an error; when
// nothing is named and no default file exists, the result is kNotFound listing where it looked.
Result<std::filesystem::path> FindConfigFile(
    const std::optional<std::filesystem::path>& explicit_path);

}  // namespace drctl
