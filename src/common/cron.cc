#include "common/cron.h"

#include <array>
#include <charconv>
#include <ctime>
#include <vector>

#include "common/duration.h"

namespace drctl {
namespace {

struct FieldSpec {
  const char* name;
  int min;
  int max;
  std::array<std::string_view, 12> names;  // names[i] is value min+i (months) or i (weekdays)
};

constexpr FieldSpec kMinute{"minute", 0, 59, {}};
constexpr FieldSpec kHour{"hour", 0, 23, {}};
constexpr FieldSpec kDay{"day-of-month", 1, 31, {}};
constexpr FieldSpec kMonth{
    "month",
    1,
    12,
    {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}};
constexpr FieldSpec kWeekday{
    "day-of-week", 0, 7, {"sun", "mon", "tue", "wed", "thu", "fri", "sat"}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Error FieldError(const FieldSpec& spec, std::string_view part, std::string_view why) {
  return Error(ErrorCode::kConfig,
               std::string("cron ") + spec.name + " field \"" + std::string(part) +
                   "\": " + std::string(why),
               "5 fields: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"");
}

Result<int> ParseValue(const FieldSpec& spec, std::string_view text, std::string_view part) {
  const std::string lower = Lower(text);
  for (std::size_t i = 0; i < spec.names.size(); ++i) {
    if (!spec.names[i].empty() && spec.names[i] == lower) {
      return static_cast<int>(i) + (spec.min == 1 ? 1 : 0);
    }
  }
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || text.empty()) {
    return std::unexpected(FieldError(spec, part, "\"" + std::string(text) + "\" is not a value"));
  }
  if (value < spec.min || value > spec.max) {
    return std::unexpected(FieldError(spec, part,
                                      std::to_string(value) + " is outside " +
                                          std::to_string(spec.min) + "-" +
                                          std::to_string(spec.max)));
  }
  return value;
}

// Parses one comma-separated element into [lo, hi] with `step`.
Status ParseElement(const FieldSpec& spec, std::string_view part, std::vector<bool>& out) {
  std::string_view range = part;
  int step = 1;
  if (auto slash = part.find('/'); slash != std::string_view::npos) {
    range = part.substr(0, slash);
    std::string_view step_text = part.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
    if (ec != std::errc() || ptr != step_text.data() + step_text.size() || step_text.empty() ||
        step < 1 || step > spec.max) {
      return std::unexpected(FieldError(spec, part, "bad step"));
    }
  }
  int lo = spec.min;
  int hi = spec.max;
  if (range != "*") {
    auto dash = range.find('-');
    auto first = ParseValue(spec, range.substr(0, dash), part);
    if (!first) return std::unexpected(first.error());
    lo = *first;
    hi = range.size() < part.size() ? spec.max : lo;  // "5/15" runs from 5 to the end
    if (dash != std::string_view::npos) {
      auto last = ParseValue(spec, range.substr(dash + 1), part);
      if (!last) return std::unexpected(last.error());
      hi = *last;
      if (hi < lo) return std::unexpected(FieldError(spec, part, "range runs backwards"));
    }
  }
  for (int v = lo; v <= hi; v += step) out[static_cast<std::size_t>(v)] = true;
  return Ok();
}

Result<std::vector<bool>> ParseField(const FieldSpec& spec, std::string_view field) {
  std::vector<bool> out(static_cast<std::size_t>(spec.max) + 1, false);
  std::size_t start = 0;
  while (true) {
    auto comma = field.find(',', start);
    auto part = field.substr(start, comma == std::string_view::npos ? comma : comma - start);
    if (part.empty()) return std::unexpected(FieldError(spec, field, "empty list element"));
    DRCTL_TRY(ParseElement(spec, part, out));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

template <std::size_t N>
std::bitset<N> ToBits(const std::vector<bool>& v) {
  std::bitset<N> bits;
  for (std::size_t i = 0; i < N && i < v.size(); ++i) bits[i] = v[i];
  return bits;
}

std::string_view ExpandMacro(std::string_view text) {
  if (text == "@hourly") return "0 * * * *";
  if (text == "@daily" || text == "@midnight") return "0 0 * * *";
  if (text == "@weekly") return "0 0 * * 0";
  if (text == "@monthly") return "0 0 1 * *";
  if (text == "@yearly" || text == "@annually") return "0 0 1 1 *";
  return text;
}

std::tm ToTm(CronExpr::TimePoint t) {
  std::time_t tt = t.time_since_epoch().count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

CronExpr::TimePoint FromTm(std::tm tm) {
  return CronExpr::TimePoint(std::chrono::seconds(timegm(&tm)));
}

}  // namespace

Result<CronExpr> CronExpr::Parse(std::string_view text) {
  if (text.starts_with("@every")) {
    std::string_view rest = text.substr(6);
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    auto every = ParseDuration(rest);
    if (!every || every->count() <= 0) {
      return Fail(ErrorCode::kConfig,
                  "cron expression \"" + std::string(text) + "\": @every needs a duration above 0",
                  "e.g. \"@every 30s\" or \"@every 2h\"");
    }
    CronExpr expr;
    expr.text_ = std::string(text);
    expr.every_ = *every;
    return expr;
  }
  std::string_view expanded = ExpandMacro(text);
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < expanded.size()) {
    while (i < expanded.size() && (expanded[i] == ' ' || expanded[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < expanded.size() && expanded[i] != ' ' && expanded[i] != '\t') ++i;
    if (i > start) fields.push_back(expanded.substr(start, i - start));
  }
  if (fields.size() != 5) {
    return Fail(ErrorCode::kConfig,
                "cron expression \"" + std::string(text) + "\" has " +
                    std::to_string(fields.size()) + " fields, expected 5",
                "5 fields: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"");
  }
  CronExpr expr;
  expr.text_ = std::string(text);
  auto minutes = ParseField(kMinute, fields[0]);
  if (!minutes) return std::unexpected(minutes.error());
  auto hours = ParseField(kHour, fields[1]);
  if (!hours) return std::unexpected(hours.error());
  auto days = ParseField(kDay, fields[2]);
  if (!days) return std::unexpected(days.error());
  auto months = ParseField(kMonth, fields[3]);
  if (!months) return std::unexpected(months.error());
  auto weekdays = ParseField(kWeekday, fields[4]);
  if (!weekdays) return std::unexpected(weekdays.error());
  if ((*weekdays)[7]) (*weekdays)[0] = true;  // 7 is Sunday too
  expr.minutes_ = ToBits<60>(*minutes);
  expr.hours_ = ToBits<24>(*hours);
  expr.days_ = ToBits<32>(*days);
  expr.months_ = ToBits<13>(*months);
  expr.weekdays_ = ToBits<7>(*weekdays);
  expr.days_restricted_ = fields[2][0] != '*';
  expr.weekdays_restricted_ = fields[4][0] != '*';
  if (expr.Next(TimePoint(std::chrono::seconds(0))) == TimePoint::max()) {
    return Fail(ErrorCode::kConfig, "cron expression \"" + std::string(text) + "\" never fires",
                "check the day-of-month against the month (e.g. there is no February 30)");
  }
  return expr;
}

bool CronExpr::DayMatches(int mday, int month, int wday) const {
  if (!months_[static_cast<std::size_t>(month)]) return false;
  const bool d = days_[static_cast<std::size_t>(mday)];
  const bool w = weekdays_[static_cast<std::size_t>(wday)];
  if (days_restricted_ && weekdays_restricted_) return d || w;
  return d && w;
}

bool CronExpr::Matches(TimePoint t) const {
  if (every_.count() > 0) return t.time_since_epoch().count() % every_.count() == 0;
  std::tm tm = ToTm(t);
  return tm.tm_sec == 0 && minutes_[static_cast<std::size_t>(tm.tm_min)] &&
         hours_[static_cast<std::size_t>(tm.tm_hour)] &&
         DayMatches(tm.tm_mday, tm.tm_mon + 1, tm.tm_wday);
}

CronExpr::TimePoint CronExpr::Next(TimePoint after) const {
  if (every_.count() > 0) {
    const auto n = after.time_since_epoch().count();
    const auto step = every_.count();
    const auto floor = n >= 0 ? n / step : (n - step + 1) / step;
    return TimePoint(std::chrono::seconds((floor + 1) * step));
  }
  // Walk forward a day at a time (a month at a time through months that never match) to a
  // matching day, then take its first matching hour and minute. Weekdays and leap years repeat
  // every 28 years (1901-2099), so a parsed expression fires within that window.
  std::tm tm = ToTm(after);
  tm.tm_sec = 0;
  tm.tm_min += 1;
  tm = ToTm(FromTm(tm));
  const auto limit = after + std::chrono::days(366 * 29);
  while (FromTm(tm) < limit) {
    if (!months_[static_cast<std::size_t>(tm.tm_mon) + 1]) {
      tm.tm_mon += 1;
      tm.tm_mday = 1;
      tm.tm_hour = 0;
      tm.tm_min = 0;
      tm = ToTm(FromTm(tm));
      continue;
    }
    if (DayMatches(tm.tm_mday, tm.tm_mon + 1, tm.tm_wday)) {
      for (int h = tm.tm_hour; h < 24; ++h) {
        if (!hours_[static_cast<std::size_t>(h)]) continue;
        for (int m = (h == tm.tm_hour ? tm.tm_min : 0); m < 60; ++m) {
          if (!minutes_[static_cast<std::size_t>(m)]) continue;
          tm.tm_hour = h;
          tm.tm_min = m;
          return FromTm(tm);
        }
      }
    }
    tm.tm_mday += 1;
    tm.tm_hour = 0;
    tm.tm_min = 0;
    tm = ToTm(FromTm(tm));
  }
  return TimePoint::max();  // never fires, e.g. "0 0 30 2 *"; Parse rejects those
}

}  // namespace drctl
