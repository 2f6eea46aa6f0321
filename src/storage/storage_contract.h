// The Storage contract as a parameterized GoogleTest suite: every backend runs the same tests.
// Include this header in exactly ONE test file per test binary, then instantiate:
//   INSTANTIATE_TEST_SUITE_P(Posix, StorageContract, ::testing::Values(StorageFactory{...}));
// A factory returns a fresh, empty storage for each test.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "storage/storage.h"

namespace drctl::storage {

struct StorageFactory {
  std::string name;
  std::function<std::unique_ptr<Storage>()> make;
};

inline std::string PrintFactory(const ::testing::TestParamInfo<StorageFactory>& info) {
  return info.param.name;
}

class StorageContract : public ::testing::TestWithParam<StorageFactory> {
 protected:
  void SetUp() override {
    storage_ = GetParam().make();
    ASSERT_NE(storage_, nullptr);
  }
  std::vector<std::string> Keys(std::string_view prefix) {
    std::vector<std::string> keys;
    auto status = storage_->List(prefix, [&](const ObjectInfo& info) {
      keys.push_back(info.key);
      return Ok();
    });
    EXPECT_TRUE(status.has_value()) << status.error().ToString();
    return keys;
  }
  std::unique_ptr<Storage> storage_;
};

inline std::string PatternBytes(std::size_t n, int seed = 1) {
  std::string out(n, '\0');
  std::uint32_t x = static_cast<std::uint32_t>(seed) * 2654435761U;
  for (auto& c : out) {
    x = x * 1103515245U + 12345U;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

TEST_P(StorageContract, WriteReadStatDelete) {
  const std::string data = PatternBytes(100000);
  ASSERT_TRUE(storage_->Write("a/b/object", data).has_value());
  EXPECT_EQ(storage_->Read("a/b/object").value(), data);
  auto info = storage_->Stat("a/b/object");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->key, "a/b/object");
  EXPECT_EQ(info->size, data.size());
  ASSERT_TRUE(storage_->Delete("a/b/object").has_value());
  auto gone = storage_->Stat("a/b/object");
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(storage_->Delete("a/b/object").has_value()) << "deleting an absent object succeeds";
}

TEST_P(StorageContract, MissingObjectIsNotFoundNamingIt) {
  auto r = storage_->Read("no/such/object");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.error().message().find("no/such/object"), std::string::npos) << r.error().message();
  auto reader = storage_->OpenRead("no/such/object");
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code(), ErrorCode::kNotFound);
}

TEST_P(StorageContract, EmptyObject) {
  ASSERT_TRUE(storage_->Write("empty", "").has_value());
  EXPECT_EQ(storage_->Read("empty").value(), "");
  EXPECT_EQ(storage_->Stat("empty").value().size, 0U);
}

TEST_P(StorageContract, OverwriteReplacesUnlessIfAbsent) {
  ASSERT_TRUE(storage_->Write("k", "one").has_value());
  ASSERT_TRUE(storage_->Write("k", "two").has_value());
  EXPECT_EQ(storage_->Read("k").value(), "two");
  auto again = storage_->Write("k", "three", WriteOptions{.durable = true, .if_absent = true});
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code(), ErrorCode::kConflict);
  EXPECT_EQ(storage_->Read("k").value(), "two");
  EXPECT_TRUE(
      storage_->Write("fresh", "x", WriteOptions{.durable = true, .if_absent = true}).has_value());
}

TEST_P(StorageContract, RangeReads) {
  const std::string data = PatternBytes(10000, 2);
  ASSERT_TRUE(storage_->Write("r", data).has_value());
  EXPECT_EQ(storage_->Read("r", ByteRange{0, 1}).value(), data.substr(0, 1));
  EXPECT_EQ(storage_->Read("r", ByteRange{1234, 4321}).value(), data.substr(1234, 4321));
  EXPECT_EQ(storage_->Read("r", ByteRange{9999, 1}).value(), data.substr(9999, 1));
  auto past = storage_->Read("r", ByteRange{9990, 11});
  ASSERT_FALSE(past.has_value());
  EXPECT_EQ(past.error().code(), ErrorCode::kCorrupt);
}

