// Storage on an S3-compatible object store (AWS S3, OpenStack Swift's s3api, ...), through drctl's
// own client: SigV4 (sigv4.h) over libcurl (http.h). doc/storage-s3.md describes the behaviour
// (addressing, retries, multipart, error mapping, Swift caveats).
//
// Objects live under "<prefix>/<key>" in one bucket. Whole writes are one PUT with Content-MD5
// (the server rejects a body that does not match); larger writes and every OpenWrite past one
// part use a multipart upload whose parts go up in parallel, completed on Commit and aborted on
// failure or when the writer is destroyed uncommitted. Reads are GETs (ranged for ranges and for
// streaming), listings are ListObjectsV2 pages of 1000, DeleteMany is DeleteObjects in batches
// of 1000.
//
// Retries: transient failures (network errors, timeouts, 5xx, 429, SlowDown, RequestTimeout) are
// retried up to max_retries times with exponential backoff and full jitter, each attempt signed
// anew; what retrying cannot fix (4xx: credentials, missing objects) is returned at once.
// Errors: kAuth (403, bad signature or access key, clock skew: the hint names where the
// credentials come from), kNotFound (404), kUnavailable (still failing after the retries),
// kCorrupt (malformed answers, short reads, ranges past the end), kConflict (if_absent), kConfig
// (bad options, untrusted TLS certificate), kUnsupported (the server lacks an operation).
// Secrets never appear in messages or logs.
//
// Thread-safety: as Storage; S3Storage is safe to share between threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/config.h"
#include "storage/s3/http.h"
#include "storage/s3/sigv4.h"
#include "storage/storage.h"

namespace drctl::storage::s3 {

inline constexpr std::uint64_t kMiB = 1024 * 1024;
inline constexpr std::uint64_t kMinPartSize = 5 * kMiB;  // S3's minimum for all but the last part
inline constexpr int kMaxParts = 10000;                  // S3's maximum parts per upload
inline constexpr std::size_t kDeleteBatch = 1000;        // S3's maximum keys per DeleteObjects

struct S3Options {
  std::string endpoint;  // "https://host[:port]"; empty: https://s3.<region>.amazonaws.com
  std::string bucket;
  std::string prefix;  // "" or "a/b" (leading and trailing '/' are ignored)
  std::string region = "us-east-1";
  bool path_style = false;  // host/bucket/key instead of bucket.host/key
  std::string ca_file;      // PEM bundle to verify the endpoint with; "": the system's

  // Secrets: never logged or put in messages.
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // optional
  // Where the credentials came from, for the hint of kAuth errors (never the values).
  std::string credentials_source = "the access key and secret key given to drctl";

  HttpTimeouts timeouts;
  int max_retries = 5;                              // attempts = 1 + max_retries
  std::chrono::milliseconds retry_base_delay{200};  // doubles per retry, full jitter
  std::chrono::milliseconds retry_max_delay{10000};

  std::uint64_t multipart_threshold = 64 * kMiB;  // Write() of more bytes goes multipart
  std::uint64_t part_size = 16 * kMiB;            // >= kMinPartSize; also OpenWrite's buffer
  int parallel_parts = 4;                         // parts in flight per writer
  std::uint64_t read_chunk_size = 8 * kMiB;       // bytes per ranged GET when streaming a read
};

// Validates the options (kConfig naming the option) and returns the storage. Makes no request.
Result<std::unique_ptr<Storage>> OpenS3Storage(S3Options options);

// Options for a repository's [[repo]] entry: bucket and prefix from its url (s3://bucket/prefix),
// endpoint, region, path_style and ca_file as configured, credentials from the environment
// variables it names. An unset access key or secret variable is kConfig naming the variable; the
// session token variable may be unset.
Result<S3Options> S3OptionsFromRepo(const RepoConfig& repo);

class S3ObjectWriter;

class S3Storage : public Storage {
 public:
  // As OpenS3Storage, typed (tests and tools use CreateBucket and requests_sent).
  static Result<std::unique_ptr<S3Storage>> Open(S3Options options);

  std::string Describe() const override;
  std::uint32_t Features() const override { return kFeatureRangeRead; }
  Result<ObjectInfo> Stat(std::string_view key) override;
  Status List(std::string_view prefix,
              const std::function<Status(const ObjectInfo&)>& visit) override;
  // Defaults as in Storage, so that calls through S3Storage read the same.
  Result<std::string> Read(std::string_view key,
                           std::optional<ByteRange> range = std::nullopt) override;
  Result<std::unique_ptr<ObjectReader>> OpenRead(std::string_view key) override;
  Status Write(std::string_view key, std::string_view data,
               const WriteOptions& options = {}) override;
  Result<std::unique_ptr<ObjectWriter>> OpenWrite(std::string_view key,
                                                  const WriteOptions& options = {}) override;
  Status Delete(std::string_view key) override;
  Status DeleteMany(std::span<const std::string> keys) override;

  // Creates the bucket; a bucket this account owns already is fine.
  Status CreateBucket();

  // HTTP requests sent so far, retries included (tests check the retry policy with it).
  std::uint64_t requests_sent() const { return client_.requests_sent(); }

  const S3Options& options() const { return options_; }

 private:
  friend class S3ObjectWriter;

  S3Storage(S3Options options, S3ClientConfig client);

  std::string FullKey(std::string_view key) const;
  std::string What(std::string_view key) const;

  Status PutObject(const std::string& object, std::string_view data, const std::string& what);
  Status CheckAbsent(std::string_view key);
  Result<std::string> InitiateUpload(const std::string& object, const std::string& what);
  Result<std::string> UploadPart(const std::string& object, const std::string& upload_id, int part,
                                 std::string_view data, const std::string& what);
  Status CompleteUpload(const std::string& object, const std::string& upload_id,
                        const std::vector<std::string>& etags, const std::string& what);
  Status AbortUpload(const std::string& object, const std::string& upload_id,
                     const std::string& what);
  Status DeleteBatch(std::span<const std::string> keys);

  const S3Options options_;
  const std::string prefix_;  // "" or "a/b/" (with the trailing '/')
  S3Client client_;
};

}  // namespace drctl::storage::s3
