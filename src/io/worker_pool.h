// A fixed set of threads running tasks from a bounded queue: the backup and restore pipelines
// (read, chunk, hash, compress, encrypt, upload) run N workers with bounded memory.
//
// Submit blocks while the queue is full, so a fast producer cannot queue more than
// queue_capacity tasks (plus one running per thread): memory stays bounded whatever the size
// of the database. The first task that fails decides the outcome of the batch: the tasks still
// queued are skipped (destroyed without running), further Submits are refused with that error,
// and Wait returns it.
//
// Thread-safety: Submit may be called from several threads. Wait is meant for the one thread
// that owns the batch; the destructor must not run concurrently with Submit or Wait.
// Tasks run on the pool's threads and must not throw (an exception ends the process) nor call
// Submit or Wait on their own pool (they could deadlock on a full queue).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "common/result.h"

namespace drctl::io {

class WorkerPool {
 public:
  using Task = std::function<Status()>;

  // Starts `threads` threads with room for `queue_capacity` waiting tasks. Both must be at
  // least 1 (the process aborts otherwise: a caller's bug that would deadlock).
  WorkerPool(std::size_t threads, std::size_t queue_capacity);

  // Skips the tasks still queued, waits for the running ones to finish, and joins the threads.
  // Call Wait first to run every submitted task and learn the outcome.
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`, blocking while the queue is full. If a task of this batch has failed, the
  // task is not queued and that first error is returned (so a producer stops early).
  Status Submit(Task task);

  // Blocks until every submitted task has finished or been skipped, then returns the first
  // error of the batch (or Ok) and starts a new batch: the pool can be used again.
  Status Wait();

  std::size_t threads() const { return threads_.size(); }
  std::size_t queue_capacity() const { return queue_capacity_; }

 private:
  void Run();

  const std::size_t queue_capacity_;
  std::mutex mutex_;
  std::condition_variable work_available_;   // a task is queued, or the pool stops
  std::condition_variable space_available_;  // the queue has room, or the batch failed
  std::condition_variable idle_;             // nothing queued or running
  std::deque<Task> queue_;
  std::size_t unfinished_ = 0;  // queued + running
  std::optional<Error> error_;  // first failure of the current batch
  bool stopping_ = false;
  std::vector<std::thread> threads_;  // last: started once the rest is initialised
};

}  // namespace drctl::io
