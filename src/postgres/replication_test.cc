#include "postgres/replication.h"

#include <gtest/gtest.h>

#include <string>

namespace drctl::pg {
namespace {

std::string U64(std::uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
  return out;
}

std::string XLogDataBytes(Lsn start, Lsn end, std::int64_t time, const std::string& data) {
  return "w" + U64(start) + U64(end) + U64(static_cast<std::uint64_t>(time)) + data;
}

TEST(ReplicationMessage, ParsesXLogData) {
  const std::string bytes = XLogDataBytes(0x1600000028ULL, 0x1600001000ULL, 12345, "WALBYTES");
  auto m = ParseReplicationMessage(bytes);
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  const auto* data = std::get_if<XLogData>(&*m);
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->start, 0x1600000028ULL);
  EXPECT_EQ(data->wal_end, 0x1600001000ULL);
  EXPECT_EQ(data->send_time, 12345);
  EXPECT_EQ(data->data, "WALBYTES");
}

TEST(ReplicationMessage, ParsesXLogDataWithoutPayload) {
  auto m = ParseReplicationMessage(XLogDataBytes(16, 16, 0, ""));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  EXPECT_TRUE(std::get<XLogData>(*m).data.empty());
}

TEST(ReplicationMessage, ParsesKeepalive) {
  auto m = ParseReplicationMessage("k" + U64(0xABCDEF0123ULL) + U64(99) + std::string(1, '\1'));
  ASSERT_TRUE(m.has_value()) << m.error().ToString();
  const auto* k = std::get_if<PrimaryKeepalive>(&*m);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->wal_end, 0xABCDEF0123ULL);
  EXPECT_EQ(k->send_time, 99);
  EXPECT_TRUE(k->reply_requested);
  auto no_reply = ParseReplicationMessage("k" + U64(1) + U64(2) + std::string(1, '\0'));
  ASSERT_TRUE(no_reply.has_value());
  EXPECT_FALSE(std::get<PrimaryKeepalive>(*no_reply).reply_requested);
}

TEST(ReplicationMessage, RejectsEmpty) {
  auto m = ParseReplicationMessage("");
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(m.error().message(), "empty replication message");
}

TEST(ReplicationMessage, RejectsTruncatedXLogDataAtEveryLength) {
  const std::string full = XLogDataBytes(1, 2, 3, "");
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto m = ParseReplicationMessage(full.substr(0, n));
    ASSERT_FALSE(m.has_value()) << n;
    EXPECT_EQ(m.error().code(), ErrorCode::kCorrupt);
    EXPECT_EQ(m.error().message(), "truncated XLogData message (" + std::to_string(n) + " bytes)");
  }
}

TEST(ReplicationMessage, RejectsKeepaliveOfWrongLength) {
  const std::string full = "k" + U64(1) + U64(2) + std::string(1, '\0');
  for (std::size_t n = 1; n < full.size(); ++n) {
    auto m = ParseReplicationMessage(full.substr(0, n));
    ASSERT_FALSE(m.has_value()) << n;
    EXPECT_EQ(m.error().message(),
              "keepalive message of " + std::to_string(n) + " bytes (expected 18)");
  }
  auto longer = ParseReplicationMessage(full + "x");
  ASSERT_FALSE(longer.has_value());
  EXPECT_EQ(longer.error().message(), "keepalive message of 19 bytes (expected 18)");
}

TEST(ReplicationMessage, RejectsUnknownType) {
  auto m = ParseReplicationMessage(std::string("\xff garbage", 9));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(m.error().message(), "unknown replication message type 0xFF");
  auto r = ParseReplicationMessage("r" + std::string(33, '\0'));  // ours, never the server's
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message(), "unknown replication message type 0x72");
}

TEST(ReplicationMessage, RejectsXLogDataPastTheEndOfTheLsnSpace) {
  auto m = ParseReplicationMessage(XLogDataBytes(UINT64_MAX - 1, 0, 0, "abc"));
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(m.error().message(),
            "XLogData message at FFFFFFFF/FFFFFFFE runs past the end of the LSN space");
}

TEST(StandbyStatus, BuildsTheWireFormat) {
  StandbyStatus s{0x0102030405060708ULL, 0x10, 0, 0x2A, true};
  const std::string bytes = BuildStandbyStatus(s);
  ASSERT_EQ(bytes.size(), 34U);
  EXPECT_EQ(bytes, "r" + U64(0x0102030405060708ULL) + U64(0x10) + U64(0) + U64(0x2A) +
                       std::string(1, '\1'));
  auto back = ParseStandbyStatus(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->write, s.write);
  EXPECT_EQ(back->flush, s.flush);
  EXPECT_EQ(back->apply, s.apply);
  EXPECT_EQ(back->send_time, s.send_time);
  EXPECT_TRUE(back->reply_requested);
  auto bad = ParseStandbyStatus(bytes.substr(0, 33));
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().message(), "not a standby status update (33 bytes)");
}

TEST(ReplicationClock, CountsFrom2000) {
  // 2020-01-01 is 20 years (7305 days) after the protocol's epoch.
  EXPECT_GT(ReplicationNow(), std::int64_t{7305} * 86400 * 1000000);
}

TEST(SizeSetting, ParsesUnits) {
  EXPECT_EQ(ParseSizeSetting("16MB").value(), 16U << 20);
  EXPECT_EQ(ParseSizeSetting("1GB").value(), 1U << 30);
  EXPECT_EQ(ParseSizeSetting("64kB").value(), 64U << 10);
  EXPECT_EQ(ParseSizeSetting("8192").value(), 8192U);
  for (const char* bad : {"", "MB", "16 MB", "16mb", "-1MB", "99999999999999999999GB", "1PB"}) {
    auto r = ParseSizeSetting(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().message(), "\"" + std::string(bad) + "\" is not a size setting");
  }
}

TEST(QuoteIdentifier, DoublesQuotes) {
  EXPECT_EQ(QuoteIdentifier("drctl"), "\"drctl\"");
  EXPECT_EQ(QuoteIdentifier("a\"b"), "\"a\"\"b\"");
}

}  // namespace
}  // namespace drctl::pg
