#include "core/iin.h"

#include <array>

namespace qorgau {
namespace {

int Digit(char c) { return c - '0'; }

}  // namespace

int Iin::CheckDigit(std::string_view first11) {
  // Official algorithm: weights 1..11; if the sum mod 11 is 10, weights
  // 3..11,1,2; if that is 10 again, the number is never issued.
  static constexpr std::array<int, 11> kFirst = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  static constexpr std::array<int, 11> kSecond = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
  if (first11.size() < 11) return -1;  // no check digit for fewer digits
  int sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += Digit(first11[i]) * kFirst[i];
  int check = sum % 11;
  if (check != 10) return check;
  sum = 0;
  for (size_t i = 0; i < 11; ++i) sum += Digit(first11[i]) * kSecond[i];
  check = sum % 11;
  return check == 10 ? -1 : check;
}

Result<Iin> Iin::Parse(std::string_view text, std::string_view field) {
  std::string f(field);
  if (text.size() != 12) return Fail(ErrorCode::kInvalidArgument, f, "must be exactly 12 digits");
  for (char c : text) {
    if (c < '0' || c > '9') return Fail(ErrorCode::kInvalidArgument, f, "must contain digits only");
  }
  const int yy = Digit(text[0]) * 10 + Digit(text[1]);
  const int mm = Digit(text[2]) * 10 + Digit(text[3]);
  const int dd = Digit(text[4]) * 10 + Digit(text[5]);
  const int c = Digit(text[6]);
  if (c < 1 || c > 6) {
    return Fail(ErrorCode::kInvalidArgument, f,
                "7th digit (century and sex) must be 1-6");
  }
  const int century = c <= 2 ? 1800 : (c <= 4 ? 1900 : 2000);
  const std::chrono::year_month_day birth{std::chrono::year{century + yy},
                                          std::chrono::month{static_cast<unsigned>(mm)},
                                          std::chrono::day{static_cast<unsigned>(dd)}};
  if (!birth.ok()) {
    return Fail(ErrorCode::kInvalidArgument, f, "first 6 digits are not a real birth date (YYMMDD)");
  }
  const int check = CheckDigit(text.substr(0, 11));
  if (check < 0 || check != Digit(text[11])) {
    return Fail(ErrorCode::kInvalidArgument, f, "check digit does not match");
  }
  return Iin(std::string(text), birth, (c % 2 == 1) ? Sex::kMale : Sex::kFemale);
}

Result<Iin> Iin::Make(std::chrono::year_month_day birth, Sex sex, int serial) {
  if (!birth.ok()) return Fail(ErrorCode::kInvalidArgument, "birth_date", "not a real date");
  const int year = static_cast<int>(birth.year());
  if (year < 1800 || year > 2099) {
    return Fail(ErrorCode::kInvalidArgument, "birth_date", "year must be 1800-2099");
  }
  if (serial < 0 || serial > 9999) {
    return Fail(ErrorCode::kInvalidArgument, "serial", "must be 0-9999");
  }
  const int century_digit = (year - 1800) / 100 * 2 + (sex == Sex::kMale ? 1 : 2);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02u%02u%d%04d", year % 100,
                static_cast<unsigned>(birth.month()), static_cast<unsigned>(birth.day()),
                century_digit, serial);
  const int check = CheckDigit(std::string_view(buf, 11));
  if (check < 0) {
    return Fail(ErrorCode::kInvalidArgument, "serial", "no check digit exists for this serial");
  }
  buf[11] = static_cast<char>('0' + check);
  buf[12] = '\0';
  return Iin(std::string(buf, 12), birth, sex);
}

std::string Iin::Masked() const { return digits_.substr(0, 4) + "******" + digits_.substr(10, 2); }

bool Iin::MinorOn(std::chrono::year_month_day on) const {
  using namespace std::chrono;
  const year_month_day adult{birth_.year() + years(18), birth_.month(),
                             birth_.month() == February && birth_.day() == day(29) ? day(28) : birth_.day()};
  return sys_days(adult) > sys_days(on);
}

}  // namespace qorgau
