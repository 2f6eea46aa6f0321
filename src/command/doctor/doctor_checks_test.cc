#include "command/doctor/doctor_checks.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace drctl::command {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

constexpr std::uint64_t kMiB = std::uint64_t{1} << 20;

// A primary archiving through drctl as doctor wants it (RPO 15 min).
PostgresFacts GoodFacts() {
  PostgresFacts f;
  f.server = "db:5432";
  f.version_num = 150004;
  f.data_directory = "/var/lib/postgresql/15/main";
  f.current_lsn = 0x3000000;
  f.settings.archive_mode = "on";
  f.settings.archive_command = "/usr/bin/drctl --config /etc/drctl/drctl.toml wal push %p";
  f.settings.archive_timeout = seconds(60);
  f.settings.data_checksums = true;
  f.archiver.archived_count = 2;
  f.archiver.last_archived_wal = "000000010000000000000002";
  return f;
}

Config GoodConfig() {
  Config c;
  c.source = "/etc/drctl/drctl.toml";
  return c;
}

// Streaming: [daemon] wal_stream, a physical slot that keeps little, a WAL size limit.
PostgresFacts StreamFacts() {
  PostgresFacts f = GoodFacts();
  f.settings.archive_mode = "off";
  f.settings.archive_command = "";
  f.settings.max_slot_wal_keep_size_mb = 10240;
  f.slot = SlotFacts{true, true, "reserved", 0x2000000, std::int64_t{10} << 30};
  return f;
}

Config StreamConfig() {
  Config c = GoodConfig();
  c.daemon.wal_stream = true;
  return c;
}

const DoctorCheck* Find(const std::vector<DoctorCheck>& checks, std::string_view name) {
  auto it = std::ranges::find_if(checks, [&](const DoctorCheck& c) { return c.name == name; });
  return it == checks.end() ? nullptr : &*it;
}

std::vector<std::string> Names(const std::vector<DoctorCheck>& checks) {
  std::vector<std::string> names;
  names.reserve(checks.size());
  for (const auto& c : checks) names.push_back(c.name);
  return names;
}

// The level of check `name`; fails the test when it is absent.
Health Level(const PostgresFacts& facts, const Config& config, std::string_view name) {
  const auto checks = EvaluateDoctor(facts, config);
  const DoctorCheck* c = Find(checks, name);
  EXPECT_NE(c, nullptr) << name;
  return c == nullptr ? Health::kOk : c->level;
}

DoctorCheck Get(const PostgresFacts& facts, const Config& config, std::string_view name) {
  const auto checks = EvaluateDoctor(facts, config);
  const DoctorCheck* c = Find(checks, name);
  EXPECT_NE(c, nullptr) << name;
  return c == nullptr ? DoctorCheck{} : *c;
}

TEST(DoctorChecksTest, WellConfiguredArchivingIsAllOkAndSkipsStreamChecks) {
  const auto checks = EvaluateDoctor(GoodFacts(), GoodConfig());
  EXPECT_EQ(Names(checks),
            (std::vector<std::string>{"server", "wal_level", "archiving", "archive_timeout",
                                      "archiver", "data_checksums"}));
  for (const auto& c : checks) {
    EXPECT_EQ(c.level, Health::kOk) << c.name << ": " << c.found;
    EXPECT_EQ(c.fix, "") << c.name;
  }
}

TEST(DoctorChecksTest, WellConfiguredStreamingIsAllOkAndSkipsArchiveChecks) {
  const auto checks = EvaluateDoctor(StreamFacts(), StreamConfig());
  EXPECT_EQ(Names(checks),
            (std::vector<std::string>{"server", "wal_level", "archiving", "data_checksums",
                                      "partial_interval", "max_wal_senders",
                                      "max_slot_wal_keep_size", "slot"}));
  for (const auto& c : checks) EXPECT_EQ(c.level, Health::kOk) << c.name << ": " << c.found;
}

TEST(DoctorChecksTest, ServerMustBeAPostgres15Primary) {
  PostgresFacts f = GoodFacts();
  EXPECT_EQ(Get(f, GoodConfig(), "server").found, "PostgreSQL 15.4 at db:5432, primary");
  f.version_num = 160001;
  auto c = Get(f, GoodConfig(), "server");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_NE(c.fix.find("PostgreSQL 15"), std::string::npos) << c.fix;
  EXPECT_NE(c.fix.find("/etc/drctl/drctl.toml"), std::string::npos) << c.fix;
  f = GoodFacts();
  f.in_recovery = true;
  c = Get(f, GoodConfig(), "server");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_NE(c.fix.find("at the primary"), std::string::npos) << c.fix;
}

