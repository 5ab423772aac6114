// Key rotation on a data directory (issue 8): `qorgau key rotate-master`
// and `qorgau key rotate-signing`, and the recovery that opening runs when a
// crash interrupted one.
//
// Both are administrator actions (rules/permissions.h: keys.rotate_master,
// keys.rotate_signing) and CLI only: each takes the data directory's lock
// (app/instance.h), so it is refused while `qorgau serve` or another
// command holds it.
//
// Master key. The new key is written to a new 0600 file and fsynced before
// anything else: `<keyfile>.new` beside a key file qorgau owns, or the
// caller's `--new-key-file` when the key came from QORGAU_MASTER_KEY or
// systemd's credential. Then ONE store transaction unwraps every subject's
// data key with the old KEK and wraps it with the new one, recomputes the
// IIN and phone blind indexes under the new blind-index key (opening the
// sealed values with the subject's data key), replaces the check value and
// appends `master_key.rotated`. Only after the commit is `<keyfile>.new`
// renamed over the key file. The old key is not kept: a backup of the
// database taken before the rotation needs it, so keep the copy made at
// init (offline) as long as such backups are kept.
//   Crash before the commit: the database still matches the old key; the
//   next open removes the unused `<keyfile>.new`. Crash after the commit,
//   before the rename: the database's check value is that of
//   `<keyfile>.new`; the next open finishes the rename.
//
// Signing key. The new Ed25519 key is written to `receipt.key.new` and
// `receipt.pub.new` and archived as `receipt-keys/<id>.pub`; one batch
// appends `signing_key.rotated` (both ids and public keys) and records the
// new id (meta kSigningKeyMeta), sealed under the OLD key, which so vouches
// for the new one; then the files are renamed over receipt.key and
// receipt.pub. A crash after the commit is finished by the next open (the
// ledger names the id of `receipt.key.new`); before it, the next open
// removes the unused files. A running server would go on signing with the
// old key: rotation needs the lock, so the server is stopped first and
// signs with the new key once started again.
//
// Errors never carry key material or personal-data values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"
#include "crypto/key_ring.h"
#include "crypto/signer.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::app {

struct MasterRotationOptions {
  std::string actor;
  // Where to write the new key when the current one is not a file qorgau
  // owns (QORGAU_MASTER_KEY, systemd's credential); refused otherwise.
  std::filesystem::path new_key_file;
  // `progress` (may be empty) is called after every `progress_every`
  // subjects with the count so far.
  std::int64_t progress_every = 10000;
  std::function<void(std::int64_t done)> progress;
};

struct MasterRotationReport {
  std::int64_t subjects = 0;     // data keys rewrapped, blind indexes recomputed
  std::int64_t without_key = 0;  // subjects whose data key is destroyed: nothing to rewrap
  std::int64_t event_seq = 0;    // the master_key.rotated event
  std::string old_source;        // where the old key came from
  std::filesystem::path new_key; // where the new key is now
  bool replaced = false;         // true: the key file was replaced in place
};

Result<MasterRotationReport> RotateMasterKey(const std::filesystem::path& data_dir,
                                             const MasterRotationOptions& options, const Clock& clock);

// The store part of a master key rotation, inside `txn`: every subject's
// data key rewrapped from `from` to `to`, its blind indexes recomputed from
// the values of the categories `policy` gives the IIN and phone values.
// Returns {rewrapped, without a key}.
Result<std::pair<std::int64_t, std::int64_t>> RewrapSubjects(
    store::Transaction& txn, const crypto::KeyRing& from, const crypto::KeyRing& to,
    const policy::Policy& policy, const MasterRotationOptions& options);

struct SigningRotationReport {
  std::string old_key_id;
  std::string new_key_id;
  std::int64_t event_seq = 0;  // the signing_key.rotated event
};

Result<SigningRotationReport> RotateSigningKey(const std::filesystem::path& data_dir,
                                               const std::string& actor, const Clock& clock);

// --- Called by Instance::Open with the directory locked ---

// The key ring for the database whose stored check value is `stored_check`:
// `master`'s, or the one of `<keyfile>.new` (a rotation that committed
// before its rename, which this finishes). Removes an unused
// `<keyfile>.new` (a rotation that did not commit). Otherwise kCrypto,
// saying what to do.
Result<crypto::KeyRing> ResumeMasterKeyRotation(const crypto::MasterKey& master,
                                                const crypto::Bytes& stored_check);

// Finishes or undoes an interrupted signing key rotation (`receipt.key.new`)
// against the ledger's key id `ledger_key_id` (meta kSigningKeyMeta, if
// any); rewrites receipt.pub when it is not receipt.key's; archives the
// public key in force. Fails when receipt.key is not the ledger's key.
Result<void> ResumeSigningKeyRotation(const std::filesystem::path& data_dir,
                                      const std::optional<std::string>& ledger_key_id);

// Writes `<data_dir>/receipt-keys/<id>.pub` for `signer` unless present.
Result<void> ArchivePublicKey(const std::filesystem::path& data_dir, const crypto::Signer& signer);

}  // namespace qorgau::app
