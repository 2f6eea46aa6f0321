// The repository engine on a real S3 peer (Swift s3api): a repository is created, chunks go in
// and come back, damage made by an independent client (awscli) is detected, locks conflict, and
// garbage collection sweeps, all through signed requests.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "catalog/gc.h"
#include "catalog/lock.h"
#include "catalog/repository.h"
#include "common/temp_dir.h"
#include "harness/servers.h"
#include "storage/s3/s3_storage.h"

namespace drctl::testing {
namespace {

constexpr const char* kBucket = "drctl-catalog";

class CatalogOnS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    swift_ = SharedSwift();
    ASSERT_NE(swift_, nullptr);
    prefix_ =
        std::string("repo-") + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    auto admin = Open();
    ASSERT_NE(admin, nullptr);
    (void)admin->CreateBucket();  // exists already after the first test: fine
  }
  storage::s3::S3Options Options() const {
    storage::s3::S3Options o;
    o.endpoint = swift_->endpoint();
    o.bucket = kBucket;
    o.prefix = prefix_;
    o.region = SwiftServer::kRegion;
    o.path_style = true;
    o.access_key = SwiftServer::kAccessKey;
    o.secret_key = SwiftServer::kSecretKey;
    return o;
  }
  std::unique_ptr<storage::s3::S3Storage> Open() const {
    auto s = storage::s3::S3Storage::Open(Options());
    return s ? std::move(*s) : nullptr;
  }
  catalog::InitOptions Init() const {
    catalog::InitOptions o;
    o.secret = "s3-repo-passphrase";
    o.kdf = {1024, 8, 1};
    o.pack_size = 1 << 20;
    return o;
  }
  SwiftServer* swift_ = nullptr;
  std::string prefix_;
};

TEST_F(CatalogOnS3, ChunksRoundTripAndDamageIsDetected) {
  auto repo = catalog::Repository::Init(Open(), Init());
  ASSERT_TRUE(repo.has_value()) << repo.error().ToString();
  auto store = repo->NewChunkStore({CompressionAlgo::kZstd, 3});
  std::vector<std::pair<catalog::ChunkId, std::string>> chunks;
  for (int i = 0; i < 12; ++i) {
    std::string data(300000, static_cast<char>('A' + i));
    for (std::size_t k = 0; k < data.size(); k += 97)
      data[k] = static_cast<char>(k * static_cast<std::size_t>(i));
    chunks.emplace_back(store->Put(data).value(), data);
  }
  ASSERT_TRUE(store->Commit().has_value());

  auto reopened = catalog::Repository::Open(Open(), std::string("s3-repo-passphrase"));
  ASSERT_TRUE(reopened.has_value()) << reopened.error().ToString();
  auto reader = reopened->NewChunkStore({CompressionAlgo::kZstd, 3});
  ASSERT_TRUE(reader->LoadIndexes().has_value());
  for (const auto& [id, data] : chunks) EXPECT_EQ(reader->Get(id).value(), data);

  // Flip one byte of a pack with an independent client, then read through drctl again.
  std::string pack_key;
  ASSERT_TRUE(reopened->storage()
                  .List("packs/",
                        [&](const storage::ObjectInfo& info) {
                          if (pack_key.empty()) pack_key = info.key;
                          return Ok();
                        })
                  .has_value());
  auto dir = TempDir::Create("drctl-s3-damage-");
  ASSERT_TRUE(dir.has_value());
  const auto file = dir->path() / "pack";
  const std::string s3_key = prefix_ + "/" + pack_key;
  auto get =
      RunAwsCli(swift_->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
                {"s3api", "get-object", "--bucket", kBucket, "--key", s3_key, file.string()});
  ASSERT_TRUE(get.has_value());
  ASSERT_EQ(get->exit_status, 0) << get->err;
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  bytes[100] = static_cast<char>(bytes[100] ^ 0x10);
  std::ofstream(file, std::ios::binary | std::ios::trunc) << bytes;
  auto put = RunAwsCli(
      swift_->endpoint(), SwiftServer::kAccessKey, SwiftServer::kSecretKey,
      {"s3api", "put-object", "--bucket", kBucket, "--key", s3_key, "--body", file.string()});
  ASSERT_TRUE(put.has_value());
  ASSERT_EQ(put->exit_status, 0) << put->err;
  int corrupt = 0;
  for (const auto& [id, data] : chunks) {
    auto r = reader->Get(id);
    if (!r) {
      EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
      EXPECT_NE(r.error().message().find(pack_key), std::string::npos) << r.error().message();
      ++corrupt;
    }
  }
  EXPECT_EQ(corrupt, 1) << "exactly the chunk holding byte 100 of that pack";
}

TEST_F(CatalogOnS3, WrongPassphraseAndLocksAndGc) {
  ASSERT_TRUE(catalog::Repository::Init(Open(), Init()).has_value());
  auto wrong = catalog::Repository::Open(Open(), std::string("nope"));
  ASSERT_FALSE(wrong.has_value());
  EXPECT_EQ(wrong.error().code(), ErrorCode::kWrongSecret);

  auto repo = catalog::Repository::Open(Open(), std::string("s3-repo-passphrase"));
  ASSERT_TRUE(repo.has_value());
  auto store = repo->NewChunkStore({CompressionAlgo::kLz4, 0});
  const auto keep = store->Put(std::string(200000, 'k')).value();
  ASSERT_TRUE(store->Put(std::string(900000, 'g')).has_value());
  ASSERT_TRUE(store->Commit().has_value());

  auto writer = catalog::RepoLock::Acquire(repo->storage(), catalog::LockKind::kShared, "backup");
  ASSERT_TRUE(writer.has_value()) << writer.error().ToString();
  auto blocked = catalog::CollectGarbage(repo->storage(), repo->master(), {keep});
  ASSERT_FALSE(blocked.has_value());
  EXPECT_EQ(blocked.error().code(), ErrorCode::kLocked);
  ASSERT_TRUE(writer->Release().has_value());

  auto swept = catalog::CollectGarbage(repo->storage(), repo->master(), {keep},
                                       {.grace = std::chrono::seconds(0),
                                        .now = static_cast<std::int64_t>(std::time(nullptr)) + 60});
  ASSERT_TRUE(swept.has_value()) << swept.error().ToString();
  auto reader = repo->NewChunkStore({CompressionAlgo::kLz4, 0});
  ASSERT_TRUE(reader->LoadIndexes().has_value());
  EXPECT_EQ(reader->Get(keep).value(), std::string(200000, 'k'));
}

}  // namespace
}  // namespace drctl::testing