TEST_P(StorageContract, ListIsSortedAndFilteredByPrefix) {
  for (const char* key : {"p/b", "p/a/2", "p/a/1", "q/x", "pz", "p/c"}) {
    ASSERT_TRUE(storage_->Write(key, key).has_value()) << key;
  }
  EXPECT_EQ(Keys("p/"), (std::vector<std::string>{"p/a/1", "p/a/2", "p/b", "p/c"}));
  EXPECT_EQ(Keys("p/a"), (std::vector<std::string>{"p/a/1", "p/a/2"}));
  EXPECT_EQ(Keys("p"), (std::vector<std::string>{"p/a/1", "p/a/2", "p/b", "p/c", "pz"}));
  EXPECT_EQ(Keys(""), (std::vector<std::string>{"p/a/1", "p/a/2", "p/b", "p/c", "pz", "q/x"}));
  EXPECT_TRUE(Keys("nothing/").empty());
}

TEST_P(StorageContract, ListStopsOnVisitorError) {
  ASSERT_TRUE(storage_->Write("l/1", "x").has_value());
  ASSERT_TRUE(storage_->Write("l/2", "x").has_value());
  int visited = 0;
  auto status = storage_->List("l/", [&](const ObjectInfo&) -> Status {
    ++visited;
    return Fail(ErrorCode::kInterrupted, "stop");
  });
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kInterrupted);
  EXPECT_EQ(visited, 1);
}

TEST_P(StorageContract, SpecialCharactersInKeys) {
  const std::string key = "dir/a:b=c+d e \xc3\xbc~!$&'()*,;@.bin";
  ASSERT_TRUE(storage_->Write(key, "special").has_value());
  EXPECT_EQ(storage_->Read(key).value(), "special");
  EXPECT_EQ(Keys("dir/"), std::vector<std::string>{key});
}

TEST_P(StorageContract, InvalidKeysAreRefused) {
  for (const char* key : {"", "/abs", "trailing/", "a//b", "a/../b", "./a"}) {
    auto r = storage_->Write(key, "x");
    ASSERT_FALSE(r.has_value()) << key;
    EXPECT_EQ(r.error().code(), ErrorCode::kInternal) << key;
  }
}

TEST_P(StorageContract, StreamedWriteVisibleOnlyAfterCommit) {
  auto writer = storage_->OpenWrite("stream/obj");
  ASSERT_TRUE(writer.has_value()) << writer.error().ToString();
  const std::string part1 = PatternBytes(70000, 3);
  const std::string part2 = PatternBytes(50000, 4);
  ASSERT_TRUE((*writer)->Write(part1).has_value());
  ASSERT_TRUE((*writer)->Write(part2).has_value());
  EXPECT_EQ(storage_->Stat("stream/obj").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE((*writer)->Commit().has_value());
  EXPECT_EQ(storage_->Read("stream/obj").value(), part1 + part2);
  EXPECT_EQ(Keys("stream/"), std::vector<std::string>{"stream/obj"});
}

TEST_P(StorageContract, AbandonedWriteLeavesNothingVisible) {
  {
    auto writer = storage_->OpenWrite("abandoned/obj");
    ASSERT_TRUE(writer.has_value());
    ASSERT_TRUE((*writer)->Write("partial").has_value());
  }
  EXPECT_EQ(storage_->Stat("abandoned/obj").error().code(), ErrorCode::kNotFound);
  EXPECT_TRUE(Keys("abandoned/").empty());
}

TEST_P(StorageContract, StreamingReadReturnsEverything) {
  const std::string data = PatternBytes(300000, 5);
  ASSERT_TRUE(storage_->Write("big", data).has_value());
  auto reader = storage_->OpenRead("big");
  ASSERT_TRUE(reader.has_value());
  std::string got;
  while (true) {
    auto n = (*reader)->Read(got, 65536);
    ASSERT_TRUE(n.has_value()) << n.error().ToString();
    if (*n == 0) break;
  }
  EXPECT_EQ(got, data);
}

TEST_P(StorageContract, DeleteMany) {
  std::vector<std::string> keys;
  for (int i = 0; i < 25; ++i) {
    keys.push_back("many/" + std::to_string(i));
    ASSERT_TRUE(storage_->Write(keys.back(), "x").has_value());
  }
  keys.emplace_back("many/absent");
  ASSERT_TRUE(storage_->DeleteMany(keys).has_value());
  EXPECT_TRUE(Keys("many/").empty());
}

TEST_P(StorageContract, ConcurrentWritersAndReaders) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string key = "conc/" + std::to_string(t) + "/" + std::to_string(i);
        const std::string data = PatternBytes(1000 + static_cast<std::size_t>(i), t);
        if (!storage_->Write(key, data).has_value()) ++failures;
        auto back = storage_->Read(key);
        if (!back.has_value() || *back != data) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Keys("conc/").size(), 80U);
}

}  // namespace drctl::storage
