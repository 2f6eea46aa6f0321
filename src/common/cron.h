// Five-field cron expressions ("minute hour day-of-month month day-of-week") for schedules, as in
// Vixie cron: lists "1,5", ranges "1-5", steps "*/15" and "10-50/20", month and weekday names
// ("jan", "mon"), 0 and 7 both Sunday, and the macros @hourly @daily @weekly @monthly @yearly.
// When both day fields are restricted, a day matches if either matches (cron's rule).
// Times are evaluated in UTC. "@every DURATION" ("@every 30s", "@every 2h") fires at every
// multiple of the duration since the Unix epoch (so a restart does not shift it); it is for short
// test schedules and intervals that do not divide an hour or a day.
#pragma once

#include <bitset>
#include <chrono>
#include <string>
#include <string_view>

#include "common/result.h"

namespace drctl {

class CronExpr {
 public:
  using TimePoint = std::chrono::sys_seconds;

  // Parses `text`; errors (kConfig) name the field and the offending part. An expression that
  // can never fire (e.g. "0 0 30 2 *") is an error too.
  static Result<CronExpr> Parse(std::string_view text);

  // The first matching minute strictly after `after`. Weekdays and leap years repeat every 28
  // years, so a parsed expression fires within that window and the result is a real time (for
  // dates in 1901-2099).
  TimePoint Next(TimePoint after) const;

  bool Matches(TimePoint t) const;
  const std::string& text() const { return text_; }

 private:
  bool DayMatches(int mday, int month, int wday) const;

  std::string text_;
  std::chrono::seconds every_{0};  // > 0 for "@every DURATION"
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0..6, Sunday = 0
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace drctl
