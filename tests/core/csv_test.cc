#include "core/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace qorgau {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvRow> Parsed(std::string_view text) {
  auto rows = ParseCsv(text);
  EXPECT_TRUE(rows) << rows.error().ToString();
  return rows ? *rows : std::vector<CsvRow>{};
}

// The error of a parse that must fail; checks the common shape.
Error Failure(std::string_view text, size_t max_rows = 1'000'000, size_t max_field = 4096) {
  auto rows = ParseCsv(text, max_rows, max_field);
  EXPECT_FALSE(rows) << "parsed without error: " << text;
  if (rows) return Error{};
  EXPECT_EQ(rows.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(rows.error().field, "csv");
  return rows.error();
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

TEST(Csv, SimpleRecordsWithLineNumbers) {
  auto rows = Parsed("iin,phone,amount\n870412300415,+77015550123,1500\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 1);
  EXPECT_EQ(rows[0].fields, (Fields{"iin", "phone", "amount"}));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[1].fields, (Fields{"870412300415", "+77015550123", "1500"}));
}

TEST(Csv, QuotedFieldWithCommaAndNewline) {
  auto rows = Parsed("name,address\n\"Ivanov, A.\",\"Almaty\nAbai 10\"\nnext,row\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields, (Fields{"Ivanov, A.", "Almaty\nAbai 10"}));
  EXPECT_EQ(rows[1].line, 2);
  EXPECT_EQ(rows[2].line, 4) << "the quoted newline is a physical line";
  EXPECT_EQ(rows[2].fields, (Fields{"next", "row"}));
}

TEST(Csv, DoubledQuoteIsOneQuote) {
  auto rows = Parsed("\"say \"\"hi\"\"\",\"\"\"\",\"\"\n");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].fields, (Fields{"say \"hi\"", "\"", ""}));
}

TEST(Csv, CrLfLineEndingsAreAccepted) {
  auto rows = Parsed("a,b\r\nc,\"d\r\ne\"\r\nf,g");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"a", "b"}));
  EXPECT_EQ(rows[1].fields, (Fields{"c", "d\r\ne"})) << "quoted CRLF is kept as data";
  EXPECT_EQ(rows[2].fields, (Fields{"f", "g"}));
  EXPECT_EQ(rows[2].line, 4);
}

TEST(Csv, TextThatIsNotUtf8IsRefusedAtItsLine) {
  // Line 2 in Windows-1251 (Cyrillic), and an overlong form on line 3.
  auto cp1251 = ParseCsv("a,b\nref-\xc0\xc1,2\n", 10, 100);
  ASSERT_FALSE(cp1251);
  EXPECT_EQ(cp1251.error().field, "csv");
  EXPECT_EQ(cp1251.error().message, "line 2: not valid UTF-8 (save the file as UTF-8)");
  auto overlong = ParseCsv("a\nb\n\xc0\xaf\n", 10, 100);
  ASSERT_FALSE(overlong);
  EXPECT_EQ(overlong.error().message.rfind("line 3:", 0), 0u) << overlong.error().message;
  EXPECT_TRUE(ParseCsv("қ,ә\n", 10, 100));
}

TEST(Csv, ByteOrderMarkIsIgnored) {
  auto rows = Parsed("\xEF\xBB\xBFiin,amount\n1,2\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{"iin", "amount"}));
  // Only at the very start: elsewhere it is data.
  auto later = Parsed(
      "a\n\xEF\xBB\xBF"
      "b\n");
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[1].fields, (Fields{"\xEF\xBB\xBF"
                                     "b"}));
}

TEST(Csv, EmptyLinesAreSkippedButKeepTheirLineNumbers) {
  auto rows = Parsed("\n\na,b\n\r\n\nc,d\n\n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].line, 3);
  EXPECT_EQ(rows[1].line, 6);
  EXPECT_EQ(rows[1].fields, (Fields{"c", "d"}));
}

TEST(Csv, TrailingNewlineAddsNoRowAndMissingOneLosesNone) {
  EXPECT_EQ(Parsed("a,b\n").size(), 1u);
  EXPECT_EQ(Parsed("a,b\r\n").size(), 1u);
  auto rows = Parsed("a,b\nc,d");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1].fields, (Fields{"c", "d"}));
}

