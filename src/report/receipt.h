// Consent receipts (format qorgau-receipt/2, docs/receipts.md).
//
// Every consent change gives the subject a receipt with the fields of
// ISO/IEC TS 27560 and the Kantara Consent Receipt: the controller's
// identity and address (R-I.1), the subject reference, the purposes with
// their legal basis, the data categories, the channel and evidence, the
// policy edition, the time, the recipients and whether data cross borders,
// the term of the consent, whether data are published, how to withdraw -
// and the ledger event that recorded the change. That is the content Art. 8
// of the law asks of a consent (the operator's name and BIN, the subject,
// the data, the term, transfers), and KantaraReceipt gives it in the
// Kantara Consent Receipt v1.1 form.
//
// The receipt's content is written to the ledger itself, as the digest in a
// `receipt.issued` event of the change's own transaction; the receipt
// carries that event and its inclusion proof (RFC 9162) to a tree head the
// operator signed. Anyone with the operator's public key checks it offline:
// a changed byte of the content, the event, the proof or the head fails.
// Receipts of format 1 (each signed on its own) still verify.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "crypto/public_keys.h"
#include "crypto/signer.h"
#include "ledger/tree_head.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::report {

inline constexpr std::string_view kReceiptFormat = "qorgau-receipt/2";
inline constexpr std::string_view kReceiptFormatV1 = "qorgau-receipt/1";

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
  std::string event_hash = {};              // its hash, hex
  std::int64_t receipt_seq = 0;             // the receipt.issued event, once written
  std::string leaf = {};                    // the receipt.issued event's body, once written
};

// The receipt `receipt` (as stored, format 1 or 2) in the JSON form of the
// Kantara Initiative Consent Receipt Specification v1.1 (KI-CR-v1.1.0),
// with names in `lang` (kk, ru or en) and the subject by reference only
// (`subject-<id>`, never an IIN or phone). The per-purpose categories and
// recipients come from `policy` when it is the receipt's edition, else the
// receipt's own lists serve every purpose. docs/receipts.md maps the fields.
// A withdrawal's receipt has no Kantara form (`receipt_not_a_consent`).
Result<std::string> KantaraReceipt(const policy::Policy& policy, std::string_view receipt, std::string_view lang);

// A receipt's id: `receipt-<seq of its receipt.issued event>`.
std::string ReceiptId(std::int64_t receipt_seq);

// Hex SHA-256 of a receipt's content (ReceiptWriter::Content).
std::string ReceiptDigest(std::string_view content);

// Where the receipt's event sits in the ledger.
struct ReceiptProof {
  std::string leaf;                       // the receipt.issued event's canonical body
  std::int64_t seq = 0;                   // its position (leaf seq - 1)
  ledger::TreeHead head;                  // a signed head with size >= seq
  std::vector<ledger::merkle::Hash> path; // inclusion proof of the leaf in head
};

// Writes the receipts of one policy edition. A receipt is built on every
// consent change, inside the group-commit writer: what depends only on the
// policy (the controller, how to withdraw) is encoded once, and what
// depends only on the purposes (their legal bases, categories, recipients)
// once per set of purposes.
//
// Thread safety: every method may be called from any thread.
class ReceiptWriter {
 public:
  explicit ReceiptWriter(std::shared_ptr<const policy::Policy> policy);
  ~ReceiptWriter();
  ReceiptWriter(const ReceiptWriter&) = delete;
  ReceiptWriter& operator=(const ReceiptWriter&) = delete;

  // The receipt's content: everything but the proof, as canonical JSON. Its
  // SHA-256 goes into the `receipt.issued` event (ReceiptDigest).
  Result<std::string> Content(const ReceiptInput& input) const;
  // The receipt as issued: the content with its proof, canonical JSON and a
  // final newline; the same bytes as ReceiptWithProof(Content(input), proof).
  Result<std::string> WithProof(const ReceiptInput& input, const ReceiptProof& proof) const;

 private:
  struct PurposeParts;
  Result<std::string> Build(const ReceiptInput& input, const ReceiptProof* proof) const;
  Result<std::shared_ptr<const PurposeParts>> Parts(const std::vector<std::string>& purposes) const;

  std::shared_ptr<const policy::Policy> policy_;
  std::optional<Error> error_;  // when the policy's parts did not encode
  std::string controller_, edition_, how_to_withdraw_, term_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const PurposeParts>> parts_;
};

// The receipt as issued from stored content (a receipt asked for again):
// the content with its proof, canonical JSON and a final newline.
Result<std::string> ReceiptWithProof(std::string_view content, const ReceiptProof& proof);

struct ReceiptCheck {
  bool ok = false;
  std::string reason;  // why not, when !ok
  std::string receipt_id;
  std::string key_id;  // the key that signed it, once found
};

// Checks `text` (a receipt file) against `verifier`, the operator's public
// key. Format 2: the content's digest is in the leaf, the leaf is in the
// tree by the proof, the tree head is signed. Format 1: the signature. A
// receipt that is not byte for byte in canonical form fails.
ReceiptCheck VerifyReceipt(std::string_view text, const crypto::Verifier& verifier);
// The same against a set of keys: the key is the one whose id the receipt's
// tree head (format 1: signature) names; an id not in `keys` fails, naming
// it. A receipt issued before `key rotate-signing` verifies with the
// archive (<data>/receipt-keys).
ReceiptCheck VerifyReceipt(std::string_view text, const crypto::PublicKeys& keys);

// A check of stored receipts for `audit verify` (ledger::ReceiptCheck):
// "" when the receipt verifies under `verifier`, else why not. Holds a
// reference to `verifier`.
std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::Verifier& verifier);
// The same against a set of keys; holds a reference to `keys`.
std::function<std::string(const store::ReceiptRecord&)> ReceiptChecker(const crypto::PublicKeys& keys);

}  // namespace qorgau::report
