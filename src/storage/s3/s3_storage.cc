#include "storage/s3/s3_storage.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <deque>
#include <future>
#include <system_error>

#include "common/markup.h"
#include "common/secret.h"
#include "storage/curl_library.h"
#include "storage/s3/list_xml.h"

namespace drctl::storage::s3 {
namespace {

constexpr std::string_view kOctetStream = "application/octet-stream";

std::string ContentMd5(std::string_view data) { return io::Base64(io::Md5(data)); }

std::string_view StripSlashes(std::string_view text) {
  while (text.starts_with('/')) text.remove_prefix(1);
  while (text.ends_with('/')) text.remove_suffix(1);
  return text;
}

struct Endpoint {
  std::string scheme;
  std::string authority;
};

Result<Endpoint> ParseEndpoint(std::string_view endpoint) {
  Endpoint out;
  for (std::string_view scheme : {"https", "http"}) {
    if (endpoint.starts_with(std::string(scheme) + "://")) {
      out.scheme = scheme;
      endpoint.remove_prefix(scheme.size() + 3);
      break;
    }
  }
  if (endpoint.ends_with('/')) endpoint.remove_suffix(1);
  if (out.scheme.empty() || endpoint.empty() ||
      endpoint.find_first_of("/?#@ ") != std::string_view::npos) {
    return Fail(ErrorCode::kConfig, "S3 endpoint \"" + std::string(endpoint) + "\" is not valid",
                "write http(s)://host[:port], without a path");
  }
  out.authority = endpoint;
  return out;
}

Status ValidateOptions(const S3Options& o) {
  auto bad = [](const std::string& what, const std::string& hint) {
    return Fail(ErrorCode::kConfig, what, hint);
  };
  if (o.bucket.empty() || o.bucket.find('/') != std::string::npos) {
    return bad("S3 bucket name \"" + o.bucket + "\" is not valid", "write s3://bucket/prefix");
  }
  if (o.region.empty()) return bad("S3 region is empty", "set the repository's region");
  if (o.access_key.empty()) return bad("S3 access key is empty", "set " + o.credentials_source);
  if (o.secret_key.empty()) return bad("S3 secret key is empty", "set " + o.credentials_source);
  if (o.part_size < kMinPartSize) {
    return bad("S3 part size " + std::to_string(o.part_size) + " is below 5 MiB",
               "S3 refuses multipart parts smaller than 5 MiB");
  }
  if (o.parallel_parts < 1 || o.parallel_parts > 64) {
    return bad("S3 parallel parts " + std::to_string(o.parallel_parts) + " is not in 1..64", "");
  }
  if (o.max_retries < 0 || o.max_retries > 30) {
    return bad("S3 max retries " + std::to_string(o.max_retries) + " is not in 0..30", "");
  }
  if (o.read_chunk_size == 0) return bad("S3 read chunk size is 0", "");
  const std::string_view prefix = StripSlashes(o.prefix);
  if (!prefix.empty() && !ValidateKey(prefix)) {
    return bad("S3 prefix \"" + o.prefix + "\" is not valid",
               "use '/'-separated names without empty, '.' or '..' parts");
  }
  return Ok();
}

// Streams an object by ranged GETs of read_chunk_size: memory stays bounded whatever the size.
class S3ObjectReader : public ObjectReader {
 public:
  S3ObjectReader(S3Storage* storage, std::string key, std::uint64_t size)
      : storage_(storage), key_(std::move(key)), size_(size) {}

  Result<std::size_t> Read(std::string& out, std::size_t max) override {
    if (pos_ == buffer_.size()) {
      if (offset_ == size_) return 0;
      const std::uint64_t length = std::min(storage_->options().read_chunk_size, size_ - offset_);
      auto chunk = storage_->Read(key_, ByteRange{offset_, length});
      if (!chunk) return std::unexpected(chunk.error());
      buffer_ = std::move(*chunk);
      pos_ = 0;
      offset_ += length;
    }
    const std::size_t n = std::min(max, buffer_.size() - pos_);
    out.append(buffer_, pos_, n);
    pos_ += n;
    return n;
  }

