// S3Storage against a real, signature-verifying S3 peer: OpenStack Swift with s3api, started by
// the harness (path-style, region us-east-1). Objects must come back byte-identical (also through
// awscli, an independent client), listings must page, errors must map to their codes, and the
// retry policy is checked by counting requests (never by timing).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "common/temp_dir.h"
#include "harness/servers.h"
#include "storage/s3/s3_storage.h"
#include "storage/storage_contract.h"

namespace drctl::testing {
namespace {

using storage::StorageContract;

using storage::ByteRange;
using storage::ObjectInfo;
using storage::s3::kMiB;
using storage::s3::S3Options;
using storage::s3::S3Storage;

constexpr const char* kBucket = "drctl-s3";

std::string Bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xFFU);
  return out;
}

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

S3Options SwiftOptions(const SwiftServer& swift, const std::string& prefix) {
  S3Options o;
  o.endpoint = swift.endpoint();
  o.bucket = kBucket;
  o.prefix = prefix;
  o.region = SwiftServer::kRegion;
  o.path_style = true;
  o.access_key = SwiftServer::kAccessKey;
  o.secret_key = SwiftServer::kSecretKey;
  o.max_retries = 3;
  o.retry_base_delay = std::chrono::milliseconds(20);
  o.part_size = 5 * kMiB;
  o.multipart_threshold = 5 * kMiB;
  o.parallel_parts = 3;
  o.read_chunk_size = 3 * kMiB;
  return o;
}

Status WriteStreamed(storage::Storage& s, const std::string& key, std::string_view data,
                     std::size_t piece) {
  auto writer = s.OpenWrite(key, {});
  if (!writer) return std::unexpected(writer.error());
  for (std::size_t at = 0; at < data.size(); at += piece) {
    DRCTL_TRY((*writer)->Write(data.substr(at, piece)));
  }
  return (*writer)->Commit();
}

Result<std::string> ReadStreamed(storage::Storage& s, const std::string& key) {
  auto reader = s.OpenRead(key);
  if (!reader) return std::unexpected(reader.error());
  std::string out;
  for (;;) {
    auto n = (*reader)->Read(out, 1000003);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) return out;
  }
}

std::vector<ObjectInfo> ListAll(storage::Storage& s, std::string_view prefix = "") {
  std::vector<ObjectInfo> out;
  auto listed = s.List(prefix, [&](const ObjectInfo& info) -> Status {
    out.push_back(info);
    return Ok();
  });
  EXPECT_TRUE(listed.has_value()) << listed.error().ToString();
  return out;
}

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    swift_ = SharedSwift();
    ASSERT_NE(swift_, nullptr);
    prefix_ = std::string("t/") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto opened = S3Storage::Open(SwiftOptions(*swift_, prefix_));
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    s3_ = std::move(*opened);
    auto created = s3_->CreateBucket();
    ASSERT_TRUE(created.has_value()) << created.error().ToString();
    // A rerun against the same server starts from an empty prefix.
    std::vector<std::string> keys;
    for (const auto& info : ListAll(*s3_)) keys.push_back(info.key);
    ASSERT_TRUE(s3_->DeleteMany(keys).has_value());
    auto dir = TempDir::Create("drctl-s3-test-");
    ASSERT_TRUE(dir.has_value());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
  }

  Result<CommandResult> Aws(std::vector<std::string> args) {
    return RunAwsCli(swift_->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                     std::move(args));
  }

  std::string FullKey(const std::string& key) const { return prefix_ + "/" + key; }

  SwiftServer* swift_ = nullptr;
  std::string prefix_;
  std::unique_ptr<S3Storage> s3_;
  std::unique_ptr<TempDir> dir_;
};

