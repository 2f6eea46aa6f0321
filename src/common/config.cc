#include "common/config.h"

#include <toml++/toml.h>
#include <array>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace drctl {
namespace {

// Reads one TOML table, remembering which keys were read so that the rest can be reported as
// unknown. Every error names the file, the line and the dotted key.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string prefix, const std::filesystem::path& file)
      : table_(table), prefix_(std::move(prefix)), file_(file) {}

  int line() const { return static_cast<int>(table_.source().begin.line); }

  Status String(std::string_view key, std::string& out, bool required = false) {
    const toml::node* node = Take(key);
    if (node == nullptr) return required ? Missing(key) : Ok();
    auto value = node->value<std::string>();
    if (!node->is_string() || !value) return WrongType(key, *node, "a string");
    if (value->empty()) return Bad(key, *node, "must not be empty");
    out = *value;
    return Ok();
  }

  Status Int(std::string_view key, int& out, int min, int max) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Ok();
    if (!node->is_integer()) return WrongType(key, *node, "an integer");
    const auto v = node->as_integer()->get();
    if (v < min || v > max) {
      return Bad(key, *node,
                 "is " + std::to_string(v) + ", must be between " + std::to_string(min) + " and " +
                     std::to_string(max));
    }
    out = static_cast<int>(v);
    return Ok();
  }

  Status OptionalInt(std::string_view key, std::optional<int>& out, int min, int max) {
    if (!table_.contains(key)) return Ok();
    int v = 0;
    DRCTL_TRY(Int(key, v, min, max));
    out = v;
    return Ok();
  }

  Status Bool(std::string_view key, bool& out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Ok();
    if (!node->is_boolean()) return WrongType(key, *node, "true or false");
    out = node->as_boolean()->get();
    return Ok();
  }

  template <typename T, typename Parse>
  Status Parsed(std::string_view key, T& out, Parse parse) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Ok();
    if (!node->is_string()) return WrongType(key, *node, "a string");
    auto parsed = parse(node->as_string()->get());
    if (!parsed) return Bad(key, *node, parsed.error().message(), parsed.error().hint());
    out = std::move(*parsed);
    return Ok();
  }

  Status StringList(std::string_view key, std::vector<std::string>& out) {
    const toml::node* node = Take(key);
    if (node == nullptr) return Ok();
    const toml::array* array = node->as_array();
    if (array == nullptr) return WrongType(key, *node, "an array of strings");
    for (const auto& element : *array) {
      if (!element.is_string()) return WrongType(key, element, "an array of strings");
      out.push_back(element.as_string()->get());
    }
    return Ok();
  }

  // `<base>_env`, `<base>_file` or `<base>_command`: at most one; `<base>` itself is refused.
  Status Secret(std::string_view base, std::optional<SecretRef>& out) {
    if (const toml::node* literal = Take(base)) {
      return Bad(base, *literal, "would put a secret in the config file",
                 "use " + std::string(base) + "_env, " + std::string(base) + "_file or " +
                     std::string(base) + "_command");
    }
    constexpr std::array<std::pair<std::string_view, SecretKind>, 3> kSources = {
        {{"_env", SecretKind::kEnv},
         {"_file", SecretKind::kFile},
         {"_command", SecretKind::kCommand}}};
    bool found = false;
    for (const auto& [suffix, kind] : kSources) {
      const std::string key = std::string(base) + std::string(suffix);
      std::string source;
      const toml::node* node = table_.get(key);
      DRCTL_TRY(String(key, source));
      if (source.empty()) continue;
      if (found) {
        return Bad(key, *node, "conflicts with another " + std::string(base) + "_* key",
                   "name exactly one source for the secret");
      }
      out = SecretRef{kind, source};
      found = true;
    }
    return Ok();
  }

  Status Finish() {
    for (const auto& [key, node] : table_) {
      if (read_.contains(std::string(key.str()))) continue;
      std::string hint = "valid keys here: ";
      for (const auto& k : read_keys_in_order_) hint += k + " ";
      return Fail(ErrorCode::kConfig, Where(node) + "unknown key '" + Dotted(key.str()) + "'",
                  hint);
    }
    return Ok();
  }

  // Declares keys valid without reading them (read elsewhere, e.g. sub-tables).
  void Allow(std::string_view key) { Take(key); }

 private:
  const toml::node* Take(std::string_view key) {
    if (read_.insert(std::string(key)).second) read_keys_in_order_.emplace_back(key);
    return table_.get(key);
  }

  std::string Dotted(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  std::string Where(const toml::node& node) const {
    return file_.string() + ":" + std::to_string(node.source().begin.line) + ": ";
  }

  Status Missing(std::string_view key) const {
    return Fail(
        ErrorCode::kConfig,
        file_.string() + ":" + std::to_string(line()) + ": missing key '" + Dotted(key) + "'",
        "add " + std::string(key) + " = ... to [" + prefix_ + "]");
  }

  Status WrongType(std::string_view key, const toml::node& node, std::string_view expected) const {
    return Fail(ErrorCode::kConfig, Where(node) + "key '" + Dotted(key) + "' must be " +
                                        std::string(expected) + ", not " + TypeName(node));
  }

  Status Bad(std::string_view key, const toml::node& node, const std::string& why,
             std::string hint = {}) const {
    return Fail(ErrorCode::kConfig, Where(node) + "key '" + Dotted(key) + "' " + why,
                std::move(hint));
  }

  static std::string TypeName(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a number with a fraction";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::array:
        return "an array";
      case toml::node_type::table:
        return "a table";
      default:
        return "a date or time";
    }
  }

  const toml::table& table_;
  std::string prefix_;
  const std::filesystem::path& file_;
  std::set<std::string> read_;
  std::vector<std::string> read_keys_in_order_;
};

}  // namespace

