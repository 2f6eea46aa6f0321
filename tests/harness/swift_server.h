// A real S3 endpoint for tests: OpenStack Swift with the s3api middleware (it verifies SigV4
// signatures), with memcached, one-replica rings and account/container/object/proxy servers on
// loopback ports, all as children of the test process (stopped by PID; killed if it dies).
// Credentials: access key "test:tester", secret "testing", region us-east-1, path-style.
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

  static Result<SwiftServer> Start(std::chrono::seconds timeout = std::chrono::seconds(90));

  SwiftServer(SwiftServer&&) noexcept = default;
  SwiftServer& operator=(SwiftServer&&) noexcept = default;
  ~SwiftServer();

  // Stops every process it started (proxy first, memcached last).
  Status Stop();

  // Stops the proxy server alone (the S3 endpoint: connections are refused, stored data stays),
  // and starts it again on the same port, waiting until it answers. For outage tests.
  Status StopProxy();
  Status StartProxy(std::chrono::seconds timeout = std::chrono::seconds(60));

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(proxy_port_); }
  int port() const { return proxy_port_; }
  std::vector<pid_t> pids() const;
  bool AllRunning();

 private:
  SwiftServer(TempDir dir) : dir_(std::move(dir)) {}
  Status WriteConfigs(int memcached_port, int account, int container, int object);
  Status BuildRings(int account, int container, int object);
  Status StartProcess(const std::string& name, std::vector<std::string> argv,
                      const std::string& user = {});

  TempDir dir_;
  int proxy_port_ = 0;
  std::vector<Process> processes_;  // start order
  bool stopped_ = false;
};

// Runs the AWS CLI (/usr/bin/aws) against `endpoint` with the given credentials, which reach it
// through the environment, never argv. Returns its result; a non-zero exit is not an error.
Result<CommandResult> RunAwsCli(const std::string& endpoint, const std::string& access_key,
                                const std::string& secret_key, std::vector<std::string> args);

// Creates `bucket` on `swift` (if missing) and returns a drctl [[repo]] table named `name` for
// s3://bucket/prefix whose credentials come from files written into `dir` and given to `owner`
// (postgres: it runs archive_command and a restored server's restore_command); never argv.
Result<std::string> S3RepoWithCredentialFiles(const SwiftServer& swift, const std::string& name,
                                              const std::string& bucket, const std::string& prefix,
                                              const std::filesystem::path& dir,
                                              const std::string& owner = "postgres");

}  // namespace drctl::testing
