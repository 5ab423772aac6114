#include "core/csv.h"

#include <algorithm>
#include <climits>
#include <utility>

#include "core/utf8.h"

namespace qorgau {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

tl::unexpected<Error> CsvError(int line, const std::string& what) {
  return Fail(ErrorCode::kInvalidArgument, "csv", "line " + std::to_string(line) + ": " + what);
}

// "field 3": the 1-based position of the field being read in its record.
std::string FieldName(const CsvRow& row) {
  return "field " + std::to_string(row.fields.size() + 1);
}

}  // namespace

Result<std::vector<CsvRow>> ParseCsv(std::string_view text, size_t max_rows, size_t max_field) {
  // Bounds the line count so the int line numbers cannot overflow.
  if (text.size() >= static_cast<size_t>(INT_MAX)) {
    return Fail(ErrorCode::kInvalidArgument, "csv", "input is too large");
  }
  if (text.starts_with(kUtf8Bom)) text.remove_prefix(kUtf8Bom.size());
  // Text is strict UTF-8 everywhere (core/utf8.h): a file in another
  // encoding is refused at the line of its first bad byte.
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos) {
    const auto lines = std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    return CsvError(static_cast<int>(lines) + 1, "not valid UTF-8 (save the file as UTF-8)");
  }

  const size_t n = text.size();
  size_t i = 0;
  int line = 1;
  // The line end at `i` (LF or CRLF), as its length; 0 when there is none.
  auto line_end = [&]() -> size_t {
    if (i < n && text[i] == '\n') return 1;
    if (i + 1 < n && text[i] == '\r' && text[i + 1] == '\n') return 2;
    return 0;
  };

  std::vector<CsvRow> rows;
  while (i < n) {
    if (const size_t eol = line_end(); eol > 0) {  // a completely empty line
      i += eol;
      ++line;
      continue;
    }
    if (rows.size() >= max_rows) {
      return CsvError(line, "more than " + std::to_string(max_rows) + " rows");
    }
    CsvRow row;
    row.line = line;
    for (;;) {  // one field per pass
      std::string field;
      auto append = [&](char c) {
        if (field.size() >= max_field) return false;
        field.push_back(c);
        return true;
      };
      const int field_line = line;
      const bool quoted = i < n && text[i] == '"';
      if (quoted) {
        ++i;
        for (;;) {
          if (i >= n) return CsvError(field_line, "unterminated quote in " + FieldName(row));
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              ++i;  // "" is one literal quote
            } else {
              ++i;  // the closing quote
              break;
            }
          } else if (c == '\n') {
            ++line;
          }
          if (!append(c)) {
            return CsvError(field_line, FieldName(row) + " is longer than " +
                                            std::to_string(max_field) + " bytes");
          }
          ++i;
        }
      } else {
        for (; i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r'; ++i) {
          if (text[i] == '"') {
            return CsvError(line, "quote inside unquoted " + FieldName(row) +
                                      " (quote the whole field and double the quote)");
          }
          if (!append(text[i])) {
            return CsvError(
                line, FieldName(row) + " is longer than " + std::to_string(max_field) + " bytes");
          }
        }
      }

      // What ends the field: end of input, ',', or a line end.
      if (i >= n) {
        row.fields.push_back(std::move(field));
        break;
      }
      if (text[i] == ',') {
        row.fields.push_back(std::move(field));
        ++i;  // at end of input the next pass reads an empty last field
        continue;
      }
      if (const size_t eol = line_end(); eol > 0) {
        row.fields.push_back(std::move(field));
        i += eol;
        ++line;
        break;
      }
      if (text[i] == '\r') {
        return CsvError(line, "carriage return without a line feed in " + FieldName(row));
      }
      // Only a closed quoted field can stop at any other character.
      return CsvError(line, "unexpected character after the closing quote of " + FieldName(row));
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace qorgau
