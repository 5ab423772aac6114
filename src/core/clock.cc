#include "core/clock.h"

#include <cstdio>

namespace qorgau {

using namespace std::chrono;

UnixMillis SystemClock::Now() const {
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string FormatUtc(UnixMillis t) {
  const sys_days day = floor<days>(sys_time<milliseconds>(milliseconds(t)));
  const year_month_day ymd(day);
  const milliseconds in_day = milliseconds(t) - day.time_since_epoch();
  const hh_mm_ss<milliseconds> hms(in_day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

namespace {

bool ReadInt(std::string_view s, size_t pos, size_t len, int* out) {
  if (pos + len > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

Result<year_month_day> ParseDate(std::string_view text, std::string_view field) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-' || !ReadInt(text, 0, 4, &y) ||
      !ReadInt(text, 5, 2, &m) || !ReadInt(text, 8, 2, &d)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field), "must be a date YYYY-MM-DD");
  }
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return Fail(ErrorCode::kInvalidArgument, std::string(field), "is not a real date");
  return ymd;
}

std::string FormatDate(year_month_day d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

UnixMillis StartOfDayUtc(year_month_day d) {
  return duration_cast<milliseconds>(sys_days(d).time_since_epoch()).count();
}

Result<UnixMillis> ParseUtc(std::string_view text, std::string_view field) {
  const std::string f(field);
  auto date = ParseDate(text.substr(0, 10), field);
  int hh = 0, mm = 0, ss = 0, ms = 0;
  if (!date || text.size() < 20 || text[10] != 'T' || text[13] != ':' || text[16] != ':' ||
      !ReadInt(text, 11, 2, &hh) || !ReadInt(text, 14, 2, &mm) || !ReadInt(text, 17, 2, &ss) ||
      hh > 23 || mm > 59 || ss > 59) {
    return Fail(ErrorCode::kInvalidArgument, f, "must be a UTC time YYYY-MM-DDTHH:MM:SS[.mmm]Z");
  }
  size_t pos = 19;
  if (text[pos] == '.') {
    if (!ReadInt(text, pos + 1, 3, &ms)) {
      return Fail(ErrorCode::kInvalidArgument, f, "fraction must have 3 digits");
    }
    pos += 4;
  }
  if (pos != text.size() - 1 || text[pos] != 'Z') {
    return Fail(ErrorCode::kInvalidArgument, f, "must end with Z (UTC)");
  }
  return StartOfDayUtc(*date) + ((hh * 60 + mm) * 60 + ss) * 1000LL + ms;
}

}  // namespace qorgau
