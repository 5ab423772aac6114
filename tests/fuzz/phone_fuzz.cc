// Phone::Parse on arbitrary bytes. Properties: the normal form is E.164,
// "+7" and ten digits of which the first is 6 or 7; it is a fixed point
// (parsing it again gives it back), so every spelling of a number is
// stored as one value; NormalizeValue and MaskValue agree with Phone; and
// the personal-data detector finds every text Parse accepts, so a phone
// number in any accepted spelling cannot pass for a reference or an id.
#include <string>

#include "core/personal_value.h"
#include "core/phone.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qorgau;
  const std::string_view text = fuzz::Bytes(data, size);
  auto phone = Phone::Parse(text);
  auto normal = NormalizeValue(ValueType::kPhone, text, "phone");
  FUZZ_CHECK(phone.has_value() == normal.has_value(),
             "NormalizeValue(kPhone) agrees with Phone::Parse");
  if (!phone) {
    FUZZ_CHECK(phone.error().code == ErrorCode::kInvalidArgument,
               "a refused phone is kInvalidArgument");
    FUZZ_CHECK(phone.error().field == "phone", "the error names the field");
    return 0;
  }
  const std::string& e164 = phone->e164();
  FUZZ_CHECK(*normal == e164, "NormalizeValue returns the E.164 form");
  FUZZ_CHECK(e164.size() == 12 && e164.starts_with("+7"), "E.164 of Kazakhstan: +7 and 10 digits");
  FUZZ_CHECK(e164.find_first_not_of("0123456789", 1) == std::string::npos, "digits after the +");
  FUZZ_CHECK(e164[2] == '6' || e164[2] == '7', "national numbers begin with 6 or 7");
  auto again = Phone::Parse(e164);
  FUZZ_CHECK(again.has_value() && again->e164() == e164, "the E.164 form is a fixed point");
  const std::string masked = phone->Masked();
  FUZZ_CHECK(masked == e164.substr(0, 5) + "*****" + e164.substr(10),
             "the mask shows +7, 3 and 2 digits");
  FUZZ_CHECK(MaskValue(ValueType::kPhone, e164) == masked, "MaskValue agrees with Phone::Masked");
  FUZZ_CHECK(ContainsPersonalDataShape(text),
             "the personal-data detector finds every accepted spelling");
  FUZZ_CHECK(ContainsPersonalDataShape(e164), "the personal-data detector finds the E.164 form");
  FUZZ_CHECK(!ContainsPersonalDataShape(masked), "a masked phone is no longer personal data");
  return 0;
}
