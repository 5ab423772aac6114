#include "core/personal_value.h"

#include <algorithm>

#include "core/clock.h"
#include "core/iin.h"
#include "core/phone.h"
#include "core/utf8.h"

namespace qorgau {
namespace {

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

Result<std::string> CheckText(std::string_view value, std::string_view field, size_t max) {
  const std::string f(field);
  if (value.empty()) return Fail(ErrorCode::kInvalidArgument, f, "must not be empty");
  if (value.size() > max) {
    return Fail(ErrorCode::kInvalidArgument, f, "longer than " + std::to_string(max) + " bytes");
  }
  if (!IsValidUtf8(value)) return Fail(ErrorCode::kInvalidArgument, f, "is not valid UTF-8");
  if (HasControl(value)) return Fail(ErrorCode::kInvalidArgument, f, "contains control characters");
  return std::string(value);
}

// The first UTF-8 character of `s`.
std::string_view FirstChar(std::string_view s) {
  if (s.empty()) return s;
  const auto c = static_cast<unsigned char>(s[0]);
  const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : 4;
  return s.substr(0, std::min(n, s.size()));
}

}  // namespace

Result<std::int64_t> ParseScaledNumber(std::string_view text, std::string_view field) {
  auto bad = [&](const std::string& why) { return Fail(ErrorCode::kInvalidArgument, std::string(field), why); };
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) ++i;
  std::int64_t whole = 0, fraction = 0;
  int whole_digits = 0, fraction_digits = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (++whole_digits > 14) return bad("is not a number of at most 14 digits before the point");
    whole = whole * 10 + (text[i++] - '0');
  }
  if (whole_digits == 0) return bad("is not a number (digits, optionally a point and up to 4 decimals)");
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (++fraction_digits > 4) return bad("has more than 4 decimals");
      fraction = fraction * 10 + (text[i++] - '0');
    }
    if (fraction_digits == 0) return bad("has a point without decimals");
  }
  if (i != text.size()) return bad("is not a number (digits, optionally a point and up to 4 decimals)");
  for (int d = fraction_digits; d < 4; ++d) fraction *= 10;
  const std::int64_t scaled = whole * 10000 + fraction;
  return negative ? -scaled : scaled;
}

std::string FormatScaledNumber(ScaledSum scaled) {
  const bool negative = scaled < 0;
  __extension__ typedef unsigned __int128 Unsigned;
  Unsigned v = negative ? static_cast<Unsigned>(-scaled) : static_cast<Unsigned>(scaled);
  std::string fraction;
  unsigned frac = static_cast<unsigned>(v % 10000);
  v /= 10000;
  for (int d = 0; d < 4; ++d, frac /= 10) fraction.insert(fraction.begin(), static_cast<char>('0' + frac % 10));
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  std::string whole;
  do {
    whole.insert(whole.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  std::string out = (negative ? "-" : "") + whole;
  if (!fraction.empty()) out += "." + fraction;
  return out;
}

std::string_view ValueTypeName(ValueType t) {
  switch (t) {
    case ValueType::kText: return "text";
    case ValueType::kIin: return "iin";
    case ValueType::kPhone: return "phone";
    case ValueType::kName: return "name";
    case ValueType::kEmail: return "email";
    case ValueType::kDate: return "date";
    case ValueType::kNumber: return "number";
  }
  return "text";
}

bool ParseValueType(std::string_view name, ValueType* out) {
  for (ValueType t : {ValueType::kText, ValueType::kIin, ValueType::kPhone, ValueType::kName,
                      ValueType::kEmail, ValueType::kDate, ValueType::kNumber}) {
    if (ValueTypeName(t) == name) {
      *out = t;
      return true;
    }
  }
  return false;
}

Result<std::string> NormalizeValue(ValueType type, std::string_view value, std::string_view field) {
  switch (type) {
    case ValueType::kIin: {
      auto iin = Iin::Parse(value, field);
      if (!iin) return tl::unexpected(iin.error());
      return iin->digits();
    }
    case ValueType::kPhone: {
      auto phone = Phone::Parse(value, field);
      if (!phone) return tl::unexpected(phone.error());
      return phone->e164();
    }
    case ValueType::kName: return CheckText(value, field, 200);
    case ValueType::kEmail: {
      auto text = CheckText(value, field, 254);
      if (!text) return text;
      const size_t at = text->find('@');
      if (at == std::string::npos || at == 0 || at + 1 >= text->size() ||
          text->find('@', at + 1) != std::string::npos || text->find(' ') != std::string::npos ||
          text->find('.', at) == std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, std::string(field),
                    "is not an e-mail address (local@domain.tld)");
      }
      return text;
    }
    case ValueType::kDate: {
      auto d = ParseDate(value, field);
      if (!d) return tl::unexpected(d.error());
      return FormatDate(*d);
    }
    case ValueType::kNumber: {
      auto scaled = ParseScaledNumber(value, field);
      if (!scaled) return tl::unexpected(scaled.error());
      return FormatScaledNumber(*scaled);
    }
    case ValueType::kText: return CheckText(value, field, 1024);
  }
  return CheckText(value, field, 1024);
}

std::string MaskValue(ValueType type, std::string_view value) {
  switch (type) {
    case ValueType::kIin:
      if (value.size() == 12) return std::string(value.substr(0, 4)) + "******" + std::string(value.substr(10));
      return "***";
    case ValueType::kPhone:
      if (value.size() == 12) return std::string(value.substr(0, 5)) + "*****" + std::string(value.substr(10));
      return "***";
    case ValueType::kName: {
      std::string out;
      size_t i = 0;
      while (i < value.size()) {
        while (i < value.size() && value[i] == ' ') ++i;
        if (i >= value.size()) break;
        size_t j = value.find(' ', i);
        if (j == std::string_view::npos) j = value.size();
        if (!out.empty()) out += ' ';
        out += FirstChar(value.substr(i, j - i));
        out += "***";
        i = j;
      }
      return out.empty() ? "***" : out;
    }
    case ValueType::kEmail: {
      const size_t at = value.find('@');
      if (at == std::string_view::npos) return "***";
      return std::string(FirstChar(value)) + "***" + std::string(value.substr(at));
    }
    case ValueType::kDate:
      return value.size() == 10 ? std::string(value.substr(0, 4)) + "-**-**" : "***";
    case ValueType::kNumber: return "***";
    case ValueType::kText: return "***";
  }
  return "***";
}

namespace {

bool ContainsPersonalDataRun(std::string_view text);

}  // namespace

// Digits may be split by separators ("8-701-555-01-23", "900101 300123"):
// each run of digits and separators is also checked with the separators
// taken out.
bool ContainsPersonalDataShape(std::string_view text) {
  if (ContainsPersonalDataRun(text)) return true;
  std::string joined;
  auto flush = [&] {
    const bool found = ContainsPersonalDataRun(joined);
    joined.clear();
    return found;
  };
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      joined.push_back(c);
    } else if (c == '-' || c == '.' || c == ' ' || c == '/' || c == ':' || c == '_' || c == '(' ||
               c == ')' || c == '+' || c == '#') {
      continue;  // a separator keeps the run going
    } else if (flush()) {
      return true;
    }
  }
  return flush();
}

namespace {

bool ContainsPersonalDataRun(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] < '0' || text[i] > '9') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    const std::string_view run = text.substr(i, j - i);
    if (run.size() == 12 && Iin::Parse(run).has_value()) return true;
    if ((run.size() == 10 || run.size() == 11) && Phone::Parse(run).has_value()) return true;
    i = j;
  }
  return false;
}

}  // namespace

}  // namespace qorgau
