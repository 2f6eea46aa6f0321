#include "command/repo/repo_commands.h"

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "catalog/backup_catalog.h"
#include "catalog/json_fields.h"
#include "catalog/repository.h"
#include "catalog/sync.h"
#include "catalog/wal_ranges.h"
#include "catalog/wal_store.h"
#include "command/drill/drill_report.h"
#include "command/repo/info_windows.h"
#include "command/repo/repo_open.h"
#include "command/wal/kek_cache.h"
#include "postgres/wal_names.h"
#include "storage/open.h"

namespace drctl::command {
namespace {

nlohmann::json SlotJson(const catalog::KeySlot& slot) {
  return {{"slot_id", slot.slot_id},
          {"kind", std::string(catalog::SlotKindName(slot.kind))},
          {"label", slot.label},
          {"created", catalog::FormatUtc(slot.created)},
          {"kdf", fmt::format("scrypt n={} r={} p={}", slot.kdf.n, slot.kdf.r, slot.kdf.p)}};
}

// wal/cluster.json (command/wal) sits beside the WAL objects and is listed with them.
constexpr std::string_view kClusterObjectName = "cluster.json";

nlohmann::json BackupJson(const catalog::Manifest& m) {
  return {{"backup_id", m.backup_id},
          {"label", m.label},
          {"status", std::string(catalog::BackupStatusName(m.status))},
          {"timeline", m.pg.timeline},
          {"start_time", m.start_time},
          {"start_time_utc", catalog::FormatUtc(m.start_time)},
          {"stop_time", m.stop_time},
          {"stop_time_utc", catalog::FormatUtc(m.stop_time)},
          {"start_lsn", pg::FormatLsn(m.start_lsn)},
          {"stop_lsn", pg::FormatLsn(m.stop_lsn)},
          {"start_wal", m.start_wal},
          {"stop_wal", m.stop_wal},
          {"logical_size", m.stats.logical_size},
          {"new_bytes", m.stats.new_bytes},
          {"duration_seconds", m.stats.duration_seconds}};
}

std::string BackupText(const catalog::Manifest& m) {
  std::string text = fmt::format("    {}  {}", m.backup_id, catalog::BackupStatusName(m.status));
  if (!m.label.empty()) text += fmt::format("  label \"{}\"", m.label);
  text += fmt::format("\n      start {}  lsn {}  wal {}  timeline {}\n",
                      catalog::FormatUtc(m.start_time), pg::FormatLsn(m.start_lsn), m.start_wal,
                      m.pg.timeline);
  text += fmt::format("      stop  {}  lsn {}  wal {}\n", catalog::FormatUtc(m.stop_time),
                      pg::FormatLsn(m.stop_lsn), m.stop_wal);
  text += fmt::format("      size {} bytes  new {} bytes  duration {:.1f} s\n",
                      m.stats.logical_size, m.stats.new_bytes, m.stats.duration_seconds);
  return text;
}

std::string SegmentCount(std::uint64_t n) {
  return fmt::format("{} segment{}", n, n == 1 ? "" : "s");
}

// "wal" of a repository: its stored segment ranges per timeline, gaps spelled out.
void DescribeWal(const catalog::WalSummary& wal, nlohmann::json& j, std::string& text) {
  nlohmann::json timelines = nlohmann::json::array();
  text += fmt::format("  wal: {} timeline(s), {} partial, {} backup history\n",
                      wal.timelines.size(), wal.partial, wal.backup_history);
  for (const auto& t : wal.timelines) {
    nlohmann::json ranges = nlohmann::json::array();
    nlohmann::json gaps = nlohmann::json::array();
    // Ranges and gaps alternate in segment order: range, gap, range, ..., range.
    for (std::size_t i = 0; i < t.ranges.size(); ++i) {
      const auto& r = t.ranges[i];
      ranges.push_back({{"first", r.first}, {"last", r.last}, {"segments", r.count}});
      text += fmt::format("    timeline {}: {} .. {} ({})\n", t.timeline, r.first, r.last,
                          SegmentCount(r.count));
      if (i < t.gaps.size()) {
        const auto& g = t.gaps[i];
        gaps.push_back({{"first", g.first}, {"last", g.last}, {"segments", g.count}});
        text += fmt::format("    timeline {}: GAP {} .. {} ({} missing)\n", t.timeline, g.first,
                            g.last, SegmentCount(g.count));
      }
    }
    if (t.ranges.empty()) text += fmt::format("    timeline {}: no segments\n", t.timeline);
    if (t.history) text += fmt::format("    timeline {}: history file\n", t.timeline);
    timelines.push_back({{"timeline", t.timeline},
                         {"ranges", ranges},
                         {"gaps", gaps},
                         {"history", t.history},
                         {"partial", t.partial},
                         {"backup_history", t.backup_history}});
  }
  for (const auto& name : wal.unrecognized) {
    text += fmt::format("    not a WAL file name: {}\n", name);
  }
  j["wal"] = {{"timelines", timelines},
              {"partial", wal.partial},
              {"backup_history", wal.backup_history},
              {"unrecognized", wal.unrecognized}};
}

// The last drills (their reports in the repository).
Status DescribeDrills(catalog::Repository& repo, nlohmann::json& j, std::string& text) {
  std::vector<std::string> damaged;
  auto reports = LatestDrillReports(repo.storage(), repo.master(), 5, &damaged);
  if (!reports) return std::unexpected(reports.error());
  nlohmann::json drills = nlohmann::json::array();
  text += fmt::format("  drills: {} shown (newest first)\n", reports->size());
  for (const auto& r : *reports) {
    const auto timings = r.value("timings", nlohmann::json::object());
    drills.push_back({{"drill_id", r.value("drill_id", "")},
                      {"started_utc", r.value("started_utc", "")},
                      {"ok", r.value("ok", false)},
                      {"backup_id", r.value("backup_id", "")},
                      {"target", r.value("target", "")},
                      {"rto_seconds", timings.value("rto_seconds", 0.0)}});
    text += fmt::format("    {}  {}  {}  backup {}  rto {:.1f}s\n", r.value("drill_id", ""),
                        r.value("ok", false) ? "passed" : "FAILED", r.value("target", ""),
                        r.value("backup_id", "-"), timings.value("rto_seconds", 0.0));
  }
  for (const auto& d : damaged) text += "    DAMAGED drill report " + d + "\n";
  j["drills"] = drills;
  j["damaged_drill_reports"] = damaged;
  return Ok();
}

// Backups and WAL of an opened repository into `j` and `text`. Damaged manifests are listed,
// not fatal; an error reading the repository itself is returned.
Status DescribeContents(catalog::Repository& repo, nlohmann::json& j, std::string& text) {
  std::vector<Error> damaged;
  auto manifests = catalog::LoadManifests(repo.storage(), repo.master(),
                                          {.damaged = &damaged, .without_files = true});
  if (!manifests) return std::unexpected(manifests.error());
  nlohmann::json backups = nlohmann::json::array();
  text += fmt::format("  backups {}\n", manifests->size());
  for (const auto& m : *manifests) {
    backups.push_back(BackupJson(m));
    text += BackupText(m);
  }
  j["backups"] = backups;
  nlohmann::json damaged_json = nlohmann::json::array();
  if (!damaged.empty()) text += fmt::format("  DAMAGED manifests {}\n", damaged.size());
  for (const auto& e : damaged) {
    damaged_json.push_back(e.message());
    text += "    " + e.ToString() + "\n";
  }
  j["damaged_manifests"] = damaged_json;

  auto names = catalog::ListWal(repo.storage());
  if (!names) return std::unexpected(names.error());
  std::erase(*names, std::string(kClusterObjectName));
  DescribeWal(catalog::SummarizeWal(*names), j, text);
  DRCTL_TRY(DescribeWindows(repo, *manifests, j["wal"], text));
  return DescribeDrills(repo, j, text);
}

}  // namespace

Result<CommandOutput> RepoInit(const Config& config, const RepoInitOptions& options) {
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  const bool encrypted = config.encryption.enabled && !options.no_encryption;
  std::optional<std::string> secret;
  if (encrypted) {
    auto s = RepoSecret(config);
    if (!s) return std::unexpected(s.error());
    secret = *s;
  }
  // Every repository of one config shares one master key, so that packs copy between them as
  // they are (repo sync) and chunk ids agree: reuse an existing sibling's key, else make one.
  std::optional<catalog::MasterKey> master;
  std::string sibling;
  for (const auto& repo : config.repos) {
    auto storage = storage::OpenStorage(repo);
    if (!storage || !(*storage)->Stat(catalog::kDescriptionKey)) continue;
    auto opened = catalog::Repository::Open(std::move(*storage), secret);
    if (!opened)
      return std::unexpected(opened.error().WithContext("sibling repo '" + repo.name + "'"));
    master = opened->master();
    sibling = repo.name;
    break;
  }
  if (!master) master = catalog::MasterKey::Generate();
  CommandOutput out;
  out.json = {{"ok", true}, {"repos", nlohmann::json::array()}};
  if (!sibling.empty()) {
    out.text +=
        "sharing the master key of repository '" + sibling + "' (copies need no decryption)\n";
  }
  // The first backup on this host then finds the new slot's key without deriving it again.
  std::optional<SpoolKekCache> kek_cache;
  if (auto dir = HostKekCacheDir(config.wal)) kek_cache.emplace(*dir);
  for (const RepoConfig* repo : *repos) {
    auto storage = storage::OpenStorage(*repo, /*create=*/true);
    if (!storage) return std::unexpected(storage.error());
    catalog::InitOptions init;
    init.encrypted = encrypted;
    init.secret = secret.value_or("");
    init.kdf = options.kdf;
    init.master = master;
    init.kek_cache = kek_cache ? &*kek_cache : nullptr;
    switch (config.encryption.passphrase.kind) {
      case SecretKind::kEnv:
        init.kind = catalog::SlotKind::kPassphrase;
        break;
      case SecretKind::kFile:
        init.kind = catalog::SlotKind::kKeyFile;
        break;
      case SecretKind::kCommand:
        init.kind = catalog::SlotKind::kCommand;
        break;
    }
    auto created = catalog::Repository::Init(std::move(*storage), init);
    if (!created) return std::unexpected(created.error().WithContext("repo '" + repo->name + "'"));
    const auto& d = created->description();
    out.text += fmt::format("created repository '{}' at {} (id {}, encryption {})\n", repo->name,
                            repo->url, d.repo_id, encrypted ? "aes-256-gcm" : "NONE");
    out.json["repos"].push_back({{"name", repo->name},
                                 {"url", repo->url},
                                 {"repo_id", d.repo_id},
                                 {"encryption", encrypted ? "aes-256-gcm" : "none"}});
  }
  if (!encrypted) {
    out.text +=
        "WARNING: encryption is off: anyone who can read the repository can read the data\n";
  }
  return out;
}

Result<CommandOutput> RepoKeyList(const Config& config, const std::string& repo_name) {
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  CommandOutput out;
  out.json = {{"ok", true}, {"repos", nlohmann::json::array()}};
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) return std::unexpected(opened.error());
    auto slots = opened->ListKeys();
    if (!slots) return std::unexpected(slots.error());
    nlohmann::json list = nlohmann::json::array();
    out.text += fmt::format("repo '{}': {} key slot(s)\n", repo->name, slots->size());
    for (const auto& slot : *slots) {
      list.push_back(SlotJson(slot));
      out.text +=
          fmt::format("  {}  {:<10} {}  {}\n", slot.slot_id, catalog::SlotKindName(slot.kind),
                      catalog::FormatUtc(slot.created), slot.label);
    }
    out.json["repos"].push_back({{"name", repo->name}, {"slots", list}});
  }
  return out;
}

