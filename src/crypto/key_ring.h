// The key ring: everything derived from the master key.
//
//   master key ──HKDF "qorgau kek v1"──────────▶ KEK: wraps per-subject data keys
//              ──HKDF "qorgau blind-index v1"──▶ blind-index key: HMAC of IIN / phone
//              ──HKDF "qorgau key-check v1"────▶ check value stored with the database
//
// A subject's personal data are sealed with its own data key (AES-256-GCM);
// destroying the wrapped data key makes every copy unreadable.
// Thread safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>

#include "crypto/crypto.h"

namespace qorgau::crypto {

class KeyRing {
 public:
  static Result<KeyRing> FromMasterKey(const Bytes& master);

  // A fresh data key for `subject_id`: {plain key, wrapped key}.
  Result<std::pair<Bytes, Bytes>> NewDataKey(std::int64_t subject_id) const;
  Result<Bytes> UnwrapDataKey(std::int64_t subject_id, const Bytes& wrapped) const;

  // Keyed blind index of a normalised value; `kind` ("iin", "phone")
  // separates the domains so equal strings of two kinds never collide.
  Result<Bytes> BlindIndex(std::string_view kind, std::string_view normalized) const;

  // Stored at init; a different master key gives a different value.
  const Bytes& check_value() const { return check_; }

 private:
  KeyRing(Bytes kek, Bytes bidx, Bytes check)
      : kek_(std::move(kek)), bidx_(std::move(bidx)), check_(std::move(check)) {}
  Bytes kek_;
  Bytes bidx_;
  Bytes check_;
};

// The master key: from QORGAU_MASTER_KEY (64 hex digits) when set, else
// from `<data_dir>/master.key` (64 hex digits, mode 0600). With `create`, a
// missing file is made with a fresh random key.
Result<Bytes> LoadMasterKey(const std::filesystem::path& data_dir, bool create);

}  // namespace qorgau::crypto
