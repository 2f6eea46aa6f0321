#include "catalog/memory_kek_cache.h"

#include <gtest/gtest.h>

namespace drctl::catalog {
namespace {

KeySlot Slot(std::string id, std::vector<std::uint8_t> salt) {
  KeySlot s;
  s.slot_id = std::move(id);
  s.salt = std::move(salt);
  s.kdf.n = 1024;
  return s;
}

TEST(MemoryKekCache, HitsOnlyForTheSameSlotSaltParametersAndSecret) {
  MemoryKekCache cache;
  const KeySlot slot = Slot("0011223344556677", {1, 2, 3});
  Key32 kek{};
  kek[0] = 42;
  EXPECT_FALSE(cache.Find(slot, "secret").has_value());
  cache.Remember(slot, "secret", kek);
  ASSERT_TRUE(cache.Find(slot, "secret").has_value());
  EXPECT_EQ(cache.Find(slot, "secret")->at(0), 42);
  EXPECT_FALSE(cache.Find(slot, "other secret").has_value()) << "a changed secret misses";
  EXPECT_FALSE(cache.Find(Slot("0011223344556677", {1, 2, 4}), "secret").has_value())
      << "a rewritten slot (new salt) misses";
  KeySlot costlier = slot;
  costlier.kdf.n = 2048;
  EXPECT_FALSE(cache.Find(costlier, "secret").has_value());
  EXPECT_FALSE(cache.Find(Slot("8899aabbccddeeff", {1, 2, 3}), "secret").has_value());
}

}  // namespace
}  // namespace drctl::catalog
