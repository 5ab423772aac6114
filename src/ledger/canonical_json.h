// The canonical JSON encoding of ledger events (docs/ledger-format.md):
// objects with keys sorted by their UTF-8 bytes, no whitespace, integers
// only (no floating point), strings with the minimal escapes of RFC 8259
// (", \ and control characters; \u00XX in lower-case hex for those
// without a short form). The same value always encodes to the same bytes,
// whatever order it was built in, so its hash is reproducible.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace qorgau::ledger {

Result<std::string> CanonicalJson(const boost::json::value& v);
// The same for an object, without copying it into a value.
Result<std::string> CanonicalJson(const boost::json::object& o);

// One canonical JSON object built member by member, without a boost::json
// tree: for the write path (ledger events, receipts), where parts are
// encoded once and reused. The bytes equal CanonicalJson of the same object.
class CanonicalObject {
 public:
  CanonicalObject& String(std::string_view key, std::string_view value);
  CanonicalObject& Int(std::string_view key, std::int64_t value);
  CanonicalObject& Bool(std::string_view key, bool value);
  // `encoded` must be canonical JSON already (CanonicalJson's or Finish's).
  CanonicalObject& Raw(std::string_view key, std::string_view encoded);
  // The object, keys sorted; a key given twice is an error.
  Result<std::string> Finish() const;

 private:
  struct Member {
    std::string key;
    std::size_t begin = 0;  // the value's bytes in values_
    std::size_t end = 0;
  };
  CanonicalObject& Add(std::string_view key, std::size_t begin);
  std::vector<Member> members_;
  std::string values_;
};

// `s` as a canonical JSON string, quotes included, appended to `out`.
void AppendCanonicalString(std::string_view s, std::string* out);

}  // namespace qorgau::ledger
