#include "storage/fault/fault_storage.h"

#include <gtest/gtest.h>

#include "storage/memory/memory_storage.h"

namespace drctl::storage {
namespace {

TEST(FaultStorage, FailsMatchingCallsAfterSkipForTimes) {
  FaultStorage s(NewMemoryStorage());
  ASSERT_TRUE(s.Write("packs/1", "data", {}).has_value());
  s.AddRule({.op = Op::kRead,
             .key_prefix = "packs/",
             .skip = 1,
             .times = 2,
             .code = ErrorCode::kUnavailable});
  EXPECT_TRUE(s.Read("packs/1", std::nullopt).has_value());  // skipped
  auto failed = s.Read("packs/1", std::nullopt);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.error().message().find("packs/1"), std::string::npos);
  EXPECT_FALSE(s.Read("packs/1", std::nullopt).has_value());
  EXPECT_TRUE(s.Read("packs/1", std::nullopt).has_value());  // times exhausted
  EXPECT_EQ(s.faults_injected(), 2);
}

TEST(FaultStorage, TruncatedReads) {
  FaultStorage s(NewMemoryStorage());
  ASSERT_TRUE(s.Write("k", "12345678", {}).has_value());
  s.AddRule({.op = Op::kRead, .truncate = true});
  EXPECT_EQ(s.Read("k", std::nullopt).value(), "1234");
}

TEST(FaultStorage, DroppedWriteIsACrashBeforeVisibility) {
  FaultStorage s(NewMemoryStorage());
  s.AddRule({.op = Op::kWrite, .key_prefix = "index/", .times = 1, .drop_write = true});
  ASSERT_TRUE(s.Write("index/1", "x", {}).has_value());
  EXPECT_EQ(s.Stat("index/1").error().code(), ErrorCode::kNotFound);
  auto w = s.OpenWrite("index/2", {});
  ASSERT_TRUE(w.has_value());
  ASSERT_TRUE((*w)->Write("y").has_value());
  ASSERT_TRUE((*w)->Commit().has_value());
  EXPECT_EQ(s.Read("index/2", std::nullopt).value(), "y");
}

TEST(FaultStorage, LatencyDelaysButSucceeds) {
  FaultStorage s(NewMemoryStorage());
  ASSERT_TRUE(s.Write("k", "v", {}).has_value());
  s.AddRule({.op = Op::kRead, .times = 1, .latency = std::chrono::milliseconds(20)});
  EXPECT_EQ(s.Read("k", std::nullopt).value(), "v");
  EXPECT_EQ(s.faults_injected(), 1) << "the slow call was the injected one";
  EXPECT_EQ(s.Read("k", std::nullopt).value(), "v");
  EXPECT_EQ(s.faults_injected(), 1);
}

TEST(FaultStorage, OtherOperationsAndKeysPassThrough) {
  FaultStorage s(NewMemoryStorage());
  s.AddRule({.op = Op::kDelete, .key_prefix = "locks/", .code = ErrorCode::kAuth});
  ASSERT_TRUE(s.Write("locks/a", "x", {}).has_value());
  ASSERT_TRUE(s.Write("other", "x", {}).has_value());
  EXPECT_TRUE(s.Delete("other").has_value());
  EXPECT_EQ(s.Delete("locks/a").error().code(), ErrorCode::kAuth);
  s.ClearRules();
  EXPECT_TRUE(s.Delete("locks/a").has_value());
}

}  // namespace
}  // namespace drctl::storage
