// Strict reading of the small JSON documents the repository stores (repository description, key
// slots, locks): every field is checked for presence and type, and a bad document is kCorrupt
// naming the object and the field. nlohmann::json is used without exceptions.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace drctl::catalog {

class JsonFields {
 public:
  // Parses `text`; kCorrupt naming `object` if it is not a JSON object.
  static Result<JsonFields> Parse(std::string_view text, std::string object);

  Result<std::string> String(std::string_view field) const;
  Result<std::int64_t> Int(std::string_view field, std::int64_t min, std::int64_t max) const;
  // Base64 field decoded; kCorrupt if not valid base64 or not `expected_size` bytes (0: any).
  Result<std::vector<std::uint8_t>> Bytes(std::string_view field, std::size_t expected_size) const;
  // Lowercase hex field decoded, exactly `expected_size` bytes.
  Result<std::vector<std::uint8_t>> Hex(std::string_view field, std::size_t expected_size) const;
  Result<JsonFields> Object(std::string_view field) const;
  bool IsNull(std::string_view field) const;

 private:
  JsonFields(nlohmann::json json, std::string object)
      : json_(std::move(json)), object_(std::move(object)) {}
  Result<const nlohmann::json*> Get(std::string_view field) const;
  std::unexpected<Error> Bad(std::string_view field, std::string_view why) const;

  nlohmann::json json_;
  std::string object_;
};

std::string EncodeBase64(std::span<const std::uint8_t> bytes);
Result<std::vector<std::uint8_t>> DecodeBase64(std::string_view text);
Result<std::vector<std::uint8_t>> DecodeHex(std::string_view text);

// RFC 3339 UTC with seconds ("2026-11-25T18:00:00Z") of a Unix time, and back.
std::string FormatUtc(std::int64_t unix_seconds);
Result<std::int64_t> ParseUtc(std::string_view text);

}  // namespace drctl::catalog
