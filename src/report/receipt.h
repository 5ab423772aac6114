// Signed consent receipts (format qorgau-receipt/1, docs/receipts.md).
//
// Every consent change gives the subject a receipt with the fields of
// ISO/IEC TS 27560 and the Kantara Consent Receipt: the controller's
// identity and address (R-I.1), the subject reference, the purposes with
// their legal basis, the data categories, the channel and evidence, the
// policy edition, the time, the recipients and whether data cross borders,
// how to withdraw - and the ledger event that recorded it. The receipt is
// canonical JSON signed with the operator's Ed25519 key, so anyone with the
// public key can check it offline; a changed byte fails.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "crypto/signer.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::report {

inline constexpr std::string_view kReceiptFormat = "qorgau-receipt/1";

struct ReceiptInput {
  store::SubjectId subject = 0;
  std::string action;                       // consent.granted, consent.withdrawn, contract.joined, ...
  std::vector<std::string> purposes;        // purposes the change concerns
  std::vector<std::string> services_on;     // services switched on by it
  std::vector<std::string> services_off;    // services switched off by it
  std::string channel;
  std::string evidence;
  UnixMillis at = 0;
  std::int64_t event_seq = 0;               // the last ledger event of the change
  std::string event_hash;                   // its hash, hex
};

// The receipt as canonical JSON with its signature, and a final newline.
Result<std::string> BuildReceipt(const policy::Policy& policy, const ReceiptInput& input,
                                 const crypto::Signer& signer);

struct ReceiptCheck {
  bool ok = false;
  std::string reason;  // why not, when !ok
  std::string receipt_id;
};

// Checks `text` (a receipt file) against `verifier`. A receipt that is not
// byte for byte in canonical form, or whose signature does not match, fails.
ReceiptCheck VerifyReceipt(std::string_view text, const crypto::Verifier& verifier);

// A check of stored receipts for `audit verify` (ledger::ReceiptCheck):
// "" when the receipt verifies under `verifier`, else why not. Holds a
// reference to `verifier`.
std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::Verifier& verifier);

}  // namespace qorgau::report
