// S3 requests over HTTP: HttpClient performs one exchange over libcurl (no signing, no retries);
// S3Client signs each attempt (SigV4), retries what is transient with exponential backoff and
// jitter, and maps S3's answers to drctl's error codes. Every exchange has a connect timeout and
// a stall timeout, so no call can hang forever.
//
// Thread-safety: both classes may be used from many threads at once. HttpClient keeps a small
// pool of curl easy handles (guarded by a mutex) so that connections are reused; each exchange
// uses one handle exclusively. libcurl's global initialisation runs once per process
// (std::call_once).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/s3/list_xml.h"
#include "storage/s3/sigv4.h"

namespace drctl::storage::s3 {

struct HttpTimeouts {
  std::chrono::milliseconds connect{10000};  // TCP + TLS handshake
  // A transfer that moves fewer than `low_speed_bytes` per second for `low_speed_time` is
  // abandoned (a stalled connection), whatever its size.
  std::uint32_t low_speed_bytes = 1024;
  std::chrono::seconds low_speed_time{30};
  std::chrono::milliseconds total{0};  // whole exchange; 0: no limit beyond the two above
};

struct HttpRequest {
  std::string method;     // GET, HEAD, PUT, POST, DELETE
  std::string url;        // already percent-encoded
  HeaderList headers;     // sent as given (a "host" entry replaces curl's own)
  std::string_view body;  // sent with PUT and POST (Content-Length always set)
};

struct HttpResponse {
  int status = 0;
  HeaderList headers;  // names lower-cased, in the order received (last response only)
  std::string body;

  // The value of the first header named `name` (lower case), or null.
  const std::string* Header(std::string_view name) const;
};

class HttpClient {
 public:
  // `ca_file`: PEM bundle to verify the server with instead of the system's ("": system).
  // Certificate and host name verification are always on. LoadCurl() (storage/curl_library.h)
  // must have succeeded first; S3Storage::Open sees to it.
  HttpClient(std::string ca_file, HttpTimeouts timeouts);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one exchange. Any HTTP status is a response, not an error. Errors: kUnavailable
  // for network failures (refused, reset, DNS, timeout, stall: worth retrying), kConfig for what
  // retrying cannot fix (bad URL, TLS certificate not trusted). Messages name the method and URL.
  Result<HttpResponse> Perform(const HttpRequest& request);

 private:
  void* Acquire();
  void Release(void* handle);

  std::string ca_file_;
  HttpTimeouts timeouts_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles, guarded by mu_
};

// Where and as whom S3 requests go, and how they are retried.
struct S3ClientConfig {
  std::string scheme;     // "https" or "http"
  std::string authority;  // "host[:port]" of the endpoint
  std::string bucket;
  std::string region;
  bool path_style = false;
  Credentials credentials;         // secrets: never logged or put in messages
  std::string credentials_source;  // where they came from, for kAuth hints
  std::string ca_file;
  HttpTimeouts timeouts;
  int max_retries = 5;  // attempts = 1 + max_retries
  std::chrono::milliseconds retry_base_delay{200};
  std::chrono::milliseconds retry_max_delay{10000};
};

struct S3Request {
  std::string method;
  std::string object;  // full object key (with the repository prefix); "" for the bucket itself
  QueryList query;
  HeaderList headers;  // besides host and the signature's
  std::string_view body;
  std::string what;  // "s3://bucket/prefix/key": names the object in messages
};

class S3Client {
 public:
  explicit S3Client(S3ClientConfig config);

  // Signs and sends, retrying transient failures (network errors, timeouts, 5xx, 429, SlowDown,
  // RequestTimeout, BadDigest) with backoff; returns the last response whatever its status, or
  // the error once the transient failures outlast max_retries ("... (after N attempts)").
  Result<HttpResponse> Send(const S3Request& request);
  // Send, then a status outside `ok` becomes ErrorFor's error.
  Result<HttpResponse> Expect(const S3Request& request, std::initializer_list<int> ok);
  // The error an S3 answer means (doc/storage-s3.md has the table).
  Error ErrorFor(const S3Request& request, const HttpResponse& response) const;

  std::uint64_t requests_sent() const { return requests_sent_.load(); }
  const S3ClientConfig& config() const { return config_; }

 private:
  Result<HttpResponse> SendOnce(const S3Request& request);

  const S3ClientConfig config_;
  HttpClient http_;
  std::atomic<std::uint64_t> requests_sent_{0};
};

// The <Error> body of a response, or an empty one (HEAD answers, non-S3 bodies).
S3ErrorBody ErrorBodyOf(const HttpResponse& response);
// S3 error codes that mean the credentials were refused (never retried).
bool IsAuthCode(std::string_view code);
// Whether an answer is worth retrying as it is.
bool IsTransient(int status, std::string_view code);

}  // namespace drctl::storage::s3
