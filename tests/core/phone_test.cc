#include "core/phone.h"

#include <gtest/gtest.h>

namespace qorgau {
namespace {

TEST(Phone, UsualKazakhSpellingsNormaliseToE164) {
  for (const char* in : {"+7 701 555 01 23", "8 701 555 01 23", "+7 (701) 555-01-23",
                         "87015550123", "77015550123", "7015550123", "8(701)555.01.23"}) {
    auto p = Phone::Parse(in);
    ASSERT_TRUE(p) << in << ": " << p.error().ToString();
    EXPECT_EQ(p->e164(), "+77015550123") << in;
  }
}

TEST(Phone, RussianNumbersAreNotKazakhstan) {
  auto p = Phone::Parse("+7 912 555 01 23");
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().field, "phone");
  EXPECT_NE(p.error().message.find("not a Kazakhstan number"), std::string::npos);
}

TEST(Phone, OtherCountryCodesAreRefused) {
  auto p = Phone::Parse("+49 30 1234567");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("+7"), std::string::npos);
}

TEST(Phone, WrongLengthAndLettersAreRefused) {
  EXPECT_FALSE(Phone::Parse("+7 701 555 01"));
  EXPECT_FALSE(Phone::Parse("+7 701 555 01 234"));
  auto letters = Phone::Parse("+7 701 CALL ME");
  ASSERT_FALSE(letters);
  EXPECT_NE(letters.error().message.find("only digits"), std::string::npos);
  EXPECT_FALSE(Phone::Parse("7+7015550123"));
}

TEST(Phone, MaskedKeepsOperatorCodeAndLastTwoDigits) {
  EXPECT_EQ(Phone::Parse("87015550123")->Masked(), "+7701*****23");
}

}  // namespace
}  // namespace qorgau
