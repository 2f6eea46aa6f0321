#include "storage/s3/http.h"

#include <curl/curl.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <thread>

namespace drctl::storage::s3 {
namespace {

constexpr std::size_t kMaxIdleHandles = 16;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
  });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

struct Upload {
  std::string_view body;
  std::size_t offset = 0;
};

std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
  auto* headers = static_cast<HeaderList*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after "100 Continue")
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(Lower(Trim(line.substr(0, colon))),
                          std::string(Trim(line.substr(colon + 1))));
  }
  return size * count;
}

std::size_t OnRead(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, upload->body.size() - upload->offset);
  std::memcpy(buffer, upload->body.data() + upload->offset, n);
  upload->offset += n;
  return n;
}

int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* upload = static_cast<Upload*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > upload->body.size()) {
    return CURL_SEEKFUNC_FAIL;
  }
  upload->offset = static_cast<std::size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

// Errors that retrying cannot fix.
bool IsPermanent(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return true;
    default:
      return false;
  }
}

bool IsTransientCode(std::string_view code) {
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
         code == "ServiceUnavailable" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestThrottled" || code == "BadDigest";
}

// Exponential backoff with "equal jitter": half of the capped delay, plus a random part of the
// other half, so that retries of many clients spread out but never hammer at once.
std::chrono::milliseconds Backoff(const S3ClientConfig& config, int retry) {
  const auto base = config.retry_base_delay.count();
  const auto cap =
      std::min<std::int64_t>(config.retry_max_delay.count(), base << std::min(retry, 20));
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(cap / 2, 0));
  return std::chrono::milliseconds(cap - cap / 2 + jitter(rng));
}

Error TransportError(const HttpRequest& request, CURLcode code, const char* detail) {
  std::string message = request.method + " " + request.url + ": " + curl_easy_strerror(code);
  if (detail != nullptr && *detail != '\0') message += std::string(" (") + detail + ")";
  if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
      code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_ISSUER_ERROR) {
    return {ErrorCode::kConfig, message,
            "the server's TLS certificate is not trusted: set the repository's ca_file to the CA "
            "that signed it, or fix the endpoint"};
  }
  if (IsPermanent(code)) {
    return {ErrorCode::kConfig, message, "check the repository's endpoint"};
  }
  return {ErrorCode::kUnavailable, message,
          "check that the endpoint is reachable from this machine (network, firewall, DNS)"};
}

}  // namespace

const std::string* HttpResponse::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

HttpClient::HttpClient(std::string ca_file, HttpTimeouts timeouts)
    : ca_file_(std::move(ca_file)), timeouts_(timeouts) {
  GlobalInit();
}

HttpClient::~HttpClient() {
  for (void* handle : idle_) curl_easy_cleanup(handle);
}

void* HttpClient::Acquire() {
  {
    const std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* handle = idle_.back();
      idle_.pop_back();
      return handle;
    }
  }
  void* handle = curl_easy_init();
  if (handle == nullptr) std::abort();  // out of memory
  return handle;
}

void HttpClient::Release(void* handle) {
  {
    const std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdleHandles) {
      idle_.push_back(handle);
      return;
    }
  }
  curl_easy_cleanup(handle);
}

Result<HttpResponse> HttpClient::Perform(const HttpRequest& request) {
  CURL* curl = Acquire();
  curl_easy_reset(curl);  // keeps the connection cache
  HttpResponse response;
  Upload upload{request.body};
  char detail[CURL_ERROR_SIZE] = {};

  curl_slist* list = nullptr;
  const auto add_header = [&list](const std::string& line) {
    list = curl_slist_append(list, line.c_str());
    if (list == nullptr) std::abort();  // out of memory
  };
  for (const auto& [name, value] : request.headers) {
    std::string line = name;
    line += ": ";
    line += value;
    add_header(line);
  }
  add_header("Expect:");  // no 100-continue round trip
  add_header("Accept:");
  const std::unique_ptr<curl_slist, SlistFree> headers(list);

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "drctl");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeouts_.connect.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, static_cast<long>(timeouts_.low_speed_bytes));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   static_cast<long>(timeouts_.low_speed_time.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeouts_.total.count()));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!ca_file_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file_.c_str());
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else if (request.method == "PUT" || request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, &OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, &OnSeek);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &upload);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(curl);
  long status = 0;  // NOLINT(google-runtime-int): curl's type
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  Release(curl);
  if (code != CURLE_OK) return std::unexpected(TransportError(request, code, detail));
  response.status = static_cast<int>(status);
  return response;
}

bool IsAuthCode(std::string_view code) {
  return code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
         code == "AccessDenied" || code == "ExpiredToken" || code == "InvalidToken" ||
         code == "TokenRefreshRequired" || code == "InvalidSecurity" ||
         code == "AllAccessDisabled" || code == "AccountProblem";
}

bool IsTransient(int status, std::string_view code) {
  return status >= 500 || status == 429 || status == 408 || IsTransientCode(code);
}

S3ErrorBody ErrorBodyOf(const HttpResponse& response) {
  if (response.body.empty()) return {};
  auto parsed = ParseErrorBody(response.body);
  return parsed ? *parsed : S3ErrorBody{};
}