Result<CommandOutput> RepoKeyAdd(const Config& config, const RepoKeyAddOptions& options) {
  auto repos = SelectRepos(config, options.repo);
  if (!repos) return std::unexpected(repos.error());
  auto secret = ResolveSecret(options.new_secret);
  if (!secret) {
    return std::unexpected(
        secret.error().WithContext("new secret (" + options.new_secret.Describe() + ")"));
  }
  CommandOutput out;
  out.json = {{"ok", true}, {"repos", nlohmann::json::array()}};
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) return std::unexpected(opened.error());
    auto slot = opened->AddKey(*secret, options.kind, options.label, options.kdf);
    if (!slot) return std::unexpected(slot.error().WithContext("repo '" + repo->name + "'"));
    out.text +=
        fmt::format("repo '{}': added key slot {} ({})\n", repo->name, slot->slot_id, slot->label);
    out.json["repos"].push_back({{"name", repo->name}, {"slot", SlotJson(*slot)}});
  }
  return out;
}

Result<CommandOutput> RepoKeyRemove(const Config& config, const std::string& repo_name,
                                    const std::string& slot_id) {
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  CommandOutput out;
  out.json = {{"ok", true}, {"repos", nlohmann::json::array()}};
  for (const RepoConfig* repo : *repos) {
    auto opened = OpenRepo(config, *repo);
    if (!opened) return std::unexpected(opened.error());
    if (auto removed = opened->RemoveKey(slot_id); !removed) {
      return std::unexpected(removed.error().WithContext("repo '" + repo->name + "'"));
    }
    out.text += fmt::format("repo '{}': removed key slot {}\n", repo->name, slot_id);
    out.json["repos"].push_back({{"name", repo->name}, {"removed", slot_id}});
  }
  return out;
}

