#include "harness/swift_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include "harness/pid_log.h"

namespace drctl::testing {
namespace {

bool PortAccepts(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

constexpr std::string_view kServerConf = R"([DEFAULT]
devices = {dir}/devices
mount_check = false
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {dir}/etc
user = {user}
log_level = WARNING

[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
)";

constexpr std::string_view kProxyConf = R"([DEFAULT]
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
swift_dir = {dir}/etc
user = {user}
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk s3api tempauth copy slo dlo versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = us-east-1
s3_acl = false

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:{memcached}

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:healthcheck]
use = egg:swift#healthcheck
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:bulk]
use = egg:swift#bulk
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
[filter:versioned_writes]
use = egg:swift#versioned_writes
)";

constexpr std::string_view kSwiftConf = R"([swift-hash]
swift_hash_path_suffix = drctl-test
swift_hash_path_prefix = drctl-test

[storage-policy:0]
name = Policy-0
default = yes
)";

std::string Fill(std::string_view templ,
                 const std::vector<std::pair<std::string, std::string>>& vars) {
  std::string text(templ);
  for (const auto& [key, value] : vars) {
    const std::string pattern = "{" + key + "}";
    for (auto pos = text.find(pattern); pos != std::string::npos; pos = text.find(pattern, pos)) {
      text.replace(pos, pattern.size(), value);
      pos += value.size();
    }
  }
  return text;
}

std::string CurrentUser() {
  const char* user = std::getenv("USER");
  if (geteuid() == 0) return "root";
  return user != nullptr ? user : "root";
}

}  // namespace

Result<SwiftServer> SwiftServer::Start(std::chrono::seconds timeout) {
  return Start(Options{.tls = false, .timeout = timeout});
}

