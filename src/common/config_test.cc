#include "common/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace drctl {
namespace {

constexpr std::string_view kContract = R"(
[postgres]
conninfo = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
pgdata = "/var/lib/postgresql/15/main"

[[repo]]
name = "local"
url = "file:///var/lib/drctl/repo"

[[repo]]
name = "dr"
url = "s3://bucket/some/prefix"
endpoint = "https://s3.eu-central-1.amazonaws.com"
region = "eu-central-1"

[encryption]
passphrase_env = "DRCTL_PASSPHRASE"

[backup]
jobs = 2
compression = "zstd:3"

[retention]
daily = 30
monthly = 12

[objectives]
rpo = "15m"
rto = "4h"
)";

TEST(Config, ParsesTheContractExample) {
  auto c = ParseConfig(kContract, "drctl.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->postgres.pgdata, "/var/lib/postgresql/15/main");
  ASSERT_EQ(c->repos.size(), 2U);
  EXPECT_EQ(c->repos[0].name, "local");
  EXPECT_FALSE(c->repos[0].is_s3());
  EXPECT_TRUE(c->repos[1].is_s3());
  EXPECT_EQ(c->repos[1].region, "eu-central-1");
  EXPECT_EQ(c->repos[1].line, 10);
  EXPECT_EQ(c->encryption.passphrase.kind, SecretKind::kEnv);
  EXPECT_EQ(c->encryption.passphrase.source, "DRCTL_PASSPHRASE");
  EXPECT_EQ(c->backup.jobs, 2);
  EXPECT_EQ(c->backup.compression.ToString(), "zstd:3");
  EXPECT_EQ(c->retention.daily, 30);
  EXPECT_EQ(c->retention.monthly, 12);
  EXPECT_FALSE(c->retention.weekly.has_value());
  EXPECT_EQ(c->objectives.rpo, Seconds(900));
  EXPECT_EQ(c->objectives.rto, Seconds(14400));
  EXPECT_EQ(c->FindRepo("dr"), &c->repos[1]);
  EXPECT_EQ(c->FindRepo("nope"), nullptr);
}

TEST(Config, EmptyFileGivesDefaults) {
  auto c = ParseConfig("", "x.toml");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->backup.jobs, 2);
  EXPECT_EQ(c->schedule.backup.text(), "0 */6 * * *");
  EXPECT_EQ(c->schedule.drill.text(), "0 3 * * 0");
  EXPECT_EQ(c->daemon.listen, "127.0.0.1:9187");
  EXPECT_TRUE(c->encryption.enabled);
}

TEST(Config, ScheduleDaemonAlertsAndRetentionKeys) {
  auto c = ParseConfig(R"(
[schedule]
backup = "*/30 * * * *"
[daemon]
listen = "127.0.0.1:9999"
token_env = "DRCTL_HTTP_TOKEN"
[alerts]
webhook = "https://hooks.example/dr"
[retention]
keep_last = 3
pitr = "7d"
[backup]
count_tables = ['public."User"']
)",
                       "x.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->schedule.backup.text(), "*/30 * * * *");
  EXPECT_EQ(c->daemon.token.value_or(SecretRef{}).source, "DRCTL_HTTP_TOKEN");
  EXPECT_EQ(c->alerts.webhook, "https://hooks.example/dr");
  EXPECT_EQ(c->retention.keep_last, 3);
  EXPECT_EQ(c->retention.pitr, Seconds(7 * 86400));
  ASSERT_EQ(c->backup.count_tables.size(), 1U);
  EXPECT_EQ(c->backup.count_tables[0], "public.\"User\"");
}