Result<CommandOutput> RepoSync(const Config& config, const RepoSyncOptions& options) {
  auto sources = SelectRepos(config, options.from);
  if (!sources) return std::unexpected(sources.error());
  auto targets = SelectRepos(config, options.to);
  if (!targets) return std::unexpected(targets.error());
  CommandOutput out;
  out.json = {{"ok", true}, {"dry_run", options.dry_run}, {"copies", nlohmann::json::array()}};
  for (const RepoConfig* to : *targets) {
    auto target = OpenRepo(config, *to);
    if (!target) return std::unexpected(target.error());
    for (const RepoConfig* from : *sources) {
      if (from == to) continue;
      auto source = OpenRepo(config, *from);
      if (!source) return std::unexpected(source.error());
      if (source->master().Bytes() != target->master().Bytes()) {
        return Fail(
            ErrorCode::kPrecondition,
            "repositories '" + from->name + "' and '" + to->name + "' do not share a master key",
            "create sibling repositories from one config (drctl repo init) so that they "
            "share it");
      }
      auto stats = catalog::CopyMissing(source->storage(), target->storage(), options.dry_run);
      if (!stats) {
        return std::unexpected(
            stats.error().WithContext("copying " + from->name + " -> " + to->name));
      }
      out.text +=
          fmt::format("{} -> {}: {} object(s) missing, {} copied ({} bytes)\n", from->name,
                      to->name, stats->objects_missing, stats->objects_copied, stats->bytes_copied);
      out.json["copies"].push_back({{"from", from->name},
                                    {"to", to->name},
                                    {"missing", stats->objects_missing},
                                    {"copied", stats->objects_copied},
                                    {"bytes", stats->bytes_copied}});
    }
  }
  return out;
}

