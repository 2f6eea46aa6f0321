#include "io/cipher.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "io/hash.h"
#include "io/random.h"

namespace drctl::io {
namespace {

std::string FromHex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

template <std::size_t N>
std::array<std::uint8_t, N> ArrayFromHex(std::string_view hex) {
  const std::string bytes = FromHex(hex);
  std::array<std::uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  for (std::size_t i = 0; i < N && i < bytes.size(); ++i) {
    out[i] = static_cast<std::uint8_t>(bytes[i]);
  }
  return out;
}

const std::array<std::uint8_t, kCipherKeySize> kKey = RandomArray<kCipherKeySize>();

void ExpectCorrupt(const Result<std::string>& r, std::string_view fragment) {
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message().find(fragment), std::string::npos)
      << "message: " << r.error().message();
  EXPECT_NE(r.error().hint().find("drctl verify"), std::string::npos);
}

TEST(Cipher, RoundTripsManySizes) {
  for (std::size_t size : {0UL, 1UL, 15UL, 16UL, 17UL, 4096UL, 1UL << 20}) {
    std::string plaintext(size, '\0');
    for (std::size_t i = 0; i < size; ++i) plaintext[i] = static_cast<char>(i * 131 + 7);
    const std::string sealed = Seal(kKey, plaintext, "chunk 1");
    EXPECT_EQ(sealed.size(), size + kSealOverhead);
    auto opened = Open(kKey, sealed, "chunk 1");
    ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(Cipher, NoncesAreFresh) { EXPECT_NE(Seal(kKey, "same", ""), Seal(kKey, "same", "")); }

struct GcmVector {
  const char* name;
  const char* key;
  const char* nonce;
  const char* aad;
  const char* plaintext;
  const char* ciphertext;
  const char* tag;
};

// McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 14 to 16 (AES-256).
const GcmVector kVectors[] = {
    {"case 14", "0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "00000000000000000000000000000000",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"case 15", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"case 16", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(Cipher, KnownAnswerVectors) {
  for (const GcmVector& v : kVectors) {
    const auto key = ArrayFromHex<kCipherKeySize>(v.key);
    const auto nonce = ArrayFromHex<kNonceSize>(v.nonce);
    const std::string aad = FromHex(v.aad);
    std::string sealed;
    internal::SealWithNonce(key, nonce, FromHex(v.plaintext), aad, sealed);
    EXPECT_EQ(ToHex(AsBytes(sealed)), std::string(v.nonce) + v.ciphertext + v.tag) << v.name;
    auto opened = Open(key, sealed, aad);
    ASSERT_TRUE(opened.has_value()) << v.name;
    EXPECT_EQ(*opened, FromHex(v.plaintext)) << v.name;
  }
}

TEST(Cipher, EverySingleBitFlipFails) {
  const std::string sealed = Seal(kKey, "a tuple or two of PostgreSQL data", "chunk 7");
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = sealed;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      ExpectCorrupt(Open(kKey, damaged, "chunk 7"),
                    "authentication failed (wrong key or damaged data)");
    }
  }
}

TEST(Cipher, WrongKeyFails) {
  const std::string sealed = Seal(kKey, "secret", "aad");
  auto other = kKey;
  other[31] ^= 1;
  ExpectCorrupt(Open(other, sealed, "aad"), "authentication failed (wrong key or damaged data)");
}

TEST(Cipher, WrongAadFails) {
  const std::string sealed = Seal(kKey, "secret", "chunk 1");
  ExpectCorrupt(Open(kKey, sealed, "chunk 2"), "authentication failed");
  ExpectCorrupt(Open(kKey, sealed, ""), "authentication failed");
}

TEST(Cipher, TruncatedOrExtendedFails) {
  const std::string sealed = Seal(kKey, "sixteen bytes!!!", "");
  for (std::size_t n = 0; n < sealed.size(); ++n) {
    if (n < kSealOverhead) {
      ExpectCorrupt(Open(kKey, sealed.substr(0, n), ""),
                    "too short to be sealed data: " + std::to_string(n) + " bytes, at least 28");
    } else {
      ExpectCorrupt(Open(kKey, sealed.substr(0, n), ""), "authentication failed");
    }
  }
  ExpectCorrupt(Open(kKey, sealed + "x", ""), "authentication failed");
}

TEST(Cipher, EmptyPlaintext) {
  const std::string sealed = Seal(kKey, "", "aad");
  EXPECT_EQ(sealed.size(), kSealOverhead);
  auto opened = Open(kKey, sealed, "aad");
  ASSERT_TRUE(opened.has_value());
  EXPECT_EQ(*opened, "");
  ExpectCorrupt(Open(kKey, sealed, "other"), "authentication failed");
}

TEST(Cipher, AppendingOverloadsKeepThePrefix) {
  std::string sealed = "header:";
  Seal(kKey, "payload", "aad", sealed);
  ASSERT_EQ(sealed.substr(0, 7), "header:");
  std::string out = "prefix:";
  ASSERT_TRUE(Open(kKey, std::string_view(sealed).substr(7), "aad", out).has_value());
  EXPECT_EQ(out, "prefix:payload");

  std::string damaged = sealed.substr(7);
  damaged[kNonceSize] ^= 1;
  std::string untouched = "prefix:";
  auto status = Open(kKey, damaged, "aad", untouched);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::kCorrupt);
  EXPECT_EQ(untouched, "prefix:");
}

TEST(Cipher, ConcurrentUseFromManyThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (std::size_t t = 0; t < failures.size(); ++t) {
    threads.emplace_back([&failures, t] {
      const std::string aad = "thread " + std::to_string(t);
      for (int i = 0; i < 200; ++i) {
        const std::string plaintext(static_cast<std::size_t>(i) * 17, static_cast<char>(t));
        auto opened = Open(kKey, Seal(kKey, plaintext, aad), aad);
        if (!opened || *opened != plaintext) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

}  // namespace
}  // namespace drctl::io
