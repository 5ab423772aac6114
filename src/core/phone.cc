#include "core/phone.h"

namespace qorgau {

Result<Phone> Phone::Parse(std::string_view text, std::string_view field) {
  const std::string f(field);
  if (text.size() > 32) return Fail(ErrorCode::kInvalidArgument, f, "longer than 32 characters");
  std::string digits;
  bool plus = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c == '+') {
      if (!digits.empty() || plus) {
        return Fail(ErrorCode::kInvalidArgument, f, "'+' may only start the number");
      }
      plus = true;
    } else if (c != ' ' && c != '-' && c != '(' && c != ')' && c != '.') {
      return Fail(ErrorCode::kInvalidArgument, f,
                  "may contain only digits, spaces, '+', '(', ')', '-' and '.'");
    }
  }
  std::string national;
  if (plus) {
    if (digits.empty() || digits[0] != '7') {
      return Fail(ErrorCode::kInvalidArgument, f, "country code must be +7 (Kazakhstan)");
    }
    national = digits.substr(1);
  } else if (digits.size() == 11 && (digits[0] == '8' || digits[0] == '7')) {
    national = digits.substr(1);  // trunk prefix 8, or the country code without '+'
  } else if (digits.size() == 10) {
    national = digits;
  } else {
    return Fail(ErrorCode::kInvalidArgument, f,
                "must be +7 followed by 10 digits, or 8 followed by 10 digits");
  }
  if (national.size() != 10) {
    return Fail(ErrorCode::kInvalidArgument, f, "must have 10 digits after the country code +7");
  }
  if (national[0] != '7' && national[0] != '6') {
    return Fail(ErrorCode::kInvalidArgument, f,
                "not a Kazakhstan number (national numbers begin with 6 or 7)");
  }
  return Phone("+7" + national);
}

std::string Phone::Masked() const { return e164_.substr(0, 5) + "*****" + e164_.substr(10); }

}  // namespace qorgau
