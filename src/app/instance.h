// An instance: one data directory opened for use — its store, its keys and
// the policy edition in force — and the engine over them. The CLI and (later)
// the HTTP server both start from here.
//
// Data directory layout:
//   <dir>/qorgau.db     SQLite database (0600), WAL beside it
//   <dir>/keys.db       the subjects' wrapped data keys and the journal of
//                       destructions (0600): never in a backup
//   <dir>.master.key    beside it, not in it: the master key, 64 hex digits
//                       (0600), unless QORGAU_MASTER_KEY, QORGAU_MASTER_KEY_FILE
//                       or systemd's credential supplies it (crypto/key_ring.h)
//   <dir>/receipt.key   the Ed25519 key that signs tree heads, hence consent
//                       receipts (0600)
//   <dir>/receipt.pub   its public key, for checking receipts offline
//   <dir>/receipt-keys/<key_id>.pub
//                       every signing key's public key, the one in force
//                       and those `key rotate-signing` replaced: receipts
//                       and tree heads verify by their key id; made at
//                       init, or on the first open of an older directory
//
// Opening finishes a key rotation that a crash interrupted after its
// commit (app/key_rotation.h): `<keyfile>.new` whose key the database's
// check value names, `receipt.key.new` whose id the ledger names.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/key_ring.h"
#include "crypto/public_keys.h"
#include "crypto/signer.h"
#include "index/decision_index.h"
#include "ledger/audit.h"
#include "ledger/witness.h"
#include "store/group_commit.h"
#include "policy/policy_loader.h"
#include "rules/engine.h"
#include "store/store.h"

namespace qorgau::app {

struct InitReport {
  std::filesystem::path database;
  std::string master_key_source;  // QORGAU_MASTER_KEY, or the key file's path
  int edition = 0;
  // The working-day calendars imported, and from where ("" and none when
  // no folder was given or found).
  std::filesystem::path calendars;
  std::vector<int> calendar_years;
};

class Instance {
 public:
  // Creates the data directory, the master key, the database, publishes
  // the policy edition and imports the working-day calendars of `calendars`
  // (every YEAR.yaml; default: FindCalendars beside the policy). The policy
  // and the calendars are checked first: a bad one creates nothing. Fails
  // when the directory already holds a database.
  static Result<InitReport> Init(const std::filesystem::path& data_dir,
                                 const std::filesystem::path& policy_file, const Clock& clock,
                                 std::optional<std::filesystem::path> calendars = std::nullopt);

  // Opens the directory for this process alone: a second process (a CLI
  // command while the server runs) is refused, because each process keeps
  // its own decision index and would not see the other's writes.
  static Result<std::unique_ptr<Instance>> Open(const std::filesystem::path& data_dir,
                                                const Clock& clock);
  ~Instance();

  rules::Engine& engine() { return *engine_; }
  index::DecisionIndex& index() { return *index_; }
  store::GroupCommitter& writer() { return *writer_; }
  store::Store& store() { return *store_; }
  const policy::Policy& policy() const { return *policy_; }
  const crypto::KeyRing& keys() const { return keys_; }
  const crypto::Signer& signer() const { return signer_; }
  // Where the master key came from (crypto::MasterKey::source), and whether
  // it is a file qorgau may replace on rotation.
  const std::string& master_key_source() const { return master_source_; }
  bool master_key_replaceable() const { return master_replaceable_; }

  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;


 private:
  static Result<std::unique_ptr<Instance>> OpenLocked(const std::filesystem::path& data_dir,
                                                      const Clock& clock);
  Instance(std::unique_ptr<store::Store> store, crypto::KeyRing keys, crypto::Signer signer,
           std::shared_ptr<const policy::Policy> policy,
           std::unique_ptr<index::DecisionIndex> index, const Clock& clock);

