#include "command/doctor/doctor_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

#include "command/progress.h"
#include "postgres/connection.h"

namespace drctl::command {
namespace {

constexpr std::string_view kReload = "; SELECT pg_reload_conf();";
constexpr std::string_view kRestart = "; then restart PostgreSQL";

// An SQL string literal (standard_conforming_strings is on).
std::string SqlLiteral(std::string_view text) {
  std::string out = "'";
  for (const char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string AlterSystem(std::string_view name, std::string_view value) {
  return fmt::format("ALTER SYSTEM SET {} = {}", name, SqlLiteral(value));
}

std::string ConfigName(const Config& config) {
  return config.source.empty() ? std::string("the drctl config") : config.source.string();
}

// The archive_command to suggest: drctl with the config doctor ran with.
std::string PushCommand(const Config& config) {
  if (config.source.empty()) return "drctl wal push %p";
  return "drctl --config " + config.source.string() + " wal push %p";
}

std::string Bytes(std::uint64_t bytes) { return HumanBytes(static_cast<double>(bytes)); }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return std::ranges::equal(a, b, [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())) != 0) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())) != 0) s.remove_suffix(1);
  return s;
}

// The names of a synchronous_standby_names list ("a, \"B\"" -> a, B), quotes removed.
std::vector<std::string> SplitNames(std::string_view list) {
  std::vector<std::string> names(1);
  bool quoted = false;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (c == '"' && quoted && i + 1 < list.size() && list[i + 1] == '"') {
      names.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      names.emplace_back();
    } else if (quoted || std::isspace(static_cast<unsigned char>(c)) == 0) {
      names.back() += c;
    }
  }
  return names;
}

