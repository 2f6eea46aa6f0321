// A real S3 endpoint for tests: OpenStack Swift with the s3api middleware (it verifies SigV4
// signatures), with memcached, one-replica rings and account/container/object/proxy servers on
// loopback ports, all as children of the test process (stopped by PID; killed if it dies).
// Credentials: access key "test:tester", secret "testing", region us-east-1, path-style.
// Plain HTTP by default; with Options::tls the proxy serves HTTPS with a self-signed certificate
// for 127.0.0.1 (generated with the openssl CLI into the server's temporary directory; ca_file()
// names it, for the clients to trust).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/process.h"
#include "common/result.h"
#include "common/temp_dir.h"

namespace drctl::testing {

class SwiftServer {
 public:
  static constexpr const char* kAccessKey = "test:tester";
  static constexpr const char* kSecretKey = "testing";
  static constexpr const char* kRegion = "us-east-1";

  struct Options {
    bool tls = false;  // HTTPS on the proxy (the S3 endpoint), self-signed certificate
    std::chrono::seconds timeout{90};
  };

  static Result<SwiftServer> Start(std::chrono::seconds timeout = std::chrono::seconds(90));
  static Result<SwiftServer> Start(const Options& options);

  SwiftServer(SwiftServer&&) noexcept = default;
  SwiftServer& operator=(SwiftServer&&) noexcept = default;
  ~SwiftServer();

  // Stops every process it started (proxy first, memcached last).
  Status Stop();

  // Stops the proxy server alone (the S3 endpoint: connections are refused, stored data stays),
  // and starts it again on the same port, waiting until it answers. For outage tests.
  Status StopProxy();
  Status StartProxy(std::chrono::seconds timeout = std::chrono::seconds(60));

  std::string endpoint() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(proxy_port_);
  }
  int port() const { return proxy_port_; }
  bool tls() const { return tls_; }
  // With TLS: the PEM certificate the proxy serves (self-signed: it is its own CA), inside the
  // server's temporary directory (mode 0700: copy it for other users). Empty without TLS.
  std::string ca_file() const;
  std::vector<pid_t> pids() const;
  bool AllRunning();

 private:
  SwiftServer(TempDir dir) : dir_(std::move(dir)) {}
  Status WriteConfigs(int memcached_port, int account, int container, int object);
  Status MakeCertificate();
  bool ProxyAnswers();
  Status BuildRings(int account, int container, int object);
  Status StartProcess(const std::string& name, std::vector<std::string> argv,
                      const std::string& user = {});

  TempDir dir_;
  int proxy_port_ = 0;
  bool tls_ = false;
  std::vector<Process> processes_;  // start order
  bool stopped_ = false;
};

// Runs the AWS CLI (/usr/bin/aws) against `endpoint` with the given credentials, which reach it
// through the environment, never argv (as is `ca_file`, the CA bundle for an https endpoint, when
// not empty). Returns its result; a non-zero exit is not an error.
Result<CommandResult> RunAwsCli(const std::string& endpoint, const std::string& access_key,
                                const std::string& secret_key, std::vector<std::string> args,
                                const std::string& ca_file = {});

// Creates `bucket` on `swift` (if missing) and returns a drctl [[repo]] table named `name` for
// s3://bucket/prefix whose credentials come from files written into `dir` and given to `owner`
// (postgres: it runs archive_command and a restored server's restore_command); never argv. With
// TLS the table names swift.ca_file() as ca_file (in a 0700 directory: copy it for `owner`).
Result<std::string> S3RepoWithCredentialFiles(const SwiftServer& swift, const std::string& name,
                                              const std::string& bucket, const std::string& prefix,
                                              const std::filesystem::path& dir,
                                              const std::string& owner = "postgres");

}  // namespace drctl::testing
