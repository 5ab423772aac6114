// A small RFC 4180 CSV reader for billing imports.
//
// Separator ','; a field may be quoted with '"', inside which '""' is one
// quote and commas, CR and LF are data (kept as they are, so a quoted CRLF
// stays "\r\n"). Records end at LF or CRLF; a lone CR outside quotes is an
// error. A UTF-8 byte-order mark at the very start is ignored, completely
// empty lines are skipped (so a trailing newline adds no row), and no
// trimming is done: spaces belong to the field. Rows may differ in width;
// the caller checks the columns it expects.
//
// Errors are kInvalidArgument with field "csv" and a message "line N: ...",
// N the 1-based physical line concerned (for an unterminated quote, the line
// where the quote opened). They name the line and the field's position,
// never its contents, which may be personal data. The only exception is an
// input over INT_MAX bytes, refused before reading ("input is too large").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace qorgau {

struct CsvRow {
  int line = 0;  // 1-based physical line where the record starts
  std::vector<std::string> fields;
};

// Parses all of `text`. Fails when a record would be number `max_rows` + 1
// (every record counts, a header too) or a field, after unquoting, is longer
// than `max_field` bytes.
Result<std::vector<CsvRow>> ParseCsv(std::string_view text, size_t max_rows = 1'000'000,
                                     size_t max_field = 4096);

}  // namespace qorgau