TEST(Config, DaemonObjectivesAndAlertKeys) {
  auto c = ParseConfig(R"(
[objectives]
backup_age = "13h"
drill_age = "15d"
[schedule]
sync = "@every 30s"
drill = "@every 2m"
[daemon]
allow_remote = true
wal_stream = true
refresh = "2s"
retry = "3s"
retry_max = "1m"
state = "/tmp/drctl-state"
[alerts]
command = "/usr/local/bin/page-oncall"
repeat = "0s"
timeout = "4s"
)",
                       "x.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->objectives.backup_age, Seconds(13 * 3600));
  EXPECT_EQ(c->objectives.drill_age, Seconds(15 * 86400));
  EXPECT_EQ(c->schedule.sync.text(), "@every 30s");
  EXPECT_EQ(c->schedule.drill.text(), "@every 2m");
  EXPECT_TRUE(c->daemon.allow_remote);
  EXPECT_TRUE(c->daemon.wal_stream);
  EXPECT_EQ(c->daemon.refresh, Seconds(2));
  EXPECT_EQ(c->daemon.retry, Seconds(3));
  EXPECT_EQ(c->daemon.retry_max, Seconds(60));
  EXPECT_EQ(c->daemon.state, "/tmp/drctl-state");
  EXPECT_EQ(c->alerts.command, "/usr/local/bin/page-oncall");
  EXPECT_EQ(c->alerts.repeat, Seconds(0));
  EXPECT_EQ(c->alerts.timeout, Seconds(4));
  auto d = ParseConfig("", "empty.toml");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->schedule.sync.text(), "*/15 * * * *");
  EXPECT_EQ(d->objectives.backup_age, Seconds(7 * 3600));
  EXPECT_EQ(d->objectives.drill_age, Seconds(8 * 86400));
  EXPECT_FALSE(d->daemon.wal_stream);
  EXPECT_EQ(d->alerts.repeat, Seconds(86400));
}

TEST(Config, WalKeys) {
  auto defaults = ParseConfig("", "x.toml");
  ASSERT_TRUE(defaults.has_value());
  EXPECT_EQ(defaults->wal.spool, "/var/spool/drctl");
  EXPECT_FALSE(defaults->wal.async);
  EXPECT_EQ(defaults->wal.partial_interval, Seconds(10));
  EXPECT_EQ(defaults->wal.synchronous, SyncMode::kOff);
  auto c = ParseConfig(R"(
[wal]
spool = "/srv/spool"
async = true
jobs = 8
push_ahead = 32
prefetch = 0
partial_interval = "2s"
slot = "dr_slot"
application_name = "drctl_dr"
synchronous = "repository"
)",
                       "x.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->wal.spool, "/srv/spool");
  EXPECT_TRUE(c->wal.async);
  EXPECT_EQ(c->wal.jobs, 8);
  EXPECT_EQ(c->wal.push_ahead, 32);
  EXPECT_EQ(c->wal.prefetch, 0);
  EXPECT_EQ(c->wal.partial_interval, Seconds(2));
  EXPECT_EQ(c->wal.slot, "dr_slot");
  EXPECT_EQ(c->wal.application_name, "drctl_dr");
  EXPECT_EQ(c->wal.synchronous, SyncMode::kRepository);
}

TEST(Config, DrillChecks) {
  auto c = ParseConfig(R"(
[drill]
directory = "/srv/drills"
[[drill.check]]
name = "users exist"
query = 'SELECT count(*) > 0 FROM "User"'
expect = "t"
[[drill.check]]
name = "orders db"
database = "erp"
query = "SELECT 1"
expect = "1"
)",
                       "x.toml");
  ASSERT_TRUE(c.has_value()) << c.error().message();
  EXPECT_EQ(c->drill.directory, "/srv/drills");
  ASSERT_EQ(c->drill.checks.size(), 2U);
  EXPECT_EQ(c->drill.checks[0].name, "users exist");
  EXPECT_EQ(c->drill.checks[0].database, "postgres");
  EXPECT_EQ(c->drill.checks[0].query, "SELECT count(*) > 0 FROM \"User\"");
  EXPECT_EQ(c->drill.checks[1].database, "erp");
  EXPECT_EQ(c->drill.checks[1].expect, "1");
}

// Each broken file: the error is kConfig and names the file, the line and the key.
void ExpectConfigError(std::string_view text, std::string_view expected_fragment) {
  auto c = ParseConfig(text, "broken.toml");
  ASSERT_FALSE(c.has_value()) << text;
  EXPECT_EQ(c.error().code(), ErrorCode::kConfig);
  EXPECT_NE(c.error().message().find(expected_fragment), std::string::npos)
      << "got: " << c.error().message();
}

TEST(ConfigErrors, UnknownKeyNamesKeyAndLine) {
  ExpectConfigError("[backup]\njobs = 2\njbos = 3\n", "broken.toml:3: unknown key 'backup.jbos'");
}

TEST(ConfigErrors, UnknownSection) {
  ExpectConfigError("[bakup]\njobs = 2\n", "broken.toml:1: unknown key 'bakup'");
}