TEST(DoctorChecksTest, WalLevelMinimalFails) {
  PostgresFacts f = GoodFacts();
  for (const char* ok : {"replica", "logical"}) {
    f.settings.wal_level = ok;
    EXPECT_EQ(Level(f, GoodConfig(), "wal_level"), Health::kOk) << ok;
  }
  f.settings.wal_level = "minimal";
  const auto c = Get(f, GoodConfig(), "wal_level");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_EQ(c.fix, "ALTER SYSTEM SET wal_level = 'replica'; then restart PostgreSQL");
}

TEST(DoctorChecksTest, ArchiveModeOffFailsWithoutStreaming) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_mode = "off";
  const auto checks = EvaluateDoctor(f, GoodConfig());
  const DoctorCheck* c = Find(checks, "archiving");
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->level, Health::kFail);
  EXPECT_EQ(c->fix,
            "ALTER SYSTEM SET archive_mode = 'on'; ALTER SYSTEM SET archive_command = 'drctl "
            "--config /etc/drctl/drctl.toml wal push %p'; then restart PostgreSQL (or stream "
            "instead: [daemon] wal_stream = true)");
  EXPECT_EQ(Find(checks, "archive_timeout"), nullptr) << "nothing archives: no timeout to judge";
  EXPECT_EQ(Find(checks, "archiver"), nullptr);
  f.settings.archive_mode = "always";
  EXPECT_EQ(Level(f, GoodConfig(), "archiving"), Health::kOk);
}

TEST(DoctorChecksTest, ArchiveModeOffIsFineWhenStreaming) {
  EXPECT_EQ(Level(StreamFacts(), StreamConfig(), "archiving"), Health::kOk);
  // A synchronous mode means a stream runs, with or without the daemon.
  Config sync = GoodConfig();
  sync.wal.synchronous = SyncMode::kLocal;
  PostgresFacts f = StreamFacts();
  f.settings.synchronous_standby_names = "drctl";
  EXPECT_EQ(Level(f, sync, "archiving"), Health::kOk);
  EXPECT_EQ(Find(EvaluateDoctor(f, sync), "archive_timeout"), nullptr);
}

TEST(DoctorChecksTest, ArchiveCommandOfAnotherToolWarnsUnlessStreaming) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_command = "cp %p /mnt/archive/%f";
  const auto c = Get(f, GoodConfig(), "archiving");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_EQ(c.fix,
            "ALTER SYSTEM SET archive_command = 'drctl --config /etc/drctl/drctl.toml wal push "
            "%p'; SELECT pg_reload_conf();");
  PostgresFacts s = StreamFacts();
  s.settings.archive_mode = "on";
  s.settings.archive_command = "cp %p /mnt/archive/%f";
  EXPECT_EQ(Level(s, StreamConfig(), "archiving"), Health::kOk);
}

TEST(DoctorChecksTest, EmptyArchiveCommandFailsEvenWhenStreaming) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_command = "";
  EXPECT_EQ(Level(f, GoodConfig(), "archiving"), Health::kFail);
  PostgresFacts s = StreamFacts();
  s.settings.archive_mode = "on";
  const auto c = Get(s, StreamConfig(), "archiving");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_NE(c.fix.find("archive_mode = 'off'"), std::string::npos) << c.fix;
}

TEST(DoctorChecksTest, DrctlWithoutPercentPFails) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_command = "drctl wal push";
  EXPECT_EQ(Level(f, GoodConfig(), "archiving"), Health::kFail);
}

TEST(DoctorChecksTest, ArchiveLibraryWarnsUnlessStreaming) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_library = "basic_archive";
  const auto c = Get(f, GoodConfig(), "archiving");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_NE(c.found.find("archive_library = 'basic_archive'"), std::string::npos) << c.found;
  EXPECT_TRUE(c.fix.starts_with("ALTER SYSTEM SET archive_library = ''; ")) << c.fix;
  PostgresFacts s = StreamFacts();
  s.settings.archive_mode = "on";
  s.settings.archive_library = "basic_archive";
  EXPECT_EQ(Level(s, StreamConfig(), "archiving"), Health::kOk);
}