  // Declaration order is destruction order in reverse: the engine goes
  // first, then the writer (which finishes its queue), then the index.
  int lock_fd_ = -1;  // flock'd <dir>/qorgau.lock, held while open
  std::string master_source_;
  bool master_replaceable_ = false;
  std::unique_ptr<store::Store> store_;
  crypto::KeyRing keys_;
  crypto::Signer signer_;
  std::shared_ptr<const policy::Policy> policy_;
  std::unique_ptr<index::DecisionIndex> index_;
  ledger::ProofCache proofs_;  // receipts' proofs, from the writer to the callers
  std::unique_ptr<store::GroupCommitter> writer_;
  std::unique_ptr<rules::Engine> engine_;
};

// The working-day calendars shipped for `country` beside a policy file: the
// first `calendars/<country, lower case>` found in the policy's folder or
// the two above it (the repository's calendars/kz for policies/kem). None
// when there is none.
std::optional<std::filesystem::path> FindCalendars(const std::filesystem::path& policy_file,
                                                   const std::string& country);

// `audit verify` on a data directory (ledger/audit.h), read-only and with
// public keys only, so that it runs beside a running server and on a copy
// sent to an auditor. `actor` is authorized from the store (audit.verify).
struct AuditRequest {
  std::string actor;
  // A public key file or a directory of them (as receipt-keys/). Empty:
  // <dir>/receipt-keys/ and <dir>/receipt.pub.
  std::filesystem::path public_key;
  std::optional<ledger::TreeHead> checkpoint;    // from an outside witness
};
Result<ledger::VerifyReport> AuditDataDirectory(const std::filesystem::path& data_dir,
                                               const AuditRequest& request);
// Backups that forget (docs/architecture.md): `backup` copies the database,
// consistently, while a server may be writing (the SQLite backup API), into
// `<to_dir>/qorgau.db` with `backup.json` beside it; never the data keys
// (keys.db), the master key or the signing key. Read-only on the data
// directory; `actor` is authorized from its store (store.backup, an
// administrator's). `to_dir` must not hold a backup yet.
struct BackupReport {
  std::filesystem::path file;
  UnixMillis made_at = 0;
  std::int64_t events = 0;  // the ledger's size in the copy
  std::string head;         // its last event's hash, hex
};
Result<BackupReport> BackupDataDirectory(const std::filesystem::path& data_dir, const std::filesystem::path& to_dir,
                                         const std::string& actor, const Clock& clock);

// Puts the backup of `from_dir` in place of the data directory's database
// (which is kept beside as qorgau.db.before-restore-<time>), with the live
// key store: a subject whose key was destroyed after the backup stays
// unreadable. Then it destroys again what the key store remembers as
// destroyed (ScanForgotten), with retention.destroyed events (why
// `restore`), and records `store.restored`. The server must be stopped (the
// directory's lock); `actor` must be an administrator in the backup
// (store.restore).
struct RestoreReport {
  std::filesystem::path replaced;  // where the database it replaced was put
  std::int64_t backup_events = 0;
  std::int64_t subjects_forgotten_again = 0;
};
Result<RestoreReport> RestoreDataDirectory(const std::filesystem::path& data_dir, const std::filesystem::path& from_dir,
                                           const std::string& actor, const Clock& clock);

// The latest signed tree head, for an outside witness (audit.checkpoint).
Result<ledger::TreeHead> LatestCheckpoint(const std::filesystem::path& data_dir,
                                          const std::string& actor);

// A witness statement (ledger/witness.h) from the first `from` events to
// the signed head of `to` events (the latest when nullopt), for a witness
// (audit.checkpoint: the proof reveals hashes only). Read-only, beside a
// running server.
Result<ledger::WitnessStatement> WitnessStatementFor(const std::filesystem::path& data_dir,
                                                     const std::string& actor, std::int64_t from,
                                                     std::optional<std::int64_t> to);

// `<data_dir>/receipt-keys`: the archive of signing keys' public keys.
std::filesystem::path ReceiptKeysDirectory(const std::filesystem::path& data_dir);
// The trusted keys of `data_dir` when none are given: the archive and
// receipt.pub.
Result<crypto::PublicKeys> DataDirectoryPublicKeys(const std::filesystem::path& data_dir);

// The diagnostics of a failed load as one Error (code kPolicyInvalid).
Error PolicyError(const std::vector<policy::Diagnostic>& problems);

}  // namespace qorgau::app