std::string Compression::ToString() const {
  switch (algo) {
    case CompressionAlgo::kNone:
      return "none";
    case CompressionAlgo::kLz4:
      return "lz4";
    case CompressionAlgo::kZstd:
      return "zstd:" + std::to_string(level);
  }
  return "?";
}

std::string_view SyncModeName(SyncMode mode) {
  switch (mode) {
    case SyncMode::kOff:
      return "off";
    case SyncMode::kLocal:
      return "local";
    case SyncMode::kRepository:
      return "repository";
  }
  return "?";
}

Result<SyncMode> ParseSyncMode(std::string_view text) {
  for (SyncMode mode : {SyncMode::kOff, SyncMode::kLocal, SyncMode::kRepository}) {
    if (text == SyncModeName(mode)) return mode;
  }
  return Fail(ErrorCode::kConfig, "unknown synchronous mode '" + std::string(text) + "'",
              "off, local (acknowledge once fsynced in the spool) or repository (once stored)");
}

Result<Compression> ParseCompression(std::string_view text) {
  const std::string hint = "use \"zstd:N\" (N from 1 to 19), \"lz4\" or \"none\"";
  if (text == "none") return Compression{CompressionAlgo::kNone, 0};
  if (text == "lz4") return Compression{CompressionAlgo::kLz4, 0};
  if (text == "zstd") return Compression{CompressionAlgo::kZstd, 3};
  if (text.starts_with("zstd:")) {
    std::string_view level = text.substr(5);
    int n = 0;
    auto [ptr, ec] = std::from_chars(level.data(), level.data() + level.size(), n);
    if (ec == std::errc() && ptr == level.data() + level.size() && n >= 1 && n <= 19) {
      return Compression{CompressionAlgo::kZstd, n};
    }
  }
  return Fail(ErrorCode::kConfig, "unknown compression \"" + std::string(text) + "\"", hint);
}

const RepoConfig* Config::FindRepo(std::string_view name) const {
  for (const auto& repo : repos) {
    if (repo.name == name) return &repo;
  }
  return nullptr;
}