// A standby name as synchronous_standby_names needs it: quoted unless a plain lower-case word.
std::string StandbyName(std::string_view name) {
  const bool plain = !name.empty() && std::isdigit(static_cast<unsigned char>(name[0])) == 0 &&
                     std::ranges::all_of(name, [](char c) {
                       return std::islower(static_cast<unsigned char>(c)) != 0 ||
                              std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '_';
                     });
  if (plain) return std::string(name);
  std::string out = "\"";
  for (const char c : name) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// `names` with `name` added, keeping its form ("FIRST 1 (a)" -> "FIRST 1 (a, drctl)").
std::string AddStandby(std::string_view names, std::string_view name) {
  const std::string_view trimmed = Trim(names);
  if (trimmed.empty()) return StandbyName(name);
  if (trimmed.back() == ')') {
    return fmt::format("{}, {})", trimmed.substr(0, trimmed.size() - 1), StandbyName(name));
  }
  return fmt::format("{}, {}", trimmed, StandbyName(name));
}

// archive_timeout and [wal] partial_interval bound the data an idle period can lose. Above the
// RPO fails it; above half of it leaves no room for the upload after the switch and a retry.
Health JudgeInterval(Seconds value, Seconds rpo) {
  if (value <= Seconds(0) || value > rpo) return Health::kFail;
  return value * 2 > rpo ? Health::kWarn : Health::kOk;
}

// What to set an interval to: half the RPO, between 1 s and 1 min (a segment switch a minute
// costs one mostly empty segment a minute, which compresses to almost nothing).
Seconds SuggestedInterval(Seconds rpo) { return std::clamp(rpo / 2, Seconds(1), Seconds(60)); }

std::string IntervalWant(Seconds rpo) {
  return fmt::format("1s .. {} (at most half of [objectives] rpo = {})",
                     FormatDuration(std::max(rpo / 2, Seconds(1))), FormatDuration(rpo));
}

std::string IntervalFound(Seconds value, Seconds rpo, Health level) {
  if (value <= Seconds(0)) {
    return "0 (disabled): on a quiet database a partly filled WAL segment is not archived until "
           "it fills, for longer than the RPO";
  }
  if (level == Health::kFail) {
    return fmt::format("{}: above [objectives] rpo = {}, an idle period loses up to {}",
                       FormatDuration(value), FormatDuration(rpo), FormatDuration(value));
  }
  if (level == Health::kWarn) {
    return fmt::format(
        "{}: above half the RPO ({}): the upload after the switch and a retry "
        "must fit in the rest",
        FormatDuration(value), FormatDuration(rpo));
  }
  return FormatDuration(value);
}

DoctorCheck ServerCheck(const PostgresFacts& facts, const Config& config) {
  const std::uint32_t major = facts.version_num / 10000;
  DoctorCheck c{
      "server",
      Health::kOk,
      fmt::format("PostgreSQL {}.{} at {}, {}", major, facts.version_num % 100, facts.server,
                  facts.in_recovery ? "a standby (in recovery)" : "primary"),
      "PostgreSQL 15, the primary",
      {}};
  if (major != 15) {
    c.level = Health::kFail;
    c.fix = "point [postgres] conninfo in " + ConfigName(config) +
            " at a PostgreSQL 15 server: drctl backs up PostgreSQL 15";
  } else if (facts.in_recovery) {
    c.level = Health::kFail;
    c.fix = "point [postgres] conninfo in " + ConfigName(config) +
            " at the primary: drctl backs up primaries, and a standby archives only with "
            "archive_mode = always";
  }
  return c;
}

DoctorCheck WalLevelCheck(const PostgresSettings& s) {
  DoctorCheck c{"wal_level", Health::kOk, s.wal_level, "replica or logical", {}};
  if (s.wal_level == "minimal") {
    c.level = Health::kFail;
    c.found += ": the WAL cannot rebuild a backup, neither archiving nor streaming works";
    c.fix = AlterSystem("wal_level", "replica") + std::string(kRestart);
  }
  return c;
}

// The archive_command (or archive_library) half of the archiving check: set, and drctl's when
// WAL reaches the repository by archiving.
void JudgeArchiveCommand(const PostgresSettings& s, const Config& config, bool streaming,
                         DoctorCheck& c) {
  const std::string set_command = AlterSystem("archive_command", PushCommand(config));
  if (!s.archive_library.empty()) {
    if (streaming) return;
    c.level = Health::kWarn;
    c.found += ": WAL goes to that module, not to drctl's repository";
    c.fix = AlterSystem("archive_library", "") + "; " + set_command + std::string(kReload);
    return;
  }
  switch (ClassifyArchiveCommand(s.archive_command)) {
    case ArchiveCommandKind::kEmpty:
      c.level = Health::kFail;
      c.found += ": PostgreSQL keeps every WAL segment until a command is set, pg_wal fills";
      c.fix =
          set_command + std::string(kReload) +
          (streaming ? " (or ALTER SYSTEM SET archive_mode = 'off'; then restart PostgreSQL)" : "");
      return;
    case ArchiveCommandKind::kDrctlWithoutPath:
      c.level = Health::kFail;
      c.found += ": without %p every attempt fails and pg_wal fills";
      c.fix = set_command + std::string(kReload);
      return;
    case ArchiveCommandKind::kOther:
      if (streaming) return;
      c.level = Health::kWarn;
      c.found +=
          ": not drctl wal push; unless it calls drctl, the repository gets WAL only with backups";
      c.fix = set_command + std::string(kReload);
      return;
    case ArchiveCommandKind::kDrctl:
      return;
  }
}

DoctorCheck ArchivingCheck(const PostgresSettings& s, const Config& config, bool streaming) {
  DoctorCheck c{
      "archiving",
      Health::kOk,
      s.archive_library.empty() ? fmt::format("archive_mode = {}, archive_command = {}",
                                              s.archive_mode, SqlLiteral(s.archive_command))
                                : fmt::format("archive_mode = {}, archive_library = {}",
                                              s.archive_mode, SqlLiteral(s.archive_library)),
      streaming ? "optional: wal stream carries the WAL"
                : "archive_mode = on, archive_command = " + SqlLiteral(PushCommand(config)),
      {}};
  if (s.archive_mode == "off") {
    if (streaming) return c;
    c.level = Health::kFail;
    c.found += ": no WAL reaches the repository between backups";
    c.fix = AlterSystem("archive_mode", "on") + "; " +
            AlterSystem("archive_command", PushCommand(config)) + std::string(kRestart) +
            " (or stream instead: [daemon] wal_stream = true)";
    return c;
  }
  JudgeArchiveCommand(s, config, streaming, c);
  return c;
}

DoctorCheck ArchiveTimeoutCheck(const PostgresSettings& s, const Config& config) {
  const Seconds rpo = config.objectives.rpo;
  const Health level = JudgeInterval(s.archive_timeout, rpo);
  DoctorCheck c{"archive_timeout",
                level,
                IntervalFound(s.archive_timeout, rpo, level),
                IntervalWant(rpo),
                {}};
  if (level != Health::kOk) {
    c.fix = AlterSystem("archive_timeout", fmt::format("{}s", SuggestedInterval(rpo).count())) +
            std::string(kReload);
  }
  return c;
}

DoctorCheck PartialIntervalCheck(const Config& config) {
  const Seconds rpo = config.objectives.rpo;
  const Seconds value = config.wal.partial_interval;
  const Health level = JudgeInterval(value, rpo);
  DoctorCheck c{"partial_interval",
                level,
                "[wal] " + IntervalFound(value, rpo, level),
                IntervalWant(rpo),
                {}};
  if (level != Health::kOk) {
    c.fix = fmt::format("set partial_interval = \"{}s\" under [wal] in {}, then restart the stream",
                        SuggestedInterval(rpo).count(), ConfigName(config));
  }
  return c;
}

DoctorCheck ArchiverCheck(const ArchiverFacts& a) {
  DoctorCheck c{"archiver",
                Health::kOk,
                a.archived_count == 0 ? std::string("nothing archived yet")
                                      : fmt::format("{} segments archived, the last {}",
                                                    a.archived_count, a.last_archived_wal),
                "the last archive attempt succeeded",
                {}};
  if (a.failing) {
    c.level = Health::kFail;
    c.found = fmt::format(
        "the last attempt failed: {} at {} ({} failures in all); pg_wal grows until it succeeds",
        a.last_failed_wal, a.last_failed_time, a.failed_count);
    c.fix =
        "read the archive_command's error in the PostgreSQL log and run it by hand as the "
        "server's OS user (sudo -u postgres ...); PostgreSQL retries by itself once it works";
  }
  return c;
}

DoctorCheck ChecksumsCheck(const PostgresFacts& facts) {
  DoctorCheck c{
      "data_checksums", Health::kOk, facts.settings.data_checksums ? "on" : "off", "on", {}};
  if (!facts.settings.data_checksums) {
    c.level = Health::kWarn;
    c.found += ": backups cannot detect page corruption, a damaged page is stored as it is";
    c.fix = fmt::format(
        "stop PostgreSQL; pg_checksums --enable -D {}; start PostgreSQL (rewrites every page: "
        "the downtime grows with the cluster's size)",
        facts.data_directory.empty() ? "<data directory>" : facts.data_directory);
  }
  return c;
}

DoctorCheck WalSendersCheck(const PostgresSettings& s) {
  DoctorCheck c{"max_wal_senders",
                Health::kOk,
                std::to_string(s.max_wal_senders),
                "at least 1 (wal stream holds one replication connection)",
                {}};
  if (s.max_wal_senders < 1) {
    c.level = Health::kFail;
    c.found += ": no replication connection is allowed, wal stream cannot connect";
    c.fix = AlterSystem("max_wal_senders", "10") + std::string(kRestart);
  }
  return c;
}

DoctorCheck KeepSizeCheck(const PostgresSettings& s) {
  DoctorCheck c{"max_slot_wal_keep_size",
                Health::kOk,
                fmt::format("{}MB", s.max_slot_wal_keep_size_mb),
                "a limit pg_wal's disk can hold (past it the slot is lost: a gap in the WAL, "
                "repaired by a new backup, instead of a full disk)",
                {}};
  if (s.max_slot_wal_keep_size_mb < 0) {
    c.level = Health::kWarn;
    c.found =
        "-1 (unlimited): a dead stream keeps every WAL segment, pg_wal fills its disk and "
        "PostgreSQL stops";
    c.fix = AlterSystem("max_slot_wal_keep_size", "10GB") + std::string(kReload) +
            " (size it to what pg_wal's disk can spare)";
  }
  return c;
}

std::optional<std::uint64_t> Retained(const PostgresFacts& facts) {
  if (!facts.slot || !facts.slot->restart_lsn || !facts.current_lsn) return std::nullopt;
  if (*facts.current_lsn < *facts.slot->restart_lsn) return 0;
  return *facts.current_lsn - *facts.slot->restart_lsn;
}

std::string SlotFound(const PostgresFacts& facts, const std::string& name) {
  const SlotFacts& slot = *facts.slot;
  std::string found = fmt::format("'{}': {}, {}", name, slot.physical ? "physical" : "logical",
                                  slot.active ? "active" : "inactive");
  if (!slot.wal_status.empty()) found += ", wal_status " + slot.wal_status;
  if (auto retained = Retained(facts)) found += ", retains " + Bytes(*retained);
  if (!slot.restart_lsn) found += ", reserves no WAL yet";
  return found;
}

// A slot when nothing of drctl's streams: harmless while something reads it; a forgotten one
// keeps every WAL segment from its restart_lsn on.
DoctorCheck UnusedSlotCheck(const PostgresFacts& facts, const Config& config) {
  const std::string& name = config.wal.slot;
  DoctorCheck c{"slot",
                Health::kOk,
                SlotFound(facts, name),
                "no slot, or one something reads ([daemon] wal_stream is off)",
                {}};
  if (!facts.slot->active && facts.slot->restart_lsn) {
    c.level = Health::kWarn;
    c.found += ": nothing reads it, and it keeps WAL from being removed";
    c.fix = fmt::format(
        "SELECT pg_drop_replication_slot({}); (or stream: [daemon] wal_stream = "
        "true in {})",
        SqlLiteral(name), ConfigName(config));
  }
  return c;
}

// The first problem of the stream's slot, worst first; OK when there is none.
void JudgeStreamSlot(const PostgresFacts& facts, const std::string& name, DoctorCheck& c) {
  const SlotFacts& slot = *facts.slot;
  const std::uint64_t retained = Retained(facts).value_or(0);
  const std::int64_t keep_mb = facts.settings.max_slot_wal_keep_size_mb;
  const std::string drop = "SELECT pg_drop_replication_slot(" + SqlLiteral(name) + ");";
  const std::string start_stream =
      "start the stream (drctl wal stream, or [daemon] wal_stream = true with drctl daemon "
      "running) and read its log";
  auto set = [&](Health level, std::string why, std::string fix) {
    c.level = level;
    c.found += ": " + std::move(why);
    c.fix = std::move(fix);
  };
  if (!slot.physical) {
    set(Health::kFail, "wal stream needs a physical slot",
        "name another slot in [wal] slot, or " + drop);
  } else if (slot.wal_status == "lost") {
    set(Health::kFail,
        "WAL the stream had not stored was removed (max_slot_wal_keep_size): the repository's WAL "
        "has a gap",
        drop +
            " then restart the stream (it creates the slot again) and take a backup: "
            "drctl backup");
  } else if (slot.wal_status == "unreserved") {
    set(Health::kWarn,
        "WAL the stream has not stored is past max_slot_wal_keep_size and may be removed at the "
        "next checkpoint",
        start_stream + ", or raise max_slot_wal_keep_size");
  } else if (keep_mb >= 0 &&
             static_cast<double>(retained) > 0.8 * static_cast<double>(keep_mb) * 1024 * 1024) {
    set(Health::kWarn,
        fmt::format("over 80% of max_slot_wal_keep_size ({}MB): past it the slot is lost", keep_mb),
        start_stream + ", or raise max_slot_wal_keep_size");
  } else if (!slot.active && retained > kInactiveSlotRetainedWarnBytes) {
    set(Health::kWarn,
        fmt::format("inactive and over {}: pg_wal grows until the stream reconnects",
                    Bytes(kInactiveSlotRetainedWarnBytes)),
        start_stream);
  }
}

DoctorCheck StreamSlotCheck(const PostgresFacts& facts, const Config& config) {
  const std::string& name = config.wal.slot;
  DoctorCheck c{"slot",
                Health::kOk,
                {},
                fmt::format("physical slot '{}' keeping the WAL the stream has not stored, "
                            "retaining little",
                            name),
                {}};
  if (!facts.slot) {
    c.level = Health::kWarn;
    c.found =
        fmt::format("'{}' does not exist: nothing keeps the WAL the stream has not stored", name);
    c.fix = fmt::format(
        "start the stream (drctl wal stream creates the slot), or SELECT "
        "pg_create_physical_replication_slot({}, true);",
        SqlLiteral(name));
    return c;
  }
  c.found = SlotFound(facts, name);
  JudgeStreamSlot(facts, name, c);
  return c;
}

DoctorCheck SynchronousCheck(const PostgresSettings& s, const Config& config) {
  const std::string& app = config.wal.application_name;
  DoctorCheck c{
      "synchronous",
      Health::kOk,
      fmt::format("[wal] synchronous = {}, synchronous_standby_names = {}",
                  SyncModeName(config.wal.synchronous), SqlLiteral(s.synchronous_standby_names)),
      fmt::format("synchronous_standby_names lists '{}' ([wal] application_name)", app),
      {}};
  if (!ListsStandby(s.synchronous_standby_names, app)) {
    c.level = Health::kFail;
    c.found += fmt::format(
        ": '{}' is not listed, commits do not wait for the stream and the promise of no loss "
        "does not hold",
        app);
    c.fix = AlterSystem("synchronous_standby_names", AddStandby(s.synchronous_standby_names, app)) +
            std::string(kReload);
  }
  return c;
}

}  // namespace