TEST_F(S3StorageTest, KeysWithSpecialCharactersRoundTrip) {
  const std::vector<std::string> keys = {"dir/a:b=c+d \xc3\xbc.bin", "sp ace/x y", "p+q/r=s:t",
                                         "~tilde/%25percent", "\xc3\xbc/\xe2\x82\xac"};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto w = s3_->Write(keys[i], "content " + std::to_string(i), {});
    ASSERT_TRUE(w.has_value()) << keys[i] << ": " << w.error().ToString();
  }
  for (std::size_t i = 0; i < keys.size(); ++i) {
    auto r = s3_->Read(keys[i]);
    ASSERT_TRUE(r.has_value()) << keys[i] << ": " << r.error().ToString();
    EXPECT_EQ(*r, "content " + std::to_string(i));
    auto st = s3_->Stat(keys[i]);
    ASSERT_TRUE(st.has_value()) << st.error().ToString();
    EXPECT_EQ(st->key, keys[i]);
    EXPECT_EQ(st->size, ("content " + std::to_string(i)).size());
  }
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> listed;
  for (const auto& info : ListAll(*s3_)) listed.push_back(info.key);
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(s3_->Describe(), std::string("s3://drctl-s3/") + prefix_);
}

TEST_F(S3StorageTest, ObjectsFromZeroBytesToMultipartAreByteIdentical) {
  const std::vector<std::size_t> sizes = {0,        1, 1000, 5 * kMiB - 1, 5 * kMiB, 5 * kMiB + 1,
                                          12 * kMiB};
  for (const std::size_t size : sizes) {
    const std::string data = Bytes(size, static_cast<std::uint32_t>(size));
    const std::string whole = "whole/" + std::to_string(size);
    const std::string streamed = "streamed/" + std::to_string(size);
    auto w = s3_->Write(whole, data, {});
    ASSERT_TRUE(w.has_value()) << size << ": " << w.error().ToString();
    auto ws = WriteStreamed(*s3_, streamed, data, 100003);
    ASSERT_TRUE(ws.has_value()) << size << ": " << ws.error().ToString();
    for (const auto& key : {whole, streamed}) {
      auto r = s3_->Read(key);
      ASSERT_TRUE(r.has_value()) << key << ": " << r.error().ToString();
      EXPECT_TRUE(*r == data) << key << " differs";
      auto rs = ReadStreamed(*s3_, key);
      ASSERT_TRUE(rs.has_value()) << key << ": " << rs.error().ToString();
      EXPECT_TRUE(*rs == data) << key << " differs when streamed";
      auto st = s3_->Stat(key);
      ASSERT_TRUE(st.has_value());
      EXPECT_EQ(st->size, size) << key;
    }
  }
  // 12 MiB in 5 MiB parts is a three-part upload: S3 marks its ETag "-3".
  auto head = Aws({"s3api", "head-object", "--bucket", kBucket, "--key",
                   FullKey("streamed/" + std::to_string(12 * kMiB))});
  ASSERT_TRUE(head.has_value());
  ASSERT_EQ(head->exit_status, 0) << head->err;
  EXPECT_NE(nlohmann::json::parse(head->out)["ETag"].get<std::string>().find("-3\""),
            std::string::npos)
      << head->out;
}

TEST_F(S3StorageTest, RangeReadsReturnExactlyTheRange) {
  const std::string data = Bytes(1000, 7);
  ASSERT_TRUE(s3_->Write("ranged", data, {}).has_value());
  EXPECT_EQ(s3_->Read("ranged", ByteRange{0, 1}).value(), data.substr(0, 1));
  EXPECT_EQ(s3_->Read("ranged", ByteRange{10, 100}).value(), data.substr(10, 100));
  EXPECT_EQ(s3_->Read("ranged", ByteRange{999, 1}).value(), data.substr(999, 1));
  EXPECT_EQ(s3_->Read("ranged", ByteRange{0, 1000}).value(), data);

  auto past_end = s3_->Read("ranged", ByteRange{990, 20});
  ASSERT_FALSE(past_end.has_value());
  EXPECT_EQ(past_end.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(past_end.error().message().find("s3://drctl-s3/" + prefix_ + "/ranged"),
            std::string::npos)
      << past_end.error().message();
  auto beyond = s3_->Read("ranged", ByteRange{1000, 1});
  ASSERT_FALSE(beyond.has_value());
  EXPECT_EQ(beyond.error().code(), ErrorCode::kCorrupt) << beyond.error().ToString();
  auto absent = s3_->Read("absent", ByteRange{0, 1});
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code(), ErrorCode::kNotFound);
}