 private:
  S3Storage* storage_;
  std::string key_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;  // of the end of buffer_ in the object
  std::string buffer_;
  std::size_t pos_ = 0;
};

}  // namespace

// Buffers up to one part; the first part past that starts a multipart upload whose parts go up
// in parallel (at most parallel_parts in flight, so memory stays bounded). An object that fits in
// one part is a single PUT on Commit.
class S3ObjectWriter : public ObjectWriter {
 public:
  S3ObjectWriter(S3Storage* storage, std::string key, const WriteOptions& options)
      : storage_(storage),
        key_(std::move(key)),
        object_(storage->FullKey(key_)),
        what_(storage->What(key_)),
        options_(options) {}

  ~S3ObjectWriter() override {
    if (!done_) Abort();
  }
  S3ObjectWriter(const S3ObjectWriter&) = delete;
  S3ObjectWriter& operator=(const S3ObjectWriter&) = delete;

  Status Write(std::string_view data) override {
    DRCTL_TRY(Usable());
    const std::uint64_t part_size = storage_->options().part_size;
    while (!data.empty()) {
      if (buffer_.size() == part_size) {
        if (auto flushed = FlushPart(); !flushed) return Failed(flushed.error());
      }
      const std::size_t take = std::min<std::size_t>(data.size(), part_size - buffer_.size());
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
    }
    return Ok();
  }

  Status Commit() override {
    DRCTL_TRY(Usable());
    auto done = upload_id_.empty() ? CommitSingle() : CommitMultipart();
    if (!done) return Failed(done.error());
    done_ = true;
    return Ok();
  }

 private:
  Status Usable() const {
    if (error_) return std::unexpected(*error_);
    if (done_) return Fail(ErrorCode::kInternal, what_ + ": write after Commit");
    return Ok();
  }

  Status CommitSingle() {
    if (options_.if_absent) DRCTL_TRY(storage_->CheckAbsent(key_));
    DRCTL_TRY(storage_->PutObject(object_, buffer_, what_));
    buffer_ = std::string();
    return Ok();
  }

  Status CommitMultipart() {
    DRCTL_TRY(FlushPart());
    while (!in_flight_.empty()) DRCTL_TRY(CollectOldest());
    if (options_.if_absent) DRCTL_TRY(storage_->CheckAbsent(key_));
    DRCTL_TRY(storage_->CompleteUpload(object_, upload_id_, etags_, what_));
    upload_id_.clear();
    return Ok();
  }

  Status FlushPart() {
    if (upload_id_.empty()) {
      auto id = storage_->InitiateUpload(object_, what_);
      if (!id) return std::unexpected(id.error());
      upload_id_ = std::move(*id);
    }
    if (parts_started_ == kMaxParts) {
      return Fail(ErrorCode::kUnsupported,
                  what_ + ": object needs more than " + std::to_string(kMaxParts) + " parts",
                  "raise the S3 part size");
    }
    while (in_flight_.size() >= static_cast<std::size_t>(storage_->options().parallel_parts)) {
      DRCTL_TRY(CollectOldest());
    }
    const int part = ++parts_started_;
    try {
      in_flight_.push_back(std::async(
          std::launch::async,
          [storage = storage_, object = object_, id = upload_id_, part, data = std::move(buffer_),
           what = what_] { return storage->UploadPart(object, id, part, data, what); }));
    } catch (const std::system_error& e) {
      return Fail(ErrorCode::kInternal, what_ + ": cannot start an upload thread: " + e.what());
    }
    buffer_ = std::string();
    return Ok();
  }

  // Parts are collected in the order they started, so etags_ is in part order.
  Status CollectOldest() {
    auto etag = in_flight_.front().get();
    in_flight_.pop_front();
    if (!etag) return std::unexpected(etag.error());
    etags_.push_back(std::move(*etag));
    return Ok();
  }

  std::unexpected<Error> Failed(Error error) {
    error_ = error;
    Abort();
    return std::unexpected(std::move(error));
  }

