// A progress line for long commands, on stderr when it is a terminal: bytes done of the total,
// rate and estimated time left, redrawn about once a second by a background thread and erased
// when the work ends. Counting (Add) is lock-free and callable from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace drctl::command {

class Progress {
 public:
  // `what` starts the line ("backup", "restore"). Draws only if `enabled` and stderr is a
  // terminal.
  Progress(std::string what, std::uint64_t total_bytes, bool enabled);
  ~Progress();  // stops drawing and clears the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Add(std::uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
  void SetTotal(std::uint64_t bytes) { total_.store(bytes, std::memory_order_relaxed); }
  std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }

  // One rendering of the line, for tests and logs: "backup 1.0 GiB / 2.0 GiB (50%) ...".
  static std::string Line(const std::string& what, std::uint64_t done, std::uint64_t total,
                          double seconds);

 private:
  void Draw();
  std::string what_;
  std::atomic<std::uint64_t> total_;
  std::atomic<std::uint64_t> done_{0};
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

// "1.5 GiB", "12.0 MiB", "512 B".
std::string HumanBytes(double bytes);

}  // namespace drctl::command
