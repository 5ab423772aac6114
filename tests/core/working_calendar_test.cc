// Working days and deadlines (LAW.md §5, §14): weekends, public holidays,
// rollovers, the Government's transfers, year boundaries and the time-zone
// change of 2024-03-01, on small calendars written here, and the Nauryz
// case on the calendars the project ships (calendars/kz).
#include "core/working_calendar.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy/policy_loader.h"

namespace qorgau {
namespace {

using namespace std::chrono;

UnixMillis Utc(const char* text) { return ParseUtc(text, "t").value(); }

CalendarYear Year(const std::string& yaml) {
  auto loaded = policy::LoadCalendarYear(yaml, "test.yaml");
  for (const auto& p : loaded.problems) ADD_FAILURE() << p.ToString();
  return loaded.year.value_or(CalendarYear{});
}

// A 2025 written for these tests (not the real one, calendars/kz/2025.yaml):
// New Year, a weekday off in exchange for Saturday 4 January, Nauryz and
// its rollovers.
const char* const k2025 = R"y(
country: KZ
year: 2025
weekend: [saturday, sunday]
days_off:
  - {date: 2025-01-01, kind: holiday, name: "New Year", confirmed: true}
  - {date: 2025-01-02, kind: holiday, name: "New Year", confirmed: true}
  - {date: 2025-01-03, kind: transfer, name: "moved from Saturday 4 January", confirmed: true}
  - {date: 2025-01-07, kind: holiday, name: "Orthodox Christmas", confirmed: true}
  - {date: 2025-03-21, kind: holiday, name: "Nauryz", confirmed: true}
  - {date: 2025-03-22, kind: holiday, name: "Nauryz", confirmed: true}
  - {date: 2025-03-23, kind: holiday, name: "Nauryz", confirmed: true}
  - {date: 2025-03-24, kind: rollover, name: "Nauryz (22 March)", confirmed: true}
  - {date: 2025-03-25, kind: rollover, name: "Nauryz (23 March)", confirmed: true}
  - {date: 2025-12-16, kind: holiday, name: "Independence Day", confirmed: true}
working_days:
  - {date: 2025-01-04, name: "working Saturday", confirmed: true}
)y";
const char* const k2024 = R"(
country: KZ
year: 2024
weekend: [saturday, sunday]
days_off:
  - {date: 2024-12-16, kind: holiday, name: "Independence Day", confirmed: true}
)";

WorkingCalendar Kz() {
  auto c = WorkingCalendar::Make("KZ", {Year(k2024), Year(k2025)});
  EXPECT_TRUE(c) << c.error().ToString();
  return c.value_or(WorkingCalendar{});
}

TEST(WorkingCalendar, WeekendsHolidaysTransfersAndWorkingSaturdays) {
  const WorkingCalendar kz = Kz();
  EXPECT_EQ(kz.zone(), "Asia/Almaty");
  EXPECT_FALSE(kz.IsWorkingDay(year{2025} / 1 / 1).value());   // holiday
  EXPECT_FALSE(kz.IsWorkingDay(year{2025} / 1 / 3).value());   // transferred day off
  EXPECT_TRUE(kz.IsWorkingDay(year{2025} / 1 / 4).value());    // a Saturday worked
  EXPECT_FALSE(kz.IsWorkingDay(year{2025} / 1 / 5).value());   // Sunday
  EXPECT_TRUE(kz.IsWorkingDay(year{2025} / 1 / 6).value());    // Monday
  EXPECT_FALSE(kz.IsWorkingDay(year{2025} / 3 / 24).value());  // rollover
  EXPECT_TRUE(kz.IsWorkingDay(year{2025} / 3 / 26).value());
}

TEST(WorkingCalendar, LAW_5_clock_starts_the_day_after_receipt_and_ends_at_local_midnight) {
  const WorkingCalendar kz = Kz();
  // Received Tuesday 2025-01-14 at 15:00 Almaty (10:00 UTC): one working
  // day is Wednesday; it ends at 23:59:59.999 Almaty, 18:59:59.999 UTC.
  EXPECT_EQ(kz.Deadline(Utc("2025-01-14T10:00:00Z"), 1).value(), Utc("2025-01-15T18:59:59.999Z"));
  // Received at 23:30 Almaty on Tuesday (18:30 UTC), still Tuesday there.
  EXPECT_EQ(kz.Deadline(Utc("2025-01-14T18:30:00Z"), 1).value(), Utc("2025-01-15T18:59:59.999Z"));
  // 00:30 Almaty on Wednesday is still Tuesday in UTC: Almaty's day counts.
  EXPECT_EQ(kz.Deadline(Utc("2025-01-14T19:30:00Z"), 1).value(), Utc("2025-01-16T18:59:59.999Z"));
}