  // Waits for the parts in flight, then aborts the upload so that no part is left stored.
  void Abort() {
    for (auto& part : in_flight_) static_cast<void>(part.get());
    in_flight_.clear();
    buffer_ = std::string();
    if (!upload_id_.empty()) {
      if (auto aborted = storage_->AbortUpload(object_, upload_id_, what_); !aborted) {
        spdlog::warn("{}: abandoned multipart upload not aborted: {}", what_,
                     aborted.error().ToString());
      }
      upload_id_.clear();
    }
    done_ = true;
  }

  S3Storage* storage_;
  std::string key_;
  std::string object_;
  std::string what_;
  WriteOptions options_;
  std::string buffer_;
  std::string upload_id_;
  int parts_started_ = 0;
  std::deque<std::future<Result<std::string>>> in_flight_;
  std::vector<std::string> etags_;
  std::optional<Error> error_;
  bool done_ = false;  // committed, or abandoned
};

Result<std::unique_ptr<Storage>> OpenS3Storage(S3Options options) {
  auto storage = S3Storage::Open(std::move(options));
  if (!storage) return std::unexpected(storage.error());
  return std::unique_ptr<Storage>(std::move(*storage));
}

Result<S3Options> S3OptionsFromRepo(const RepoConfig& repo) {
  const std::string context = "repo '" + repo.name + "'";
  if (!repo.is_s3()) {
    return Fail(ErrorCode::kConfig, context + ": url \"" + repo.url + "\" is not an s3:// url");
  }
  S3Options o;
  const std::string_view rest = std::string_view(repo.url).substr(5);
  const auto slash = rest.find('/');
  o.bucket = rest.substr(0, slash);
  if (slash != std::string_view::npos) o.prefix = StripSlashes(rest.substr(slash + 1));
  o.endpoint = repo.endpoint;
  o.region = repo.region;
  o.path_style = repo.path_style;
  o.ca_file = repo.ca_file;
  o.credentials_source =
      repo.access_key_id.Describe() + " and " + repo.secret_access_key.Describe();
  auto access = ResolveSecret(repo.access_key_id);
  if (!access) return std::unexpected(access.error().WithContext(context));
  auto secret = ResolveSecret(repo.secret_access_key);
  if (!secret) return std::unexpected(secret.error().WithContext(context));
  o.access_key = std::move(*access);
  o.secret_key = std::move(*secret);
  // The default (an environment variable) is optional: unset means no session token. A file
  // or a command the config names must work.
  const SecretRef& token_ref = repo.session_token;
  const char* token_env =
      token_ref.kind == SecretKind::kEnv ? std::getenv(token_ref.source.c_str()) : nullptr;
  if (token_ref.kind != SecretKind::kEnv || (token_env != nullptr && *token_env != '\0')) {
    auto token = ResolveSecret(token_ref);
    if (!token) return std::unexpected(token.error().WithContext(context));
    o.session_token = std::move(*token);
    o.credentials_source += " (and the session token from " + token_ref.Describe() + ")";
  }
  DRCTL_TRY(ValidateOptions(o));
  return o;
}

Result<std::unique_ptr<S3Storage>> S3Storage::Open(S3Options options) {
  if (options.endpoint.empty())
    options.endpoint = "https://s3." + options.region + ".amazonaws.com";
  DRCTL_TRY(ValidateOptions(options));
  auto endpoint = ParseEndpoint(options.endpoint);
  if (!endpoint) return std::unexpected(endpoint.error());
  // The first S3 storage of the process loads libcurl (HttpClient needs it).
  if (auto curl = LoadCurl(); !curl) {
    const std::string_view prefix = StripSlashes(options.prefix);
    return std::unexpected(curl.error().WithContext(
        "s3://" + options.bucket + (prefix.empty() ? "" : "/" + std::string(prefix))));
  }
  S3ClientConfig client{
      .scheme = std::move(endpoint->scheme),
      .authority = std::move(endpoint->authority),
      .bucket = options.bucket,
      .region = options.region,
      .path_style = options.path_style,
      .credentials = {options.access_key, options.secret_key, options.session_token},
      .credentials_source = options.credentials_source,
      .ca_file = options.ca_file,
      .timeouts = options.timeouts,
      .max_retries = options.max_retries,
      .retry_base_delay = options.retry_base_delay,
      .retry_max_delay = options.retry_max_delay,
  };
  return std::unique_ptr<S3Storage>(new S3Storage(std::move(options), std::move(client)));
}

S3Storage::S3Storage(S3Options options, S3ClientConfig client)
    : options_(std::move(options)),
      prefix_(StripSlashes(options_.prefix).empty()
                  ? std::string()
                  : std::string(StripSlashes(options_.prefix)) + "/"),
      client_(std::move(client)) {}

std::string S3Storage::Describe() const {
  return "s3://" + options_.bucket +
         (prefix_.empty() ? "" : "/" + prefix_.substr(0, prefix_.size() - 1));
}

std::string S3Storage::FullKey(std::string_view key) const { return prefix_ + std::string(key); }

std::string S3Storage::What(std::string_view key) const {
  return Describe() + "/" + std::string(key);
}

Result<ObjectInfo> S3Storage::Stat(std::string_view key) {
  DRCTL_TRY(ValidateKey(key));
  auto response =
      client_.Expect({.method = "HEAD", .object = FullKey(key), .what = What(key)}, {200});
  if (!response) return std::unexpected(response.error());
  ObjectInfo info{.key = std::string(key)};
  const std::string* length = response->Header("content-length");
  if (length == nullptr || length->empty() ||
      length->find_first_not_of("0123456789") != std::string::npos) {
    return Fail(ErrorCode::kCorrupt, What(key) + ": HEAD answered without a valid Content-Length");
  }
  const auto [end, ec] =
      std::from_chars(length->data(), length->data() + length->size(), info.size);
  if (ec != std::errc() || end != length->data() + length->size()) {
    return Fail(ErrorCode::kCorrupt, What(key) + ": HEAD answered a Content-Length out of range");
  }
  if (const std::string* modified = response->Header("last-modified")) {
    auto mtime = ParseHttpDate(*modified);
    if (!mtime) return std::unexpected(mtime.error().WithContext(What(key)));
    info.mtime = *mtime;
  }
  return info;
}

Status S3Storage::List(std::string_view prefix,
                       const std::function<Status(const ObjectInfo&)>& visit) {
  const std::string full_prefix = prefix_ + std::string(prefix);
  const std::string what =
      Describe() + (prefix.empty() ? "" : " (prefix \"" + std::string(prefix) + "\")");
  std::string token;
  std::string last;
  for (;;) {
    S3Request request{.method = "GET",
                      .query = {{"list-type", "2"}, {"max-keys", "1000"}, {"prefix", full_prefix}},
                      .what = what};
    if (!token.empty()) request.query.emplace_back("continuation-token", token);
    auto response = client_.Expect(request, {200});
    if (!response) return std::unexpected(response.error());
    auto page = ParseListObjectsV2(response->body);
    if (!page) return std::unexpected(page.error().WithContext(what));
    for (auto& object : page->objects) {
      if (!object.key.starts_with(full_prefix) || (!last.empty() && object.key <= last)) {
        return Fail(ErrorCode::kCorrupt,
                    what + ": listing returned \"" + object.key + "\" out of order or prefix",
                    "the server does not list as S3 does");
      }
      last = object.key;
      object.key.erase(0, prefix_.size());
      DRCTL_TRY(visit(object));
    }
    if (!page->truncated) return Ok();
    if (page->next_continuation_token == token) {
      return Fail(ErrorCode::kCorrupt, what + ": listing repeats its continuation token",
                  "the server does not list as S3 does");
    }
    token = std::move(page->next_continuation_token);
  }
}

Result<std::string> S3Storage::Read(std::string_view key, std::optional<ByteRange> range) {
  DRCTL_TRY(ValidateKey(key));
  S3Request request{.method = "GET", .object = FullKey(key), .what = What(key)};
  if (range) {
    if (range->length == 0) return Fail(ErrorCode::kInternal, What(key) + ": empty range read");
    request.headers.emplace_back("range", "bytes=" + std::to_string(range->offset) + "-" +
                                              std::to_string(range->offset + range->length - 1));
  }
  auto response = client_.Expect(request, {200, 206});
  if (!response) return std::unexpected(response.error());
  if (!range) return std::move(response->body);
  std::string& body = response->body;
  if (response->status == 200 && body.size() >= range->offset + range->length) {
    return body.substr(range->offset, range->length);  // the server ignored the range
  }
  if (response->status != 206 || body.size() != range->length) {
    return Fail(ErrorCode::kCorrupt,
                What(key) + ": range " + std::to_string(range->offset) + "+" +
                    std::to_string(range->length) + " reaches past the end of the object (" +
                    std::to_string(body.size()) + " bytes returned)",
                "the caller's index and the object disagree: run drctl verify");
  }
  return std::move(body);
}

Result<std::unique_ptr<ObjectReader>> S3Storage::OpenRead(std::string_view key) {
  auto info = Stat(key);
  if (!info) return std::unexpected(info.error());
  return std::make_unique<S3ObjectReader>(this, std::string(key), info->size);
}

Status S3Storage::Write(std::string_view key, std::string_view data, const WriteOptions& options) {
  DRCTL_TRY(ValidateKey(key));
  if (data.size() > options_.multipart_threshold) {
    S3ObjectWriter writer(this, std::string(key), options);
    DRCTL_TRY(writer.Write(data));
    return writer.Commit();
  }
  if (options.if_absent) DRCTL_TRY(CheckAbsent(key));
  return PutObject(FullKey(key), data, What(key));
}

Result<std::unique_ptr<ObjectWriter>> S3Storage::OpenWrite(std::string_view key,
                                                           const WriteOptions& options) {
  DRCTL_TRY(ValidateKey(key));
  return std::make_unique<S3ObjectWriter>(this, std::string(key), options);
}

Status S3Storage::Delete(std::string_view key) {
  DRCTL_TRY(ValidateKey(key));
  S3Request request{.method = "DELETE", .object = FullKey(key), .what = What(key)};
  auto response = client_.Send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status == 200 || response->status == 204 || response->status == 404) return Ok();
  return std::unexpected(client_.ErrorFor(request, *response));
}

