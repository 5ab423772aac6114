// ParseCsv on arbitrary bytes, then the checks the obligation import
// (rules/obligations.cc) runs on each row before it touches the store.
//
// Properties of the reader: an error is kInvalidArgument on field "csv",
// "line N: ..."; records start on increasing lines; writing the records
// back with every field quoted and reading them again gives the same
// fields, on the lines the quoted newlines predict (round trip); and the
// row and field limits only ever add refusals.
// Properties of the row checks: an amount is positive tiyn and reads back
// from its own tenge form; a reference that passes holds no personal-data
// shape; an IIN is normalised to itself.
#include <algorithm>
#include <string>
#include <vector>

#include "core/csv.h"
#include "core/personal_value.h"
#include "core/vocabulary.h"
#include "fuzz.h"
#include "rules/checks.h"
#include "rules/engine.h"

namespace {

using qorgau::CsvRow;

// RFC 4180 with every field quoted: the one way to write any field.
std::string WriteQuoted(const std::vector<CsvRow>& rows) {
  std::string out;
  for (const CsvRow& row : rows) {
    for (std::size_t i = 0; i < row.fields.size(); ++i) {
      if (i > 0) out += ',';
      out += '"';
      for (char c : row.fields[i]) {
        if (c == '"') out += '"';
        out += c;
      }
      out += '"';
    }
    out += '\n';
  }
  return out;
}

bool SameFields(const std::vector<CsvRow>& a, const std::vector<CsvRow>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].fields != b[i].fields) return false;
  }
  return true;
}

void CheckError(const qorgau::Error& e) {
  FUZZ_CHECK(e.code == qorgau::ErrorCode::kInvalidArgument, "a CSV error is kInvalidArgument");
  FUZZ_CHECK(e.field == "csv", "a CSV error names the field csv");
  FUZZ_CHECK(e.message.starts_with("line "), "a CSV error starts with its line");
}

// What ImportObligations checks of a row "action,iin,kind,ref,amount"
// without a store.
void CheckObligationRow(const CsvRow& row) {
  using namespace qorgau;
  if (row.fields.size() != 5) return;
  const std::string& iin = row.fields[1];
  const std::string& kind = row.fields[2];
  const std::string& ref = row.fields[3];
  const std::string& amount = row.fields[4];
  if (auto normal = NormalizeValue(ValueType::kIin, iin, "iin")) {
    FUZZ_CHECK(*normal == iin, "a valid IIN is its own normal form");
  }
  ObligationKind k{};
  if (ParseObligationKind(kind, &k)) {
    FUZZ_CHECK(ObligationKindName(k) == kind, "an obligation kind reads back as its name");
  }
  if (rules::CheckReference(ref, "ref")) {
    FUZZ_CHECK(!ContainsPersonalDataShape(ref), "an accepted reference holds no IIN or phone");
  }
  if (auto tiyn = rules::ParseAmount(amount, "amount")) {
    FUZZ_CHECK(*tiyn > 0, "an amount is positive");
    std::string cents = std::to_string(*tiyn % 100);
    if (cents.size() < 2) cents.insert(0, 1, '0');
    const std::string tenge = std::to_string(*tiyn / 100) + "." + cents;
    auto again = rules::ParseAmount(tenge, "amount");
    FUZZ_CHECK(again && *again == *tiyn, "an amount reads back from its tenge form");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace qorgau;
  const std::string_view text = fuzz::Bytes(data, size);
  auto rows = ParseCsv(text);
  constexpr std::size_t kFewRows = 3;
  constexpr std::size_t kShortField = 8;
  auto limited = ParseCsv(text, kFewRows, kShortField);
  if (!rows) {
    CheckError(rows.error());
    FUZZ_CHECK(!limited, "limits only add refusals");
    return 0;
  }
  bool over = rows->size() > kFewRows;
  for (const CsvRow& row : *rows) {
    for (const auto& f : row.fields) over = over || f.size() > kShortField;
  }
  FUZZ_CHECK(limited.has_value() == !over, "the limits refuse exactly what exceeds them");
  if (limited) {
    FUZZ_CHECK(SameFields(*limited, *rows), "limits change no record they accept");
  } else {
    CheckError(limited.error());
  }

  int line = 0;
  for (const CsvRow& row : *rows) {
    FUZZ_CHECK(row.line > line, "records start on increasing lines");
    FUZZ_CHECK(!row.fields.empty(), "a record has a field");
    line = row.line;
    CheckObligationRow(row);
  }

  const std::string written = WriteQuoted(*rows);
  auto reread = ParseCsv(written);
  FUZZ_CHECK(reread.has_value(), "the quoted form of parsed records parses");
  FUZZ_CHECK(SameFields(*reread, *rows), "the quoted form round-trips every field");
  int expected_line = 1;
  for (const CsvRow& row : *reread) {
    FUZZ_CHECK(row.line == expected_line, "a quoted newline is a physical line");
    expected_line += 1;
    for (const auto& f : row.fields)
      expected_line += static_cast<int>(std::count(f.begin(), f.end(), '\n'));
  }
  return 0;
}