ArchiveCommandKind ClassifyArchiveCommand(std::string_view archive_command) {
  std::vector<std::string> words;
  std::istringstream in{std::string(archive_command)};
  for (std::string word; in >> word;) {
    std::erase_if(word, [](char c) { return c == '\'' || c == '"'; });
    words.push_back(std::move(word));
  }
  if (words.empty()) return ArchiveCommandKind::kEmpty;
  auto drctl = std::ranges::find_if(
      words, [](const std::string& w) { return w == "drctl" || w.ends_with("/drctl"); });
  for (auto it = drctl; it != words.end() && it + 1 != words.end(); ++it) {
    if (*it == "wal" && *(it + 1) == "push") {
      return std::find(it + 2, words.end(), "%p") != words.end()
                 ? ArchiveCommandKind::kDrctl
                 : ArchiveCommandKind::kDrctlWithoutPath;
    }
  }
  return ArchiveCommandKind::kOther;
}

bool ListsStandby(std::string_view names, std::string_view application_name) {
  static const std::regex kGrouped(R"(^\s*(?:(?:FIRST|ANY)\s+)?[0-9]+\s*\((.*)\)\s*$)",
                                   std::regex::icase);
  const std::string text(names);
  std::smatch m;
  const std::string list = std::regex_match(text, m, kGrouped) ? m[1].str() : text;
  return std::ranges::any_of(SplitNames(list), [&](const std::string& name) {
    return name == "*" || (!name.empty() && EqualsIgnoreCase(name, application_name));
  });
}