TEST(WorkingCalendar, LAW_5_deadline_skips_weekend_holidays_rollovers_and_transfers) {
  const WorkingCalendar kz = Kz();
  // Thursday 20 March 2025, before Nauryz: 3 working days are Thursday 27?
  // No: Friday 21 to Tuesday 25 are off, so Wed 26, Thu 27, Fri 28.
  EXPECT_EQ(kz.Deadline(Utc("2025-03-20T06:00:00Z"), 3).value(), Utc("2025-03-28T18:59:59.999Z"));
  // Friday 27 December 2024 (in the 2024 file) to 2025: Mon 30, Tue 31 Dec,
  // then 1-3 Jan off, Saturday 4 worked: the third working day is 4 Jan.
  EXPECT_EQ(kz.Deadline(Utc("2024-12-27T06:00:00Z"), 3).value(), Utc("2025-01-04T18:59:59.999Z"));
  // One working day from Friday: the next Monday.
  EXPECT_EQ(kz.Deadline(Utc("2025-01-10T11:00:00Z"), 1).value(), Utc("2025-01-13T18:59:59.999Z"));
}

TEST(WorkingCalendar, LAW_14_days_counted_across_the_2024_time_zone_change) {
  const WorkingCalendar kz = Kz();
  // Until 2024-03-01 00:00 (+06) Almaty was UTC+6; then UTC+5.
  EXPECT_EQ(kz.LocalDate(Utc("2024-01-10T18:30:00Z")), year{2024} / 1 / 11);  // 00:30 +06
  EXPECT_EQ(kz.LocalDate(Utc("2025-01-10T18:30:00Z")), year{2025} / 1 / 10);  // 23:30 +05
  EXPECT_EQ(kz.LocalDate(Utc("2024-02-29T18:59:59Z")), year{2024} / 2 / 29);  // 23:59 +05, after the switch
  EXPECT_EQ(kz.LocalDate(Utc("2024-02-29T19:00:00Z")), year{2024} / 3 / 1);
  EXPECT_EQ(kz.EndOfLocalDay(year{2024} / 1 / 10), Utc("2024-01-10T17:59:59.999Z"));
  EXPECT_EQ(kz.EndOfLocalDay(year{2024} / 2 / 29), Utc("2024-02-29T18:59:59.999Z"));
  EXPECT_EQ(kz.EndOfLocalDay(year{2024} / 3 / 1), Utc("2024-03-01T18:59:59.999Z"));
  // Received Thursday 2024-02-29 at 12:00 UTC (18:00 +06): one working day
  // is Friday 1 March, which ends at 19:00 UTC under the new offset.
  EXPECT_EQ(kz.Deadline(Utc("2024-02-29T12:00:00Z"), 1).value(), Utc("2024-03-01T18:59:59.999Z"));
}

TEST(WorkingCalendar, LAW_14_a_day_outside_the_calendars_is_an_error_never_a_guess) {
  const WorkingCalendar kz = Kz();
  auto d = kz.IsWorkingDay(year{2026} / 1 / 5);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().reason, "calendar_missing");
  EXPECT_EQ(d.error().field, "calendar");
  EXPECT_NE(d.error().message.find("2026"), std::string::npos);
  // 30 December 2025 + 3 working days runs into 2026.
  auto due = kz.Deadline(Utc("2025-12-30T06:00:00Z"), 3);
  ASSERT_FALSE(due);
  EXPECT_EQ(due.error().reason, "calendar_missing");
  EXPECT_FALSE(WorkingCalendar().IsWorkingDay(year{2025} / 1 / 6));
  EXPECT_FALSE(kz.Deadline(Utc("2025-01-10T11:00:00Z"), 0));
}

TEST(WorkingCalendar, YearsOfAnotherCountryOrGivenTwiceAreRefused) {
  EXPECT_FALSE(WorkingCalendar::Make("KZ", {Year(k2025), Year(k2025)}));
  CalendarYear other = Year(k2025);
  other.country = "UZ";
  EXPECT_FALSE(WorkingCalendar::Make("KZ", {other}));
  EXPECT_FALSE(WorkingCalendar::Make("ZZ", {}));
}