S3Client::S3Client(S3ClientConfig config)
    : config_(std::move(config)), http_(config_.ca_file, config_.timeouts) {}

Result<HttpResponse> S3Client::SendOnce(const S3Request& request) {
  const std::string host =
      config_.path_style ? config_.authority : config_.bucket + "." + config_.authority;
  std::string path = "/";
  if (config_.path_style) path += config_.bucket + (request.object.empty() ? "" : "/");
  path += request.object;

  SignableRequest signable{.method = request.method,
                           .path = path,
                           .query = request.query,
                           .headers = request.headers,
                           .payload_sha256 = io::ToHex(io::Sha256(request.body))};
  signable.headers.emplace_back("host", host);
  const SigningScope scope{
      std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()), config_.region,
      "s3"};
  const Signature signature = SignHeaders(signable, config_.credentials, scope);

  HttpRequest http{.method = request.method,
                   .url = config_.scheme + "://" + host + UriEncode(path, true),
                   .headers = std::move(signable.headers),
                   .body = request.body};
  if (!request.query.empty()) http.url += "?" + CanonicalQueryString(request.query);
  http.headers.insert(http.headers.end(), signature.headers_to_add.begin(),
                      signature.headers_to_add.end());
  ++requests_sent_;
  return http_.Perform(http);
}

Result<HttpResponse> S3Client::Send(const S3Request& request) {
  for (int attempt = 1;; ++attempt) {
    auto response = SendOnce(request);
    const bool transient = response ? IsTransient(response->status, ErrorBodyOf(*response).code)
                                    : response.error().code() == ErrorCode::kUnavailable;
    if (!transient) {
      if (!response) return std::unexpected(response.error().WithContext(request.what));
      return response;
    }
    Error error =
        response ? ErrorFor(request, *response) : response.error().WithContext(request.what);
    if (attempt > config_.max_retries) {
      return std::unexpected(
          Error(error.code(), error.message() + " (after " + std::to_string(attempt) + " attempts)",
                error.hint()));
    }
    const auto delay = Backoff(config_, attempt - 1);
    spdlog::debug("{} (attempt {} of {}); retrying in {} ms", error.message(), attempt,
                  config_.max_retries + 1, delay.count());
    std::this_thread::sleep_for(delay);
  }
}

Result<HttpResponse> S3Client::Expect(const S3Request& request, std::initializer_list<int> ok) {
  auto response = Send(request);
  if (!response) return response;
  if (std::find(ok.begin(), ok.end(), response->status) == ok.end()) {
    return std::unexpected(ErrorFor(request, *response));
  }
  return response;
}

Error S3Client::ErrorFor(const S3Request& request, const HttpResponse& response) const {
  const S3ErrorBody body = ErrorBodyOf(response);
  const int status = response.status;
  std::string answer = request.method + " answered HTTP " + std::to_string(status);
  if (!body.code.empty()) answer += " " + body.code;
  if (!body.message.empty()) answer += ": " + body.message;
  const std::string& code = body.code;
  auto error = [&](ErrorCode c, const std::string& what, const std::string& hint) {
    return Error(c, request.what + ": " + what + " (" + answer + ")", hint);
  };
  if (code == "RequestTimeTooSkewed") {
    return error(ErrorCode::kAuth, "request time too skewed",
                 "this machine's clock is more than 15 minutes off the server's: synchronise it "
                 "(NTP)");
  }
  if (IsAuthCode(code) || status == 401 || status == 403) {
    return error(ErrorCode::kAuth, "credentials rejected",
                 "check " + config_.credentials_source +
                     ": the server rejected them, or they "
                     "may not access bucket '" +
                     config_.bucket + "'");
  }
  if (code == "NoSuchBucket") {
    return error(ErrorCode::kNotFound, "bucket '" + config_.bucket + "' does not exist",
                 "create the bucket, or fix the repository's url and endpoint");
  }
  if (status == 404) return error(ErrorCode::kNotFound, "no such object", "");
  if (code == "AuthorizationHeaderMalformed" || code == "PermanentRedirect" ||
      code == "IllegalLocationConstraintException" || status == 301 || status == 307) {
    return error(
        ErrorCode::kConfig, "wrong region or endpoint for the bucket",
        "set the repository's region (now " + config_.region + ") and endpoint to the bucket's");
  }
  if (status == 416 || code == "InvalidRange") {
    return error(ErrorCode::kCorrupt, "range past the end of the object",
                 "the caller's index and the object disagree: run drctl verify");
  }
  if (code == "BadDigest" || code == "InvalidDigest") {
    return error(ErrorCode::kCorrupt, "the server received different bytes than drctl sent",
                 "check the network path to the endpoint (proxies, faulty hardware)");
  }
  if (IsTransient(status, code)) {
    return error(ErrorCode::kUnavailable, "the server is unavailable or busy",
                 "retry later; check the S3 service's status");
  }
  if (status == 409 || status == 412) return error(ErrorCode::kConflict, "conflict", "");
  if (status == 405 || status == 501 || code == "NotImplemented") {
    return error(ErrorCode::kUnsupported, "operation not supported by this server",
                 "use an S3 service that implements it");
  }
  return error(ErrorCode::kInternal, "request refused",
               "the server refused a request drctl built: please report it with this message");
}

}  // namespace drctl::storage::s3
