// The canonical JSON of docs/ledger-format.md, on whatever Boost.JSON
// parses from arbitrary bytes. Properties, each of the format's promises:
// - it is refused exactly when the value holds a floating-point number;
// - its output parses back to an equal value, and encodes to the same
//   bytes again (a fixed point);
// - members come out sorted by their UTF-8 bytes, whatever order they were
//   built in (the value with every object's members reversed encodes to
//   the same bytes);
// - no whitespace outside strings; only the minimal escapes: \" \\ and
//   \b \f \n \r \t, and \u00xx in lower-case hex for the other control
//   characters, nothing else.
#include <boost/json.hpp>
#include <string>

#include "fuzz.h"
#include "ledger/canonical_json.h"

namespace {

namespace json = boost::json;

bool HasDouble(const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_:
      return true;
    case json::kind::array:
      for (const auto& item : v.get_array()) {
        if (HasDouble(item)) return true;
      }
      return false;
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (HasDouble(kv.value())) return true;
      }
      return false;
    default:
      return false;
  }
}

// The same value, with the members of every object in reverse order.
json::value Reversed(const json::value& v) {
  if (v.is_array()) {
    json::array a;
    for (const auto& item : v.get_array()) a.push_back(Reversed(item));
    return a;
  }
  if (!v.is_object()) return v;
  const json::object& o = v.get_object();
  json::object out;
  for (auto it = o.end(); it != o.begin();) {
    --it;
    out.emplace(it->key(), Reversed(it->value()));
  }
  return out;
}

// Boost.JSON keeps members in the order it read them.
bool MembersSorted(const json::value& v) {
  if (v.is_array()) {
    for (const auto& item : v.get_array()) {
      if (!MembersSorted(item)) return false;
    }
    return true;
  }
  if (!v.is_object()) return true;
  std::string_view last;
  bool first = true;
  for (const auto& kv : v.get_object()) {
    // std::string_view compares as unsigned bytes (char_traits<char>).
    if (!first && !(last < kv.key())) return false;
    first = false;
    last = kv.key();
    if (!MembersSorted(kv.value())) return false;
  }
  return true;
}

bool IsHexLower(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// Whitespace outside strings and the escapes inside them.
void CheckText(std::string_view text) {
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!in_string) {
      FUZZ_CHECK(c != ' ' && c != '\n' && c != '\r' && c != '\t', "no whitespace outside strings");
      if (c == '"') in_string = true;
      continue;
    }
    FUZZ_CHECK(c >= 0x20, "control characters are escaped");
    if (c == '"') {
      in_string = false;
    } else if (c == '\\') {
      FUZZ_CHECK(i + 1 < text.size(), "an escape is complete");
      const char e = text[++i];
      if (e == 'u') {
        FUZZ_CHECK(i + 4 < text.size() && text.substr(i + 1, 2) == "00" &&
                       IsHexLower(text[i + 3]) && IsHexLower(text[i + 4]),
                   "\\u escapes are \\u00xx in lower-case hex");
        const int code = std::stoi(std::string(text.substr(i + 3, 2)), nullptr, 16);
        FUZZ_CHECK(code < 0x20 && code != '\b' && code != '\f' && code != '\n' && code != '\r' &&
                       code != '\t',
                   "\\u00xx only for control characters without a short escape");
        i += 4;
      } else {
        FUZZ_CHECK(
            e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't',
            "only the minimal short escapes");
      }
    }
  }
  FUZZ_CHECK(!in_string, "strings are closed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const json::value v = json::parse(qorgau::fuzz::Bytes(data, size), ec);
  if (ec) return 0;
  const auto canonical = qorgau::ledger::CanonicalJson(v);
  FUZZ_CHECK(canonical.has_value() == !HasDouble(v),
             "refused exactly when a number is not an integer");
  if (!canonical) return 0;

  const json::value back = json::parse(*canonical, ec);
  FUZZ_CHECK(!ec, "the canonical form is JSON");
  FUZZ_CHECK(back == v, "the canonical form parses back to an equal value");
  const auto again = qorgau::ledger::CanonicalJson(back);
  FUZZ_CHECK(again && *again == *canonical, "the canonical form is a fixed point");
  FUZZ_CHECK(MembersSorted(back), "members are sorted by their UTF-8 bytes");
  const auto reversed = qorgau::ledger::CanonicalJson(Reversed(v));
  FUZZ_CHECK(reversed && *reversed == *canonical,
             "the order members were built in does not matter");
  CheckText(*canonical);
  return 0;
}