Result<SwiftServer> SwiftServer::Start(const Options& options) {
  const auto timeout = options.timeout;
  auto dir = TempDir::Create("drctl-swift-");
  if (!dir) return std::unexpected(dir.error());
  SwiftServer server(std::move(*dir));
  server.tls_ = options.tls;
  std::array<int, 5> ports{};
  for (auto& p : ports) {
    auto port = FreeLoopbackPort();
    if (!port) return std::unexpected(port.error());
    p = *port;
  }
  const auto [memcached, account, container, object, proxy] = ports;
  server.proxy_port_ = proxy;
  const auto& d = server.dir_.path();
  std::error_code ec;
  std::filesystem::create_directories(d / "devices" / "sdb1", ec);
  std::filesystem::create_directories(d / "etc", ec);
  std::filesystem::create_directories(d / "log", ec);
  if (server.tls_) DRCTL_TRY(server.MakeCertificate());
  DRCTL_TRY(server.WriteConfigs(memcached, account, container, object));
  DRCTL_TRY(server.BuildRings(account, container, object));

  // As root, memcached runs as "memcache" from the start: its own -u would change credentials after
  // the parent-death signal is set, which clears it.
  DRCTL_TRY(server.StartProcess(
      "memcached", {"memcached", "-l", "127.0.0.1", "-p", std::to_string(memcached), "-U", "0"},
      geteuid() == 0 ? "memcache" : ""));
  for (const char* kind : {"account", "container", "object", "proxy"}) {
    const std::string conf = (d / "etc" / (std::string(kind) + "-server.conf")).string();
    DRCTL_TRY(server.StartProcess(
        std::string(kind) + "-server",
        {"/usr/bin/python3", std::string("/usr/bin/swift-") + kind + "-server", conf, "-v"}));
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const std::string health = server.endpoint() + "/healthcheck";
  while (true) {
    if (!server.AllRunning()) {
      std::string logs;
      for (const auto& entry : std::filesystem::directory_iterator(d / "log", ec)) {
        std::ifstream in(entry.path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        logs += "\n--- " + entry.path().filename().string() + "\n" +
                text.substr(text.size() > 1500 ? text.size() - 1500 : 0);
      }
      return Fail(ErrorCode::kUnavailable, "a Swift process exited during start-up:" + logs,
                  "run scripts/install-deps.sh; logs are in " + (d / "log").string());
    }
    if (PortAccepts(account) && PortAccepts(container) && PortAccepts(object) &&
        server.ProxyAnswers()) {
      return server;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return Fail(
          ErrorCode::kTimeout,
          "Swift did not answer " + health + " within " + std::to_string(timeout.count()) + " s",
          "logs are in " + (d / "log").string());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

Status SwiftServer::WriteConfigs(int memcached, int account, int container, int object) {
  const auto& d = dir_.path();
  const std::string user = CurrentUser();
  std::ofstream(d / "etc" / "swift.conf") << kSwiftConf;
  for (const auto& [kind, port] : {std::pair{"account", account}, std::pair{"container", container},
                                   std::pair{"object", object}}) {
    std::ofstream(d / "etc" / (std::string(kind) + "-server.conf")) << Fill(
        kServerConf,
        {{"dir", d.string()}, {"port", std::to_string(port)}, {"user", user}, {"kind", kind}});
  }
  std::string proxy = Fill(kProxyConf, {{"dir", d.string()},
                                        {"port", std::to_string(proxy_port_)},
                                        {"user", user},
                                        {"memcached", std::to_string(memcached)}});
  if (tls_) {  // in [DEFAULT], which comes first: swift.common.wsgi wraps the listening socket
    const std::string first = "[DEFAULT]\n";
    proxy.insert(first.size(), "cert_file = " + (d / "etc" / "proxy.crt").string() +
                                   "\nkey_file = " + (d / "etc" / "proxy.key").string() + "\n");
  }
  std::ofstream out(d / "etc" / "proxy-server.conf");
  out << proxy;
  if (!out) return Fail(ErrorCode::kIo, "cannot write Swift configs in " + d.string());
  return Ok();
}

// A self-signed certificate for 127.0.0.1 (its own CA), P-256, valid for 30 days. 127.0.0.1 is
// an IP alternative name (curl, awscli) and a DNS one too: pgBackRest 2.45 compares the host with
// the DNS names only (and with the common name only when there are no alternative names).
Status SwiftServer::MakeCertificate() {
  const auto& d = dir_.path();
  auto r =
      RunCommand({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30", "-subj", "/CN=127.0.0.1",
                  "-addext", "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1,DNS:localhost", "-keyout",
                  (d / "etc" / "proxy.key").string(), "-out", (d / "etc" / "proxy.crt").string()},
                 std::chrono::seconds(60));
  if (!r) return std::unexpected(r.error().WithContext("running openssl"));
  if (r->exit_status != 0) {
    return Fail(ErrorCode::kCommandFailed,
                "openssl req (the proxy's certificate) failed: " + r->err, "install openssl");
  }
  return Ok();
}

std::string SwiftServer::ca_file() const {
  return tls_ ? (dir_.path() / "etc" / "proxy.crt").string() : std::string();
}

// GET /healthcheck answers "OK" (over TLS, verified against the proxy's own certificate).
bool SwiftServer::ProxyAnswers() {
  std::vector<std::string> argv = {"curl", "-sf", "-m", "2"};
  if (tls_) argv.insert(argv.end(), {"--cacert", ca_file()});
  argv.push_back(endpoint() + "/healthcheck");
  auto r = RunCommand(argv, std::chrono::seconds(5));
  return r && r->exit_status == 0 && r->out == "OK";
}

Status SwiftServer::BuildRings(int account, int container, int object) {
  const auto& d = dir_.path();
  for (const auto& [kind, port] : {std::pair{"account", account}, std::pair{"container", container},
                                   std::pair{"object", object}}) {
    const std::string builder = (d / "etc" / (std::string(kind) + ".builder")).string();
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"create", "8", "1", "1"},
          std::vector<std::string>{"add", "r1z1-127.0.0.1:" + std::to_string(port) + "/sdb1",
                                   "100"},
          std::vector<std::string>{"rebalance"}}) {
      std::vector<std::string> argv = {"/usr/bin/python3", "/usr/bin/swift-ring-builder", builder};
      argv.insert(argv.end(), args.begin(), args.end());
      auto r = RunCommand(argv, std::chrono::seconds(60));
      if (!r) return std::unexpected(r.error());
      if (r->exit_status != 0) {  // rebalance exits 1 with a warning on a one-device ring
        if (!(args[0] == "rebalance" && r->exit_status == 1)) {
          return Fail(ErrorCode::kCommandFailed,
                      "swift-ring-builder " + args[0] + " failed: " + r->out + r->err);
        }
      }
    }
  }
  return Ok();
}

Status SwiftServer::StartProcess(const std::string& name, std::vector<std::string> argv,
                                 const std::string& user) {
  SpawnOptions o;
  o.argv = std::move(argv);
  o.user = user;
  o.stdout_path = (dir_.path() / "log" / (name + ".log")).string();
  o.stderr_path = o.stdout_path;
  auto p = Process::Spawn(o);
  if (!p) return std::unexpected(p.error().WithContext("starting " + name));
  RecordPid(name, p->pid());
  processes_.push_back(std::move(*p));
  return Ok();
}

bool SwiftServer::AllRunning() {
  return std::all_of(processes_.begin(), processes_.end(), [](Process& p) { return p.Running(); });
}

std::vector<pid_t> SwiftServer::pids() const {
  std::vector<pid_t> out;
  out.reserve(processes_.size());
  for (const auto& p : processes_) out.push_back(p.pid());
  return out;
}

Status SwiftServer::Stop() {
  stopped_ = true;
  std::optional<Error> first;
  for (auto it = processes_.rbegin(); it != processes_.rend(); ++it) {
    auto r = it->Stop(SIGTERM, std::chrono::seconds(10));
    if (!r && !first) first = r.error();
  }
  if (first) return std::unexpected(*first);
  return Ok();
}

Status SwiftServer::StopProxy() {
  // The proxy is started last.
  if (processes_.empty()) return Fail(ErrorCode::kInternal, "Swift is not running");
  auto r = processes_.back().Stop(SIGTERM, std::chrono::seconds(10));
  processes_.pop_back();
  if (!r) return std::unexpected(r.error());
  return Ok();
}

Status SwiftServer::StartProxy(std::chrono::seconds timeout) {
  const auto& d = dir_.path();
  DRCTL_TRY(StartProcess("proxy-server", {"/usr/bin/python3", "/usr/bin/swift-proxy-server",
                                          (d / "etc" / "proxy-server.conf").string(), "-v"}));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ProxyAnswers()) return Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Fail(ErrorCode::kTimeout, "the Swift proxy did not answer again on " + endpoint());
}

SwiftServer::~SwiftServer() {
  if (!stopped_) (void)Stop();
}

Result<CommandResult> RunAwsCli(const std::string& endpoint, const std::string& access_key,
                                const std::string& secret_key, std::vector<std::string> args,
                                const std::string& ca_file) {
  SpawnOptions o;
  o.argv = {"/usr/bin/aws", "--endpoint-url", endpoint, "--region", "us-east-1"};
  o.argv.insert(o.argv.end(), args.begin(), args.end());
  o.env = {"AWS_ACCESS_KEY_ID=" + access_key,
           "AWS_SECRET_ACCESS_KEY=" + secret_key,
           "AWS_CONFIG_FILE=/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
           "AWS_EC2_METADATA_DISABLED=true",
           "AWS_PAGER=",
           "AWS_MAX_ATTEMPTS=1"};
  if (!ca_file.empty()) o.env.push_back("AWS_CA_BUNDLE=" + ca_file);
  return RunCommand(o, std::chrono::seconds(120));
}

Result<std::string> S3RepoWithCredentialFiles(const SwiftServer& swift, const std::string& name,
                                              const std::string& bucket, const std::string& prefix,
                                              const std::filesystem::path& dir,
                                              const std::string& owner) {
  auto made = RunAwsCli(swift.endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                        {"s3api", "create-bucket", "--bucket", bucket}, swift.ca_file());
  if (!made) return std::unexpected(made.error());
  if (made->exit_status != 0 && made->err.find("BucketAlreadyOwnedByYou") == std::string::npos) {
    return Fail(ErrorCode::kInternal, "create-bucket " + bucket + ": " + made->err);
  }
  const auto key = dir / (name + "-s3-key");
  const auto secret = dir / (name + "-s3-secret");
  std::ofstream(key) << SwiftServer::kAccessKey << "\n";
  std::ofstream(secret) << SwiftServer::kSecretKey << "\n";
  DRCTL_TRY(ChownToUser(key, owner));
  DRCTL_TRY(ChownToUser(secret, owner));
  std::string repo = "[[repo]]\nname = \"" + name + "\"\nurl = \"s3://" + bucket + "/" + prefix +
                     "\"\nendpoint = \"" + swift.endpoint() +
                     "\"\npath_style = true\naccess_key_id_file = \"" + key.string() +
                     "\"\nsecret_access_key_file = \"" + secret.string() + "\"\n";
  if (swift.tls()) repo += "ca_file = \"" + swift.ca_file() + "\"\n";
  return repo;
}

}  // namespace drctl::testing
