// The key ring: everything derived from the master key.
//
//   master key ──HKDF "qorgau kek v1"──────────▶ KEK: wraps per-subject data keys
//              ──HKDF "qorgau blind-index v1"──▶ blind-index key: HMAC of IIN / phone
//              ──HKDF "qorgau key-check v1"────▶ check value stored with the database
//              ──HKDF "qorgau demographics v1"─▶ seals each subject's birth date and sex,
//                                                read in bulk by anonymised aggregates
//
// A subject's personal data are sealed with its own data key (AES-256-GCM);
// destroying the wrapped data key makes every copy unreadable.
// Key material is wiped when the ring is destroyed (OPENSSL_cleanse).
// Thread safety: immutable after construction; safe to share.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <utility>

#include "crypto/crypto.h"

namespace qorgau::crypto {

// The store's meta key of the master key's check value.
inline constexpr std::string_view kKeyCheckMeta = "key_check";

// The AAD that binds a sealed personal-data value to its subject and
// category: rules/subjects.cc seals and opens with it, a master-key
// rotation reopens with it.
std::string PersonalDataAad(std::int64_t subject_id, std::string_view category);
// The AAD of a subject's sealed demographics (rules/demographics.h).
std::string DemographicsAad(std::int64_t subject_id);

class KeyRing {
 public:
  static Result<KeyRing> FromMasterKey(const Bytes& master);

  // A fresh data key for `subject_id`: {plain key, wrapped key}.
  Result<std::pair<Bytes, Bytes>> NewDataKey(std::int64_t subject_id) const;
  Result<Bytes> UnwrapDataKey(std::int64_t subject_id, const Bytes& wrapped) const;
  // `key` wrapped under this ring's KEK: a data key moving to a new master
  // key (a rotation unwraps with the old ring, wraps with the new one).
  Result<Bytes> WrapDataKey(std::int64_t subject_id, const Bytes& key) const;

  // Keyed blind index of a normalised value; `kind` ("iin", "phone")
  // separates the domains so equal strings of two kinds never collide.
  Result<Bytes> BlindIndex(std::string_view kind, std::string_view normalized) const;

  // A subject's demographics sealed under the one demographics key, and
  // the bulk opener of them: an aggregate reads a million in one pass,
  // without unwrapping a million data keys (docs/architecture.md).
  Result<Bytes> SealDemographics(std::int64_t subject_id, std::string_view plain) const;
  Result<Opener> DemographicsOpener() const { return Opener::ForKey(demographics_); }

  // Stored with the database (meta kKeyCheckMeta) at init and at every
  // rotation; a different master key gives a different value.
  const Bytes& check_value() const { return check_; }

 private:
  KeyRing(Bytes kek, Bytes bidx, Bytes check, Bytes demographics)
      : kek_(std::move(kek)), bidx_(std::move(bidx)), check_(std::move(check)),
        demographics_(std::move(demographics)) {}

 public:
  KeyRing(KeyRing&&) noexcept = default;
  KeyRing& operator=(KeyRing&&) noexcept = default;
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;
  ~KeyRing();  // wipes the derived keys

 private:
  Bytes kek_;
  Bytes bidx_;
  Bytes check_;
  Bytes demographics_;
};

// Where the master key comes from, first found:
//   1. QORGAU_MASTER_KEY (64 hex digits); the variable is wiped and removed
//      from the environment once read, so child processes never see it;
//   2. the file QORGAU_MASTER_KEY_FILE names;
//   3. systemd's credential: $CREDENTIALS_DIRECTORY/qorgau-master-key;
//   4. the default file beside the data directory, `<data_dir>.master.key`
//      (outside it: a copy or backup of the directory holds no key);
//   5. `<data_dir>/master.key`, where versions before 0.2 kept it (still
//      read; `inside_data_dir` says so, for a warning).
// A key file must hold 64 hex digits and be readable by its owner only: a
// group- or world-readable file is refused (kFailedPrecondition). With
// `create`, a missing key is made, at 2-4's path, with mode 0600.
struct MasterKey {
  Bytes key;                   // wiped when destroyed
  std::string source;          // "QORGAU_MASTER_KEY", or the file's path
  bool inside_data_dir = false;
  // A key file qorgau may replace on rotation (2, 4 and 5 above); false for
  // the environment variable and systemd's credential, which it does not own.
  bool replaceable = false;
  MasterKey() = default;
  MasterKey(MasterKey&&) noexcept = default;
  MasterKey& operator=(MasterKey&&) noexcept = default;
  MasterKey(const MasterKey&) = delete;
  MasterKey& operator=(const MasterKey&) = delete;
  ~MasterKey();
};
Result<MasterKey> LoadMasterKey(const std::filesystem::path& data_dir, bool create);

// Writes `key` as 64 hex digits and a newline to the new file `file` (mode
// 0600, fails if it exists), fsyncs it and its directory.
Result<void> WriteMasterKeyFile(const std::filesystem::path& file, const Bytes& key);
// Reads a master key file (64 hex digits, owner-only).
Result<Bytes> ReadMasterKeyFile(const std::filesystem::path& file);
// fsync of a directory, so that a file created or renamed in it survives a
// crash.
Result<void> SyncDirectory(const std::filesystem::path& dir);

// Refuses a secret file (a key) that its group or others may read.
Result<void> CheckPrivateFile(const std::filesystem::path& file);

// Overwrites `bytes` with zeros the compiler may not drop (OPENSSL_cleanse).
void Wipe(Bytes& bytes);

}  // namespace qorgau::crypto
