#include "ledger/canonical_json.h"

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

namespace qorgau::ledger {
namespace {

void EscapeString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  // Runs of characters that need no escape are copied whole.
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\b': *out += "\\b"; break;
      case '\f': *out += "\\f"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        *out += "\\u00";
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 0xf]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

Result<void> Encode(const boost::json::value& v, std::string* out) {
  switch (v.kind()) {
    case boost::json::kind::null: *out += "null"; return {};
    case boost::json::kind::bool_: *out += v.get_bool() ? "true" : "false"; return {};
    case boost::json::kind::int64: *out += std::to_string(v.get_int64()); return {};
    case boost::json::kind::uint64: *out += std::to_string(v.get_uint64()); return {};
    case boost::json::kind::double_:
      return Fail(ErrorCode::kInternal, "", "canonical JSON has no floating-point numbers");
    case boost::json::kind::string: EscapeString(v.get_string(), out); return {};
    case boost::json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const auto& item : v.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        if (auto r = Encode(item, out); !r) return r;
      }
      out->push_back(']');
      return {};
    }
    case boost::json::kind::object: {
      const auto& obj = v.get_object();
      std::vector<const boost::json::key_value_pair*> items;
      items.reserve(obj.size());
      for (const auto& kv : obj) items.push_back(&kv);
      std::sort(items.begin(), items.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out->push_back('{');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out->push_back(',');
        if (i > 0 && items[i]->key() == items[i - 1]->key()) {
          return Fail(ErrorCode::kInternal, "", "duplicate key in canonical JSON object");
        }
        EscapeString(items[i]->key(), out);
        out->push_back(':');
        if (auto r = Encode(items[i]->value(), out); !r) return r;
      }
      out->push_back('}');
      return {};
    }
  }
  return Fail(ErrorCode::kInternal, "", "unknown JSON kind");
}

}  // namespace

Result<std::string> CanonicalJson(const boost::json::value& v) {
  std::string out;
  QORGAU_TRY(Encode(v, &out));
  return out;
}

}  // namespace qorgau::ledger
