#include "ledger/canonical_json.h"

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

namespace qorgau::ledger {

void AppendCanonicalString(std::string_view s, std::string* out) {
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

namespace {

Result<void> EncodeObject(const boost::json::object& obj, std::string* out);

Result<void> Encode(const boost::json::value& v, std::string* out) {
  switch (v.kind()) {
    case boost::json::kind::null: *out += "null"; return {};
    case boost::json::kind::bool_: *out += v.get_bool() ? "true" : "false"; return {};
    case boost::json::kind::int64: *out += std::to_string(v.get_int64()); return {};
    case boost::json::kind::uint64: *out += std::to_string(v.get_uint64()); return {};
    case boost::json::kind::double_:
      return Fail(ErrorCode::kInternal, "", "canonical JSON has no floating-point numbers");
    case boost::json::kind::string: AppendCanonicalString(v.get_string(), out); return {};
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
    case boost::json::kind::object: return EncodeObject(v.get_object(), out);
  }
  return Fail(ErrorCode::kInternal, "", "unknown JSON kind");
}

Result<void> EncodeObject(const boost::json::object& obj, std::string* out) {
  std::vector<const boost::json::key_value_pair*> items;
  items.reserve(obj.size());
  for (const auto& kv : obj) items.push_back(&kv);
  std::sort(items.begin(), items.end(), [](const auto* a, const auto* b) { return a->key() < b->key(); });
  out->push_back('{');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    if (i > 0 && items[i]->key() == items[i - 1]->key()) {
      return Fail(ErrorCode::kInternal, "", "duplicate key in canonical JSON object");
    }
    AppendCanonicalString(items[i]->key(), out);
    out->push_back(':');
    QORGAU_TRY(Encode(items[i]->value(), out));
  }
  out->push_back('}');
  return {};
}

}  // namespace

Result<std::string> CanonicalJson(const boost::json::value& v) {
  std::string out;
  QORGAU_TRY(Encode(v, &out));
  return out;
}

Result<std::string> CanonicalJson(const boost::json::object& o) {
  std::string out;
  QORGAU_TRY(EncodeObject(o, &out));
  return out;
}

CanonicalObject& CanonicalObject::Add(std::string_view key, std::size_t begin) {
  members_.push_back({std::string(key), begin, values_.size()});
  return *this;
}

CanonicalObject& CanonicalObject::String(std::string_view key, std::string_view value) {
  const std::size_t begin = values_.size();
  AppendCanonicalString(value, &values_);
  return Add(key, begin);
}

CanonicalObject& CanonicalObject::Int(std::string_view key, std::int64_t value) {
  const std::size_t begin = values_.size();
  values_ += std::to_string(value);
  return Add(key, begin);
}

CanonicalObject& CanonicalObject::Bool(std::string_view key, bool value) {
  const std::size_t begin = values_.size();
  values_ += value ? "true" : "false";
  return Add(key, begin);
}

CanonicalObject& CanonicalObject::Raw(std::string_view key, std::string_view encoded) {
  const std::size_t begin = values_.size();
  values_ += encoded;
  return Add(key, begin);
}

Result<std::string> CanonicalObject::Finish() const {
  std::vector<const Member*> order;
  order.reserve(members_.size());
  std::size_t size = 2 + values_.size();
  for (const auto& m : members_) {
    order.push_back(&m);
    size += m.key.size() + 4;
  }
  std::sort(order.begin(), order.end(), [](const Member* a, const Member* b) { return a->key < b->key; });
  std::string out;
  out.reserve(size);
  out.push_back('{');
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (i > 0) {
      if (order[i]->key == order[i - 1]->key) {
        return Fail(ErrorCode::kInternal, "", "duplicate key in canonical JSON object");
      }
      out.push_back(',');
    }
    AppendCanonicalString(order[i]->key, &out);
    out.push_back(':');
    out.append(values_, order[i]->begin, order[i]->end - order[i]->begin);
  }
  out.push_back('}');
  return out;
}

}  // namespace qorgau::ledger
