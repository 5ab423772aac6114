// Time, injected. Domain code never reads the system clock itself, so rules
// about deadlines and retention are tested on any date.
//
// Thread safety: implementations are safe to call from several threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace qorgau {

// Milliseconds since 1970-01-01T00:00:00Z.
using UnixMillis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual UnixMillis Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  UnixMillis Now() const override;
};

// A clock that stands still until moved; for tests and reproducible demos.
class FixedClock final : public Clock {
 public:
  explicit FixedClock(UnixMillis now) : now_(now) {}
  UnixMillis Now() const override { return now_.load(); }
  void Set(UnixMillis now) { now_.store(now); }
  void Advance(UnixMillis by) { now_.fetch_add(by); }

 private:
  std::atomic<UnixMillis> now_;
};

// "2026-11-26T09:27:34.123Z".
std::string FormatUtc(UnixMillis t);
// Parses FormatUtc's output (the fraction is optional).
Result<UnixMillis> ParseUtc(std::string_view text, std::string_view field);
// "YYYY-MM-DD" to a calendar date; the field names the input in errors.
Result<std::chrono::year_month_day> ParseDate(std::string_view text, std::string_view field);
std::string FormatDate(std::chrono::year_month_day d);
UnixMillis StartOfDayUtc(std::chrono::year_month_day d);

}  // namespace qorgau