std::vector<std::string> Problems(const std::string& yaml) {
  std::vector<std::string> out;
  for (const auto& p : policy::LoadCalendarYear(yaml, "cal.yaml").problems) out.push_back(p.ToString());
  return out;
}

TEST(CalendarFile, BadFilesAreProblemsWithTheirPlaceNeverACrash) {
  const std::string head = "country: KZ\nyear: 2025\nweekend: [saturday, sunday]\n";
  auto one = [](const std::vector<std::string>& p, const std::string& part) {
    EXPECT_EQ(p.size(), 1u);
    return !p.empty() && p[0].find(part) != std::string::npos;
  };
  EXPECT_TRUE(one(Problems(head + "days_off:\n  - {date: 2024-01-01, kind: holiday, name: x, confirmed: true}\n"),
                  "cal.yaml:5:"));
  EXPECT_TRUE(one(Problems(head + "days_off:\n  - {date: 2025-01-01, kind: holiday, name: x, confirmed: true}\n"
                                  "  - {date: 2025-01-01, kind: holiday, name: y, confirmed: true}\n"),
                  "given already"));
  EXPECT_TRUE(one(Problems(head + "days_off: []\nworking_days:\n  - {date: 2025-01-06, name: x, confirmed: true}\n"),
                  "not a weekend day"));
  EXPECT_TRUE(one(Problems(head + "days_off:\n  - {date: 2025-02-30, kind: holiday, name: x, confirmed: true}\n"),
                  "not a real date"));
  EXPECT_TRUE(one(Problems(head + "days_off:\n  - {date: 2025-01-01, kind: feast, name: x, confirmed: true}\n"),
                  "kind"));
  EXPECT_TRUE(one(Problems(head + "days_off: []\nholidays: []\n"), "holidays"));
  EXPECT_TRUE(one(Problems("country: kz\nyear: 2025\nweekend: [saturday]\ndays_off: []\n"), "country"));
  EXPECT_FALSE(Problems("days_off: [").empty());
  EXPECT_FALSE(Problems("").empty());
  EXPECT_FALSE(Problems(std::string(5 * 1024 * 1024, 'x')).empty());
  EXPECT_TRUE(Problems(head + "days_off: []\n").empty());
}

// The calendars the project ships load, and give the deadlines the law
// gives on them.
WorkingCalendar Shipped() {
  std::vector<CalendarYear> years;
  for (int y = 2024; y <= 2027; ++y) {
    const auto path = std::filesystem::path(QORGAU_SOURCE_DIR) / "calendars/kz" / (std::to_string(y) + ".yaml");
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto loaded = policy::LoadCalendarYear(text.str(), path.string());
    for (const auto& p : loaded.problems) ADD_FAILURE() << p.ToString();
    if (loaded.year) years.push_back(*loaded.year);
  }
  auto c = WorkingCalendar::Make("KZ", std::move(years));
  EXPECT_TRUE(c) << c.error().ToString();
  return c.value_or(WorkingCalendar{});
}

TEST(WorkingCalendar, R_IV_4_information_application_on_the_Thursday_before_Nauryz_2026) {
  const WorkingCalendar kz = Shipped();
  EXPECT_EQ(kz.Years(), (std::vector<int>{2024, 2025, 2026, 2027}));
  // Thursday 19 March 2026, 11:00 at the Almaty office. Nauryz is Saturday
  // 21 to Monday 23; the Saturday's and Sunday's days off roll over to
  // Tuesday 24 and Wednesday 25. Three working days: Friday 20, Thursday
  // 26, Friday 27, to the end of that day in Almaty (UTC+5).
  EXPECT_EQ(kz.Deadline(Utc("2026-03-19T06:00:00Z"), 3).value(), Utc("2026-03-27T18:59:59.999Z"));
  // One working day from Friday 20 March: Thursday 26.
  EXPECT_EQ(kz.Deadline(Utc("2026-03-20T06:00:00Z"), 1).value(), Utc("2026-03-26T18:59:59.999Z"));
  // Across the year: from Wednesday 30 December 2026, Thursday 31; then
  // 1-2 January 2027 (holidays, the 2nd a Saturday, rolled over to Monday
  // 4), the weekend; Tuesday 5 and Wednesday 6.
  EXPECT_EQ(kz.Deadline(Utc("2026-12-30T06:00:00Z"), 3).value(), Utc("2027-01-06T18:59:59.999Z"));
  // Beyond the last file: an error, never a guess.
  EXPECT_FALSE(kz.Deadline(Utc("2027-12-28T06:00:00Z"), 5));
}

}  // namespace
}  // namespace qorgau