TEST(DoctorChecksTest, SuggestedArchiveCommandWithoutConfigFile) {
  PostgresFacts f = GoodFacts();
  f.settings.archive_command = "/bin/true";
  Config c;  // embedded defaults: no file to name
  EXPECT_EQ(Get(f, c, "archiving").fix,
            "ALTER SYSTEM SET archive_command = 'drctl wal push %p'; SELECT pg_reload_conf();");
}

TEST(DoctorChecksTest, ClassifiesArchiveCommands) {
  EXPECT_EQ(ClassifyArchiveCommand(""), ArchiveCommandKind::kEmpty);
  EXPECT_EQ(ClassifyArchiveCommand("   "), ArchiveCommandKind::kEmpty);
  EXPECT_EQ(ClassifyArchiveCommand("drctl wal push %p"), ArchiveCommandKind::kDrctl);
  EXPECT_EQ(ClassifyArchiveCommand("/opt/x/drctl --config '/etc/d.toml' --log-level info wal "
                                   "push \"%p\""),
            ArchiveCommandKind::kDrctl);
  EXPECT_EQ(ClassifyArchiveCommand("drctl wal push"), ArchiveCommandKind::kDrctlWithoutPath);
  EXPECT_EQ(ClassifyArchiveCommand("drctl wal get %f %p"), ArchiveCommandKind::kOther);
  EXPECT_EQ(ClassifyArchiveCommand("wal push %p"), ArchiveCommandKind::kOther);
  EXPECT_EQ(ClassifyArchiveCommand("/usr/bin/mydrctl wal push %p"), ArchiveCommandKind::kOther);
  EXPECT_EQ(ClassifyArchiveCommand("pgbackrest --stanza=main archive-push %p"),
            ArchiveCommandKind::kOther);
}

TEST(DoctorChecksTest, ArchiveTimeoutBetweenOneSecondAndHalfTheRpo) {
  PostgresFacts f = GoodFacts();
  Config c = GoodConfig();  // rpo 15m
  f.settings.archive_timeout = seconds(0);
  auto check = Get(f, c, "archive_timeout");
  EXPECT_EQ(check.level, Health::kFail);
  EXPECT_TRUE(check.found.starts_with("0 (disabled)")) << check.found;
  EXPECT_EQ(check.fix, "ALTER SYSTEM SET archive_timeout = '60s'; SELECT pg_reload_conf();");
  f.settings.archive_timeout = seconds(1);
  EXPECT_EQ(Level(f, c, "archive_timeout"), Health::kOk);
  f.settings.archive_timeout = seconds(450);  // exactly half
  EXPECT_EQ(Level(f, c, "archive_timeout"), Health::kOk);
  f.settings.archive_timeout = seconds(451);
  EXPECT_EQ(Level(f, c, "archive_timeout"), Health::kWarn);
  f.settings.archive_timeout = seconds(900);  // exactly the RPO: no room for the upload
  EXPECT_EQ(Level(f, c, "archive_timeout"), Health::kWarn);
  f.settings.archive_timeout = seconds(901);
  check = Get(f, c, "archive_timeout");
  EXPECT_EQ(check.level, Health::kFail);
  EXPECT_NE(check.found.find("above [objectives] rpo = 15m"), std::string::npos) << check.found;
  EXPECT_EQ(check.want, "1s .. 7m30s (at most half of [objectives] rpo = 15m)");
}

TEST(DoctorChecksTest, ArchiveTimeoutSuggestionFollowsTheRpo) {
  PostgresFacts f = GoodFacts();
  Config c = GoodConfig();
  c.objectives.rpo = seconds(30);
  f.settings.archive_timeout = seconds(60);
  EXPECT_EQ(Get(f, c, "archive_timeout").fix,
            "ALTER SYSTEM SET archive_timeout = '15s'; SELECT pg_reload_conf();");
  c.objectives.rpo = seconds(1);
  f.settings.archive_timeout = seconds(1);
  EXPECT_EQ(Level(f, c, "archive_timeout"), Health::kWarn);
  EXPECT_EQ(Get(f, c, "archive_timeout").fix,
            "ALTER SYSTEM SET archive_timeout = '1s'; SELECT pg_reload_conf();");
}