TEST_F(S3StorageTest, StatNotFoundDeleteAndIfAbsent) {
  auto absent = s3_->Stat("nothing/here");
  ASSERT_FALSE(absent.has_value());
  EXPECT_EQ(absent.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(absent.error().message().find("s3://drctl-s3/" + prefix_ + "/nothing/here"),
            std::string::npos)
      << absent.error().message();
  auto read_absent = s3_->Read("nothing/here");
  ASSERT_FALSE(read_absent.has_value());
  EXPECT_EQ(read_absent.error().code(), ErrorCode::kNotFound);
  auto open_absent = s3_->OpenRead("nothing/here");
  ASSERT_FALSE(open_absent.has_value());
  EXPECT_EQ(open_absent.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(s3_->Delete("nothing/here").has_value());

  ASSERT_TRUE(s3_->Write("once", "first", {.if_absent = true}).has_value());
  auto again = s3_->Write("once", "second", {.if_absent = true});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(s3_->Read("once").value(), "first");
  auto stat = s3_->Stat("once");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->size, 5U);
  const auto listed = ListAll(*s3_);
  ASSERT_EQ(listed.size(), 1U);
  EXPECT_EQ(listed[0].key, "once");
  EXPECT_EQ(listed[0].size, 5U);
  // HEAD rounds Last-Modified to whole seconds (up, on Swift); the listing may truncate.
  EXPECT_LE(std::abs(listed[0].mtime - stat->mtime), 1) << listed[0].mtime << " " << stat->mtime;

  ASSERT_TRUE(s3_->Delete("once").has_value());
  auto gone = s3_->Stat("once");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
}

// Writes `count` small objects "obj/NNNNN" from 8 threads.
void WriteMany(S3Storage& s3, int count, std::vector<std::string>& keys) {
  for (int i = 0; i < count; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "obj/%05d", i);
    keys.emplace_back(name);
  }
  std::atomic<std::size_t> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  threads.reserve(8);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (std::size_t i = next++; i < keys.size(); i = next++) {
        if (!s3.Write(keys[i], keys[i], {}).has_value()) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(S3StorageTest, ListingPagesPastAThousandKeysInOrder) {
  std::vector<std::string> keys;
  WriteMany(*s3_, 1005, keys);
  ASSERT_TRUE(s3_->Write("other", "x", {}).has_value());
  const auto before = s3_->requests_sent();
  std::vector<std::string> listed;
  for (const auto& info : ListAll(*s3_, "obj/")) {
    listed.push_back(info.key);
    EXPECT_EQ(info.size, info.key.size());
  }
  EXPECT_EQ(s3_->requests_sent() - before, 2U) << "two pages: 1000 keys, then 5";
  EXPECT_EQ(listed, keys);  // written in ascending order already
  EXPECT_EQ(ListAll(*s3_).size(), 1006U);

  // A visitor's error stops the listing and is returned as it is.
  int visited = 0;
  auto stopped = s3_->List("obj/", [&](const ObjectInfo&) -> Status {
    if (++visited == 3) return Fail(ErrorCode::kInterrupted, "stop");
    return Ok();
  });
  ASSERT_FALSE(stopped.has_value());
  EXPECT_EQ(stopped.error().code(), ErrorCode::kInterrupted);
  EXPECT_EQ(visited, 3);
}

TEST_F(S3StorageTest, DeleteManyRemovesMoreThanAThousandKeysInBatches) {
  std::vector<std::string> keys;
  WriteMany(*s3_, 1003, keys);
  ASSERT_TRUE(s3_->Write("kept", "x", {}).has_value());
  keys.emplace_back("never/written");  // absent keys are fine
  const auto before = s3_->requests_sent();
  auto deleted = s3_->DeleteMany(keys);
  ASSERT_TRUE(deleted.has_value()) << deleted.error().ToString();
  EXPECT_EQ(s3_->requests_sent() - before, 2U) << "batches of 1000 and 4";
  const auto left = ListAll(*s3_);
  ASSERT_EQ(left.size(), 1U);
  EXPECT_EQ(left[0].key, "kept");
}

TEST_F(S3StorageTest, WrongSecretIsAuthAtOnceAndNeverShowsTheSecret) {
  S3Options options = SwiftOptions(*swift_, prefix_);
  options.secret_key = "not-the-secret-at-all";
  options.credentials_source = "the environment variables TEST_KEY_ID and TEST_SECRET";
  auto opened = S3Storage::Open(options);
  ASSERT_TRUE(opened.has_value());
  S3Storage& bad = **opened;
  auto write = bad.Write("k", "v", {});
  ASSERT_FALSE(write.has_value());
  EXPECT_EQ(write.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(write.error().exit_code(), 7);
  EXPECT_EQ(bad.requests_sent(), 1U) << "an auth error must not be retried";
  EXPECT_NE(write.error().message().find("s3://drctl-s3/" + prefix_ + "/k"), std::string::npos)
      << write.error().message();
  EXPECT_NE(write.error().message().find("SignatureDoesNotMatch"), std::string::npos)
      << write.error().message();
  EXPECT_NE(write.error().hint().find("TEST_KEY_ID and TEST_SECRET"), std::string::npos)
      << write.error().hint();
  auto stat = bad.Stat("k");  // HEAD: no body, the status alone says 403
  ASSERT_FALSE(stat.has_value());
  EXPECT_EQ(stat.error().code(), ErrorCode::kAuth);
  auto list = bad.List("", [](const ObjectInfo&) { return Ok(); });
  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code(), ErrorCode::kAuth);
  EXPECT_EQ(bad.requests_sent(), 3U);
  for (const Error* e : {&write.error(), &stat.error(), &list.error()}) {
    EXPECT_EQ(e->message().find("not-the-secret-at-all"), std::string::npos) << e->message();
    EXPECT_EQ(e->hint().find("not-the-secret-at-all"), std::string::npos) << e->hint();
  }
}

TEST_F(S3StorageTest, UnreachableEndpointIsUnavailableAfterTheConfiguredRetries) {
  auto port = FreeLoopbackPort();
  ASSERT_TRUE(port.has_value());
  S3Options options = SwiftOptions(*swift_, prefix_);
  options.endpoint = "http://127.0.0.1:" + std::to_string(*port);
  options.max_retries = 2;
  options.retry_base_delay = std::chrono::milliseconds(1);
  options.timeouts.connect = std::chrono::milliseconds(2000);
  auto opened = S3Storage::Open(options);
  ASSERT_TRUE(opened.has_value());
  auto stat = (*opened)->Stat("k");
  ASSERT_FALSE(stat.has_value());
  EXPECT_EQ(stat.error().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(stat.error().retryable());
  EXPECT_EQ((*opened)->requests_sent(), 3U) << "one attempt and two retries";
  EXPECT_NE(stat.error().message().find("127.0.0.1:" + std::to_string(*port)), std::string::npos)
      << stat.error().message();
  EXPECT_NE(stat.error().message().find("(after 3 attempts)"), std::string::npos)
      << stat.error().message();
}

TEST_F(S3StorageTest, AwsCliReadsWhatDrctlWroteAndDrctlReadsWhatAwsCliWrote) {
  const std::string key = "cross/a:b=c+d \xc3\xbc.bin";
  for (const std::size_t size : {std::size_t{100000}, std::size_t{12 * kMiB}}) {
    const std::string data = Bytes(size, 42);
    ASSERT_TRUE(s3_->Write(key, data, {}).has_value());
    const auto out = dir_->path() / "from-drctl";
    auto get =
        Aws({"s3api", "get-object", "--bucket", kBucket, "--key", FullKey(key), out.string()});
    ASSERT_TRUE(get.has_value());
    ASSERT_EQ(get->exit_status, 0) << get->err;
    EXPECT_TRUE(ReadFile(out) == data) << "awscli read different bytes, size " << size;
  }

  const std::string data = Bytes(3 * kMiB + 17, 43);
  const auto in = dir_->path() / "from-awscli";
  std::ofstream(in, std::ios::binary) << data;
  const std::string other = "cross/by awscli=+:\xc3\xbc";
  auto put = Aws(
      {"s3api", "put-object", "--bucket", kBucket, "--key", FullKey(other), "--body", in.string()});
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->exit_status, 0) << put->err;
  auto read = s3_->Read(other);
  ASSERT_TRUE(read.has_value()) << read.error().ToString();
  EXPECT_TRUE(*read == data) << "drctl read different bytes";
  EXPECT_EQ(s3_->Stat(other).value().size, data.size());
}

TEST_F(S3StorageTest, AbandonedStreamedWriteLeavesNoObjectAndNoUpload) {
  const auto pending = [&]() -> std::vector<std::string> {
    auto r = Aws({"s3api", "list-multipart-uploads", "--bucket", kBucket, "--prefix", prefix_});
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r->exit_status, 0) << r->err;
    std::vector<std::string> keys;
    if (r->out.empty()) return keys;
    const auto json = nlohmann::json::parse(r->out);
    for (const auto& upload : json.value("Uploads", nlohmann::json::array())) {
      keys.push_back(upload["Key"].get<std::string>());
    }
    return keys;
  };
  {
    auto writer = s3_->OpenWrite("abandoned", {});
    ASSERT_TRUE(writer.has_value());
    const std::string data = Bytes(12 * kMiB, 5);
    ASSERT_TRUE((*writer)->Write(data).has_value());  // two parts gone up, one buffered
    EXPECT_EQ(pending(), std::vector<std::string>{FullKey("abandoned")});
  }
  EXPECT_EQ(pending(), std::vector<std::string>{});
  auto stat = s3_->Stat("abandoned");
  ASSERT_FALSE(stat.has_value());
  EXPECT_EQ(stat.error().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ListAll(*s3_).size(), 0U);
}

// The Storage contract every backend meets, on Swift: each test gets a fresh, empty prefix.
std::unique_ptr<storage::Storage> FreshSwiftStorage() {
  static std::atomic<int> counter{0};
  SwiftServer* swift = SharedSwift();
  if (swift == nullptr) return nullptr;
  auto opened = S3Storage::Open(SwiftOptions(*swift, "contract/" + std::to_string(++counter)));
  if (!opened || !(*opened)->CreateBucket()) return nullptr;
  std::vector<std::string> keys;
  for (const auto& info : ListAll(**opened)) keys.push_back(info.key);
  if (!(*opened)->DeleteMany(keys)) return nullptr;
  return std::move(*opened);
}

INSTANTIATE_TEST_SUITE_P(S3Swift, StorageContract,
                         ::testing::Values(storage::StorageFactory{"Swift", &FreshSwiftStorage}),
                         storage::PrintFactory);

TEST(S3OptionsConfig, FromRepoReadsUrlAndCredentialsFromTheNamedVariables) {
  RepoConfig repo;
  repo.name = "dr";
  repo.url = "s3://my-bucket/some/prefix/";
  repo.region = "eu-central-1";
  repo.access_key_id = {SecretKind::kEnv, "DRCTL_TEST_S3_KEY_ID"};
  repo.secret_access_key = {SecretKind::kEnv, "DRCTL_TEST_S3_SECRET"};
  repo.session_token = {SecretKind::kEnv, "DRCTL_TEST_S3_TOKEN"};
  ::unsetenv("DRCTL_TEST_S3_KEY_ID");
  ::unsetenv("DRCTL_TEST_S3_SECRET");
  ::unsetenv("DRCTL_TEST_S3_TOKEN");
  auto missing = storage::s3::S3OptionsFromRepo(repo);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(missing.error().message(),
            "repo 'dr': environment variable DRCTL_TEST_S3_KEY_ID is not set");

  ::setenv("DRCTL_TEST_S3_KEY_ID", "AKIDTEST", 1);
  auto no_secret = storage::s3::S3OptionsFromRepo(repo);
  ASSERT_FALSE(no_secret.has_value());
  EXPECT_EQ(no_secret.error().code(), ErrorCode::kConfig);
  EXPECT_EQ(no_secret.error().message(),
            "repo 'dr': environment variable DRCTL_TEST_S3_SECRET is not set");

  ::setenv("DRCTL_TEST_S3_SECRET", "s3cr3t-value", 1);
  auto options = storage::s3::S3OptionsFromRepo(repo);
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  EXPECT_EQ(options->bucket, "my-bucket");
  EXPECT_EQ(options->prefix, "some/prefix");
  EXPECT_EQ(options->region, "eu-central-1");
  EXPECT_EQ(options->access_key, "AKIDTEST");
  EXPECT_EQ(options->secret_key, "s3cr3t-value");
  EXPECT_EQ(options->session_token, "");
  EXPECT_EQ(options->credentials_source,
            "env DRCTL_TEST_S3_KEY_ID (set) and env DRCTL_TEST_S3_SECRET (set)");
  auto storage = storage::s3::OpenS3Storage(*options);
  ASSERT_TRUE(storage.has_value()) << storage.error().ToString();
  EXPECT_EQ((*storage)->Describe(), "s3://my-bucket/some/prefix");

  ::setenv("DRCTL_TEST_S3_TOKEN", "tok", 1);
  EXPECT_EQ(storage::s3::S3OptionsFromRepo(repo).value().session_token, "tok");
  ::unsetenv("DRCTL_TEST_S3_KEY_ID");
  ::unsetenv("DRCTL_TEST_S3_SECRET");
  ::unsetenv("DRCTL_TEST_S3_TOKEN");
}

TEST(S3OptionsConfig, CredentialsFromAFileAndACommandAndATokenThatMustWork) {
  auto dir = TempDir::Create("drctl-s3-creds-");
  ASSERT_TRUE(dir.has_value());
  const auto key_file = dir->path() / "key";
  std::ofstream(key_file) << "AKIDFROMFILE\n";
  RepoConfig repo;
  repo.name = "dr";
  repo.url = "s3://my-bucket/p";
  repo.access_key_id = {SecretKind::kFile, key_file.string()};
  const auto secret_file = dir->path() / "secret";
  std::ofstream(secret_file) << "s3cr3t-from-command\n";
  repo.secret_access_key = {SecretKind::kCommand, "cat " + secret_file.string()};
  repo.session_token = {SecretKind::kEnv, "DRCTL_TEST_S3_TOKEN_UNSET"};
  ::unsetenv("DRCTL_TEST_S3_TOKEN_UNSET");
  auto options = storage::s3::S3OptionsFromRepo(repo);
  ASSERT_TRUE(options.has_value()) << options.error().ToString();
  EXPECT_EQ(options->access_key, "AKIDFROMFILE");
  EXPECT_EQ(options->secret_key, "s3cr3t-from-command");
  EXPECT_EQ(options->session_token, "") << "the default token variable is optional";
  EXPECT_EQ(options->credentials_source.find("s3cr3t"), std::string::npos)
      << "the source is named, never the secret";

  // A token file the config names must be readable: the error names it.
  repo.session_token = {SecretKind::kFile, (dir->path() / "no-token").string()};
  auto missing = storage::s3::S3OptionsFromRepo(repo);
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message().find("no-token"), std::string::npos)
      << missing.error().ToString();
}

