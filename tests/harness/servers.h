// Real servers for integration tests, shared by all tests of one test binary: each is started on
// first use (on loopback, free ports, temporary directories) and stopped by PID when the binary's
// tests end, whether they passed or failed. If the binary crashes, the servers die with it (they
// are its children with a parent-death signal). Link drctl_harness_main instead of gtest_main.
//
// Each accessor fails the calling test (ASSERT-style, via the returned pointer being null and a
// recorded failure) when the server cannot start, with the reason.
#pragma once

#include <string>

#include "harness/swift_server.h"
#include "postgres/local_cluster.h"
#include "redis/local_server.h"

namespace drctl::testing {

// PostgreSQL 15: initdb --data-checksums, run as user "postgres" when root; wal_level=replica,
// archive_mode=on, max_wal_senders=10; archive_command=/bin/true in postgresql.conf, so a test can
// set its own with ALTER SYSTEM (and must put it back).
pg::LocalCluster* SharedPostgres();

// Redis 7 without persistence.
redis::LocalServer* SharedRedis();

// Swift with s3api; see SwiftServer.
SwiftServer* SharedSwift();

// Stops every shared server that was started. Called by the test environment at the end.
void StopSharedServers();

// Registers the GoogleTest environment that calls StopSharedServers (harness_main does this).
void RegisterSharedServersEnvironment();

}  // namespace drctl::testing