namespace {

using Path = std::filesystem::path;

Status ReadPostgres(const toml::table& t, const Path& file, PostgresConfig& out) {
  TableReader r(t, "postgres", file);
  out.line = r.line();
  DRCTL_TRY(r.String("conninfo", out.conninfo));
  DRCTL_TRY(r.String("pgdata", out.pgdata));
  DRCTL_TRY(r.String("bindir", out.bindir));
  return r.Finish();
}

bool ValidRepoName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

Status ReadRepo(const toml::table& t, const Path& file, std::size_t index, RepoConfig& out) {
  TableReader r(t, "repo[" + std::to_string(index) + "]", file);
  out.line = r.line();
  const std::string where = file.string() + ":" + std::to_string(out.line) + ": ";
  DRCTL_TRY(r.String("name", out.name, true));
  DRCTL_TRY(r.String("url", out.url, true));
  DRCTL_TRY(r.String("endpoint", out.endpoint));
  DRCTL_TRY(r.String("region", out.region));
  DRCTL_TRY(r.Bool("path_style", out.path_style));
  DRCTL_TRY(r.String("ca_file", out.ca_file));
  for (auto [name, ref] : {std::pair{"access_key_id", &out.access_key_id},
                           std::pair{"secret_access_key", &out.secret_access_key},
                           std::pair{"session_token", &out.session_token}}) {
    std::optional<SecretRef> configured;
    DRCTL_TRY(r.Secret(name, configured));
    if (configured) *ref = *configured;
  }
  DRCTL_TRY(r.Finish());
  if (!ValidRepoName(out.name)) {
    return Fail(ErrorCode::kConfig, where + "repo name '" + out.name + "' is not valid",
                "use letters, digits, '-' and '_' (at most 64)");
  }
  if (out.url.starts_with("file://")) {
    if (!out.url.starts_with("file:///")) {
      return Fail(ErrorCode::kConfig, where + "repo '" + out.name + "' url must be absolute",
                  "write file:///absolute/path");
    }
  } else if (out.url.starts_with("s3://")) {
    if (out.url.size() <= 5 || out.url[5] == '/') {
      return Fail(ErrorCode::kConfig, where + "repo '" + out.name + "' url names no bucket",
                  "write s3://bucket/optional/prefix");
    }
  } else {
    return Fail(ErrorCode::kConfig,
                where + "repo '" + out.name + "' url \"" + out.url + "\" has an unknown scheme",
                "use file:///path or s3://bucket/prefix");
  }
  if (!out.endpoint.empty() && !out.endpoint.starts_with("http://") &&
      !out.endpoint.starts_with("https://")) {
    return Fail(ErrorCode::kConfig, where + "repo '" + out.name +
                                        "' endpoint must start with "
                                        "http:// or https://");
  }
  return Ok();
}

Status ReadEncryption(const toml::table& t, const Path& file, EncryptionConfig& out) {
  TableReader r(t, "encryption", file);
  DRCTL_TRY(r.Bool("enabled", out.enabled));
  std::optional<SecretRef> passphrase;
  DRCTL_TRY(r.Secret("passphrase", passphrase));
  if (passphrase) out.passphrase = *passphrase;
  DRCTL_TRY(r.Int("scrypt_n", out.scrypt_n, 1 << 10, 1 << 20));
  if ((out.scrypt_n & (out.scrypt_n - 1)) != 0) {
    return Fail(ErrorCode::kConfig,
                file.string() + ":" + std::to_string(r.line()) +
                    ": key 'encryption.scrypt_n' must be a power of 2",
                "e.g. 131072 (2^17, the default)");
  }
  return r.Finish();
}

Status ReadBackup(const toml::table& t, const Path& file, BackupConfig& out) {
  TableReader r(t, "backup", file);
  DRCTL_TRY(r.Int("jobs", out.jobs, 1, 256));
  DRCTL_TRY(r.Parsed("compression", out.compression, ParseCompression));
  DRCTL_TRY(r.StringList("count_tables", out.count_tables));
  return r.Finish();
}

Status ReadWal(const toml::table& t, const Path& file, WalConfig& out) {
  TableReader r(t, "wal", file);
  std::string spool;
  DRCTL_TRY(r.String("spool", spool));
  if (!spool.empty()) out.spool = spool;
  DRCTL_TRY(r.Bool("async", out.async));
  DRCTL_TRY(r.Int("jobs", out.jobs, 1, 64));
  DRCTL_TRY(r.Int("push_ahead", out.push_ahead, 1, 1024));
  DRCTL_TRY(r.Int("prefetch", out.prefetch, 0, 1024));
  DRCTL_TRY(r.Parsed("partial_interval", out.partial_interval, ParseDuration));
  if (out.partial_interval.count() < 1) {
    return Fail(ErrorCode::kConfig,
                file.string() + ":" + std::to_string(r.line()) +
                    ": key 'wal.partial_interval' must be at least 1s",
                "e.g. \"10s\" (the default)");
  }
  DRCTL_TRY(r.String("slot", out.slot));
  DRCTL_TRY(r.String("application_name", out.application_name));
  DRCTL_TRY(r.Parsed("synchronous", out.synchronous, ParseSyncMode));
  return r.Finish();
}

Status ReadDrill(const toml::table& t, const Path& file, DrillConfig& out) {
  TableReader r(t, "drill", file);
  std::string directory;
  DRCTL_TRY(r.String("directory", directory));
  if (!directory.empty()) out.directory = directory;
  r.Allow("check");
  if (const toml::node* node = t.get("check"); node != nullptr) {
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Fail(ErrorCode::kConfig,
                  file.string() + ":" + std::to_string(node->source().begin.line) +
                      ": 'drill.check' must be an array of tables",
                  "write each check as a [[drill.check]] section with name, query and expect");
    }
    for (std::size_t i = 0; i < array->size(); ++i) {
      DrillCheck check;
      TableReader c(*array->get(i)->as_table(), "drill.check[" + std::to_string(i + 1) + "]", file);
      DRCTL_TRY(c.String("name", check.name, true));
      DRCTL_TRY(c.String("database", check.database));
      DRCTL_TRY(c.String("query", check.query, true));
      const toml::node* expect = array->get(i)->as_table()->get("expect");
      if (expect != nullptr && expect->is_string() && expect->as_string()->get().empty()) {
        c.Allow("expect");  // an empty expected result is allowed (an empty string)
      } else {
        DRCTL_TRY(c.String("expect", check.expect, true));
      }
      DRCTL_TRY(c.Finish());
      out.checks.push_back(std::move(check));
    }
  }
  return r.Finish();
}