TEST(ConfigErrors, UnknownKeyInRepo) {
  ExpectConfigError("[[repo]]\nname = \"a\"\nurl = \"file:///r\"\nbucket = \"x\"\n",
                    "broken.toml:4: unknown key 'repo[1].bucket'");
}

TEST(ConfigErrors, WrongType) {
  ExpectConfigError("[backup]\n\njobs = \"two\"\n",
                    "broken.toml:3: key 'backup.jobs' must be an integer, not a string");
}

TEST(ConfigErrors, OutOfRange) {
  ExpectConfigError("[backup]\njobs = 0\n", "broken.toml:2: key 'backup.jobs' is 0, must be");
}

TEST(ConfigErrors, BadWalKeys) {
  ExpectConfigError("[wal]\nsynchronous = \"yes\"\n",
                    "broken.toml:2: key 'wal.synchronous' unknown synchronous mode 'yes'");
  ExpectConfigError("[wal]\npartial_interval = \"0s\"\n",
                    "'wal.partial_interval' must be at least 1s");
}

TEST(ConfigErrors, BadDaemonKeys) {
  ExpectConfigError("[objectives]\nrpo = \"0s\"\n", "key 'objectives.rpo' must be above 0s");
  ExpectConfigError("[daemon]\nretry = \"1h\"\nretry_max = \"1m\"\n",
                    "'daemon.retry_max' at least 'daemon.retry'");
  ExpectConfigError("[alerts]\ntimeout = \"0s\"\n", "key 'alerts.timeout' must be above 0s");
  ExpectConfigError("[schedule]\nsync = \"@every 0s\"\n", "key 'schedule.sync'");
}

TEST(ConfigErrors, DrillCheckNeedsAQuery) {
  ExpectConfigError("[drill]\n[[drill.check]]\nname = \"x\"\nexpect = \"1\"\n",
                    "'drill.check[1].query'");
  ExpectConfigError("[drill]\ncheck = 3\n", "'drill.check' must be an array of tables");
}

TEST(ConfigErrors, BadDuration) {
  ExpectConfigError("[objectives]\nrpo = \"15 minutes\"\n",
                    "broken.toml:2: key 'objectives.rpo' duration \"15 minutes\"");
}

TEST(ConfigErrors, BadCron) {
  ExpectConfigError("[schedule]\nbackup = \"0 */6 * *\"\n",
                    "broken.toml:2: key 'schedule.backup' cron expression");
}

TEST(ConfigErrors, BadCompression) {
  ExpectConfigError("[backup]\ncompression = \"gzip\"\n",
                    "broken.toml:2: key 'backup.compression' unknown compression \"gzip\"");
}

TEST(ConfigErrors, MissingRepoUrl) {
  ExpectConfigError("\n[[repo]]\nname = \"local\"\n", "broken.toml:2: missing key 'repo[1].url'");
}

TEST(ConfigErrors, BadRepoUrlScheme) {
  ExpectConfigError("[[repo]]\nname = \"x\"\nurl = \"ftp://host/x\"\n", "unknown scheme");
  ExpectConfigError("[[repo]]\nname = \"x\"\nurl = \"file://relative\"\n", "must be absolute");
  ExpectConfigError("[[repo]]\nname = \"x\"\nurl = \"s3://\"\n", "names no bucket");
}

TEST(ConfigErrors, DuplicateRepoName) {
  ExpectConfigError(
      "[[repo]]\nname = \"a\"\nurl = \"file:///a\"\n[[repo]]\nname = \"a\"\nurl = \"file:///b\"\n",
      "broken.toml:4: repo name 'a' is used twice");
}

TEST(ConfigErrors, RepoMustBeArrayOfTables) {
  ExpectConfigError("[repo]\nname = \"a\"\n", "'repo' must be an array of tables");
}

TEST(ConfigErrors, SectionMustBeTable) {
  ExpectConfigError("backup = 3\n", "'backup' must be a table");
}

TEST(ConfigErrors, SecretLiteralsAreRefused) {
  ExpectConfigError("[encryption]\npassphrase = \"hunter2\"\n",
                    "key 'encryption.passphrase' would put a secret in the config file");
  ExpectConfigError("[[repo]]\nname = \"a\"\nurl = \"s3://b\"\nsecret_access_key = \"x\"\n",
                    "secret_access_key' would put a secret in the config file");
}

