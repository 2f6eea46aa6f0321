#include "command/progress.h"

#include <gtest/gtest.h>

namespace drctl::command {
namespace {

TEST(ProgressTest, HumanBytesPicksTheUnit) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(3.0 * (1 << 30)), "3.0 GiB");
}

TEST(ProgressTest, LineShowsShareRateAndEta) {
  const std::uint64_t mib = 1 << 20;
  EXPECT_EQ(Progress::Line("backup", 50 * mib, 200 * mib, 5),
            "backup 50.0 MiB / 200.0 MiB (25%), 10.0 MiB/s, ETA 15s");
  EXPECT_EQ(Progress::Line("restore", 10 * mib, 0, 2), "restore 10.0 MiB, 5.0 MiB/s");
  // More than the total (a file grew while read): no ETA, the share stops at 100 %.
  EXPECT_EQ(Progress::Line("backup", 3 * mib, 2 * mib, 1),
            "backup 3.0 MiB / 2.0 MiB (100%), 3.0 MiB/s");
}

}  // namespace
}  // namespace drctl::command
