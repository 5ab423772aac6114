#include "core/working_calendar.h"

#include <date/tz.h>

#include <algorithm>
#include <set>

namespace qorgau {
namespace {

using std::chrono::sys_days;
using std::chrono::year_month_day;

// Days since 1970-01-01, the key of every set below.
std::int64_t DayNumber(year_month_day d) { return sys_days(d).time_since_epoch().count(); }

}  // namespace

struct WorkingCalendar::Data {
  std::string country;
  std::string zone_name;
  const date::time_zone* zone = nullptr;
  std::map<int, CalendarYear> years;
  std::map<int, std::set<unsigned>> weekend;  // year -> weekdays (c_encoding) off
  std::set<std::int64_t> days_off;
  std::set<std::int64_t> working;
};

std::string CountryTimeZone(const std::string& country) {
  // LAW.md §14: one zone for the whole country since 2024-03-01.
  if (country == "KZ") return "Asia/Almaty";
  return "";
}

WorkingCalendar::WorkingCalendar() : d_(std::make_shared<Data>()) {}
WorkingCalendar::~WorkingCalendar() = default;
WorkingCalendar::WorkingCalendar(const WorkingCalendar&) = default;
WorkingCalendar& WorkingCalendar::operator=(const WorkingCalendar&) = default;

Result<WorkingCalendar> WorkingCalendar::Make(const std::string& country,
                                              std::vector<CalendarYear> years) {
  auto data = std::make_shared<Data>();
  data->country = country;
  data->zone_name = CountryTimeZone(country);
  if (data->zone_name.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "country",
                "qorgau knows no time zone for '" + country + "'");
  }
  try {
    data->zone = date::locate_zone(data->zone_name);
  } catch (const std::exception&) {
    return Fail(ErrorCode::kNotFound, "time_zone",
                "the system's time-zone database has no '" + data->zone_name +
                    "' (install tzdata 2024a or later)");
  }
  for (auto& y : years) {
    const std::string where = "calendar " + std::to_string(y.year);
    if (y.country != country) {
      return Fail(ErrorCode::kInvalidArgument, where, "is for '" + y.country + "', not '" + country + "'");
    }
    if (data->years.count(y.year)) return Fail(ErrorCode::kInvalidArgument, where, "given twice");
    std::set<unsigned>& weekend = data->weekend[y.year];
    for (auto w : y.weekend) weekend.insert(w.c_encoding());
    for (const auto* list : {&y.days_off, &y.working_days}) {
      for (const CalendarDay& day : *list) {
        if (!day.date.ok() || static_cast<int>(day.date.year()) != y.year) {
          return Fail(ErrorCode::kInvalidArgument, where, "holds " + FormatDate(day.date) + ", outside its year");
        }
        (list == &y.days_off ? data->days_off : data->working).insert(DayNumber(day.date));
      }
    }
    data->years.emplace(y.year, std::move(y));
  }
  WorkingCalendar c;
  c.d_ = std::move(data);
  return c;
}

bool WorkingCalendar::empty() const { return d_->years.empty(); }
const std::string& WorkingCalendar::country() const { return d_->country; }
const std::string& WorkingCalendar::zone() const { return d_->zone_name; }

std::vector<int> WorkingCalendar::Years() const {
  std::vector<int> out;
  for (const auto& [y, _] : d_->years) out.push_back(y);
  return out;
}

const CalendarYear* WorkingCalendar::Year(int year) const {
  auto it = d_->years.find(year);
  return it == d_->years.end() ? nullptr : &it->second;
}

Result<bool> WorkingCalendar::IsWorkingDay(year_month_day d) const {
  const int y = static_cast<int>(d.year());
  auto weekend = d_->weekend.find(y);
  if (weekend == d_->weekend.end()) {
    return Refuse("calendar_missing", "calendar",
                  "no working-day calendar" + (d_->country.empty() ? std::string() : " of " + d_->country) +
                      " for " + std::to_string(y) + " is loaded, so " + FormatDate(d) +
                      " cannot be counted (load calendars/" +
                      (d_->country.empty() ? std::string("kz") : d_->country) + "/" + std::to_string(y) +
                      ".yaml with 'qorgau calendar import')");
  }
  const std::int64_t n = DayNumber(d);
  if (d_->days_off.count(n)) return false;
  if (d_->working.count(n)) return true;
  return !weekend->second.count(std::chrono::weekday(sys_days(d)).c_encoding());
}

namespace {

year_month_day LocalDateOf(const date::time_zone* zone, UnixMillis t) {
  const date::sys_time<std::chrono::milliseconds> sys{std::chrono::milliseconds(t)};
  if (!zone) return year_month_day(std::chrono::floor<std::chrono::days>(sys));
  const auto local = zone->to_local(sys);
  return year_month_day(sys_days(std::chrono::floor<std::chrono::days>(local).time_since_epoch()));
}

UnixMillis EndOfLocalDayOf(const date::time_zone* zone, year_month_day d) {
  const sys_days next = sys_days(d) + std::chrono::days(1);
  if (!zone) return StartOfDayUtc(year_month_day(next)) - 1;
  const date::local_days local{date::days(next.time_since_epoch().count())};
  // The zone's midnight is unambiguous for KZ; `latest` settles any zone
  // whose clocks went back across midnight.
  const auto sys = zone->to_sys(local, date::choose::latest);
  return std::chrono::duration_cast<std::chrono::milliseconds>(sys.time_since_epoch()).count() - 1;
}

const date::time_zone* FindZone(const std::string& zone) {
  if (zone.empty()) return nullptr;
  try {
    return date::locate_zone(zone);
  } catch (const std::exception&) {
    return nullptr;
  }
}

}  // namespace

year_month_day LocalDateIn(const std::string& zone, UnixMillis t) { return LocalDateOf(FindZone(zone), t); }
UnixMillis EndOfLocalDayIn(const std::string& zone, year_month_day d) { return EndOfLocalDayOf(FindZone(zone), d); }

year_month_day WorkingCalendar::LocalDate(UnixMillis t) const { return LocalDateOf(d_->zone, t); }
UnixMillis WorkingCalendar::EndOfLocalDay(year_month_day d) const { return EndOfLocalDayOf(d_->zone, d); }

Result<UnixMillis> WorkingCalendar::Deadline(UnixMillis received, int working_days) const {
  if (working_days < 1) {
    return Fail(ErrorCode::kInvalidArgument, "working_days", "must be at least 1");
  }
  sys_days day = sys_days(LocalDate(received));
  for (int counted = 0; counted < working_days;) {
    day += std::chrono::days(1);
    QORGAU_ASSIGN_OR_RETURN(const bool working, IsWorkingDay(year_month_day(day)));
    if (working) ++counted;
  }
  return EndOfLocalDay(year_month_day(day));
}

}  // namespace qorgau
