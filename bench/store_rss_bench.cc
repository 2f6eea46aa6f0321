// Peak memory of the store path as input grows: stores N GiB of generated, PostgreSQL-like data
// (8 KiB pages, half repetitive tuples, half random) into a posix repository through
// StoreStream (chunk, HMAC, zstd, AES-GCM, pack, write) on a worker pool, and prints one JSON
// line with the time, the throughput and the peak RSS (VmHWM). bench/memory_flat.sh runs it for
// 1, 2, 4 and 8 GiB: the peak must stay flat.
//   drctl_store_rss_bench --gib N --repo DIR [--jobs J]
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "catalog/stream_store.h"
#include "storage/posix/posix_storage.h"

namespace {

long PeakRssKib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Page-shaped data, unique per page: a header with the page number, repetitive tuples, noise.
class PageGenerator {
 public:
  explicit PageGenerator(std::uint64_t total) : left_(total) {}
  drctl::Result<std::size_t> Read(std::string& out, std::size_t max) {
    std::size_t n = 0;
    while (n + 8192 <= max && left_ >= 8192) {
      const std::size_t at = out.size();
      out.resize(at + 8192);
      char* page = out.data() + at;
      std::memcpy(page, &page_no_, sizeof(page_no_));
      for (std::size_t i = 8; i < 8192; i += 8) {
        state_ ^= state_ << 13;
        state_ ^= state_ >> 7;
        state_ ^= state_ << 17;
        const std::uint64_t v = (i / 8) % 2 == 0 ? state_ : 0x2020202061626364ULL + (i % 64);
        std::memcpy(page + i, &v, 8);
      }
      ++page_no_;
      left_ -= 8192;
      n += 8192;
    }
    return n;
  }

 private:
  std::uint64_t left_;
  std::uint64_t page_no_ = 0;
  std::uint64_t state_ = 88172645463325252ULL;
};

}  // namespace

int main(int argc, char** argv) {
  double gib = 1;
  std::string repo;
  std::size_t jobs = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--gib") gib = std::stod(argv[i + 1]);
    if (flag == "--repo") repo = argv[i + 1];
    if (flag == "--jobs") jobs = std::stoul(argv[i + 1]);
  }
  if (repo.empty()) {
    std::fprintf(stderr, "usage: %s --gib N --repo DIR [--jobs J]\n", argv[0]);
    return 2;
  }
  auto storage = drctl::storage::OpenPosixStorage(repo);
  if (!storage) {
    std::fprintf(stderr, "%s\n", storage.error().ToString().c_str());
    return 1;
  }
  drctl::catalog::ChunkStore store(**storage, drctl::catalog::MasterKey::Generate(),
                                   {drctl::CompressionAlgo::kZstd, 3});
  drctl::io::WorkerPool pool(jobs, jobs * 2);
  const auto total = static_cast<std::uint64_t>(gib * 1024 * 1024 * 1024);
  PageGenerator gen(total);
  const auto start = std::chrono::steady_clock::now();
  auto stored = drctl::catalog::StoreStream(
      [&](std::string& out, std::size_t max) { return gen.Read(out, max); }, 1U << 20, store, pool);
  if (!stored || !store.Commit()) {
    std::fprintf(stderr, "store failed: %s\n",
                 stored ? "commit" : stored.error().ToString().c_str());
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto stats = store.stats();
  std::printf(
      "{\"gib\": %.2f, \"seconds\": %.2f, \"mib_per_s\": %.1f, \"stored_mib\": %.1f, "
      "\"peak_rss_mib\": %.1f, \"jobs\": %zu}\n",
      gib, secs, static_cast<double>(stored->size) / 1048576.0 / secs,
      static_cast<double>(stats.bytes_stored) / 1048576.0,
      static_cast<double>(PeakRssKib()) / 1024.0, jobs);
  return 0;
}
