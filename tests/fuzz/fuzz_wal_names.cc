// WAL file names, LSNs and timeline history files on arbitrary bytes: never crash; what parses
// as a segment name formats back to the same name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "postgres/wal_names.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto name = drctl::pg::ParseWalFileName(text);
      name && name->kind == drctl::pg::WalFileKind::kSegment) {
    if (drctl::pg::SegmentFileName(name->timeline, name->segment) != text) std::abort();
  }
  if (auto lsn = drctl::pg::ParseLsn(text)) {
    if (drctl::pg::ParseLsn(drctl::pg::FormatLsn(*lsn)).value_or(~*lsn) != *lsn) std::abort();
  }
  (void)drctl::pg::ParseTimelineHistory(text, "fuzz.history");
  return 0;
}
