// The signer against an external oracle: the AWS SigV4 test suite (aws-c-auth's
// aws-signing-test-suite/v4, in ../shared/testdata/sigv4, or $DRCTL_SIGV4_TESTDATA) and the four
// signed examples of the S3 API reference. Every case that applies to S3 runs, with both header
// and query (presigned) signing, and must match canonical request, string to sign and signature
// byte for byte.
#include "storage/s3/sigv4.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace drctl::storage::s3 {
namespace {

namespace fs = std::filesystem;

// The cases with S3 semantics: every case except the seven "-normalized" ones, which normalize
// and double-encode the path as generic services do (S3 does neither).
const std::vector<std::string>& S3Cases() {
  static const std::vector<std::string> kCases = {
      "get-header-key-duplicate",
      "get-header-value-multiline",
      "get-header-value-order",
      "get-header-value-trim",
      "get-relative-relative-unnormalized",
      "get-relative-unnormalized",
      "get-slash-dot-slash-unnormalized",
      "get-slash-pointless-dot-unnormalized",
      "get-slash-unnormalized",
      "get-slashes-unnormalized",
      "get-space-unnormalized",
      "get-unreserved",
      "get-utf8",
      "get-vanilla",
      "get-vanilla-empty-query-key",
      "get-vanilla-query",
      "get-vanilla-query-order-encoded",
      "get-vanilla-query-order-key-case",
      "get-vanilla-query-unreserved",
      "get-vanilla-utf8-query",
      "get-vanilla-with-session-token",
      "post-header-key-case",
      "post-header-key-sort",
      "post-header-value-case",
      "post-sts-header-after",
      "post-sts-header-before",
      "post-vanilla",
      "post-vanilla-empty-query-value",
      "post-vanilla-query",
      "post-x-www-form-urlencoded",
      "post-x-www-form-urlencoded-parameters",
  };
  return kCases;
}

const std::set<std::string>& NormalizedCases() {
  static const std::set<std::string> kCases = {
      "get-relative-normalized",
      "get-relative-relative-normalized",
      "get-slash-dot-slash-normalized",
      "get-slash-normalized",
      "get-slash-pointless-dot-normalized",
      "get-slashes-normalized",
      "get-space-normalized",
  };
  return kCases;
}

// $DRCTL_SIGV4_TESTDATA, else ../shared/testdata/sigv4 beside the repository root (this file is
// src/storage/s3/sigv4_test.cc, three levels below the root).
fs::path TestDataDir() {
  if (const char* env = std::getenv("DRCTL_SIGV4_TESTDATA"); env != nullptr && *env != '\0') {
    return env;
  }
  const fs::path root =
      fs::absolute(fs::path(__FILE__)).parent_path().parent_path().parent_path().parent_path();
  return (root / ".." / "shared" / "testdata" / "sigv4").lexically_normal();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::chrono::sys_seconds ParseTimestamp(const std::string& text) {  // 2015-08-30T12:36:00Z
  using std::chrono::day;
  using std::chrono::month;
  using std::chrono::year;
  const auto num = [&](std::size_t pos, std::size_t len) {
    return std::stoi(text.substr(pos, len));
  };
  const std::chrono::sys_days days = year(num(0, 4)) / month(static_cast<unsigned>(num(5, 2))) /
                                     day(static_cast<unsigned>(num(8, 2)));
  return days + std::chrono::hours(num(11, 2)) + std::chrono::minutes(num(14, 2)) +
         std::chrono::seconds(num(17, 2));
}

struct Case {
  SignableRequest request;
  Credentials credentials;
  SigningScope scope;
  bool sign_body = false;
  bool omit_session_token = false;
  std::chrono::seconds expires{0};
};

// request.txt: "METHOD PATH[?QUERY] HTTP/1.1", header lines (a line starting with whitespace
// continues the previous value), an empty line, the body.
void ParseRequest(const std::string& text, SignableRequest& out, std::string& body) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const auto space = line.find(' ');
  out.method = line.substr(0, space);
  std::string target = line.substr(space + 1, line.rfind(" HTTP/") - space - 1);
  if (const auto q = target.find('?'); q != std::string::npos) {
    std::istringstream params(target.substr(q + 1));
    std::string param;
    while (std::getline(params, param, '&')) {
      const auto eq = param.find('=');
      out.query.emplace_back(UriDecode(param.substr(0, eq)),
                             eq == std::string::npos ? "" : UriDecode(param.substr(eq + 1)));
    }
    target.resize(q);
  }
  out.path = UriDecode(target);
  while (std::getline(in, line) && !line.empty()) {
    if (line.front() == ' ' || line.front() == '\t') {
      out.headers.back().second += "\n" + line;
    } else {
      const auto colon = line.find(':');
      out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
    }
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  body = rest.str();
}

Case LoadCase(const fs::path& dir) {
  Case c;
  const auto context = nlohmann::json::parse(ReadFile(dir / "context.json"));
  c.credentials.access_key = context["credentials"]["access_key_id"];
  c.credentials.secret_key = context["credentials"]["secret_access_key"];
  if (context["credentials"].contains("token")) {
    c.credentials.session_token = context["credentials"]["token"];
  }
  c.scope.region = context["region"];
  c.scope.service = context["service"];
  c.scope.time = ParseTimestamp(context["timestamp"]);
  c.sign_body = context["sign_body"];
  c.omit_session_token = context.value("omit_session_token", false);
  c.expires = std::chrono::seconds(context["expiration_in_seconds"].get<int>());
  std::string body;
  ParseRequest(ReadFile(dir / "request.txt"), c.request, body);
  c.request.payload_sha256 = io::ToHex(io::Sha256(body));
  return c;
}

class SigV4Suite : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = TestDataDir() / "v4" / GetParam();
    ASSERT_TRUE(fs::is_directory(dir_))
        << "SigV4 test data not found: looked for " << dir_
        << " (set DRCTL_SIGV4_TESTDATA to the sigv4 test-suite folder)";
  }
  std::string Expected(const std::string& name) { return ReadFile(dir_ / name); }
  fs::path dir_;
};