Result<CommandOutput> Info(const Config& config, const std::string& repo_name) {
  auto repos = SelectRepos(config, repo_name);
  if (!repos) return std::unexpected(repos.error());
  CommandOutput out;
  out.json = {{"ok", true}, {"repos", nlohmann::json::array()}};
  std::optional<Error> first_error;
  for (const RepoConfig* repo : *repos) {
    nlohmann::json j = {{"name", repo->name}, {"url", repo->url}};
    out.text += fmt::format("repo '{}'  {}\n", repo->name, repo->url);
    auto opened = OpenRepo(config, *repo);
    if (!opened) {
      j["error"] = {{"message", opened.error().message()}, {"hint", opened.error().hint()}};
      out.text += "  ERROR: " + opened.error().ToString() + "\n";
      if (!first_error) first_error = opened.error();
      out.json["repos"].push_back(j);
      continue;
    }
    const auto& d = opened->description();
    auto slots = opened->ListKeys();
    auto usage = opened->Usage();
    j["repo_id"] = d.repo_id;
    j["format_version"] = d.version;
    j["created"] = catalog::FormatUtc(d.created);
    j["encryption"] = d.encrypted ? "aes-256-gcm" : "none";
    j["chunk_size"] = d.chunk_size;
    j["key_slots"] = slots ? static_cast<int>(slots->size()) : -1;
    if (usage) {
      j["objects"] = usage->objects;
      j["bytes"] = usage->bytes;
      j["packs"] = usage->packs;
      j["indexes"] = usage->indexes;
    }
    out.text += fmt::format("  id {}  format v{}  created {}\n", d.repo_id, d.version,
                            catalog::FormatUtc(d.created));
    out.text += d.encrypted ? "  encryption aes-256-gcm"
                            : "  encryption NONE (anyone who can read the repository can read "
                              "the data)";
    out.text += fmt::format("  key slots {}\n", slots ? slots->size() : 0);
    if (usage) {
      out.text += fmt::format("  objects {}  stored {} bytes  packs {}  indexes {}\n",
                              usage->objects, usage->bytes, usage->packs, usage->indexes);
    }
    if (auto described = DescribeContents(*opened, j, out.text); !described) {
      const Error e = described.error().WithContext("repo '" + repo->name + "'");
      j["error"] = {{"message", e.message()}, {"hint", e.hint()}};
      out.text += "  ERROR: " + e.ToString() + "\n";
      if (!first_error) first_error = e;
    }
    out.json["repos"].push_back(j);
  }
  if (first_error) {
    out.json["ok"] = false;
    out.failure = first_error;
  }
  return out;
}

}  // namespace drctl::command
