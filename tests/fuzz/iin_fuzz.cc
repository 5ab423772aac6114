// Iin::Parse on arbitrary bytes. Properties: a parsed IIN is its input
// (Parse does not normalise); it is rebuilt digit for digit by Iin::Make
// from its birth date, sex and serial (so the date, century digit and
// check digit are read back as written); NormalizeValue agrees; masking
// keeps only the first four and last two digits; and the personal-data
// detector finds it, so a valid IIN cannot pass for a reference or an id.
#include <string>

#include "core/iin.h"
#include "core/personal_value.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qorgau;
  const std::string_view text = fuzz::Bytes(data, size);
  auto iin = Iin::Parse(text);
  auto normal = NormalizeValue(ValueType::kIin, text, "iin");
  FUZZ_CHECK(iin.has_value() == normal.has_value(), "NormalizeValue(kIin) agrees with Iin::Parse");
  if (!iin) {
    FUZZ_CHECK(iin.error().code == ErrorCode::kInvalidArgument,
               "a refused IIN is kInvalidArgument");
    FUZZ_CHECK(iin.error().field == "iin", "the error names the field");
    if (text.size() == 12 && text.find_first_not_of("0123456789") == std::string_view::npos) {
      FUZZ_CHECK(iin.error().ToString().find(text) == std::string::npos,
                 "the error never echoes the input");
    }
    return 0;
  }
  const std::string& digits = iin->digits();
  FUZZ_CHECK(digits == text, "a valid IIN is its own normal form");
  FUZZ_CHECK(*normal == digits, "NormalizeValue returns the digits");
  FUZZ_CHECK(Iin::CheckDigit(std::string_view(digits).substr(0, 11)) == digits[11] - '0',
             "the check digit is the one computed from the first 11");
  const int serial = std::stoi(digits.substr(7, 4));
  auto made = Iin::Make(iin->birth_date(), iin->sex(), serial);
  FUZZ_CHECK(made.has_value(), "Make accepts the parts of a parsed IIN");
  FUZZ_CHECK(made->digits() == digits, "Make rebuilds the same digits from the parts");
  const std::string masked = iin->Masked();
  FUZZ_CHECK(masked == digits.substr(0, 4) + "******" + digits.substr(10),
             "the mask shows 4 + 2 digits");
  FUZZ_CHECK(MaskValue(ValueType::kIin, digits) == masked, "MaskValue agrees with Iin::Masked");
  FUZZ_CHECK(ContainsPersonalDataShape(text), "the personal-data detector finds a valid IIN");
  FUZZ_CHECK(!ContainsPersonalDataShape(masked), "a masked IIN is no longer personal data");
  return 0;
}
