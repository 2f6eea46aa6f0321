// main() for integration test binaries: GoogleTest plus the shared-servers environment, whose
// TearDown stops every server the tests started, also after failures.
#include <gtest/gtest.h>

#include "harness/servers.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  drctl::testing::RegisterSharedServersEnvironment();
  return RUN_ALL_TESTS();
}
