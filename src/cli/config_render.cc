#include "cli/config_render.h"

#include <sstream>

#include "postgres/connection.h"

namespace drctl::cli {
namespace {

nlohmann::json Optional(const std::optional<int>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json DrillJson(const DrillConfig& d) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : d.checks) {
    checks.push_back(
        {{"name", c.name}, {"database", c.database}, {"query", c.query}, {"expect", c.expect}});
  }
  return {{"directory", d.directory.string()}, {"check", checks}};
}

nlohmann::json ConfigToJson(const Config& c) {
  nlohmann::json repos = nlohmann::json::array();
  for (const auto& r : c.repos) {
    nlohmann::json repo = {{"name", r.name}, {"url", r.url}};
    if (r.is_s3()) {
      repo["endpoint"] = r.endpoint;
      repo["region"] = r.region;
      repo["path_style"] = r.path_style;
      repo["ca_file"] = r.ca_file;
      repo["access_key_id"] = r.access_key_id.Describe();
      repo["secret_access_key"] = r.secret_access_key.Describe();
      repo["session_token"] = r.session_token.Describe();
    }
    repos.push_back(repo);
  }
  return {
      {"source", c.source.string()},
      {"postgres",
       {{"conninfo", pg::MaskConninfo(c.postgres.conninfo)},
        {"pgdata", c.postgres.pgdata},
        {"bindir", c.postgres.bindir}}},
      {"repo", repos},
      {"encryption",
       {{"enabled", c.encryption.enabled},
        {"passphrase", c.encryption.passphrase.Describe()},
        {"scrypt_n", c.encryption.scrypt_n}}},
      {"backup",
       {{"jobs", c.backup.jobs},
        {"compression", c.backup.compression.ToString()},
        {"count_tables", c.backup.count_tables}}},
      {"wal",
       {{"spool", c.wal.spool.string()},
        {"async", c.wal.async},
        {"jobs", c.wal.jobs},
        {"push_ahead", c.wal.push_ahead},
        {"prefetch", c.wal.prefetch},
        {"partial_interval", FormatDuration(c.wal.partial_interval)},
        {"slot", c.wal.slot},
        {"application_name", c.wal.application_name},
        {"synchronous", std::string(SyncModeName(c.wal.synchronous))}}},
      {"drill", DrillJson(c.drill)},
      {"retention",
       {{"keep_last", Optional(c.retention.keep_last)},
        {"hourly", Optional(c.retention.hourly)},
        {"daily", Optional(c.retention.daily)},
        {"weekly", Optional(c.retention.weekly)},
        {"monthly", Optional(c.retention.monthly)},
        {"yearly", Optional(c.retention.yearly)},
        {"pitr", c.retention.pitr ? nlohmann::json(FormatDuration(*c.retention.pitr))
                                  : nlohmann::json(nullptr)}}},
      {"objectives",
       {{"rpo", FormatDuration(c.objectives.rpo)},
        {"rto", FormatDuration(c.objectives.rto)},
        {"backup_age", FormatDuration(c.objectives.backup_age)},
        {"drill_age", FormatDuration(c.objectives.drill_age)}}},
      {"schedule",
       {{"backup", c.schedule.backup.text()},
        {"expire", c.schedule.expire.text()},
        {"verify", c.schedule.verify.text()},
        {"drill", c.schedule.drill.text()},
        {"sync", c.schedule.sync.text()}}},
      {"daemon",
       {{"listen", c.daemon.listen},
        {"allow_remote", c.daemon.allow_remote},
        {"token",
         c.daemon.token ? nlohmann::json(c.daemon.token->Describe()) : nlohmann::json(nullptr)},
        {"wal_stream", c.daemon.wal_stream},
        {"refresh", FormatDuration(c.daemon.refresh)},
        {"retry", FormatDuration(c.daemon.retry)},
        {"retry_max", FormatDuration(c.daemon.retry_max)},
        {"state", c.daemon.state.string()}}},
      {"alerts",
       {{"webhook", c.alerts.webhook},
        {"command", c.alerts.command},
        {"repeat", FormatDuration(c.alerts.repeat)},
        {"timeout", FormatDuration(c.alerts.timeout)}}},
  };
}

std::string ConfigToText(const Config& c) {
  // TOML-like, one section per block, so it reads like the file it came from.
  const nlohmann::json j = ConfigToJson(c);
  std::ostringstream out;
  out << "# effective configuration from " << (c.source.empty() ? "(defaults)" : c.source.string())
      << "\n# secrets are shown as their source, never their value\n";
  auto print_table = [&](const std::string& header, const nlohmann::json& table) {
    out << "\n" << header << "\n";
    for (const auto& [key, value] : table.items()) {
      if (value.is_null()) continue;
      out << key << " = " << value.dump() << "\n";
    }
  };
  print_table("[postgres]", j["postgres"]);
  for (const auto& repo : j["repo"]) print_table("[[repo]]", repo);
  for (const char* section :
       {"encryption", "backup", "retention", "objectives", "schedule", "daemon", "alerts"}) {
    print_table(std::string("[") + section + "]", j[section]);
  }
  return out.str();
}

}  // namespace drctl::cli
