// Working days, for the legal deadlines counted in them (LAW.md §5, §14).
//
// A country's working-day calendar is data, never computed: one year at a
// time (calendars/kz/YEAR.yaml, read by policy::LoadCalendarYear and kept in
// the store), with the public holidays, the days off a holiday falling on a
// weekend moves, and the Government's transfers (a weekday off, a Saturday
// worked). A day outside every loaded year is an error, never a guess.
//
// Time: instants are UTC; days are counted in the calendar's time zone
// (Asia/Almaty for KZ: UTC+6 until 2024-03-01, UTC+5 since), read from the
// system's tz database through Howard Hinnant's date library.
//
// Thread safety: a WorkingCalendar is immutable once made; share it freely.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"

namespace qorgau {

// A day of a calendar year that is not what its weekday says.
struct CalendarDay {
  std::chrono::year_month_day date;
  std::string kind;  // days off: holiday | rollover | transfer; working days: working
  std::string name;
  bool confirmed = false;  // read in a cited source; false: derived (the file says how)
};

// One year of a country's calendar, as its file gives it.
struct CalendarYear {
  std::string country;  // "KZ"
  int year = 0;
  std::vector<std::chrono::weekday> weekend;
  std::vector<CalendarDay> days_off;
  std::vector<CalendarDay> working_days;
};

// The IANA zone days are counted in for a country: "Asia/Almaty" for "KZ";
// "" when qorgau knows none.
std::string CountryTimeZone(const std::string& country);

// The local date of `t` in the IANA zone `zone` (UTC for "" or a zone the
// database does not know), and the last millisecond of a local date: what
// a day means for a person, without a calendar of working days.
std::chrono::year_month_day LocalDateIn(const std::string& zone, UnixMillis t);
UnixMillis EndOfLocalDayIn(const std::string& zone, std::chrono::year_month_day d);

class WorkingCalendar {
 public:
  // An empty calendar: every day is outside it.
  WorkingCalendar();
  ~WorkingCalendar();
  WorkingCalendar(const WorkingCalendar&);
  WorkingCalendar& operator=(const WorkingCalendar&);

  // The years of one country, in its time zone. kInvalidArgument for a
  // year given twice, a year of another country, or a date outside its
  // year; kNotFound for a zone the system's tz database lacks.
  static Result<WorkingCalendar> Make(const std::string& country, std::vector<CalendarYear> years);

  bool empty() const;
  const std::string& country() const;
  const std::string& zone() const;
  std::vector<int> Years() const;
  const CalendarYear* Year(int year) const;

  // Whether `d` is a working day; kFailedPrecondition (reason
  // `calendar_missing`, field "calendar") when no loaded year holds it.
  Result<bool> IsWorkingDay(std::chrono::year_month_day d) const;

  // The day of instant `t` in the calendar's zone.
  std::chrono::year_month_day LocalDate(UnixMillis t) const;
  // The instant a local day of the zone ends: the last millisecond before
  // the next day's 00:00.
  UnixMillis EndOfLocalDay(std::chrono::year_month_day d) const;

  // The deadline of an application received at `received` that must be
  // answered within `working_days` working days (at least 1): the clock
  // starts on the day after the local day of receipt and runs to the end
  // of the last working day counted (LAW.md §5, Civil Code rules on time
  // limits). Errors as IsWorkingDay when a day on the way is outside the
  // loaded years.
  Result<UnixMillis> Deadline(UnixMillis received, int working_days) const;

 private:
  struct Data;
  std::shared_ptr<const Data> d_;
};

}  // namespace qorgau
