#include "io/kdf.h"

#include <gtest/gtest.h>

#include <string>

#include "io/hash.h"

namespace drctl::io {
namespace {

std::string Range(int first, int last) {  // bytes first..last inclusive
  std::string out;
  for (int b = first; b <= last; ++b) out.push_back(static_cast<char>(b));
  return out;
}

std::string Hkdf(const std::string& ikm, const std::string& salt, const std::string& info,
                 std::size_t length) {
  auto okm = HkdfSha256(AsBytes(ikm), AsBytes(salt), info, length);
  if (!okm) return "error: " + okm.error().message();
  return ToHex(*okm);
}

// RFC 5869, appendix A.
TEST(HkdfSha256, Rfc5869Case1) {
  EXPECT_EQ(Hkdf(std::string(22, '\x0b'), Range(0x00, 0x0c), Range(0xf0, 0xf9), 42),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

TEST(HkdfSha256, Rfc5869Case2LongInputs) {
  EXPECT_EQ(Hkdf(Range(0x00, 0x4f), Range(0x60, 0xaf), Range(0xb0, 0xff), 82),
            "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f1d87");
}

TEST(HkdfSha256, Rfc5869Case3EmptySaltAndInfo) {
  EXPECT_EQ(Hkdf(std::string(22, '\x0b'), "", "", 42),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, DifferentInfoGivesIndependentKeys) {
  EXPECT_NE(Hkdf("master", "", "drctl chunk-id", 32), Hkdf("master", "", "drctl data", 32));
}

TEST(HkdfSha256, RefusesBadLengthsAsInternal) {
  for (std::size_t length : {std::size_t{0}, kHkdfSha256MaxLength + 1}) {
    auto r = HkdfSha256(AsBytes("key"), {}, "info", length);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
    EXPECT_NE(r.error().message().find("outside 1..8160"), std::string::npos);
  }
  EXPECT_EQ(HkdfSha256(AsBytes("key"), {}, "", kHkdfSha256MaxLength).value().size(), 8160U);
  auto empty = HkdfSha256({}, {}, "info", 32);
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInternal);
}

std::string ScryptHex(std::string_view passphrase, const std::string& salt, std::uint64_t n,
                      std::uint32_t r, std::uint32_t p) {
  auto key = Scrypt(passphrase, AsBytes(salt), n, r, p, 64);
  if (!key) return "error: " + key.error().message();
  return ToHex(*key);
}

// RFC 7914, section 12.
TEST(Scrypt, Rfc7914EmptyPassphraseAndSalt) {
  EXPECT_EQ(ScryptHex("", "", 16, 1, 1),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
            "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
}

TEST(Scrypt, Rfc7914PasswordNaCl) {
  EXPECT_EQ(ScryptHex("password", "NaCl", 1024, 8, 16),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
            "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
}

void ExpectRefused(std::uint64_t n, std::uint32_t r, std::uint32_t p, std::string_view fragment) {
  auto validated = ValidateScryptParams(n, r, p);
  ASSERT_FALSE(validated.has_value());
  EXPECT_EQ(validated.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(validated.error().message().find(fragment), std::string::npos)
      << validated.error().message();
  EXPECT_NE(validated.error().hint().find("damaged"), std::string::npos);
  // Scrypt refuses the same way, before allocating anything.
  auto key = Scrypt("pass", AsBytes("salt"), n, r, p, 32);
  ASSERT_FALSE(key.has_value());
  EXPECT_EQ(key.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(key.error().message(), validated.error().message());
}

TEST(Scrypt, RefusesAbsurdStoredParametersAsCorrupt) {
  ExpectRefused(1000, 8, 1, "N=1000 r=8 p=1: N is not a power of two greater than 1");
  ExpectRefused(1, 8, 1, "N is not a power of two");
  ExpectRefused(0, 8, 1, "N is not a power of two");
  ExpectRefused(1024, 0, 1, "r and p must be at least 1");
  ExpectRefused(1024, 8, 0, "r and p must be at least 1");
  ExpectRefused(1024, 8, 17, "p exceeds the limit of 16");
  ExpectRefused(std::uint64_t{1} << 21, 8, 1, "more than the 1024 MiB memory limit");
  ExpectRefused(std::uint64_t{1} << 63, 1, 1, "memory limit");
  ExpectRefused(2, 0xffffffffU, 1, "memory limit");
}

TEST(Scrypt, AcceptsTheLimitsAndTheDefaults) {
  EXPECT_TRUE(ValidateScryptParams(std::uint64_t{1} << 20, 8, 1).has_value());  // exactly 1 GiB
  EXPECT_TRUE(ValidateScryptParams(2, 1, kScryptMaxP).has_value());
  EXPECT_TRUE(ValidateScryptParams(kScryptDefaultN, kScryptDefaultR, kScryptDefaultP).has_value());
}

TEST(Scrypt, RefusesBadLengthsAsInternal) {
  for (std::size_t length : {std::size_t{0}, kScryptMaxLength + 1}) {
    auto r = Scrypt("pass", AsBytes("salt"), 16, 1, 1, length);
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code(), ErrorCode::kInternal);
    EXPECT_NE(r.error().message().find("outside 1..1024"), std::string::npos);
  }
}

}  // namespace
}  // namespace drctl::io
