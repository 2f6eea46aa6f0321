#include "io/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace drctl::io {
namespace {

void RaiseTo(std::atomic<int>& max, int value) {
  int seen = max.load();
  while (value > seen && !max.compare_exchange_weak(seen, value)) {
  }
}

void Open(std::atomic<bool>& gate) {
  gate = true;
  gate.notify_all();
}

TEST(WorkerPool, RunsAllTasksInSeveralBatches) {
  WorkerPool pool(4, 8);
  EXPECT_EQ(pool.threads(), 4U);
  EXPECT_EQ(pool.queue_capacity(), 8U);
  std::atomic<int> sum{0};
  for (int batch = 0; batch < 3; ++batch) {
    for (int i = 1; i <= 1000; ++i) {
      ASSERT_TRUE(pool.Submit([&sum, i] {
                        sum += i;
                        return Ok();
                      })
                      .has_value());
    }
    ASSERT_TRUE(pool.Wait().has_value());
    EXPECT_EQ(sum.load(), (batch + 1) * 500500);
  }
}

TEST(WorkerPool, WaitWithNothingSubmittedReturnsOk) {
  WorkerPool pool(1, 1);
  EXPECT_TRUE(pool.Wait().has_value());
}

TEST(WorkerPool, QueueBoundsTasksInFlight) {
  constexpr int kThreads = 2;
  constexpr int kCapacity = 3;
  constexpr int kTasks = 50;
  WorkerPool pool(kThreads, kCapacity);
  std::atomic<bool> gate{false};
  std::atomic<int> submitted{0};
  std::atomic<int> finished{0};
  std::atomic<int> running{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> max_running{0};
  std::thread producer([&] {
    for (int i = 0; i < kTasks; ++i) {
      auto status = pool.Submit([&] {
        RaiseTo(max_running, ++running);
        gate.wait(false);
        --running;
        ++finished;
        return Ok();
      });
      EXPECT_TRUE(status.has_value());
      // An upper bound of the tasks queued or running right after Submit returned.
      RaiseTo(max_in_flight, ++submitted - finished.load());
    }
  });
  // With the gate closed, the pool saturates: every thread busy, the queue full, the producer
  // blocked in Submit. Nothing can finish, so no further Submit can return.
  while (submitted.load() < kThreads + kCapacity) std::this_thread::yield();
  EXPECT_EQ(submitted.load(), kThreads + kCapacity);
  Open(gate);
  producer.join();
  ASSERT_TRUE(pool.Wait().has_value());
  EXPECT_EQ(finished.load(), kTasks);
  EXPECT_EQ(max_in_flight.load(), kThreads + kCapacity);
  EXPECT_LE(max_running.load(), kThreads);
}

TEST(WorkerPool, FirstErrorSkipsTheRestAndIsReturned) {
  WorkerPool pool(1, 16);
  std::atomic<bool> gate{false};
  std::atomic<int> ran{0};
  auto counted = [&ran](Status result) {
    return [&ran, result] {
      ++ran;
      return result;
    };
  };
  ASSERT_TRUE(pool.Submit([&] {
                    gate.wait(false);
                    ++ran;
                    return Ok();
                  })
                  .has_value());
  ASSERT_TRUE(pool.Submit(counted(Fail(ErrorCode::kIo, "first", "hint"))).has_value());
  ASSERT_TRUE(pool.Submit(counted(Fail(ErrorCode::kNotFound, "second"))).has_value());
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(pool.Submit(counted(Ok())).has_value());
  Open(gate);

  // Once the failure is recorded, Submit refuses with it (the loop ends when it does).
  Status refused = Ok();
  while (refused.has_value()) refused = pool.Submit(counted(Ok()));
  EXPECT_EQ(refused.error().code(), ErrorCode::kIo);
  EXPECT_EQ(refused.error().message(), "first");

  auto status = pool.Wait();
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kIo);
  EXPECT_EQ(status.error().message(), "first");
  EXPECT_EQ(status.error().hint(), "hint");
  EXPECT_EQ(ran.load(), 2);  // the gated task and the failing one; the rest were skipped

  // The next batch starts clean.
  ASSERT_TRUE(pool.Submit(counted(Ok())).has_value());
  EXPECT_TRUE(pool.Wait().has_value());
  EXPECT_EQ(ran.load(), 3);
}

TEST(WorkerPool, ErrorWakesABlockedSubmit) {
  WorkerPool pool(1, 1);
  std::atomic<bool> gate{false};
  ASSERT_TRUE(pool.Submit([&gate] {
                    gate.wait(false);
                    return Fail(ErrorCode::kUnavailable, "s3 down");
                  })
                  .has_value());
  std::atomic<int> submitted{0};
  Status last = Ok();
  std::thread producer([&] {
    // The second task fills the queue; the third blocks until the failure empties it.
    while (last.has_value()) {
      last = pool.Submit([] { return Ok(); });
      ++submitted;
    }
  });
  while (submitted.load() < 1) std::this_thread::yield();
  Open(gate);
  producer.join();
  EXPECT_EQ(last.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(pool.Wait().error().message(), "s3 down");
}

TEST(WorkerPool, DestructorJoinsRunningTasksAndSkipsQueuedOnes) {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  {
    WorkerPool pool(2, 100);
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(pool.Submit([&] {
                        ++started;
                        std::this_thread::yield();
                        ++finished;
                        return Ok();
                      })
                      .has_value());
    }
  }
  // Nothing runs after the destructor: every task that started has finished.
  EXPECT_EQ(started.load(), finished.load());
  EXPECT_LE(finished.load(), 100);
}

}  // namespace
}  // namespace drctl::io
