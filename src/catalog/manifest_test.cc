#include "catalog/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "catalog/bytes.h"

namespace drctl::catalog {
namespace {

constexpr std::string_view kId = "20261125T190000Z-a1b2";

ChunkId Id(std::uint64_t n) {
  ChunkId id{};
  for (std::size_t i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
  id[31] = 0x5a;
  return id;
}

// A manifest with every field set to a value that differs from its default.
Manifest Sample(std::size_t files = 4, std::size_t chunks_per_file = 3) {
  Manifest m;
  m.backup_id = std::string(kId);
  m.label = "before the migration";
  m.status = BackupStatus::kCompleteWithChecksumFailures;
  m.drctl_version = "0.4.0";
  m.pg = {"7301234567890123456", 150004, 3};
  m.start_lsn = 0x16B374D848;
  m.stop_lsn = 0x16B5000000;
  m.start_time = 1795633200;
  m.stop_time = 1795633321;
  m.stop_xmin = (std::uint64_t{2} << 32) | 4000000000U;
  m.start_wal = "000000030000001600000016";
  m.stop_wal = "000000030000001600000017";
  m.backup_label = "START WAL LOCATION: 16/B374D848 (file 000000030000001600000016)\n";
  m.tablespace_map = "16385 /srv/tblspc/fast\n";
  m.tablespaces = {{16385, "/srv/tblspc/fast"}};
  m.files.push_back({"base", FileType::kDirectory, 0700, 0, 1795633000, "", {}, {}});
  m.files.push_back(
      {"pg_tblspc/16385", FileType::kSymlink, 0777, 0, 1795633001, "/srv/tblspc/fast", {}, {}});
  m.files.push_back({"base/5/empty", FileType::kFile, 0600, 0, -1, "", {}, {}});
  std::uint64_t next = 1;
  for (std::size_t i = 0; i < files; ++i) {
    ManifestFile f{"base/5/" + std::to_string(16384 + i),
                   FileType::kFile,
                   0600,
                   chunks_per_file * 1048576,
                   static_cast<std::int64_t>(1795633100 + i),
                   "",
                   {},
                   {}};
    for (std::size_t c = 0; c < chunks_per_file; ++c) f.chunks.push_back(Id(next++));
    m.files.push_back(std::move(f));
  }
  m.files.back().checksum_failures = {7, 12, 4000000000U};
  m.databases = {{5, "postgres"}, {16400, "erp"}};
  m.relations = {{16400, 16401, 16402, "public.User", 'r'},
                 {16400, 16405, 16405, "public.orders", 'r'},
                 {16400, 16406, 0, "pg_catalog.pg_class", 'r'},
                 {5, 16401, 16411, "public.orders_pkey", 'i'}};
  m.row_counts = {{"public.User", 1000}, {"public.orders", 123456789012}};
  m.stats = {chunks_per_file * files * 1048576, 4096, 12.25};
  return m;
}

const MasterKey& Master() {
  static const MasterKey kKey = MasterKey::Generate();
  return kKey;
}

std::string Encode(const Manifest& m) {
  auto data = EncodeManifest(Master(), m);
  EXPECT_TRUE(data.has_value()) << data.error().ToString();
  return data.value_or("");
}

Result<Manifest> Decode(std::string_view data, std::string_view key = {}) {
  const std::string object = key.empty() ? ManifestKey(kId) : std::string(key);
  return DecodeManifest(Master(), data, object, "memory/" + object);
}

TEST(ManifestTest, RoundTripKeepsEveryField) {
  const Manifest m = Sample();
  auto decoded = Decode(Encode(m));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_TRUE(*decoded == m);
  // Spot checks, so a broken operator== cannot hide a lost field.
  EXPECT_EQ(decoded->pg.system_identifier, "7301234567890123456");
  EXPECT_EQ(decoded->stop_lsn, 0x16B5000000U);
  EXPECT_EQ(decoded->stop_xmin, (std::uint64_t{2} << 32) | 4000000000U);
  EXPECT_EQ(decoded->files[1].link_target, "/srv/tblspc/fast");
  EXPECT_EQ(decoded->files[2].mtime_ns, -1);
  EXPECT_EQ(decoded->files.back().checksum_failures.back(), 4000000000U);
  EXPECT_EQ(decoded->relations[2].relfilenode, 0U);
  EXPECT_EQ(decoded->relations[3].relkind, 'i');
  EXPECT_EQ(decoded->row_counts.at("public.orders"), 123456789012U);
  EXPECT_EQ(decoded->stats.duration_seconds, 12.25);
  EXPECT_EQ(decoded->ChunkCount(), 12U);
}

TEST(ManifestTest, RoundTripOfALargeManifest) {
  // ~100 GiB at 1 MiB chunks: 3000 files, 102000 chunk ids.
  const Manifest m = Sample(3000, 34);
  const std::string data = Encode(m);
  EXPECT_LT(data.size(), m.ChunkCount() * 34) << "chunk ids are stored as 32 raw bytes";
  auto decoded = Decode(data);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_EQ(decoded->ChunkCount(), 102000U);
  EXPECT_TRUE(*decoded == m);
}

TEST(ManifestTest, BodiesOverOneFrameRoundTrip) {
  // 600000 chunk ids are 19.2 MB of body: two zstd frames of at most 16 MiB.
  const Manifest m = Sample(100, 6000);
  ASSERT_GT(internal::EncodeManifestBody(m).size(), std::size_t{16} << 20);
  auto decoded = Decode(Encode(m));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().ToString();
  EXPECT_TRUE(*decoded == m);
}

TEST(ManifestTest, AFlippedByteAnywhereIsCorrupt) {
  const std::string data = Encode(Sample());
  for (std::size_t i = 0; i < data.size(); ++i) {
    std::string damaged = data;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x01);
    auto decoded = Decode(damaged);
    ASSERT_FALSE(decoded.has_value()) << "byte " << i;
    // Byte 4 is the version: a damaged one reads as a version this drctl does not know.
    const ErrorCode expected = i == 4 ? ErrorCode::kUnsupported : ErrorCode::kCorrupt;
    ASSERT_EQ(decoded.error().code(), expected)
        << "byte " << i << ": " << decoded.error().ToString();
    ASSERT_NE(decoded.error().message().find(ManifestKey(kId)), std::string::npos);
  }
}

TEST(ManifestTest, TruncatedIsCorrupt) {
  const std::string data = Encode(Sample());
  for (std::size_t n = 0; n < data.size(); ++n) {
    auto decoded = Decode(std::string_view(data).substr(0, n));
    ASSERT_FALSE(decoded.has_value()) << n;
    ASSERT_EQ(decoded.error().code(), ErrorCode::kCorrupt) << n;
  }
  auto decoded = Decode(std::string_view(data).substr(0, 3));
  EXPECT_NE(decoded.error().message().find("no manifest header"), std::string::npos);
}

TEST(ManifestTest, WrongMasterKeyIsCorrupt) {
  const std::string data = Encode(Sample());
  auto decoded = DecodeManifest(MasterKey::Generate(), data, ManifestKey(kId), "repo/x");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(decoded.error().message().find("failed authentication"), std::string::npos);
  EXPECT_FALSE(decoded.error().hint().empty());
}

TEST(ManifestTest, AManifestMovedToAnotherKeyIsCorrupt) {
  const std::string data = Encode(Sample());
  auto decoded = Decode(data, ManifestKey("20261126T190000Z-a1b2"));
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(decoded.error().message().find("failed authentication"), std::string::npos);
}

TEST(ManifestTest, UnknownVersionIsUnsupported) {
  std::string data = Encode(Sample());
  data[4] = 2;
  auto decoded = Decode(data);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kUnsupported);
  EXPECT_NE(decoded.error().message().find("format version 2"), std::string::npos);
  EXPECT_NE(decoded.error().hint().find("upgrade drctl"), std::string::npos);
}

TEST(ManifestTest, NotAManifestIsCorrupt) {
  auto decoded = Decode("DRIX\x01 something else entirely, long enough to have a header");
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(decoded.error().message().find("no manifest header"), std::string::npos);
}

TEST(ManifestTest, EncodeRefusesAnInvalidManifest) {
  struct Case {
    const char* field;
    std::function<void(Manifest&)> breaks;
  };
  const std::vector<Case> cases = {
      {"backup_id", [](Manifest& m) { m.backup_id = "20261325T190000Z-a1b2"; }},
      {"backup_id", [](Manifest& m) { m.backup_id = "20261125T190000Z-A1B2"; }},
      {"status", [](Manifest& m) { m.status = BackupStatus::kComplete; }},
      {"drctl_version", [](Manifest& m) { m.drctl_version.clear(); }},
      {"pg.system_identifier",
       [](Manifest& m) { m.pg.system_identifier = "18446744073709551616"; }},
      {"pg.system_identifier", [](Manifest& m) { m.pg.system_identifier = "12a"; }},
      {"pg.version_num", [](Manifest& m) { m.pg.version_num = 15; }},
      {"pg.timeline", [](Manifest& m) { m.pg.timeline = 0; }},
      {"stop_lsn", [](Manifest& m) { m.stop_lsn = m.start_lsn - 1; }},
      {"stop_time", [](Manifest& m) { m.stop_time = m.start_time - 1; }},
      {"start_wal", [](Manifest& m) { m.start_wal = "00000003000000160000001g"; }},
      {"stop_wal", [](Manifest& m) { m.stop_wal = "000000030000001600000017.partial"; }},
      {"backup_label", [](Manifest& m) { m.backup_label.clear(); }},
      {"tablespaces[0].location", [](Manifest& m) { m.tablespaces[0].location = "rel/path"; }},
      {"files[3].path", [](Manifest& m) { m.files[3].path = "base/../../etc/passwd"; }},
      {"files[3].path", [](Manifest& m) { m.files[3].path = "/etc/passwd"; }},
      {"files[3].path", [](Manifest& m) { m.files[3].path = "base//5"; }},
      {"files[4].path", [](Manifest& m) { m.files[4].path = m.files[3].path; }},
      {"files[3].mode", [](Manifest& m) { m.files[3].mode = 010000; }},
      {"files[3].chunks", [](Manifest& m) { m.files[3].chunks.clear(); }},
      {"files[0].chunks", [](Manifest& m) { m.files[0].chunks.push_back(Id(1)); }},
      {"files[1].link_target", [](Manifest& m) { m.files[1].link_target.clear(); }},
      {"files[6].checksum_failures",
       [](Manifest& m) {
         m.files[6].checksum_failures = {3, 3};
       }},
      {"databases[1].oid", [](Manifest& m) { m.databases[1].oid = 5; }},
      {"relations[0].database_oid", [](Manifest& m) { m.relations[0].database_oid = 1; }},
      {"relations[0].relkind", [](Manifest& m) { m.relations[0].relkind = 'x'; }},
      {"row_counts", [](Manifest& m) { m.row_counts[""] = 1; }},
      {"stats.duration_seconds", [](Manifest& m) { m.stats.duration_seconds = -1; }},
  };
  for (const auto& c : cases) {
    Manifest m = Sample();
    c.breaks(m);
    auto data = EncodeManifest(Master(), m);
    ASSERT_FALSE(data.has_value()) << c.field;
    EXPECT_EQ(data.error().code(), ErrorCode::kInternal) << c.field;
    EXPECT_NE(data.error().message().find(c.field), std::string::npos)
        << c.field << ": " << data.error().message();
    // The reader applies the same rules to an authentic object.
    auto decoded = Decode(internal::EncodeManifestUnchecked(Master(), m), ManifestKey(m.backup_id));
    ASSERT_FALSE(decoded.has_value()) << c.field;
    EXPECT_EQ(decoded.error().code(), ErrorCode::kCorrupt) << c.field;
    EXPECT_NE(decoded.error().message().find(c.field), std::string::npos)
        << c.field << ": " << decoded.error().message();
  }
}

TEST(ManifestTest, BodyParsingIsStrict) {
  const std::string body = internal::EncodeManifestBody(Sample());
  ASSERT_TRUE(internal::DecodeManifestBody(body, "b").has_value());
  for (std::size_t n = 0; n < body.size(); ++n) {
    auto decoded = internal::DecodeManifestBody(std::string_view(body).substr(0, n), "b");
    ASSERT_FALSE(decoded.has_value()) << n;
    ASSERT_EQ(decoded.error().code(), ErrorCode::kCorrupt) << n;
  }
  auto trailing = internal::DecodeManifestBody(body + "x", "b");
  ASSERT_FALSE(trailing.has_value());
  EXPECT_NE(trailing.error().message().find("1 unexpected trailing bytes"), std::string::npos);

  // A count far beyond the body is refused before anything is allocated for it.
  std::string huge;
  PutU32(huge, 0);  // empty strings and zero numbers up to the tablespace count
  PutU32(huge, 0);
  huge.push_back('\0');
  for (int i = 0; i < 3; ++i) PutU32(huge, 0);
  PutU32(huge, 0);                              // version_num, timeline
  for (int i = 0; i < 5; ++i) PutU64(huge, 0);  // start/stop lsn, start/stop time, stop_xmin
  for (int i = 0; i < 4; ++i) PutU32(huge, 0);
  PutU32(huge, 0xffffffffU);  // tablespaces
  auto counted = internal::DecodeManifestBody(huge, "b");
  ASSERT_FALSE(counted.has_value());
  EXPECT_NE(counted.error().message().find("tablespaces: count 4294967295 exceeds"),
            std::string::npos)
      << counted.error().message();
}

TEST(ManifestTest, PlaintextFramesAreChecked) {
  // One frame holding 100 raw bytes claims more than the caller allows.
  std::string plain;
  PutU32(plain, 100);
  PutU32(plain, 1);
  plain.push_back('x');
  auto small = internal::DecodeManifestPlaintext(plain, "p", 50);
  ASSERT_FALSE(small.has_value());
  EXPECT_NE(small.error().message().find("body larger than 50 bytes"), std::string::npos);
  auto garbage = internal::DecodeManifestPlaintext(plain, "p");
  ASSERT_FALSE(garbage.has_value());
  EXPECT_EQ(garbage.error().code(), ErrorCode::kCorrupt);
  auto empty = internal::DecodeManifestPlaintext("", "p");
  ASSERT_FALSE(empty.has_value());
  EXPECT_NE(empty.error().message().find("empty body"), std::string::npos);
  std::string oversized;
  PutU32(oversized, (16U << 20) + 1);
  PutU32(oversized, 1);
  oversized.push_back('x');
  auto frame = internal::DecodeManifestPlaintext(oversized, "p");
  ASSERT_FALSE(frame.has_value());
  EXPECT_NE(frame.error().message().find("out of range"), std::string::npos);
}

TEST(ManifestTest, BackupIdsAndKeys) {
  EXPECT_TRUE(IsValidBackupId("20261125T190000Z-a1b2"));
  EXPECT_TRUE(IsValidBackupId("20261231T235960Z-0000"));
  EXPECT_FALSE(IsValidBackupId(""));
  EXPECT_FALSE(IsValidBackupId("20261125T190000Z-a1b"));
  EXPECT_FALSE(IsValidBackupId("20261125T190000Z-a1b2c"));
  EXPECT_FALSE(IsValidBackupId("20261125T240000Z-a1b2"));
  EXPECT_FALSE(IsValidBackupId("20261100T190000Z-a1b2"));
  EXPECT_FALSE(IsValidBackupId("20261125 190000Z-a1b2"));
  EXPECT_FALSE(IsValidBackupId("2026112xT190000Z-a1b2"));
  EXPECT_EQ(ManifestKey(kId), "backups/20261125T190000Z-a1b2.manifest");
  EXPECT_EQ(BackupIdOfKey("backups/20261125T190000Z-a1b2.manifest").value_or(""), kId);
  EXPECT_FALSE(BackupIdOfKey("backups/20261125T190000Z-a1b2.manifest.tmp").has_value());
  EXPECT_FALSE(BackupIdOfKey("backups/x/20261125T190000Z-a1b2.manifest").has_value());
  EXPECT_FALSE(BackupIdOfKey("index/20261125T190000Z-a1b2.manifest").has_value());
  EXPECT_EQ(BackupStatusName(BackupStatus::kCompleteWithChecksumFailures),
            "complete_with_checksum_failures");
  EXPECT_EQ(FileTypeName(FileType::kDirectory), "dir");
}

}  // namespace
}  // namespace drctl::catalog