Status ReadRetention(const toml::table& t, const Path& file, RetentionConfig& out) {
  TableReader r(t, "retention", file);
  constexpr int kMax = 100000;
  DRCTL_TRY(r.OptionalInt("keep_last", out.keep_last, 1, kMax));
  DRCTL_TRY(r.OptionalInt("hourly", out.hourly, 0, kMax));
  DRCTL_TRY(r.OptionalInt("daily", out.daily, 0, kMax));
  DRCTL_TRY(r.OptionalInt("weekly", out.weekly, 0, kMax));
  DRCTL_TRY(r.OptionalInt("monthly", out.monthly, 0, kMax));
  DRCTL_TRY(r.OptionalInt("yearly", out.yearly, 0, kMax));
  Seconds pitr{};
  if (t.contains("pitr")) {
    DRCTL_TRY(r.Parsed("pitr", pitr, ParseDuration));
    out.pitr = pitr;
  }
  return r.Finish();
}

Status ReadObjectives(const toml::table& t, const Path& file, ObjectivesConfig& out) {
  TableReader r(t, "objectives", file);
  DRCTL_TRY(r.Parsed("rpo", out.rpo, ParseDuration));
  DRCTL_TRY(r.Parsed("rto", out.rto, ParseDuration));
  DRCTL_TRY(r.Parsed("backup_age", out.backup_age, ParseDuration));
  DRCTL_TRY(r.Parsed("drill_age", out.drill_age, ParseDuration));
  for (auto [key, value] : {std::pair<const char*, Seconds>{"rpo", out.rpo},
                            {"rto", out.rto},
                            {"backup_age", out.backup_age},
                            {"drill_age", out.drill_age}}) {
    if (value.count() <= 0) {
      return Fail(ErrorCode::kConfig, file.string() + ":" + std::to_string(r.line()) +
                                          ": key 'objectives." + key + "' must be above 0s");
    }
  }
  return r.Finish();
}