TEST(Csv, EmptyInputHasNoRows) {
  EXPECT_TRUE(Parsed("").empty());
  EXPECT_TRUE(Parsed("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(Parsed("\n\r\n\n").empty());
}

TEST(Csv, EmptyFieldsAreKept) {
  auto rows = Parsed(",a,,\n\"\"\n,");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields, (Fields{"", "a", "", ""}));
  EXPECT_EQ(rows[1].fields, (Fields{""})) << "a quoted empty field is not an empty line";
  EXPECT_EQ(rows[2].fields, (Fields{"", ""})) << "a trailing comma at end of input";
}

TEST(Csv, SpacesAreData) {
  auto rows = Parsed(" a , b \n   \n");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].fields, (Fields{" a ", " b "}));
  EXPECT_EQ(rows[1].fields, (Fields{"   "}));
}

TEST(Csv, UnterminatedQuoteNamesTheLine) {
  const Error e = Failure("a,b\nc,\"open\nstill open\nend");
  EXPECT_TRUE(StartsWith(e.message, "line 2: ")) << e.message;
  EXPECT_NE(e.message.find("unterminated quote"), std::string::npos) << e.message;
  EXPECT_NE(e.message.find("field 2"), std::string::npos) << e.message;
}

TEST(Csv, QuoteInsideUnquotedFieldIsRejected) {
  const Error e = Failure("a,b\n\nx,ab\"c\n");
  EXPECT_TRUE(StartsWith(e.message, "line 3: ")) << e.message;
  EXPECT_NE(e.message.find("quote inside unquoted field 2"), std::string::npos) << e.message;
}

TEST(Csv, CharactersAfterClosingQuoteAreRejected) {
  for (std::string_view text : {"\"a\"b,c\n", "\"a\" ,c\n", "\"a\"\t\n"}) {
    const Error e = Failure(text);
    EXPECT_TRUE(StartsWith(e.message, "line 1: ")) << e.message;
  }
  const Error e = Failure("ok\n\"multi\nline\"x\n");
  EXPECT_TRUE(StartsWith(e.message, "line 3: ")) << e.message;
  EXPECT_NE(e.message.find("after the closing quote of field 1"), std::string::npos) << e.message;
}

TEST(Csv, LoneCarriageReturnIsRejected) {
  EXPECT_TRUE(StartsWith(Failure("a\rb\n").message, "line 1: "));
  EXPECT_TRUE(StartsWith(Failure("a\n\"b\"\r").message, "line 2: "));
}

TEST(Csv, TooManyRowsNamesTheFirstExtraLine) {
  ASSERT_TRUE(ParseCsv("h\n1\n2\n", 3));
  const Error e = Failure("h\n1\n\n2\n3\n", 3);
  EXPECT_TRUE(StartsWith(e.message, "line 5: ")) << e.message;
  EXPECT_NE(e.message.find("more than 3 rows"), std::string::npos) << e.message;
}

TEST(Csv, FieldLongerThanTheLimitIsRejected) {
  ASSERT_TRUE(ParseCsv("abcd,\"ab\"\"c\"", 10, 4)) << "exactly the limit is fine";
  const Error unquoted = Failure("ok\nabcde", 10, 4);
  EXPECT_TRUE(StartsWith(unquoted.message, "line 2: ")) << unquoted.message;
  EXPECT_NE(unquoted.message.find("field 1 is longer than 4 bytes"), std::string::npos);
  const Error quoted = Failure("a,\"ab\ncde\"", 10, 4);
  EXPECT_TRUE(StartsWith(quoted.message, "line 1: ")) << quoted.message;
  EXPECT_NE(quoted.message.find("field 2"), std::string::npos) << quoted.message;
}

TEST(Csv, ErrorsNeverContainFieldContents) {
  const std::string iin = "870412300415";
  for (const std::string& text : {"a," + iin + "\"x\n", "\"" + iin + "\"x\n", "\"" + iin + "\n",
                                  iin + "\r" + iin, iin + "," + iin + iin}) {
    auto rows = ParseCsv(text, 10, 20);
    ASSERT_FALSE(rows) << text;
    EXPECT_EQ(rows.error().ToString().find("8704"), std::string::npos) << rows.error().ToString();
  }
}

}  // namespace
}  // namespace qorgau
