#include "catalog/lock.h"

#include <gtest/gtest.h>

#include "storage/memory/memory_storage.h"

namespace drctl::catalog {
namespace {

using std::chrono::seconds;

TEST(RepoLock, SharedLocksCoexist) {
  auto s = storage::NewMemoryStorage();
  auto a = RepoLock::Acquire(*s, LockKind::kShared, "backup");
  auto b = RepoLock::Acquire(*s, LockKind::kShared, "wal push");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(ListLocks(*s).value().size(), 2U);
}

TEST(RepoLock, ExclusiveConflictsAndNamesTheHolder) {
  auto s = storage::NewMemoryStorage();
  auto shared = RepoLock::Acquire(*s, LockKind::kShared, "backup");
  ASSERT_TRUE(shared.has_value());
  auto gc = RepoLock::Acquire(*s, LockKind::kExclusive, "expire");
  ASSERT_FALSE(gc.has_value());
  EXPECT_EQ(gc.error().code(), ErrorCode::kLocked);
  EXPECT_NE(gc.error().message().find("shared lock of backup"), std::string::npos)
      << gc.error().message();
  EXPECT_EQ(ListLocks(*s).value().size(), 1U) << "the refused taker removes its own lock";
  ASSERT_TRUE(shared->Release().has_value());
  auto again = RepoLock::Acquire(*s, LockKind::kExclusive, "expire");
  ASSERT_TRUE(again.has_value());
  auto writer = RepoLock::Acquire(*s, LockKind::kShared, "backup");
  ASSERT_FALSE(writer.has_value());
  EXPECT_NE(writer.error().message().find("exclusive lock of expire"), std::string::npos);
}

TEST(RepoLock, DaemonLocksOnlyConflictWithEachOther) {
  auto s = storage::NewMemoryStorage();
  auto daemon = RepoLock::Acquire(*s, LockKind::kDaemon, "daemon");
  ASSERT_TRUE(daemon.has_value());
  auto gc = RepoLock::Acquire(*s, LockKind::kExclusive, "expire");
  ASSERT_TRUE(gc.has_value()) << "a running daemon never blocks garbage collection";
  ASSERT_TRUE(gc->Release().has_value());
  ASSERT_TRUE(RepoLock::Acquire(*s, LockKind::kShared, "backup").has_value());
  auto second = RepoLock::Acquire(*s, LockKind::kDaemon, "daemon");
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), ErrorCode::kLocked);
  EXPECT_NE(second.error().message().find("daemon lock of daemon"), std::string::npos)
      << second.error().message();
  auto listed = ListLocks(*s);
  ASSERT_TRUE(listed.has_value());
  ASSERT_EQ(listed->size(), 1U);
  EXPECT_EQ(listed->front().kind, LockKind::kDaemon) << "the kind survives its JSON form";
}

TEST(RepoLock, ExpiredLocksOfCrashedHoldersAreIgnored) {
  auto s = storage::NewMemoryStorage();
  {
    auto crashed = RepoLock::Acquire(*s, LockKind::kExclusive, "expire", seconds(60), 1000);
    ASSERT_TRUE(crashed.has_value());
    // Simulate a crash: the object stays behind.
    ASSERT_TRUE(s->Write("keep", "x").has_value());
    auto leaked = crashed->info();
    std::ignore = crashed->Release();
    ASSERT_TRUE(s->Write(leaked.Key(), leaked.ToJson()).has_value());
  }
  auto later = RepoLock::Acquire(*s, LockKind::kShared, "backup", seconds(60), 2000);
  EXPECT_TRUE(later.has_value());
  auto early = RepoLock::Acquire(*s, LockKind::kShared, "backup", seconds(60), 1030);
  ASSERT_FALSE(early.has_value());
  EXPECT_EQ(early.error().code(), ErrorCode::kLocked);
}

TEST(RepoLock, DestructorReleasesAndRefreshReplaces) {
  auto s = storage::NewMemoryStorage();
  {
    auto lock = RepoLock::Acquire(*s, LockKind::kShared, "backup");
    ASSERT_TRUE(lock.has_value());
    const std::string old_id = lock->info().lock_id;
    ASSERT_TRUE(lock->Refresh(seconds(600)).has_value());
    EXPECT_NE(lock->info().lock_id, old_id);
    auto locks = ListLocks(*s).value();
    ASSERT_EQ(locks.size(), 1U);
    EXPECT_EQ(locks[0].lock_id, lock->info().lock_id);
  }
  EXPECT_TRUE(ListLocks(*s).value().empty());
}

TEST(RepoLock, DamagedLockObjectIsCorrupt) {
  auto s = storage::NewMemoryStorage();
  ASSERT_TRUE(s->Write("locks/0011223344556677.json", "{\"lock_id\": 5}").has_value());
  auto r = RepoLock::Acquire(*s, LockKind::kShared, "backup");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message().find("locks/0011223344556677.json"), std::string::npos);
}

}  // namespace
}  // namespace drctl::catalog