TEST(DoctorChecksTest, FailingArchiverFails) {
  PostgresFacts f = GoodFacts();
  f.archiver.failed_count = 3;
  f.archiver.last_failed_wal = "000000010000000000000003";
  f.archiver.last_failed_time = "2026-01-01 10:00:00+00";
  EXPECT_EQ(Level(f, GoodConfig(), "archiver"), Health::kOk) << "failures, then a success";
  f.archiver.failing = true;
  const auto c = Get(f, GoodConfig(), "archiver");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_NE(c.found.find("000000010000000000000003"), std::string::npos) << c.found;
  f.archiver = {};
  EXPECT_EQ(Get(f, GoodConfig(), "archiver").found, "nothing archived yet");
}

TEST(DoctorChecksTest, ChecksumsOffWarnsWithPgChecksums) {
  PostgresFacts f = GoodFacts();
  f.settings.data_checksums = false;
  auto c = Get(f, GoodConfig(), "data_checksums");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_NE(c.fix.find("pg_checksums --enable -D /var/lib/postgresql/15/main"), std::string::npos)
      << c.fix;
  f.data_directory = "";
  c = Get(f, GoodConfig(), "data_checksums");
  EXPECT_NE(c.fix.find("-D <data directory>"), std::string::npos) << c.fix;
}

TEST(DoctorChecksTest, StreamingNeedsAWalSender) {
  PostgresFacts f = StreamFacts();
  f.settings.max_wal_senders = 1;
  EXPECT_EQ(Level(f, StreamConfig(), "max_wal_senders"), Health::kOk);
  f.settings.max_wal_senders = 0;
  const auto c = Get(f, StreamConfig(), "max_wal_senders");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_EQ(c.fix, "ALTER SYSTEM SET max_wal_senders = '10'; then restart PostgreSQL");
  EXPECT_EQ(Find(EvaluateDoctor(f, GoodConfig()), "max_wal_senders"), nullptr)
      << "archiving alone needs no WAL sender";
}

TEST(DoctorChecksTest, UnlimitedSlotRetentionWarnsWhenStreaming) {
  PostgresFacts f = StreamFacts();
  f.settings.max_slot_wal_keep_size_mb = -1;
  f.slot->safe_wal_size = std::nullopt;
  const auto c = Get(f, StreamConfig(), "max_slot_wal_keep_size");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_TRUE(
      c.fix.starts_with("ALTER SYSTEM SET max_slot_wal_keep_size = '10GB'; SELECT "
                        "pg_reload_conf();"))
      << c.fix;
  f.settings.max_slot_wal_keep_size_mb = 0;
  EXPECT_EQ(Level(f, StreamConfig(), "max_slot_wal_keep_size"), Health::kOk);
}

TEST(DoctorChecksTest, PartialIntervalAgainstTheRpo) {
  Config c = StreamConfig();
  c.wal.partial_interval = seconds(450);
  EXPECT_EQ(Level(StreamFacts(), c, "partial_interval"), Health::kOk);
  c.wal.partial_interval = seconds(451);
  EXPECT_EQ(Level(StreamFacts(), c, "partial_interval"), Health::kWarn);
  c.wal.partial_interval = minutes(16);
  const auto check = Get(StreamFacts(), c, "partial_interval");
  EXPECT_EQ(check.level, Health::kFail);
  EXPECT_EQ(check.fix,
            "set partial_interval = \"60s\" under [wal] in /etc/drctl/drctl.toml, then restart "
            "the stream");
}

TEST(DoctorChecksTest, MissingSlotWarnsWhenStreaming) {
  PostgresFacts f = StreamFacts();
  f.slot.reset();
  const auto c = Get(f, StreamConfig(), "slot");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_NE(c.fix.find("pg_create_physical_replication_slot('drctl', true)"), std::string::npos)
      << c.fix;
  EXPECT_EQ(Find(EvaluateDoctor(f, GoodConfig()), "slot"), nullptr) << "no slot, no stream: fine";
}

TEST(DoctorChecksTest, SlotWalStatus) {
  PostgresFacts f = StreamFacts();
  for (const char* ok : {"reserved", "extended"}) {
    f.slot->wal_status = ok;
    EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kOk) << ok;
  }
  f.slot->wal_status = "unreserved";
  EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kWarn);
  f.slot->wal_status = "lost";
  const auto c = Get(f, StreamConfig(), "slot");
  EXPECT_EQ(c.level, Health::kFail);
  EXPECT_NE(c.fix.find("pg_drop_replication_slot('drctl')"), std::string::npos) << c.fix;
  EXPECT_NE(c.fix.find("drctl backup"), std::string::npos) << c.fix;
}

