#include "core/personal_value.h"

#include <gtest/gtest.h>

#include "core/iin.h"

namespace qorgau {
namespace {

TEST(PersonalValue, NamesAreMaskedToInitialsInUtf8) {
  EXPECT_EQ(MaskValue(ValueType::kName, "Әйгерім Серікова"), "Ә*** С***");
  EXPECT_EQ(MaskValue(ValueType::kName, "Dana"), "D***");
}

TEST(PersonalValue, EmailKeepsDomainOnly) {
  EXPECT_EQ(MaskValue(ValueType::kEmail, "subscriber7@mail.example"), "s***@mail.example");
}

TEST(PersonalValue, NumbersAreDecimalsInNormalForm) {
  EXPECT_EQ(NormalizeValue(ValueType::kNumber, "0012.5000", "v").value(), "12.5");
  EXPECT_EQ(NormalizeValue(ValueType::kNumber, "-3", "v").value(), "-3");
  EXPECT_EQ(NormalizeValue(ValueType::kNumber, "-0.0", "v").value(), "0");
  EXPECT_EQ(NormalizeValue(ValueType::kNumber, "99999999999999.9999", "v").value(), "99999999999999.9999");
  for (const char* bad : {"", "-", "1.", ".5", "1.23456", "1e3", "1,5", " 1", "123456789012345", "+1"}) {
    auto r = NormalizeValue(ValueType::kNumber, bad, "amount");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field, "amount");
    if (std::string(bad).size() > 2) {
      EXPECT_EQ(r.error().message.find(bad), std::string::npos) << "never the value";
    }
  }
  EXPECT_EQ(MaskValue(ValueType::kNumber, "12.5"), "***");
  EXPECT_EQ(FormatScaledNumber(static_cast<ScaledSum>(ParseScaledNumber("12.5", "v").value()) * 1000000), "12500000");
}

TEST(PersonalValue, TextIsFullyMasked) { EXPECT_EQ(MaskValue(ValueType::kText, "anything"), "***"); }

TEST(PersonalValue, EmailValidation) {
  EXPECT_TRUE(NormalizeValue(ValueType::kEmail, "a@b.kz", "email"));
  for (const char* bad : {"a", "@b.kz", "a@", "a@b", "a b@c.kz", "a@@b.kz"}) {
    auto r = NormalizeValue(ValueType::kEmail, bad, "email");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field, "email");
  }
}

TEST(PersonalValue, TextRefusesControlCharactersAndBadUtf8) {
  EXPECT_FALSE(NormalizeValue(ValueType::kText, "a\nb", "note"));
  EXPECT_FALSE(NormalizeValue(ValueType::kText, std::string("\xff\xfe", 2), "note"));
  // Strict UTF-8 (core/utf8.h): an overlong slash and an encoded surrogate.
  EXPECT_FALSE(NormalizeValue(ValueType::kText, std::string("a\xc0\xafb", 4), "note"));
  EXPECT_FALSE(NormalizeValue(ValueType::kName, std::string("\xed\xa0\x80", 3), "name"));
  EXPECT_FALSE(NormalizeValue(ValueType::kName, std::string(201, 'a'), "name"));
  EXPECT_TRUE(NormalizeValue(ValueType::kName, "Нұрлан Әбенов", "name"));
}

TEST(PersonalValue, DetectsIinsAndPhonesInsideText) {
  using namespace std::chrono;
  const std::string iin = Iin::Make(year{1985} / 6 / 1, Sex::kFemale, 42).value().digits();
  EXPECT_TRUE(ContainsPersonalDataShape("ref-" + iin));
  EXPECT_TRUE(ContainsPersonalDataShape("call 87015550123 back"));
  EXPECT_FALSE(ContainsPersonalDataShape("CALL-REC-1001"));
  // Separators do not hide a number.
  EXPECT_TRUE(ContainsPersonalDataShape("CALL-8-701-555-01-23"));
  EXPECT_TRUE(ContainsPersonalDataShape("IIN " + iin.substr(0, 6) + "-" + iin.substr(6)));
  EXPECT_FALSE(ContainsPersonalDataShape("DEBT-2026-0042"));
  EXPECT_FALSE(ContainsPersonalDataShape("1764149254"));  // a unix time, not a phone
}

}  // namespace
}  // namespace qorgau
