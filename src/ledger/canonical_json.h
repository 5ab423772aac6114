// The canonical JSON encoding of ledger events (docs/ledger-format.md):
// objects with keys sorted by their UTF-8 bytes, no whitespace, integers
// only (no floating point), strings with the minimal escapes of RFC 8259
// (", \ and control characters; \u00XX in lower-case hex for those
// without a short form). The same value always encodes to the same bytes,
// whatever order it was built in, so its hash is reproducible.
#pragma once

#include <boost/json/value.hpp>
#include <string>

#include "core/error.h"

namespace qorgau::ledger {

Result<std::string> CanonicalJson(const boost::json::value& v);

}  // namespace qorgau::ledger
