// `audit verify`: everything the ledger proves, checked in order, the first
// failure reported with its position:
//   1. the hash chain (ledger.h Verify);
//   2. the signed tree heads: each signed by the ledger key, each root the
//      Merkle root of the events it covers, the last covering every event
//      (an event after it was appended without the key: forged);
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

#include "crypto/signer.h"
#include "ledger/ledger.h"
#include "ledger/replay.h"
#include "ledger/tree_head.h"

namespace qorgau::ledger {

struct AuditOptions {
  const crypto::Verifier* ledger_key = nullptr;  // required: signs tree heads
  ReceiptCheck check_receipt;                    // may be empty
  std::optional<TreeHead> checkpoint;
};

Result<VerifyReport> Audit(store::Transaction& txn, const AuditOptions& options);

// The digests that seal the decision log (docs/ledger-format.md): rows of
// its first format, and requests of its second.
std::string DecisionDigest(const std::vector<store::DecisionRecord>& rows);
std::string DecisionRequestsDigest(const std::vector<store::DecisionRequestRecord>& requests);

}  // namespace qorgau::ledger