TEST(DoctorChecksTest, LogicalSlotFails) {
  PostgresFacts f = StreamFacts();
  f.slot->physical = false;
  EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kFail);
}

TEST(DoctorChecksTest, SlotNearItsRetentionLimitWarns) {
  PostgresFacts f = StreamFacts();
  f.settings.max_slot_wal_keep_size_mb = 1000;
  f.current_lsn = *f.slot->restart_lsn + 800 * kMiB;  // exactly 80 %
  EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kOk);
  f.current_lsn = *f.current_lsn + 1;
  const auto c = Get(f, StreamConfig(), "slot");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_NE(c.found.find("over 80% of max_slot_wal_keep_size (1000MB)"), std::string::npos)
      << c.found;
}

TEST(DoctorChecksTest, InactiveSlotRetainingOverOneGibWarns) {
  PostgresFacts f = StreamFacts();
  f.settings.max_slot_wal_keep_size_mb = -1;
  f.slot->active = false;
  f.current_lsn = *f.slot->restart_lsn + kInactiveSlotRetainedWarnBytes;
  auto c = Get(f, StreamConfig(), "slot");
  EXPECT_EQ(c.level, Health::kOk) << c.found;
  EXPECT_NE(c.found.find("inactive, wal_status reserved, retains 1.0 GiB"), std::string::npos)
      << c.found;
  f.current_lsn = *f.current_lsn + 1;
  EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kWarn);
  f.slot->active = true;  // a receiver is reading: lag, not a dead stream
  EXPECT_EQ(Level(f, StreamConfig(), "slot"), Health::kOk);
}

TEST(DoctorChecksTest, SlotThatReservesNothingYetIsOk) {
  PostgresFacts f = StreamFacts();
  f.slot = SlotFacts{true, false, "", std::nullopt, std::nullopt};
  const auto c = Get(f, StreamConfig(), "slot");
  EXPECT_EQ(c.level, Health::kOk);
  EXPECT_EQ(c.found, "'drctl': physical, inactive, reserves no WAL yet");
}

TEST(DoctorChecksTest, ForgottenSlotWarnsWhenNotStreaming) {
  PostgresFacts f = GoodFacts();
  f.slot = SlotFacts{true, false, "reserved", 0x1000000, std::nullopt};
  auto c = Get(f, GoodConfig(), "slot");
  EXPECT_EQ(c.level, Health::kWarn);
  EXPECT_TRUE(c.fix.starts_with("SELECT pg_drop_replication_slot('drctl');")) << c.fix;
  f.slot->active = true;  // something reads it
  EXPECT_EQ(Level(f, GoodConfig(), "slot"), Health::kOk);
  f.slot = SlotFacts{true, false, "", std::nullopt, std::nullopt};  // keeps nothing
  EXPECT_EQ(Level(f, GoodConfig(), "slot"), Health::kOk);
}

TEST(DoctorChecksTest, SynchronousNeedsTheApplicationNameListed) {
  Config c = StreamConfig();
  c.wal.synchronous = SyncMode::kRepository;
  PostgresFacts f = StreamFacts();
  f.settings.synchronous_standby_names = "";
  auto check = Get(f, c, "synchronous");
  EXPECT_EQ(check.level, Health::kFail);
  EXPECT_EQ(check.fix,
            "ALTER SYSTEM SET synchronous_standby_names = 'drctl'; SELECT pg_reload_conf();");
  f.settings.synchronous_standby_names = "FIRST 1 (s1, s2)";
  EXPECT_EQ(Get(f, c, "synchronous").fix,
            "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 (s1, s2, drctl)'; SELECT "
            "pg_reload_conf();");
  f.settings.synchronous_standby_names = "s1";
  c.wal.application_name = "Drctl-Prod";
  EXPECT_EQ(Get(f, c, "synchronous").fix,
            "ALTER SYSTEM SET synchronous_standby_names = 's1, \"Drctl-Prod\"'; SELECT "
            "pg_reload_conf();");
  f.settings.synchronous_standby_names = "ANY 1 (s1, \"drctl-prod\")";
  EXPECT_EQ(Level(f, c, "synchronous"), Health::kOk);
  c.wal.synchronous = SyncMode::kOff;
  EXPECT_EQ(Find(EvaluateDoctor(f, c), "synchronous"), nullptr);
}

