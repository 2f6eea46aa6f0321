// Replication protocol messages from the server (XLogData, keepalive) on arbitrary bytes: never
// crash; XLogData's payload lies inside the input; a standby status update parses back to what
// was built from it; size settings never overflow.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "postgres/replication.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto message = drctl::pg::ParseReplicationMessage(bytes)) {
    if (const auto* xlog = std::get_if<drctl::pg::XLogData>(&*message)) {
      if (xlog->data.data() < bytes.data() ||
          xlog->data.data() + xlog->data.size() != bytes.data() + bytes.size()) {
        std::abort();
      }
    }
  }
  if (auto status = drctl::pg::ParseStandbyStatus(bytes)) {
    // Built back, it is the same message (the reply flag: any non-zero byte reads as 1).
    if (drctl::pg::BuildStandbyStatus(*status).substr(0, 33) != bytes.substr(0, 33)) std::abort();
  }
  (void)drctl::pg::ParseSizeSetting(bytes);
  return 0;
}
