#include "catalog/key_slot.h"

#include <gtest/gtest.h>

namespace drctl::catalog {
namespace {

constexpr ScryptParams kFast{1024, 8, 1};  // tests only: real slots use the defaults

TEST(KeySlot, WrapsAndUnwrapsTheMasterKey) {
  const MasterKey master = MasterKey::Generate();
  const KeySlot slot =
      KeySlot::Create(master, "correct horse", "repo1", SlotKind::kPassphrase, "initial", kFast);
  auto opened = slot.Unwrap("correct horse", "repo1");
  ASSERT_TRUE(opened.has_value()) << opened.error().ToString();
  EXPECT_EQ(opened->Bytes(), master.Bytes());
}

TEST(KeySlot, WrongSecretIsWrongSecret) {
  const KeySlot slot =
      KeySlot::Create(MasterKey::Generate(), "right", "repo1", SlotKind::kPassphrase, "x", kFast);
  auto r = slot.Unwrap("wrong", "repo1");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code(), ErrorCode::kWrongSecret);
  EXPECT_NE(r.error().message().find(slot.slot_id), std::string::npos);
}

TEST(KeySlot, SlotIsBoundToItsRepository) {
  const KeySlot slot =
      KeySlot::Create(MasterKey::Generate(), "s", "repo1", SlotKind::kPassphrase, "x", kFast);
  EXPECT_EQ(slot.Unwrap("s", "repo2").error().code(), ErrorCode::kWrongSecret);
}

TEST(KeySlot, JsonRoundTripAndNoSecretInside) {
  const MasterKey master = MasterKey::Generate();
  const KeySlot slot =
      KeySlot::Create(master, "pass-word-123", "r", SlotKind::kKeyFile, "ops laptop", kFast);
  const std::string json = slot.ToJson();
  EXPECT_EQ(json.find("pass-word-123"), std::string::npos);
  auto back = KeySlot::FromJson(json, "keys/x.json");
  ASSERT_TRUE(back.has_value()) << back.error().ToString();
  EXPECT_EQ(back->slot_id, slot.slot_id);
  EXPECT_EQ(back->kind, SlotKind::kKeyFile);
  EXPECT_EQ(back->label, "ops laptop");
  EXPECT_EQ(back->Unwrap("pass-word-123", "r").value().Bytes(), master.Bytes());
}

void ExpectCorrupt(const std::string& json, std::string_view fragment) {
  auto r = KeySlot::FromJson(json, "keys/bad.json");
  ASSERT_FALSE(r.has_value()) << json;
  EXPECT_EQ(r.error().code(), ErrorCode::kCorrupt);
  EXPECT_NE(r.error().message().find(fragment), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("keys/bad.json"), std::string::npos);
}

TEST(KeySlot, DamagedSlotsAreCorrupt) {
  const std::string good =
      KeySlot::Create(MasterKey::Generate(), "s", "r", SlotKind::kPassphrase, "x", kFast).ToJson();
  ExpectCorrupt("not json", "not a valid JSON object");
  ExpectCorrupt(good.substr(0, good.size() / 2), "not a valid JSON object");
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  ExpectCorrupt(replace("\"n\": 1024", "\"n\": 1000"), "not a power of 2");
  ExpectCorrupt(replace("\"n\": 1024", "\"n\": 1073741824"), "field 'n'");
  ExpectCorrupt(replace("\"r\": 8", "\"r\": 1000"), "field 'r'");
  ExpectCorrupt(replace("\"kind\": \"passphrase\"", "\"kind\": \"magic\""), "unknown slot kind");
  ExpectCorrupt(replace("\"name\": \"scrypt\"", "\"name\": \"md5\""), "unknown kdf");
  ExpectCorrupt(replace("\"wrapped_key\"", "\"wrapped\""), "field 'wrapped_key' is missing");
}

}  // namespace
}  // namespace drctl::catalog
