// Personal-data values as the policy types them (a category's `value:`):
// validation and normalisation on the way in, masking on the way out, and
// a detector for values that must never reach logs or the ledger.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace qorgau {

enum class ValueType : std::uint8_t {
  kText = 0,   // free text, at most 1024 characters
  kIin = 1,    // core/iin.h
  kPhone = 2,  // core/phone.h, stored as E.164
  kName = 3,   // a person's name, at most 200 characters
  kEmail = 4,  // an e-mail address, at most 254 characters
  kDate = 5,   // YYYY-MM-DD
  kNumber = 6, // a decimal: up to 14 digits, a point and up to 4 more ("1250.5", "-3")
};

std::string_view ValueTypeName(ValueType t);

// A number value in ten-thousandths ("12.5" is 125000); the error names
// `field` and the reason, never the value. FormatScaledNumber writes one
// back (or a sum of them) in normal form: no leading zeros, no trailing
// decimal zeros, "0" for zero.
Result<std::int64_t> ParseScaledNumber(std::string_view text, std::string_view field);
__extension__ typedef __int128 ScaledSum;  // totals of scaled numbers
std::string FormatScaledNumber(ScaledSum scaled);
bool ParseValueType(std::string_view name, ValueType* out);

// Validates `value` for `type` and returns its normal form; the error names
// `field` and the reason, never the value.
Result<std::string> NormalizeValue(ValueType type, std::string_view value, std::string_view field);

// The value as staff without the full view see it: "9001******23",
// "+7701*****67", "A*** B***", "a***@mail.kz", "***".
std::string MaskValue(ValueType type, std::string_view value);

// True when `text` contains a valid IIN or a Kazakhstan phone number as a
// run of digits: such text must not be an id, a reference or a log field.
bool ContainsPersonalDataShape(std::string_view text);

}  // namespace qorgau
