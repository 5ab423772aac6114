// The ledger proves the state: every event is replayed, in order, into a
// fresh state, and that state is compared with the store's tables
// (subjects' sealed values, consents, contracts, subscriptions,
// obligations, actors, duties, API keys, receipts). The first difference is
// reported with the table, the row and the event that last set it. A row
// that no event explains (an inserted API key), a row whose fields differ
// from the replay (a withdrawal turned back into a grant, a duty widened to
// the full view) and a replayed row missing from the table are all
// differences. docs/ledger-format.md lists what each event carries.
//
// Events written before a field existed (format 1) cannot prove it: such
// fields are not compared, and the report counts them as unproven.
//
// Reads only; needs no key. Malformed events are reported with their
// position, never thrown. Memory: the replayed state of the whole store.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/error.h"
#include "store/store.h"

namespace qorgau::ledger {

struct StateReport {
  bool ok = true;
  std::int64_t events = 0;    // events replayed
  std::int64_t rows = 0;      // table rows compared
  std::int64_t unproven = 0;  // fields left uncompared: their events predate them
  std::int64_t event = 0;     // when !ok: the event that set the differing row, or 0
  std::string difference;     // when !ok: "consents (subject 5, marketing): ..."
};

// Checks one stored receipt; returns why it is not valid, or "" when it is.
using ReceiptCheck = std::function<std::string(const store::ReceiptRecord&)>;

// Replays the ledger of `txn` and compares. `check_receipt` may be empty
// (receipts are then compared with their events only).
Result<StateReport> ReplayAndCompare(store::Transaction& txn, const ReceiptCheck& check_receipt);

}  // namespace qorgau::ledger
