// The daemon's HTTP endpoint (doc/http.md):
//   GET /healthz   200 "ok" while the daemon runs; never needs the token
//   GET /metrics   Prometheus text format 0.0.4 (metrics.h)
//   GET /status    the snapshot as JSON (SnapshotJson, 2-space indent)
//   GET /          the status page (status_page.h)
// Anything else is 404. With a token, every route but /healthz answers 401 (WWW-Authenticate:
// Bearer) unless the request carries "Authorization: Bearer <token>".
//
// It listens on a loopback address unless told otherwise: a non-loopback host is refused unless
// `allow_remote` ([daemon] allow_remote) is set. The token is never logged.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "common/result.h"
#include "daemon/snapshot.h"

namespace httplib {
class Server;
}

namespace drctl::daemon {

struct ListenAddress {
  std::string host;  // without brackets: "127.0.0.1", "::1", "localhost", "0.0.0.0"
  int port = 0;      // 0: any free port
};

// Parses "host:port" or "[ipv6]:port" ([daemon] listen). kConfig naming the text on error.
Result<ListenAddress> ParseListenAddress(std::string_view listen);

// True for "localhost", 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. Names other than localhost
// are not resolved: they count as remote.
bool IsLoopbackHost(std::string_view host);

// True when `header` is "Bearer <token>" (the scheme in any case, the token exactly); takes the
// same time wherever a wrong token differs. An empty token matches nothing.
bool BearerTokenMatches(std::string_view header, std::string_view token);

// Serves the routes above from its own threads until Stop() or destruction. Thread-safe: Stop()
// may be called from any thread, more than once.
class HttpServer {
 public:
  // Produces the snapshot a request renders. Called from the server's worker threads, possibly
  // several at once: it must be thread-safe (copy under the daemon's lock).
  using SnapshotFn = std::function<DaemonSnapshot()>;

  // Binds `listen` ("host:port"; port 0 picks a free port, see port()) and starts serving.
  // Errors: kConfig for a malformed address or a non-loopback host without `allow_remote` (the
  // message names the address and [daemon] allow_remote); kPrecondition when the address cannot
  // be bound (in use by another process, or not an address of this host). An empty token is
  // refused (kConfig): use nullopt for no token.
  static Result<std::unique_ptr<HttpServer>> Start(const std::string& listen, bool allow_remote,
                                                   std::optional<std::string> token,
                                                   SnapshotFn snapshot);

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  // The port it listens on (the chosen one when started with port 0).
  int port() const { return port_; }

  // Stops accepting, finishes the requests in flight and joins the server's threads.
  void Stop();

 private:
  HttpServer(std::optional<std::string> token, SnapshotFn snapshot);
  void Route();

  std::unique_ptr<httplib::Server> server_;
  std::optional<std::string> token_;
  SnapshotFn snapshot_;
  int port_ = 0;
  std::thread thread_;
  std::once_flag stopped_;
};

}  // namespace drctl::daemon
