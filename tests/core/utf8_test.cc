// The strict UTF-8 validator: examples at every boundary of Table 3-7, and
// property tests against a reference decoder written from the definition.
#include "core/utf8.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace qorgau {
namespace {

constexpr std::size_t kValid = std::string_view::npos;

// The code point `cp` in the usual (shortest) encoding, surrogates included
// when asked: the encoder does not judge.
std::string Encode(char32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

// Reference: decodes one sequence by the bit patterns alone, then applies
// the three rules (shortest form, no surrogates, at most U+10FFFF).
// Returns the sequence's length, or nullopt when it is ill-formed.
std::optional<std::size_t> ReferenceSequence(std::string_view s) {
  const auto c = static_cast<unsigned char>(s[0]);
  std::size_t len;
  char32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07;
  } else {
    return std::nullopt;
  }
  if (s.size() < len) return std::nullopt;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[k]);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
  return len;
}

std::size_t ReferenceFirstInvalid(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto len = ReferenceSequence(s.substr(i));
    if (!len) return i;
    i += *len;
  }
  return kValid;
}

TEST(Utf8, AcceptsTextInKazakhRussianAndEnglishAndEveryLength) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("consent"));
  EXPECT_TRUE(IsValidUtf8("қорғау — защита"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3))) << "NUL is well-formed; callers refuse it";
}

TEST(Utf8, AcceptsEachBoundaryOfTheTable) {
  for (char32_t cp : {0x0u, 0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xFFFu, 0x1000u, 0xCFFFu, 0xD000u, 0xD7FFu,
                      0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x3FFFFu, 0x40000u, 0xFFFFFu, 0x100000u,
                      0x10FFFFu}) {
    EXPECT_TRUE(IsValidUtf8(Encode(cp))) << std::hex << static_cast<unsigned>(cp);
  }
}

TEST(Utf8, RefusesOverlongForms) {
  EXPECT_EQ(FirstInvalidUtf8("\xC0\x80"), 0u);          // NUL in two bytes
  EXPECT_EQ(FirstInvalidUtf8("\xC1\xBF"), 0u);          // U+007F in two bytes
  EXPECT_EQ(FirstInvalidUtf8("\xE0\x80\x80"), 0u);
  EXPECT_EQ(FirstInvalidUtf8("\xE0\x9F\xBF"), 0u);      // U+07FF in three bytes
  EXPECT_EQ(FirstInvalidUtf8("\xF0\x80\x80\x80"), 0u);
  EXPECT_EQ(FirstInvalidUtf8("\xF0\x8F\xBF\xBF"), 0u);  // U+FFFF in four bytes
  EXPECT_EQ(FirstInvalidUtf8("ok/\xC0\xAF"), 3u);       // the classic "/" of path traversal
}

TEST(Utf8, RefusesEncodedSurrogates) {
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\x80"), 0u);  // U+D800
  EXPECT_EQ(FirstInvalidUtf8("\xED\xBF\xBF"), 0u);  // U+DFFF
  EXPECT_EQ(FirstInvalidUtf8("\xED\xA0\xBD\xED\xB8\x80"), 0u);  // a CESU-8 pair
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));         // U+D7FF, just below
}

TEST(Utf8, RefusesCodePointsAboveU10FFFF) {
  EXPECT_EQ(FirstInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // U+110000
  EXPECT_EQ(FirstInvalidUtf8("\xF5\x80\x80\x80"), 0u);
  EXPECT_EQ(FirstInvalidUtf8("\xF8\x88\x80\x80\x80"), 0u);  // the old five-byte form
  EXPECT_EQ(FirstInvalidUtf8("\xFF"), 0u);
}

TEST(Utf8, RefusesStrayAndMissingContinuationBytesAtTheirOffset) {
  EXPECT_EQ(FirstInvalidUtf8("abc\x80"), 3u);
  EXPECT_EQ(FirstInvalidUtf8("abcdefghij\xE2\x82"), 10u);    // cut short at the end
  EXPECT_EQ(FirstInvalidUtf8("\xE2\x82z"), 0u);              // cut short in the middle
  EXPECT_EQ(FirstInvalidUtf8("\xD2\x9B\xD2"), 2u);           // қ then half a letter
  EXPECT_EQ(FirstInvalidUtf8(std::string(20, 'a') + "\xC3"), 20u);  // after the ASCII fast path
}

TEST(Utf8, EveryCodePointEncodesToValidTextExceptSurrogates) {
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(IsValidUtf8(Encode(cp)), !surrogate) << std::hex << static_cast<unsigned>(cp);
  }
}

TEST(Utf8, AgreesWithTheReferenceOnEverySequenceOfUpToThreeBytes) {
  std::string s(3, '\0');
  for (int a = 0; a < 256; ++a) {
    s.resize(1);
    s[0] = static_cast<char>(a);
    ASSERT_EQ(FirstInvalidUtf8(s), ReferenceFirstInvalid(s)) << a;
    for (int b = 0; b < 256; ++b) {
      s.resize(2);
      s[1] = static_cast<char>(b);
      ASSERT_EQ(FirstInvalidUtf8(s), ReferenceFirstInvalid(s)) << a << " " << b;
      if (a < 0xC0) continue;  // an ASCII or continuation lead decides alone
      s.resize(3);
      for (int c = 0; c < 256; ++c) {
        s[2] = static_cast<char>(c);
        ASSERT_EQ(FirstInvalidUtf8(s), ReferenceFirstInvalid(s)) << a << " " << b << " " << c;
      }
    }
  }
}

TEST(Utf8, AgreesWithTheReferenceOnFourByteLeadsInContext) {
  // Every four-byte lead with each second byte, inside longer ASCII text so
  // that the fast path hands over at every alignment.
  for (int lead = 0xF0; lead <= 0xFF; ++lead) {
    for (int second = 0; second < 256; ++second) {
      for (std::size_t pad = 0; pad < 9; ++pad) {
        std::string s(pad, 'x');
        s += static_cast<char>(lead);
        s += static_cast<char>(second);
        s += "\x80\x80tail";
        ASSERT_EQ(FirstInvalidUtf8(s), ReferenceFirstInvalid(s)) << lead << " " << second << " " << pad;
      }
    }
  }
}

}  // namespace
}  // namespace qorgau
