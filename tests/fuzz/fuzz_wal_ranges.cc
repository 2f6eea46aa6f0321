// WAL ranges on arbitrary object names (a repository listing is outside bytes): never crash, and
// the summary is consistent: ranges ascending and disjoint, one gap fewer than ranges, and no
// more segments in the ranges than distinct names given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/wal_ranges.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> names;
  std::size_t at = 0;
  while (at <= text.size() && names.size() < 4096) {
    const std::size_t end = text.find('\n', at);
    names.emplace_back(text.substr(at, end == std::string_view::npos ? text.npos : end - at));
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  const std::set<std::string> distinct(names.begin(), names.end());
  const auto summary = drctl::catalog::SummarizeWal(names);
  std::uint64_t segments = 0;
  for (const auto& t : summary.timelines) {
    if (!t.ranges.empty() && t.gaps.size() + 1 != t.ranges.size()) std::abort();
    for (std::size_t i = 0; i < t.ranges.size(); ++i) {
      const auto& r = t.ranges[i];
      if (r.count == 0 || r.first > r.last) std::abort();
      if (i > 0 && !(t.ranges[i - 1].last < r.first)) std::abort();
      segments += r.count;
    }
  }
  if (segments > distinct.size()) std::abort();
  return 0;
}