TEST(DoctorChecksTest, ListsStandbyReadsEveryForm) {
  EXPECT_TRUE(ListsStandby("drctl", "drctl"));
  EXPECT_TRUE(ListsStandby("s1, DRCTL", "drctl"));
  EXPECT_TRUE(ListsStandby("*", "drctl"));
  EXPECT_TRUE(ListsStandby("FIRST 2 (s1, drctl)", "drctl"));
  EXPECT_TRUE(ListsStandby("any 1(drctl)", "drctl"));
  EXPECT_TRUE(ListsStandby("2 (s1, drctl, s3)", "drctl"));
  EXPECT_TRUE(ListsStandby("\"my,standby\", drctl", "drctl"));
  EXPECT_TRUE(ListsStandby("\"my,standby\"", "my,standby"));
  EXPECT_TRUE(ListsStandby("first, drctl", "first")) << "FIRST without a number is a name";
  EXPECT_FALSE(ListsStandby("", "drctl"));
  EXPECT_FALSE(ListsStandby("s1, s2", "drctl"));
  EXPECT_FALSE(ListsStandby("FIRST 1 (drctl2)", "drctl"));
  EXPECT_FALSE(ListsStandby("\"drctl,x\"", "drctl"));
}

TEST(DoctorChecksTest, ReportFailsOnlyOnFail) {
  std::vector<DoctorCheck> checks = {
      {"wal_level", Health::kOk, "replica", "replica or logical", ""},
      {"data_checksums", Health::kWarn, "off", "on", "pg_checksums --enable"}};
  auto out = DoctorReport(checks, "db:5432");
  EXPECT_FALSE(out.failure.has_value()) << "WARN alone exits 0";
  EXPECT_EQ(out.json["ok"], true);
  EXPECT_EQ(out.json["server"], "db:5432");
  ASSERT_EQ(out.json["checks"].size(), 2U);
  EXPECT_EQ(out.json["checks"][1]["level"], "WARN");
  EXPECT_EQ(out.json["checks"][1]["fix"], "pg_checksums --enable");
  EXPECT_NE(out.text.find("WARN  data_checksums          off\n"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("fix:  pg_checksums --enable\n"), std::string::npos) << out.text;
  EXPECT_NE(out.text.find("db:5432: 2 checks, 1 WARN, 0 FAIL\n"), std::string::npos) << out.text;

  checks.push_back({"archiving", Health::kFail, "archive_mode = off", "on", "ALTER ..."});
  checks.push_back({"server", Health::kFail, "standby", "primary", "point ..."});
  out = DoctorReport(checks, "db:5432");
  ASSERT_TRUE(out.failure.has_value());
  EXPECT_EQ(out.failure->code(), ErrorCode::kVerifyFailed);
  EXPECT_EQ(out.failure->message(),
            "doctor: 2 check(s) failed on PostgreSQL at db:5432: archiving, server");
  EXPECT_EQ(out.json["ok"], false);
}

TEST(DoctorChecksTest, UnreachableServerIsOneFailedCheckWithoutThePassword) {
  Config c = GoodConfig();
  c.postgres.conninfo = "host=db.internal port=6543 user=drctl password=s3cret";
  const Error error(ErrorCode::kPostgres,
                    "cannot connect to PostgreSQL (host=db.internal port=6543 user=drctl "
                    "password=****): connection refused",
                    "check that PostgreSQL is running and [postgres] conninfo is right");
  const auto out = DoctorUnreachable(error, c);
  ASSERT_TRUE(out.failure.has_value());
  EXPECT_EQ(out.failure->code(), ErrorCode::kPostgres);
  ASSERT_EQ(out.json["checks"].size(), 1U);
  EXPECT_EQ(out.json["checks"][0]["name"], "connection");
  EXPECT_EQ(out.json["checks"][0]["level"], "FAIL");
  EXPECT_EQ(out.json["checks"][0]["fix"],
            "check that PostgreSQL is running and [postgres] conninfo is right (config: "
            "/etc/drctl/drctl.toml)");
  EXPECT_EQ(out.json["server"], "host=db.internal port=6543 user=drctl password=****");
  EXPECT_EQ(out.json.dump().find("s3cret"), std::string::npos);
  EXPECT_EQ(out.text.find("s3cret"), std::string::npos);
}

}  // namespace
}  // namespace drctl::command