Status ReadSchedule(const toml::table& t, const Path& file, ScheduleConfig& out) {
  TableReader r(t, "schedule", file);
  DRCTL_TRY(r.Parsed("backup", out.backup, CronExpr::Parse));
  DRCTL_TRY(r.Parsed("expire", out.expire, CronExpr::Parse));
  DRCTL_TRY(r.Parsed("verify", out.verify, CronExpr::Parse));
  DRCTL_TRY(r.Parsed("drill", out.drill, CronExpr::Parse));
  DRCTL_TRY(r.Parsed("sync", out.sync, CronExpr::Parse));
  return r.Finish();
}

Status ReadDaemon(const toml::table& t, const Path& file, DaemonConfig& out) {
  TableReader r(t, "daemon", file);
  DRCTL_TRY(r.String("listen", out.listen));
  DRCTL_TRY(r.Bool("allow_remote", out.allow_remote));
  DRCTL_TRY(r.Secret("token", out.token));
  DRCTL_TRY(r.Bool("wal_stream", out.wal_stream));
  DRCTL_TRY(r.Parsed("refresh", out.refresh, ParseDuration));
  DRCTL_TRY(r.Parsed("retry", out.retry, ParseDuration));
  DRCTL_TRY(r.Parsed("retry_max", out.retry_max, ParseDuration));
  std::string state;
  DRCTL_TRY(r.String("state", state));
  out.state = state;
  if (out.refresh.count() <= 0 || out.retry.count() <= 0 || out.retry_max < out.retry) {
    return Fail(ErrorCode::kConfig,
                file.string() + ":" + std::to_string(r.line()) +
                    ": keys 'daemon.refresh' and 'daemon.retry' must be above 0s and "
                    "'daemon.retry_max' at least 'daemon.retry'");
  }
  return r.Finish();
}

Status ReadAlerts(const toml::table& t, const Path& file, AlertsConfig& out) {
  TableReader r(t, "alerts", file);
  DRCTL_TRY(r.String("webhook", out.webhook));
  DRCTL_TRY(r.String("command", out.command));
  DRCTL_TRY(r.Parsed("repeat", out.repeat, ParseDuration));
  DRCTL_TRY(r.Parsed("timeout", out.timeout, ParseDuration));
  if (out.timeout.count() <= 0) {
    return Fail(ErrorCode::kConfig, file.string() + ":" + std::to_string(r.line()) +
                                        ": key 'alerts.timeout' must be above 0s");
  }
  return r.Finish();
}

// Calls `read` on [name] if present; a [name] that is not a table is an error.
template <typename T, typename Read>
Status Section(TableReader& top, const toml::table& root, std::string_view name, const Path& file,
               T& out, Read read) {
  top.Allow(name);
  const toml::node* node = root.get(name);
  if (node == nullptr) return Ok();
  if (!node->is_table()) {
    return Fail(ErrorCode::kConfig,
                file.string() + ":" + std::to_string(node->source().begin.line) + ": '" +
                    std::string(name) + "' must be a table [" + std::string(name) + "]");
  }
  return read(*node->as_table(), file, out);
}

