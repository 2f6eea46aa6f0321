// AWS Signature Version 4, as S3 wants it: a pure function of the request, the credentials and
// the time (no I/O, no clock), so the AWS test suite can check it byte for byte.
//
// S3 differs from the generic SigV4 services in one place: the canonical URI is the path encoded
// once, segment by segment, and never normalized ("//", "." and ".." stay as they are), because
// those are legal parts of object keys. Everything else (query, headers, scope, key derivation)
// is the common algorithm:
//   https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
//
// Thread-safety: every function is pure and may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/hash.h"

namespace drctl::storage::s3 {

// The SHA-256 of an empty payload, hex: what GET, HEAD and DELETE sign.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Secrets: never logged, never in argv or error messages.
struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // empty: none (long-term keys)
};

// Who signs, where and when.
struct SigningScope {
  std::chrono::sys_seconds time;
  std::string region;
  std::string service = "s3";
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;

// A request to sign. Names and values are raw (not percent-encoded): the signer encodes them.
struct SignableRequest {
  std::string method;  // "GET", "PUT", ...
  std::string path;    // "/bucket/some key": raw bytes, '/'-separated, starting with '/'
  QueryList query;     // in any order; a parameter without value ("?uploads") has ""
  HeaderList headers;  // must contain "host"; any case; every header given is signed
  std::string payload_sha256 = std::string(kEmptyPayloadSha256);  // hex, or kUnsignedPayload
};

struct SignOptions {
  // Adds and signs x-amz-content-sha256 (S3 requires it for header signing).
  bool add_content_sha256_header = true;
  // Signs x-amz-security-token. When false, the token is added only after signing (some STS
  // variants); S3 wants it signed.
  bool sign_session_token = true;
};

// Everything a signature consists of, with the intermediate texts for tests and debugging (none
// of them contains the secret key).
struct Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // hex
  std::string signed_headers;  // "host;x-amz-date"
  // Header signing: headers to add to the request (x-amz-date, x-amz-content-sha256,
  // x-amz-security-token as applicable, then authorization), in that order.
  HeaderList headers_to_add;
  // Query signing: parameters to add to the URL (X-Amz-*, X-Amz-Signature last), raw values.
  QueryList query_to_add;
};

// URI-encodes per SigV4: unreserved characters (A-Z a-z 0-9 - . _ ~) stay, every other byte
// becomes %XX (upper-case hex); '/' stays only when `keep_slash`.
std::string UriEncode(std::string_view text, bool keep_slash);

// Percent-decodes "%XX" sequences (a '%' not followed by two hex digits stays as it is); '+'
// stays '+'. Used to read test data and URLs, never on what S3 sends in XML.
std::string UriDecode(std::string_view text);

// "20150830T123600Z" and "20150830".
std::string AmzDate(std::chrono::sys_seconds time);
std::string AmzDay(std::chrono::sys_seconds time);

// The canonical query string: each name and value encoded, sorted by encoded name then value,
// joined as "a=1&b=&c=3".
std::string CanonicalQueryString(const QueryList& query);

// HMAC chain "AWS4" + secret -> date -> region -> service -> "aws4_request".
io::Digest SigningKey(std::string_view secret_key, const SigningScope& scope);

// Signs with an Authorization header.
Signature SignHeaders(const SignableRequest& request, const Credentials& credentials,
                      const SigningScope& scope, const SignOptions& options = {});

// Signs with query parameters (a presigned URL valid for `expires`). The payload hash is taken
// from the request as given (S3 presigned URLs use kUnsignedPayload).
Signature SignQuery(const SignableRequest& request, const Credentials& credentials,
                    const SigningScope& scope, std::chrono::seconds expires,
                    const SignOptions& options = {});

}  // namespace drctl::storage::s3
