#include "daemon/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <exception>
#include <system_error>

#include "daemon/metrics.h"
#include "daemon/status_page.h"

namespace drctl::daemon {
namespace {

constexpr std::size_t kWorkerThreads = 4;
constexpr std::size_t kMaxRequestBytes = std::size_t{64} * 1024;
constexpr const char* kTextType = "text/plain; charset=utf-8";
constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
// The page needs nothing but its own inline CSS: no scripts, no fetches, no frames.
constexpr const char* kPageSecurityPolicy =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Only SO_REUSEADDR (restart right after a stop): httplib's default adds SO_REUSEPORT, which would
// let a second daemon bind the same port instead of failing. Close-on-exec keeps the listening
// socket out of the jobs the daemon spawns.
void ListenSocketOptions(int sock) {
  const int yes = 1;
  (void)setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  (void)fcntl(sock, F_SETFD, FD_CLOEXEC);
}

}  // namespace

Result<ListenAddress> ParseListenAddress(std::string_view listen) {
  const auto bad = [&](std::string_view why) {
    return Fail(ErrorCode::kConfig, fmt::format("[daemon] listen = \"{}\": {}", listen, why),
                "write host:port, e.g. 127.0.0.1:9187 or [::1]:9187");
  };
  std::string_view host;
  std::string_view port;
  if (listen.starts_with('[')) {
    const std::size_t close = listen.find(']');
    if (close == std::string_view::npos || listen.substr(close + 1, 1) != ":") {
      return bad("expected [address]:port");
    }
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    const std::size_t colon = listen.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    host = listen.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return bad("an IPv6 address needs brackets, e.g. [::1]:9187");
    }
    port = listen.substr(colon + 1);
  }
  if (host.empty()) return bad("no host (0.0.0.0 listens on every IPv4 address)");
  int value = -1;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 0 || value > 65535) {
    return bad("the port must be a number from 0 to 65535");
  }
  return ListenAddress{.host = std::string(host), .port = value};
}

bool IsLoopbackHost(std::string_view host) {
  if (EqualsIgnoreCase(host, "localhost")) return true;
  const std::string text(host);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return false;
  const unsigned char* b = v6.s6_addr;
  const bool zero_prefix = std::all_of(b, b + 10, [](unsigned char c) { return c == 0; });
  const bool loopback = zero_prefix && b[10] == 0 && b[11] == 0 && b[12] == 0 && b[13] == 0 &&
                        b[14] == 0 && b[15] == 1;
  const bool mapped_loopback = zero_prefix && b[10] == 0xff && b[11] == 0xff && b[12] == 127;
  return loopback || mapped_loopback;
}

bool BearerTokenMatches(std::string_view header, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty() || header.size() < kScheme.size() ||
      !EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  const std::string_view given = header.substr(kScheme.size());
  // The time taken depends on the token's length only, never on how much of it was guessed.
  if (given.size() != token.size()) {
    (void)CRYPTO_memcmp(token.data(), token.data(), token.size());
    return false;
  }
  return CRYPTO_memcmp(given.data(), token.data(), token.size()) == 0;
}

HttpServer::HttpServer(std::optional<std::string> token, SnapshotFn snapshot)
    : server_(std::make_unique<httplib::Server>()),
      token_(std::move(token)),
      snapshot_(std::move(snapshot)) {}

HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const std::string& listen, bool allow_remote,
                                                      std::optional<std::string> token,
                                                      SnapshotFn snapshot) {
  auto address = ParseListenAddress(listen);
  if (!address) return std::unexpected(address.error());
  if (!allow_remote && !IsLoopbackHost(address->host)) {
    return Fail(ErrorCode::kConfig,
                fmt::format("refusing to listen on {}: not a loopback address, and "
                            "[daemon] allow_remote is false",
                            listen),
                "the daemon serves only this host (127.0.0.1, ::1, localhost) unless "
                "[daemon] allow_remote = true; set it, together with [daemon] token, to serve "
                "other hosts");
  }
  if (token && token->empty()) {
    return Fail(ErrorCode::kConfig, "[daemon] token is empty",
                "give the token a value, or remove [daemon] token to serve without one");
  }
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(token), std::move(snapshot)));
  server->Route();
  httplib::Server& http = *server->server_;
  errno = 0;
  const int port = address->port == 0
                       ? http.bind_to_any_port(address->host)
                       : (http.bind_to_port(address->host, address->port) ? address->port : -1);
  if (port < 0) {
    const int error = errno;
    return Fail(ErrorCode::kPrecondition,
                fmt::format("cannot listen on {}: {}", listen,
                            error != 0 ? std::error_code(error, std::generic_category()).message()
                                       : "the address cannot be resolved or bound"),
                "another process (another drctl daemon?) may be listening there: stop it or "
                "change [daemon] listen; the host must be an address of this machine");
  }
  server->port_ = port;
  auto ended = std::make_shared<std::atomic<bool>>(false);
  server->thread_ = std::thread([&http, ended] {
    http.listen_after_bind();
    *ended = true;
  });
  // httplib ignores stop() until its loop runs: wait for it, so that an early Stop() is not lost.
  while (!http.is_running() && !*ended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (*ended) {
    return Fail(ErrorCode::kInternal, fmt::format("the HTTP server on {} ended at once", listen));
  }
  return server;
}

void HttpServer::Stop() {
  std::call_once(stopped_, [this] {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  });
}

void HttpServer::Route() {
  using httplib::Request;
  using httplib::Response;
  using Handled = httplib::Server::HandlerResponse;
  httplib::Server& s = *server_;
  s.new_task_queue = [] { return new httplib::ThreadPool(kWorkerThreads); };
  s.set_socket_options(ListenSocketOptions);
  s.set_read_timeout(std::chrono::seconds(5));
  s.set_write_timeout(std::chrono::seconds(5));
  s.set_keep_alive_timeout(2);
  s.set_payload_max_length(kMaxRequestBytes);
  s.set_default_headers({{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}});
  s.set_pre_routing_handler([this](const Request& req, Response& res) {
    if (!token_ || req.path == "/healthz" ||
        BearerTokenMatches(req.get_header_value("Authorization"), *token_)) {
      return Handled::Unhandled;
    }
    res.status = 401;
    res.set_header("WWW-Authenticate", R"(Bearer realm="drctl")");
    res.set_content("unauthorized: send the header \"Authorization: Bearer <[daemon] token>\"\n",
                    kTextType);
    return Handled::Handled;
  });
  s.Get("/healthz", [](const Request&, Response& res) { res.set_content("ok", kTextType); });
  s.Get("/metrics", [this](const Request&, Response& res) {
    res.set_content(RenderMetrics(snapshot_()), kMetricsType);
  });
  s.Get("/status", [this](const Request&, Response& res) {
    // Strings from outside (error lines) may hold invalid UTF-8: replace rather than throw.
    res.set_content(
        SnapshotJson(snapshot_()).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
            "\n",
        "application/json");
  });
  s.Get("/", [this](const Request&, Response& res) {
    res.set_header("Content-Security-Policy", kPageSecurityPolicy);
    res.set_content(RenderStatusPage(snapshot_()), "text/html; charset=utf-8");
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse([](const Request& req, Response& res) {
    if (!res.body.empty()) return Handled::Unhandled;
    res.set_content(res.status == 404 ? fmt::format("not found: {}\n", req.path)
                                      : fmt::format("error {}\n", res.status),
                    kTextType);
    return Handled::Handled;
  }));
  s.set_exception_handler([](const Request& req, Response& res, const std::exception_ptr& ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("http: {} {} failed: {}", req.method, req.path, what);
    res.status = 500;
    res.set_content("internal error: see the daemon's log\n", kTextType);
  });
  s.set_logger([](const Request& req, const Response& res) {
    spdlog::debug("http: {} {} -> {}", req.method, req.path, res.status);
  });
}

}  // namespace drctl::daemon