TEST(ConfigErrors, SecretLiteralIsNotEchoed) {
  auto c = ParseConfig("[encryption]\npassphrase = \"hunter2-secret\"\n", "broken.toml");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().ToString().find("hunter2"), std::string::npos);
}

TEST(ConfigErrors, TwoSecretSources) {
  ExpectConfigError("[encryption]\npassphrase_env = \"A\"\npassphrase_file = \"/f\"\n",
                    "broken.toml:3: key 'encryption.passphrase_file' conflicts");
}

TEST(ConfigErrors, S3CredentialsHaveOneSourceEach) {
  ExpectConfigError(
      "[[repo]]\nname = \"a\"\nurl = \"s3://b\"\naccess_key_id_env = \"K\"\n"
      "access_key_id_file = \"/k\"\n",
      "key 'repo[1].access_key_id_file' conflicts");
}

TEST(Config, S3CredentialsFromAVariableAFileOrACommand) {
  auto c = ParseConfig(
      "[[repo]]\nname = \"a\"\nurl = \"s3://b/p\"\naccess_key_id_file = \"/etc/drctl/s3-key\"\n"
      "secret_access_key_command = \"vault read -field=secret s3\"\n"
      "[[repo]]\nname = \"b\"\nurl = \"s3://c/p\"\n",
      "x");
  ASSERT_TRUE(c.has_value()) << c.error().ToString();
  const RepoConfig& a = c->repos[0];
  EXPECT_EQ(a.access_key_id.kind, SecretKind::kFile);
  EXPECT_EQ(a.access_key_id.source, "/etc/drctl/s3-key");
  EXPECT_EQ(a.secret_access_key.kind, SecretKind::kCommand);
  EXPECT_EQ(a.secret_access_key.source, "vault read -field=secret s3");
  EXPECT_EQ(a.session_token.kind, SecretKind::kEnv);
  EXPECT_EQ(a.session_token.source, "AWS_SESSION_TOKEN");
  // Without a setting: the AWS variables.
  const RepoConfig& b = c->repos[1];
  EXPECT_EQ(b.access_key_id.kind, SecretKind::kEnv);
  EXPECT_EQ(b.access_key_id.source, "AWS_ACCESS_KEY_ID");
  EXPECT_EQ(b.secret_access_key.source, "AWS_SECRET_ACCESS_KEY");
}

TEST(ConfigErrors, ScryptCostMustBeAPowerOfTwo) {
  ExpectConfigError("[encryption]\nscrypt_n = 1000\n", "'encryption.scrypt_n' is 1000, must be");
  ExpectConfigError("[encryption]\nscrypt_n = 3000\n", "must be a power of 2");
  EXPECT_EQ(ParseConfig("[encryption]\nscrypt_n = 1024\n", "x").value().encryption.scrypt_n, 1024);
}

TEST(ConfigErrors, SyntaxError) { ExpectConfigError("[backup\njobs = 2\n", "broken.toml:1: "); }

TEST(Compression, Parses) {
  EXPECT_EQ(ParseCompression("lz4").value().algo, CompressionAlgo::kLz4);
  EXPECT_EQ(ParseCompression("none").value().algo, CompressionAlgo::kNone);
  EXPECT_EQ(ParseCompression("zstd:19").value().level, 19);
  EXPECT_EQ(ParseCompression("zstd").value().level, 3);
  EXPECT_FALSE(ParseCompression("zstd:0").has_value());
  EXPECT_FALSE(ParseCompression("zstd:20").has_value());
  EXPECT_FALSE(ParseCompression("zstd:3x").has_value());
}

TEST(FindConfigFile, ExplicitPathMustExist) {
  auto r = FindConfigFile(std::filesystem::path("/nonexistent/drctl.toml"));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kConfig);
  EXPECT_NE(r.error().message().find("/nonexistent/drctl.toml"), std::string::npos);
}

TEST(FindConfigFile, EnvironmentVariableComesNext) {
  setenv("DRCTL_CONFIG", "/nonexistent/from-env.toml", 1);
  auto r = FindConfigFile(std::nullopt);
  unsetenv("DRCTL_CONFIG");
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message().find("from $DRCTL_CONFIG"), std::string::npos);
}

}  // namespace
}  // namespace drctl
