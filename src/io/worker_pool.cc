#include "io/worker_pool.h"

#include <cstdlib>
#include <utility>

namespace drctl::io {

WorkerPool::WorkerPool(std::size_t threads, std::size_t queue_capacity)
    : queue_capacity_(queue_capacity) {
  if (threads == 0 || queue_capacity == 0) std::abort();
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
}

WorkerPool::~WorkerPool() {
  std::deque<Task> skipped;
  {
    std::lock_guard lock(mutex_);
    skipped.swap(queue_);
    unfinished_ -= skipped.size();
    stopping_ = true;
  }
  work_available_.notify_all();
  skipped.clear();  // destroy the tasks (and what they captured) outside the lock
  for (std::thread& thread : threads_) thread.join();
}

Status WorkerPool::Submit(Task task) {
  std::unique_lock lock(mutex_);
  space_available_.wait(lock, [this] { return error_ || queue_.size() < queue_capacity_; });
  if (error_) return std::unexpected(*error_);
  queue_.push_back(std::move(task));
  ++unfinished_;
  lock.unlock();
  work_available_.notify_one();
  return Ok();
}

Status WorkerPool::Wait() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return unfinished_ == 0; });
  if (!error_) return Ok();
  Error error = std::move(*error_);
  error_.reset();
  return std::unexpected(std::move(error));
}

void WorkerPool::Run() {
  while (true) {
    Task task;
    {
      std::unique_lock lock(mutex_);
      work_available_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    space_available_.notify_one();

    Status status = task();
    task = nullptr;

    // The first failure skips the rest of the batch. Skipped tasks are destroyed outside the
    // lock, but before they count as finished, so Wait returns only once they are gone.
    std::deque<Task> skipped;
    {
      std::lock_guard lock(mutex_);
      if (!status.has_value() && !error_) {
        error_ = std::move(status).error();
        skipped.swap(queue_);
      }
    }
    const std::size_t finished = 1 + skipped.size();
    if (!skipped.empty()) {
      space_available_.notify_all();  // blocked Submits return the error
      skipped.clear();
    }
    std::lock_guard lock(mutex_);
    unfinished_ -= finished;
    if (unfinished_ == 0) idle_.notify_all();
  }
}

}  // namespace drctl::io
