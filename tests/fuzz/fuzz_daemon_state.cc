// The daemon's inputs that are not its own code's values: its state file (job records, alert
// tracker, alert outbox), the listen address from the config, and the Authorization header of
// every HTTP request. None may crash or hang on any bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/alert_tracker.h"
#include "daemon/alerts.h"
#include "daemon/daemon_state.h"
#include "daemon/http_server.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = drctl::daemon::ParseDaemonState(text, "fuzz/state.json");
  if (state) {
    if (!state->alerts.is_null()) {
      (void)drctl::daemon::AlertTracker::FromJson(state->alerts, std::chrono::seconds(60));
    }
    if (!state->outbox.is_null()) (void)drctl::daemon::AlertOutbox::FromJson(state->outbox);
  }
  (void)drctl::daemon::ParseListenAddress(text);
  (void)drctl::daemon::BearerTokenMatches(text, "secret-token");
  return 0;
}