Status S3Storage::DeleteMany(std::span<const std::string> keys) {
  for (const auto& key : keys) DRCTL_TRY(ValidateKey(key));
  while (!keys.empty()) {
    const std::size_t n = std::min(keys.size(), kDeleteBatch);
    DRCTL_TRY(DeleteBatch(keys.first(n)));
    keys = keys.subspan(n);
  }
  return Ok();
}

Status S3Storage::DeleteBatch(std::span<const std::string> keys) {
  std::string body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Delete><Quiet>true</Quiet>";
  for (const auto& key : keys)
    body += "<Object><Key>" + EscapeMarkup(FullKey(key)) + "</Key></Object>";
  body += "</Delete>";
  const std::string what = Describe();
  auto response = client_.Expect(
      {.method = "POST",
       .query = {{"delete", ""}},
       .headers = {{"content-md5", ContentMd5(body)}, {"content-type", "application/xml"}},
       .body = body,
       .what = what},
      {200});
  if (!response) return std::unexpected(response.error());
  auto failures = ParseDeleteResult(response->body);
  if (!failures) return std::unexpected(failures.error().WithContext(what));
  std::erase_if(*failures, [](const DeleteFailure& f) { return f.code == "NoSuchKey"; });
  if (failures->empty()) return Ok();
  const DeleteFailure& first = failures->front();
  return Fail(IsAuthCode(first.code) ? ErrorCode::kAuth : ErrorCode::kUnavailable,
              what + ": DeleteObjects failed for " + std::to_string(failures->size()) + " of " +
                  std::to_string(keys.size()) + " keys, first \"" + first.key +
                  "\": " + first.code + (first.message.empty() ? "" : ": " + first.message),
              IsAuthCode(first.code) ? "check " + options_.credentials_source
                                     : "retry; the objects not deleted are still there");
}

