// IIN: the 12-digit individual identification number of the Republic of
// Kazakhstan. Layout: YYMMDD (birth date) · C (century and sex, 1–6) ·
// NNNN (serial) · K (check digit, two-pass weighted sum modulo 11).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau {

enum class Sex : char { kMale = 'M', kFemale = 'F' };

class Iin {
 public:
  // Validates `text` (exactly 12 digits, no separators). On error the
  // message names the field `field` and the reason, never the value.
  static Result<Iin> Parse(std::string_view text, std::string_view field = "iin");

  // Builds a valid IIN from its parts; serial in [0, 9999]. Fails when the
  // check digit for this serial would be 10 (such serials are never issued).
  static Result<Iin> Make(std::chrono::year_month_day birth, Sex sex, int serial);

  const std::string& digits() const { return digits_; }
  std::chrono::year_month_day birth_date() const { return birth_; }
  // Under 18 on the local date `on` (LAW.md §12); born on 29 February,
  // of age on 28 February.
  bool MinorOn(std::chrono::year_month_day on) const;
  Sex sex() const { return sex_; }

  // For display: the first four and last two digits, "9001******23".
  std::string Masked() const;

  // The check digit for the first 11 digits, or -1 when none exists.
  static int CheckDigit(std::string_view first11);

 private:
  Iin(std::string digits, std::chrono::year_month_day birth, Sex sex)
      : digits_(std::move(digits)), birth_(birth), sex_(sex) {}
  std::string digits_;
  std::chrono::year_month_day birth_;
  Sex sex_;
};

}  // namespace qorgau
