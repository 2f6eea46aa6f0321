#include "catalog/json_fields.h"

#include <openssl/evp.h>

#include <ctime>

#include "io/hash.h"

namespace drctl::catalog {

Result<JsonFields> JsonFields::Parse(std::string_view text, std::string object) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Fail(ErrorCode::kCorrupt, object + " is not a valid JSON object",
                "the object is damaged; restore it from another repository (drctl verify)");
  }
  return JsonFields(std::move(json), std::move(object));
}

std::unexpected<Error> JsonFields::Bad(std::string_view field, std::string_view why) const {
  return Fail(ErrorCode::kCorrupt,
              object_ + ": field '" + std::string(field) + "' " + std::string(why),
              "the object is damaged or was written by an incompatible drctl");
}

Result<const nlohmann::json*> JsonFields::Get(std::string_view field) const {
  auto it = json_.find(field);
  if (it == json_.end()) return Bad(field, "is missing");
  return &*it;
}

bool JsonFields::IsNull(std::string_view field) const {
  auto it = json_.find(field);
  return it == json_.end() || it->is_null();
}

Result<std::string> JsonFields::String(std::string_view field) const {
  auto v = Get(field);
  if (!v) return std::unexpected(v.error());
  if (!(*v)->is_string()) return Bad(field, "is not a string");
  return (*v)->get<std::string>();
}

Result<std::int64_t> JsonFields::Int(std::string_view field, std::int64_t min,
                                     std::int64_t max) const {
  auto v = Get(field);
  if (!v) return std::unexpected(v.error());
  if (!(*v)->is_number_integer()) return Bad(field, "is not an integer");
  const auto n = (*v)->get<std::int64_t>();
  if (n < min || n > max) {
    return Bad(field, "is " + std::to_string(n) + ", outside " + std::to_string(min) + ".." +
                          std::to_string(max));
  }
  return n;
}

Result<std::vector<std::uint8_t>> JsonFields::Bytes(std::string_view field,
                                                    std::size_t expected_size) const {
  auto s = String(field);
  if (!s) return std::unexpected(s.error());
  auto bytes = DecodeBase64(*s);
  if (!bytes) return Bad(field, "is not valid base64");
  if (expected_size != 0 && bytes->size() != expected_size) {
    return Bad(field, "has " + std::to_string(bytes->size()) + " bytes, expected " +
                          std::to_string(expected_size));
  }
  return bytes;
}

Result<std::vector<std::uint8_t>> JsonFields::Hex(std::string_view field,
                                                  std::size_t expected_size) const {
  auto s = String(field);
  if (!s) return std::unexpected(s.error());
  auto bytes = DecodeHex(*s);
  if (!bytes || bytes->size() != expected_size) {
    return Bad(field, "is not " + std::to_string(expected_size) + " bytes of lowercase hex");
  }
  return bytes;
}

Result<JsonFields> JsonFields::Object(std::string_view field) const {
  auto v = Get(field);
  if (!v) return std::unexpected(v.error());
  if (!(*v)->is_object()) return Bad(field, "is not an object");
  return JsonFields(**v, object_ + "." + std::string(field));
}

std::string EncodeBase64(std::span<const std::uint8_t> bytes) { return io::Base64(bytes); }

Result<std::vector<std::uint8_t>> DecodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return Fail(ErrorCode::kCorrupt, "base64 length not a multiple of 4");
  std::vector<std::uint8_t> out(text.size() / 4 * 3);
  const int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                static_cast<int>(text.size()));
  if (n < 0) return Fail(ErrorCode::kCorrupt, "invalid base64");
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (!text.empty() && text.back() == '=') --size;
  if (text.size() > 1 && text[text.size() - 2] == '=') --size;
  out.resize(size);
  return out;
}

Result<std::vector<std::uint8_t>> DecodeHex(std::string_view text) {
  if (text.size() % 2 != 0) return Fail(ErrorCode::kCorrupt, "odd hex length");
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = nibble(text[i]);
    const int lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return Fail(ErrorCode::kCorrupt, "invalid hex");
    out.push_back(static_cast<std::uint8_t>(hi * 16 + lo));
  }
  return out;
}

std::string FormatUtc(std::int64_t unix_seconds) {
  const std::time_t t = unix_seconds;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Result<std::int64_t> ParseUtc(std::string_view text) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return Fail(ErrorCode::kCorrupt, "\"" + s + "\" is not a UTC time like 2026-11-25T18:00:00Z");
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace drctl::catalog
