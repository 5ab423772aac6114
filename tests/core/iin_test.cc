#include "core/iin.h"

#include <gtest/gtest.h>

namespace qorgau {
namespace {

using namespace std::chrono;

std::string ValidIin() { return Iin::Make(year{1990} / 1 / 15, Sex::kMale, 123).value().digits(); }

TEST(Iin, MadeIinParsesBackWithItsParts) {
  auto iin = Iin::Parse(ValidIin());
  ASSERT_TRUE(iin) << iin.error().ToString();
  EXPECT_EQ(iin->birth_date(), year{1990} / 1 / 15);
  EXPECT_EQ(iin->sex(), Sex::kMale);
  EXPECT_EQ(iin->digits().substr(0, 7), "9001153");
}

TEST(Iin, CenturyDigitEncodesCenturyAndSex) {
  EXPECT_EQ(Iin::Make(year{2005} / 3 / 1, Sex::kFemale, 7).value().digits()[6], '6');
  EXPECT_EQ(Iin::Make(year{1899} / 3 / 1, Sex::kMale, 7).value().digits()[6], '1');
  auto iin = Iin::Parse(Iin::Make(year{2005} / 3 / 1, Sex::kFemale, 7).value().digits());
  ASSERT_TRUE(iin);
  EXPECT_EQ(iin->birth_date(), year{2005} / 3 / 1);
  EXPECT_EQ(iin->sex(), Sex::kFemale);
}

TEST(Iin, WrongCheckDigitIsRefusedNamingTheField) {
  std::string s = ValidIin();
  s[11] = static_cast<char>('0' + (s[11] - '0' + 1) % 10);
  auto r = Iin::Parse(s);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "iin");
  EXPECT_EQ(r.error().message, "check digit does not match");
  EXPECT_EQ(r.error().ToString().find(s), std::string::npos) << "the value must not be echoed";
}

TEST(Iin, CheckDigitUsesTheSecondWeightsWhenTheFirstGiveTen) {
  // Search for an 11-digit prefix whose first pass gives 10; the check digit
  // must then come from the weights 3..11,1,2.
  for (int serial = 0; serial < 10000; ++serial) {
    char buf[12];
    std::snprintf(buf, sizeof buf, "900115%d%04d", 3, serial);
    int sum = 0;
    for (int i = 0; i < 11; ++i) sum += (buf[i] - '0') * (i + 1);
    if (sum % 11 != 10) continue;
    const int w2[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2};
    int sum2 = 0;
    for (int i = 0; i < 11; ++i) sum2 += (buf[i] - '0') * w2[i];
    const int expected = sum2 % 11 == 10 ? -1 : sum2 % 11;
    EXPECT_EQ(Iin::CheckDigit(buf), expected);
    return;
  }
  FAIL() << "no prefix with a first-pass remainder of 10 found";
}

TEST(Iin, CheckDigitOfTooFewDigitsIsNoneAndReadsNothingBeyondThem) {
  EXPECT_EQ(Iin::CheckDigit(""), -1);
  EXPECT_EQ(Iin::CheckDigit(std::string_view("9001153", 7)), -1);
}

TEST(Iin, ImpossibleBirthDateIsRefused) {
  // 30 February: patch a valid IIN's date and fix nothing else.
  std::string s = ValidIin();
  s.replace(2, 4, "0230");
  auto r = Iin::Parse(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("birth date"), std::string::npos);
}

TEST(Iin, CenturyDigitOutsideOneToSixIsRefused) {
  std::string s = ValidIin();
  s[6] = '7';
  auto r = Iin::Parse(s);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("7th digit"), std::string::npos);
}

TEST(Iin, LengthAndCharactersAreChecked) {
  EXPECT_EQ(Iin::Parse("12345").error().message, "must be exactly 12 digits");
  EXPECT_EQ(Iin::Parse("9001153a0123").error().message, "must contain digits only");
  EXPECT_EQ(Iin::Parse("", "subject.iin").error().field, "subject.iin");
}

TEST(Iin, MaskedShowsFourAndTwoDigits) {
  auto iin = Iin::Parse(ValidIin()).value();
  const std::string m = iin.Masked();
  EXPECT_EQ(m.size(), 12u);
  EXPECT_EQ(m.substr(0, 4), iin.digits().substr(0, 4));
  EXPECT_EQ(m.substr(4, 6), "******");
  EXPECT_EQ(m.substr(10), iin.digits().substr(10));
}

}  // namespace
}  // namespace qorgau