TEST_P(SigV4Suite, HeaderSigningMatches) {
  const Case c = LoadCase(dir_);
  SignOptions options;
  options.add_content_sha256_header = c.sign_body;
  options.sign_session_token = !c.omit_session_token;
  const Signature sig = SignHeaders(c.request, c.credentials, c.scope, options);
  EXPECT_EQ(sig.canonical_request, Expected("header-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, Expected("header-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, Expected("header-signature.txt"));
  ASSERT_FALSE(sig.headers_to_add.empty());
  EXPECT_EQ(sig.headers_to_add.back().first, "authorization");
  const std::string authorization = "\nAuthorization:" + sig.headers_to_add.back().second + "\n";
  EXPECT_NE(Expected("header-signed-request.txt").find(authorization), std::string::npos)
      << authorization;
}

TEST_P(SigV4Suite, QuerySigningMatches) {
  const Case c = LoadCase(dir_);
  SignOptions options;
  options.sign_session_token = !c.omit_session_token;
  const Signature sig = SignQuery(c.request, c.credentials, c.scope, c.expires, options);
  EXPECT_EQ(sig.canonical_request, Expected("query-canonical-request.txt"));
  EXPECT_EQ(sig.string_to_sign, Expected("query-string-to-sign.txt"));
  EXPECT_EQ(sig.signature, Expected("query-signature.txt"));
  ASSERT_FALSE(sig.query_to_add.empty());
  EXPECT_EQ(sig.query_to_add.back(), std::make_pair(std::string("X-Amz-Signature"), sig.signature));
  EXPECT_NE(Expected("query-signed-request.txt").find("X-Amz-Signature=" + sig.signature),
            std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(S3Cases, SigV4Suite, ::testing::ValuesIn(S3Cases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

// Every folder of the suite is either run above or one of the normalized cases S3 does not use,
// so a case added to the data cannot be silently ignored.
TEST(SigV4SuiteData, EveryCaseIsRunOrExplicitlyNotS3) {
  const fs::path v4 = TestDataDir() / "v4";
  ASSERT_TRUE(fs::is_directory(v4)) << "SigV4 test data not found: looked for " << v4
                                    << " (set DRCTL_SIGV4_TESTDATA to the sigv4 test-suite folder)";
  const std::set<std::string> s3(S3Cases().begin(), S3Cases().end());
  std::size_t found = 0;
  for (const auto& entry : fs::directory_iterator(v4)) {
    const std::string name = entry.path().filename().string();
    ++found;
    if (s3.contains(name)) continue;
    ASSERT_TRUE(NormalizedCases().contains(name)) << "unclassified SigV4 case " << name;
    const auto context = nlohmann::json::parse(ReadFile(entry.path() / "context.json"));
    EXPECT_TRUE(context["normalize"].get<bool>()) << name;
  }
  EXPECT_EQ(found, 38U);
  for (const auto& name : S3Cases()) {
    const auto context = nlohmann::json::parse(ReadFile(v4 / name / "context.json"));
    if (name.ends_with("-unnormalized")) {
      EXPECT_FALSE(context["normalize"].get<bool>()) << name;
    }
  }
}

// The examples of the S3 API reference ("Signature Calculations for the Authorization Header").
class S3ReferenceExample : public ::testing::Test {
 protected:
  S3ReferenceExample() {
    credentials_.access_key = "AKIAIOSFODNN7EXAMPLE";
    credentials_.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    scope_.region = "us-east-1";
    scope_.service = "s3";
    scope_.time = std::chrono::sys_days(std::chrono::year(2013) / 5 / 24);
  }
  Signature Sign(const SignableRequest& request) {
    return SignHeaders(request, credentials_, scope_);
  }
  Credentials credentials_;
  SigningScope scope_;
};

TEST_F(S3ReferenceExample, GetObjectWithRange) {
  SignableRequest r{
      .method = "GET",
      .path = "/test.txt",
      .headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}}};
  const Signature sig = Sign(r);
  EXPECT_EQ(sig.signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.headers_to_add.back().second,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_F(S3ReferenceExample, PutObject) {
  SignableRequest r{.method = "PUT",
                    .path = "/test$file.text",
                    .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                                {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                    .payload_sha256 = io::ToHex(io::Sha256("Welcome to Amazon S3."))};
  const Signature sig = Sign(r);
  EXPECT_EQ(sig.canonical_request.substr(0, sig.canonical_request.find('\n', 4)),
            "PUT\n/test%24file.text");
  EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_F(S3ReferenceExample, GetBucketLifecycle) {
  SignableRequest r{.method = "GET",
                    .path = "/",
                    .query = {{"lifecycle", ""}},
                    .headers = {{"Host", "examplebucket.s3.amazonaws.com"}}};
  const Signature sig = Sign(r);
  EXPECT_EQ(sig.canonical_request.substr(0, sig.canonical_request.find('\n', 6)),
            "GET\n/\nlifecycle=");
  EXPECT_EQ(sig.signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_F(S3ReferenceExample, ListObjects) {
  SignableRequest r{.method = "GET",
                    .path = "/",
                    .query = {{"prefix", "J"}, {"max-keys", "2"}},
                    .headers = {{"Host", "examplebucket.s3.amazonaws.com"}}};
  const Signature sig = Sign(r);
  EXPECT_EQ(sig.signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(UriEncode, EncodesEachPathSegmentOnceAndKeepsSlashes) {
  EXPECT_EQ(UriEncode("/bucket/dir/a:b=c+d \xc3\xbc.bin", true),
            "/bucket/dir/a%3Ab%3Dc%2Bd%20%C3%BC.bin");
  EXPECT_EQ(UriEncode("/a//b/./../c~-_.", true), "/a//b/./../c~-_.");
  EXPECT_EQ(UriEncode("a/b%", false), "a%2Fb%25");
}

TEST(UriDecode, DecodesPercentSequencesOnly) {
  EXPECT_EQ(UriDecode("%E1%88%B4=a+b%2f"), "\xe1\x88\xb4=a+b/");
  EXPECT_EQ(UriDecode("100%"), "100%");
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");
}

TEST(CanonicalQueryString, SortsByEncodedNameThenValue) {
  EXPECT_EQ(CanonicalQueryString({{"prefix", "a b"}, {"list-type", "2"}, {"a", "2"}, {"a", "1"}}),
            "a=1&a=2&list-type=2&prefix=a%20b");
  EXPECT_EQ(CanonicalQueryString({{"uploads", ""}}), "uploads=");
  EXPECT_EQ(CanonicalQueryString({}), "");
}

TEST(SignHeaders, SignsTheSessionTokenAndNeverShowsTheSecret) {
  SignableRequest r{.method = "GET", .path = "/b/k", .headers = {{"host", "127.0.0.1:8080"}}};
  const Credentials credentials{"AKID", "very-secret-key", "the-token"};
  const SigningScope scope{std::chrono::sys_days(std::chrono::year(2024) / 1 / 2), "eu-west-1"};
  const Signature sig = SignHeaders(r, credentials, scope);
  EXPECT_EQ(sig.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  ASSERT_EQ(sig.headers_to_add.size(), 4U);
  EXPECT_EQ(sig.headers_to_add[0],
            std::make_pair(std::string("x-amz-date"), std::string("20240102T000000Z")));
  EXPECT_EQ(sig.headers_to_add[2].second, "the-token");
  for (const auto& [name, value] : sig.headers_to_add) {
    EXPECT_EQ(value.find("very-secret-key"), std::string::npos) << name;
  }
  EXPECT_EQ(sig.canonical_request.find("very-secret-key"), std::string::npos);
  EXPECT_EQ(sig.string_to_sign.find("very-secret-key"), std::string::npos);
  EXPECT_TRUE(sig.headers_to_add[3].second.starts_with(
      "AWS4-HMAC-SHA256 Credential=AKID/20240102/eu-west-1/s3/aws4_request, "));
}

TEST(SignHeaders, DifferentSecretsGiveDifferentSignatures) {
  SignableRequest r{.method = "GET", .path = "/b/k", .headers = {{"host", "h"}}};
  const SigningScope scope{std::chrono::sys_days(std::chrono::year(2024) / 1 / 2), "us-east-1"};
  EXPECT_NE(SignHeaders(r, {"AKID", "one", ""}, scope).signature,
            SignHeaders(r, {"AKID", "two", ""}, scope).signature);
}

}  // namespace
}  // namespace drctl::storage::s3
