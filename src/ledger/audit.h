// `audit verify`: everything the ledger proves, checked in order, the first
// failure reported with its position:
//   1. the hash chain (ledger.h Verify);
//   2. the signed tree heads: each signed by the ledger key in force at its
//      time, each root the Merkle root of the events it covers, the last
//      covering every event (an event after it was appended without the
//      key: forged). The key changes only by a `signing_key.rotated` event,
//      sealed under the key it retires; a head signed by any other key, a
//      retired one included, is broken. A head's key is looked up by its
//      key id among the trusted keys, then among the public keys the
//      rotation events name; those are believed only because a head signed
//      by a trusted key covers them, so at least one head must be;
//   3. a checkpoint an outside witness kept (when given): the ledger still
//      holds its events and their root, so it was neither cut short nor
//      rewritten;
//   4. the decision log: each batch matches the digest its event sealed,
//      no row lies outside the sealed batches, and the subject index names
//      exactly the subjects of each batch;
//   5. the state: a replay of the events gives the tables (replay.h).
// Reads only, with public keys only: it runs on a read-only store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "crypto/public_keys.h"
#include "crypto/signer.h"
#include "ledger/ledger.h"
#include "ledger/replay.h"
#include "ledger/tree_head.h"

namespace qorgau::ledger {

struct AuditOptions {
  // The trusted public keys (one or both; at least one key): the key in
  // force, and (ledger_keys) any archived ones, by key id.
  const crypto::Verifier* ledger_key = nullptr;
  ReceiptCheck check_receipt;                    // may be empty
  std::optional<TreeHead> checkpoint;
  const crypto::PublicKeys* ledger_keys = nullptr;
};

Result<VerifyReport> Audit(store::Transaction& txn, const AuditOptions& options);

// The digests that seal the decision log (docs/ledger-format.md): rows of
// its first format, and requests of its second.
std::string DecisionDigest(const std::vector<store::DecisionRecord>& rows);
std::string DecisionRequestsDigest(const std::vector<store::DecisionRequestRecord>& requests);

}  // namespace qorgau::ledger
