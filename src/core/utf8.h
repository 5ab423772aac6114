// Strict UTF-8 validation: the one check every text input goes through.
//
// Well-formed means exactly the byte sequences of Unicode 15, §3.9,
// Table 3-7 (RFC 3629): no overlong forms (C0, C1, E0 80..9F, F0 80..8F),
// no encoded surrogates (ED A0..BF, U+D800-DFFF), nothing above U+10FFFF
// (F4 90.., F5..FF), no stray continuation bytes and no sequence cut short.
// NUL (U+0000) is well-formed UTF-8; callers that must refuse it say so.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace qorgau {

// The byte offset of the first byte that does not begin a well-formed
// sequence (or begins one that is cut short), or std::string_view::npos
// when all of `text` is well-formed.
std::size_t FirstInvalidUtf8(std::string_view text);

inline bool IsValidUtf8(std::string_view text) {
  return FirstInvalidUtf8(text) == std::string_view::npos;
}

}  // namespace qorgau
