#include "command/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace drctl::command {

std::string HumanBytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  while (bytes >= 1024 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024;
    ++unit;
  }
  return unit == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, kUnits[unit]);
}

std::string Progress::Line(const std::string& what, std::uint64_t done, std::uint64_t total,
                           double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  std::string line = what + " " + HumanBytes(static_cast<double>(done));
  if (total > 0) {
    line += fmt::format(
        " / {} ({:.0f}%)", HumanBytes(static_cast<double>(total)),
        100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total));
  }
  line += ", " + HumanBytes(rate) + "/s";
  if (total > done && rate > 0) {
    line += fmt::format(", ETA {:.0f}s", static_cast<double>(total - done) / rate);
  }
  return line;
}

Progress::Progress(std::string what, std::uint64_t total_bytes, bool enabled)
    : what_(std::move(what)), total_(total_bytes) {
  if (enabled && isatty(STDERR_FILENO) == 1) thread_ = std::thread([this] { Draw(); });
}

Progress::~Progress() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
    std::fputs("\r\033[K", stderr);
  }
}

void Progress::Draw() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stop_; })) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const std::string line = Line(what_, done(), total_.load(), seconds);
    std::fprintf(stderr, "\r\033[K%s", line.c_str());
    std::fflush(stderr);
  }
}

}  // namespace drctl::command