std::vector<DoctorCheck> EvaluateDoctor(const PostgresFacts& facts, const Config& config) {
  const PostgresSettings& s = facts.settings;
  const bool streaming = config.daemon.wal_stream || config.wal.synchronous != SyncMode::kOff;
  const bool archiving = s.archive_mode != "off";
  std::vector<DoctorCheck> checks;
  checks.push_back(ServerCheck(facts, config));
  checks.push_back(WalLevelCheck(s));
  checks.push_back(ArchivingCheck(s, config, streaming));
  if (archiving && !streaming) checks.push_back(ArchiveTimeoutCheck(s, config));
  if (archiving) checks.push_back(ArchiverCheck(facts.archiver));
  checks.push_back(ChecksumsCheck(facts));
  if (streaming) {
    checks.push_back(PartialIntervalCheck(config));
    checks.push_back(WalSendersCheck(s));
    checks.push_back(KeepSizeCheck(s));
    checks.push_back(StreamSlotCheck(facts, config));
  } else if (facts.slot) {
    checks.push_back(UnusedSlotCheck(facts, config));
  }
  if (config.wal.synchronous != SyncMode::kOff) checks.push_back(SynchronousCheck(s, config));
  return checks;
}

CommandOutput DoctorReport(const std::vector<DoctorCheck>& checks, const std::string& server) {
  CommandOutput out;
  out.json = {{"server", server}, {"checks", nlohmann::json::array()}};
  std::string failed;  // names of the failed checks, ", "-separated
  std::size_t failures = 0;
  int warnings = 0;
  for (const auto& c : checks) {
    out.json["checks"].push_back({{"name", c.name},
                                  {"level", HealthName(c.level)},
                                  {"found", c.found},
                                  {"want", c.want},
                                  {"fix", c.fix}});
    out.text += fmt::format("{:<5} {:<23} {}\n", HealthName(c.level), c.name, c.found);
    if (c.level == Health::kOk) continue;
    out.text += fmt::format("{:30}want: {}\n{:30}fix:  {}\n", "", c.want, "", c.fix);
    if (c.level == Health::kFail) failed += (failures++ == 0 ? "" : ", ") + c.name;
    if (c.level == Health::kWarn) ++warnings;
  }
  out.json["ok"] = failures == 0;
  out.text +=
      fmt::format("{}: {} checks, {} WARN, {} FAIL\n", server, checks.size(), warnings, failures);
  if (failures > 0) {
    out.failure = Error(
        ErrorCode::kVerifyFailed,
        fmt::format("doctor: {} check(s) failed on PostgreSQL at {}: {}", failures, server, failed),
        "each failed check says what to change; run drctl doctor again after");
  }
  return out;
}

CommandOutput DoctorUnreachable(const Error& error, const Config& config) {
  const DoctorCheck c{"connection", Health::kFail, error.message(),
                      "PostgreSQL accepting drctl's connection ([postgres] conninfo)",
                      error.hint() + " (config: " + ConfigName(config) + ")"};
  CommandOutput out = DoctorReport({c}, pg::MaskConninfo(config.postgres.conninfo));
  out.failure = error;
  return out;
}

}  // namespace drctl::command