Status S3Storage::CreateBucket() {
  std::string body;
  if (options_.region != "us-east-1") {
    body = "<CreateBucketConfiguration><LocationConstraint>" + EscapeMarkup(options_.region) +
           "</LocationConstraint></CreateBucketConfiguration>";
  }
  S3Request request{.method = "PUT", .body = body, .what = "s3://" + options_.bucket};
  auto response = client_.Send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status == 200) return Ok();
  if (response->status == 409 && ErrorBodyOf(*response).code == "BucketAlreadyOwnedByYou")
    return Ok();
  return std::unexpected(client_.ErrorFor(request, *response));
}

Status S3Storage::PutObject(const std::string& object, std::string_view data,
                            const std::string& what) {
  auto response = client_.Expect(
      {.method = "PUT",
       .object = object,
       .headers = {{"content-md5", ContentMd5(data)}, {"content-type", std::string(kOctetStream)}},
       .body = data,
       .what = what},
      {200});
  if (!response) return std::unexpected(response.error());
  return Ok();
}

Status S3Storage::CheckAbsent(std::string_view key) {
  auto info = Stat(key);
  if (info) {
    return Fail(ErrorCode::kConflict, What(key) + " exists already",
                "repository objects are written once: this is a bug or a concurrent writer");
  }
  if (info.error().code() == ErrorCode::kNotFound) return Ok();
  return std::unexpected(info.error());
}

