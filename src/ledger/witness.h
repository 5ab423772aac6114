// Witness statements: what an outside witness receives to keep the ledger
// honest without holding it (docs/ledger-format.md, "Witness statements").
//
// A witness keeps the last tree head it accepted. A statement brings a newer
// signed head and the consistency proof (RFC 9162 §2.1.4) from the head the
// witness kept to it, so that the witness checks, with the ledger's public
// key alone, that the ledger only grew: a ledger cut short, or rewritten and
// re-signed by someone holding the ledger key, gives a head no proof can
// join to the kept one. `qorgau audit checkpoint --post` sends one;
// `qorgau audit consistency` and GET /v1/audit/consistency give one to a
// witness that pulls; `qorgau audit check-consistency` is the witness's
// check.
//
// The encoding, canonical JSON on one line:
//   {"consistency":["hex",...],"format":"qorgau-witness/1",
//    "head":{the tree head, as TreeHeadJson},"previous_size":N}
// previous_size 0 with an empty proof: no earlier head (a first statement).
//
// Errors name the field; messages carry sizes, hashes and key ids only.
// Thread safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/public_keys.h"
#include "ledger/merkle.h"
#include "ledger/tree_head.h"
#include "store/store.h"

namespace qorgau::ledger {

inline constexpr std::string_view kWitnessFormat = "qorgau-witness/1";

struct WitnessStatement {
  TreeHead head;                 // the new signed head
  std::int64_t previous_size = 0;  // the size the proof starts from; 0: none
  std::vector<merkle::Hash> consistency;  // from previous_size to head.size
};

// The statement as one line of canonical JSON, newline-terminated.
std::string WitnessJson(const WitnessStatement& statement);
// Parses WitnessJson's output; kInvalidArgument naming the field.
Result<WitnessStatement> ParseWitnessJson(std::string_view text);

// The statement from the first `from` events to the signed head of `to`
// events (the latest head when `to` is nullopt), read from `txn`. Refused
// with kInvalidArgument naming "from" or "to": from < 1, to < 1, to beyond
// the latest signed head, to not the size of a signed head, from > to.
// kFailedPrecondition when nothing is signed yet. Cost: O(log^2 n) reads,
// and a scan of the signed heads when `to` is given.
Result<WitnessStatement> MakeWitnessStatement(store::Transaction& txn, std::int64_t from,
                                              std::optional<std::int64_t> to);

// The witness's check of `statement` against the head it kept (`previous`;
// nullopt for the first statement): the new head is signed by the key its
// key_id names among `keys`, is no smaller than `previous`, and the proof
// joins `previous` to it (a head of the same size needs no proof: its root
// must be the kept one). `previous` is not re-verified: the witness
// checked it when it kept it. kCorruption with the reason ("cut short",
// "rewritten", "not signed") when the check fails; kInvalidArgument when
// the statement's proof does not start at the kept head.
Result<void> CheckWitnessStatement(const WitnessStatement& statement,
                                   const std::optional<TreeHead>& previous,
                                   const crypto::PublicKeys& keys);

}  // namespace qorgau::ledger
