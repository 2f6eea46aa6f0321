#include "storage/s3/sigv4.h"

#include <algorithm>
#include <ctime>
#include <map>

namespace drctl::storage::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and folds every run of whitespace (including obsolete line folding) into one space.
std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (const char c : value) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string FormatTime(std::chrono::sys_seconds time, const char* format) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof(buf), format, &tm);
  return {buf, n};
}

std::string CredentialScope(const SigningScope& scope) {
  return AmzDay(scope.time) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

// Lower-cased names, canonical values, duplicates joined by ',' in order, sorted by name.
std::map<std::string, std::string> CanonicalHeaders(const HeaderList& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = out.try_emplace(Lower(name), CanonicalHeaderValue(value));
    if (!inserted) it->second += "," + CanonicalHeaderValue(value);
  }
  return out;
}

struct Canonical {
  std::string request;
  std::string signed_headers;
};

Canonical BuildCanonicalRequest(const SignableRequest& request, const HeaderList& headers,
                                const QueryList& query) {
  const auto canonical_headers = CanonicalHeaders(headers);
  std::string header_block;
  std::string signed_headers;
  for (const auto& [name, value] : canonical_headers) {
    header_block += name;
    header_block += ':';
    header_block += value;
    header_block += '\n';
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += name;
  }
  Canonical out;
  out.request = request.method + "\n" + UriEncode(request.path, true) + "\n" +
                CanonicalQueryString(query) + "\n" + header_block + "\n" + signed_headers + "\n" +
                request.payload_sha256;
  out.signed_headers = std::move(signed_headers);
  return out;
}

void Finish(Signature& sig, const Canonical& canonical, const Credentials& credentials,
            const SigningScope& scope) {
  sig.canonical_request = canonical.request;
  sig.signed_headers = canonical.signed_headers;
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + AmzDate(scope.time) + "\n" +
                       CredentialScope(scope) + "\n" + io::ToHex(io::Sha256(canonical.request));
  const io::Digest key = SigningKey(credentials.secret_key, scope);
  sig.signature = io::ToHex(io::HmacSha256(key, sig.string_to_sign));
}

}  // namespace

std::string UriEncode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4U];
      out += kHex[c & 0xFU];
    }
  }
  return out;
}

std::string UriDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string AmzDate(std::chrono::sys_seconds time) { return FormatTime(time, "%Y%m%dT%H%M%SZ"); }
std::string AmzDay(std::chrono::sys_seconds time) { return FormatTime(time, "%Y%m%d"); }

std::string CanonicalQueryString(const QueryList& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, false), UriEncode(value, false));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

io::Digest SigningKey(std::string_view secret_key, const SigningScope& scope) {
  const std::string seed = "AWS4" + std::string(secret_key);
  const io::Digest date = io::HmacSha256(io::AsBytes(seed), AmzDay(scope.time));
  const io::Digest region = io::HmacSha256(date, scope.region);
  const io::Digest service = io::HmacSha256(region, scope.service);
  return io::HmacSha256(service, "aws4_request");
}

Signature SignHeaders(const SignableRequest& request, const Credentials& credentials,
                      const SigningScope& scope, const SignOptions& options) {
  Signature sig;
  sig.headers_to_add.emplace_back("x-amz-date", AmzDate(scope.time));
  if (options.add_content_sha256_header) {
    sig.headers_to_add.emplace_back("x-amz-content-sha256", request.payload_sha256);
  }
  const bool token = !credentials.session_token.empty();
  if (token && options.sign_session_token) {
    sig.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }
  HeaderList headers = request.headers;
  headers.insert(headers.end(), sig.headers_to_add.begin(), sig.headers_to_add.end());
  const Canonical canonical = BuildCanonicalRequest(request, headers, request.query);
  Finish(sig, canonical, credentials, scope);
  if (token && !options.sign_session_token) {
    sig.headers_to_add.emplace_back("x-amz-security-token", credentials.session_token);
  }
  sig.headers_to_add.emplace_back(
      "authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key + "/" +
                           CredentialScope(scope) + ", SignedHeaders=" + sig.signed_headers +
                           ", Signature=" + sig.signature);
  return sig;
}

Signature SignQuery(const SignableRequest& request, const Credentials& credentials,
                    const SigningScope& scope, std::chrono::seconds expires,
                    const SignOptions& options) {
  Signature sig;
  std::string signed_headers;
  for (const auto& entry : CanonicalHeaders(request.headers)) {
    if (!signed_headers.empty()) signed_headers += ';';
    signed_headers += entry.first;
  }
  sig.query_to_add = {
      {"X-Amz-Algorithm", std::string(kAlgorithm)},
      {"X-Amz-Credential", credentials.access_key + "/" + CredentialScope(scope)},
      {"X-Amz-Date", AmzDate(scope.time)},
      {"X-Amz-Expires", std::to_string(expires.count())},
      {"X-Amz-SignedHeaders", signed_headers},
  };
  const bool token = !credentials.session_token.empty();
  if (token && options.sign_session_token) {
    sig.query_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  QueryList query = request.query;
  query.insert(query.end(), sig.query_to_add.begin(), sig.query_to_add.end());
  const Canonical canonical = BuildCanonicalRequest(request, request.headers, query);
  Finish(sig, canonical, credentials, scope);
  if (token && !options.sign_session_token) {
    sig.query_to_add.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  sig.query_to_add.emplace_back("X-Amz-Signature", sig.signature);
  return sig;
}

}  // namespace drctl::storage::s3