Result<std::string> S3Storage::InitiateUpload(const std::string& object, const std::string& what) {
  auto response = client_.Expect({.method = "POST",
                                  .object = object,
                                  .query = {{"uploads", ""}},
                                  .headers = {{"content-type", std::string(kOctetStream)}},
                                  .what = what},
                                 {200});
  if (!response) return std::unexpected(response.error());
  auto id = ParseInitiateMultipartUpload(response->body);
  if (!id) return std::unexpected(id.error().WithContext(what));
  return id;
}

Result<std::string> S3Storage::UploadPart(const std::string& object, const std::string& upload_id,
                                          int part, std::string_view data,
                                          const std::string& what) {
  auto response =
      client_.Expect({.method = "PUT",
                      .object = object,
                      .query = {{"partNumber", std::to_string(part)}, {"uploadId", upload_id}},
                      .headers = {{"content-md5", ContentMd5(data)}},
                      .body = data,
                      .what = what + " (part " + std::to_string(part) + ")"},
                     {200});
  if (!response) return std::unexpected(response.error());
  const std::string* etag = response->Header("etag");
  if (etag == nullptr || etag->empty()) {
    return Fail(ErrorCode::kCorrupt, what + ": part " + std::to_string(part) + " has no ETag",
                "the server does not implement multipart uploads as S3 does");
  }
  return *etag;
}

Status S3Storage::CompleteUpload(const std::string& object, const std::string& upload_id,
                                 const std::vector<std::string>& etags, const std::string& what) {
  std::string body = "<CompleteMultipartUpload>";
  for (std::size_t i = 0; i < etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
            EscapeMarkup(etags[i]) + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  S3Request request{.method = "POST",
                    .object = object,
                    .query = {{"uploadId", upload_id}},
                    .headers = {{"content-type", "application/xml"}},
                    .body = body,
                    .what = what};
  auto response = client_.Expect(request, {200});
  if (!response) return std::unexpected(response.error());
  auto result = ParseCompleteMultipartUpload(response->body);
  if (!result) return std::unexpected(result.error().WithContext(what));
  if (const std::optional<S3ErrorBody>& embedded = *result; embedded.has_value()) {
    // S3 may answer 200 and fail.
    HttpResponse failed{.status = IsTransient(0, embedded->code) ? 503 : 400,
                        .body = response->body};
    return std::unexpected(client_.ErrorFor(request, failed));
  }
  return Ok();
}

Status S3Storage::AbortUpload(const std::string& object, const std::string& upload_id,
                              const std::string& what) {
  S3Request request{
      .method = "DELETE", .object = object, .query = {{"uploadId", upload_id}}, .what = what};
  auto response = client_.Send(request);
  if (!response) return std::unexpected(response.error());
  if (response->status == 204 || response->status == 200 || response->status == 404) return Ok();
  return std::unexpected(client_.ErrorFor(request, *response));
}

}  // namespace drctl::storage::s3