Status ReadRepos(TableReader& top, const toml::table& root, const Path& file,
                 std::vector<RepoConfig>& out) {
  top.Allow("repo");
  const toml::node* node = root.get("repo");
  if (node == nullptr) return Ok();
  const toml::array* array = node->as_array();
  if (array == nullptr || !array->is_array_of_tables()) {
    return Fail(ErrorCode::kConfig,
                file.string() + ":" + std::to_string(node->source().begin.line) +
                    ": 'repo' must be an array of tables",
                "write each repository as a [[repo]] section");
  }
  for (std::size_t i = 0; i < array->size(); ++i) {
    RepoConfig repo;
    DRCTL_TRY(ReadRepo(*array->get(i)->as_table(), file, i + 1, repo));
    for (const auto& other : out) {
      if (other.name == repo.name) {
        return Fail(ErrorCode::kConfig, file.string() + ":" + std::to_string(repo.line) +
                                            ": repo name '" + repo.name + "' is used twice");
      }
    }
    out.push_back(std::move(repo));
  }
  return Ok();
}

}  // namespace

Result<Config> ParseConfig(std::string_view text, const std::filesystem::path& source) {
  toml::table root;
  try {
    root = toml::parse(text, source.string());
  } catch (const toml::parse_error& e) {
    return Fail(ErrorCode::kConfig,
                source.string() + ":" + std::to_string(e.source().begin.line) + ": " +
                    std::string(e.description()),
                "fix the TOML syntax");
  }
  Config config;
  config.source = source;
  TableReader top(root, "", source);
  DRCTL_TRY(Section(top, root, "postgres", source, config.postgres, ReadPostgres));
  DRCTL_TRY(ReadRepos(top, root, source, config.repos));
  DRCTL_TRY(Section(top, root, "encryption", source, config.encryption, ReadEncryption));
  DRCTL_TRY(Section(top, root, "backup", source, config.backup, ReadBackup));
  DRCTL_TRY(Section(top, root, "wal", source, config.wal, ReadWal));
  DRCTL_TRY(Section(top, root, "drill", source, config.drill, ReadDrill));
  DRCTL_TRY(Section(top, root, "retention", source, config.retention, ReadRetention));
  DRCTL_TRY(Section(top, root, "objectives", source, config.objectives, ReadObjectives));
  DRCTL_TRY(Section(top, root, "schedule", source, config.schedule, ReadSchedule));
  DRCTL_TRY(Section(top, root, "daemon", source, config.daemon, ReadDaemon));
  DRCTL_TRY(Section(top, root, "alerts", source, config.alerts, ReadAlerts));
  DRCTL_TRY(top.Finish());
  return config;
}

Result<Config> LoadConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(ErrorCode::kConfig, "cannot read config file " + path.string(),
                "check the path and its permissions");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

Result<std::filesystem::path> FindConfigFile(
    const std::optional<std::filesystem::path>& explicit_path) {
  std::error_code ec;
  if (explicit_path) {
    if (!std::filesystem::exists(*explicit_path, ec)) {
      return Fail(ErrorCode::kConfig, "config file " + explicit_path->string() + " does not exist",
                  "check the --config path");
    }
    return *explicit_path;
  }
  if (const char* env = std::getenv("DRCTL_CONFIG"); env != nullptr && *env != '\0') {
    if (!std::filesystem::exists(env, ec)) {
      return Fail(ErrorCode::kConfig,
                  std::string("config file ") + env + " (from $DRCTL_CONFIG) does not exist",
                  "fix or unset DRCTL_CONFIG");
    }
    return std::filesystem::path(env);
  }
  for (const char* candidate : {"./drctl.toml", "/etc/drctl/drctl.toml"}) {
    if (std::filesystem::exists(candidate, ec)) return std::filesystem::path(candidate);
  }
  return Fail(ErrorCode::kNotFound,
              "no config file: looked for --config, $DRCTL_CONFIG, ./drctl.toml, "
              "/etc/drctl/drctl.toml",
              "create one (doc/config.md) or pass --config PATH");
}

}  // namespace drctl
