#include "io/hash.h"

#include <gtest/gtest.h>

namespace drctl::io {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Stream, MatchesOneShot) {
  Sha256Stream s;
  s.Update("a");
  s.Update("bc");
  EXPECT_EQ(s.Finish(), Sha256("abc"));
}

TEST(HmacSha256, Rfc4231Case2) {
  EXPECT_EQ(ToHex(HmacSha256(AsBytes("Jefe"), "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Md5AndBase64, ContentMd5OfEmptyBody) {
  EXPECT_EQ(Base64(Md5("")), "1B2M2Y8AsgTpgAmY7PhCfg==");
  EXPECT_EQ(Base64(AsBytes("ab")), "YWI=");
  EXPECT_EQ(Base64(AsBytes("")), "");
}

}  // namespace
TEST(Hash, HmacOfPartsEqualsHmacOfTheConcatenation) {
  const std::array<std::uint8_t, 4> key = {1, 2, 3, 4};
  const std::string a = "segment name";
  const std::string b(100000, 'w');
  const std::array<std::string_view, 3> parts = {a, std::string_view("\0", 1), b};
  EXPECT_EQ(HmacSha256(key, parts), HmacSha256(key, a + std::string(1, '\0') + b));
  EXPECT_NE(HmacSha256(key, parts), HmacSha256(key, a + b));
}

}  // namespace drctl::io
