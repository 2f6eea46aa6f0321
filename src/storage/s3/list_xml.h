// Parsers of what an S3 server sends back: the XML bodies drctl reads (ListObjectsV2 pages, error
// bodies, InitiateMultipartUpload, CompleteMultipartUpload, DeleteObjects results) and the two
// date formats (ISO 8601 in XML, IMF-fixdate in Last-Modified headers).
//
// The XML reader is small and strict: elements, attributes (read and ignored), text with the five
// predefined entities and numeric character references, CDATA, comments and processing
// instructions. DOCTYPE declarations (and so custom entities) are refused, as are nesting deeper
// than kMaxXmlDepth, mismatched tags and anything after the root element but whitespace, comments
// and processing instructions. Every refusal is kCorrupt naming what was malformed and where.
// Bytes are taken as they come (UTF-8 is not validated; keys are compared as bytes).
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "storage/storage.h"

namespace drctl::storage::s3 {

inline constexpr int kMaxXmlDepth = 32;

struct XmlElement {
  std::string name;  // as written, with any namespace prefix
  std::string text;  // the element's own character data, entities decoded, not trimmed
  std::vector<XmlElement> children;

  // The first child named `child_name`, or null.
  const XmlElement* Child(std::string_view child_name) const;
};

// Parses a whole document into its root element. `what` names the document in errors
// ("ListObjectsV2 response").
Result<XmlElement> ParseXml(std::string_view document, std::string_view what);

// One page of a ListObjectsV2 answer. Keys are full object keys (with the repository prefix).
struct ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;  // non-empty when truncated
};
Result<ListPage> ParseListObjectsV2(std::string_view body);

// The <Error> body of a failed request.
struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;  // may be empty
};
Result<S3ErrorBody> ParseErrorBody(std::string_view body);

// The UploadId of an InitiateMultipartUploadResult (never empty).
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// CompleteMultipartUpload answers 200 and may still have failed: nullopt for a
// CompleteMultipartUploadResult, the error for an <Error> body.
Result<std::optional<S3ErrorBody>> ParseCompleteMultipartUpload(std::string_view body);

// The <Error> entries of a DeleteResult (empty when every key was deleted).
struct DeleteFailure {
  std::string key;
  std::string code;
  std::string message;
};
Result<std::vector<DeleteFailure>> ParseDeleteResult(std::string_view body);

// "2009-10-12T17:50:30.000Z" (fraction optional, 'Z' required) -> seconds since the epoch.
Result<std::int64_t> ParseIso8601(std::string_view text);

// "Wed, 12 Oct 2009 17:50:00 GMT" (RFC 9110 IMF-fixdate) -> seconds since the epoch.
Result<std::int64_t> ParseHttpDate(std::string_view text);

}  // namespace drctl::storage::s3
