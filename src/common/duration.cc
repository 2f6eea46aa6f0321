#include "common/duration.h"

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

namespace drctl {
namespace {

constexpr std::array<std::pair<char, std::int64_t>, 5> kUnits = {
    {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}}};

Result<std::int64_t> UnitSeconds(char unit) {
  for (const auto& [c, secs] : kUnits) {
    if (c == unit) return secs;
  }
  return Fail(ErrorCode::kConfig, std::string("unknown duration unit '") + unit + "'",
              "use s, m, h, d or w, e.g. \"90s\", \"15m\", \"6h\", \"7d\"");
}

}  // namespace

Result<Seconds> ParseDuration(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  const std::string example = "write a number and a unit, e.g. \"90s\", \"15m\", \"1h30m\"";
  if (text.empty()) return Fail(ErrorCode::kConfig, "empty duration", example);
  std::int64_t total = 0;
  std::size_t i = 0;
  int last_rank = -1;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      return Fail(ErrorCode::kConfig, "invalid duration " + quoted, example);
    }
    std::int64_t number = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (number > (std::numeric_limits<std::int64_t>::max() - 9) / 10) {
        return Fail(ErrorCode::kConfig, "duration " + quoted + " is too large");
      }
      number = number * 10 + (text[i] - '0');
      ++i;
    }
    if (i == text.size()) {
      return Fail(ErrorCode::kConfig, "duration " + quoted + " has a number without a unit",
                  example);
    }
    auto unit = UnitSeconds(text[i]);
    if (!unit) return std::unexpected(unit.error().WithContext("duration " + quoted));
    int rank = 0;
    while (kUnits[static_cast<std::size_t>(rank)].first != text[i]) ++rank;
    if (rank <= last_rank) {
      return Fail(ErrorCode::kConfig, "duration " + quoted + " repeats or misorders its units",
                  "write larger units first, each once, e.g. \"1d12h\"");
    }
    last_rank = rank;
    if (number > (std::numeric_limits<std::int64_t>::max() - total) / *unit) {
      return Fail(ErrorCode::kConfig, "duration " + quoted + " is too large");
    }
    total += number * *unit;
    ++i;
  }
  return Seconds(total);
}

std::string FormatDuration(Seconds value) {
  std::int64_t rest = value.count();
  if (rest == 0) return "0s";
  std::string out;
  if (rest < 0) {
    out = "-";
    rest = -rest;
  }
  for (const auto& [unit, secs] : kUnits) {
    if (unit == 'w') continue;  // days read better than weeks in reports
    if (rest >= secs) {
      out += std::to_string(rest / secs) + unit;
      rest %= secs;
    }
  }
  return out;
}

}  // namespace drctl