TEST(S3OptionsConfig, InvalidOptionsAreConfigErrors) {
  S3Options o;
  o.bucket = "b";
  o.access_key = "a";
  o.secret_key = "s";
  const auto code_of = [](S3Options options) {
    auto s = storage::s3::OpenS3Storage(std::move(options));
    return s ? ErrorCode::kOk : s.error().code();
  };
  EXPECT_EQ(code_of(o), ErrorCode::kOk);
  S3Options small_parts = o;
  small_parts.part_size = 5 * kMiB - 1;
  EXPECT_EQ(code_of(small_parts), ErrorCode::kConfig);
  S3Options no_bucket = o;
  no_bucket.bucket = "";
  EXPECT_EQ(code_of(no_bucket), ErrorCode::kConfig);
  S3Options no_secret = o;
  no_secret.secret_key = "";
  EXPECT_EQ(code_of(no_secret), ErrorCode::kConfig);
  S3Options bad_endpoint = o;
  bad_endpoint.endpoint = "ftp://host";
  EXPECT_EQ(code_of(bad_endpoint), ErrorCode::kConfig);
  S3Options endpoint_path = o;
  endpoint_path.endpoint = "https://host/path";
  EXPECT_EQ(code_of(endpoint_path), ErrorCode::kConfig);
  S3Options bad_prefix = o;
  bad_prefix.prefix = "a//b";
  EXPECT_EQ(code_of(bad_prefix), ErrorCode::kConfig);
}

}  // namespace
}  // namespace drctl::testing
