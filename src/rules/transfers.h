// Transfers of subjects' data to the operator's partners (R-IX.1, R-IX.3;
// LAW.md §7, §8). Part of rules::Engine (rules/engine.h); implemented in
// transfers.cc.
//
// A transfer goes to a recipient the policy names, for one purpose, with
// some categories, of one subject or a list. It is allowed only when
//   - the recipient is identified (a BIN, or a registration abroad), and
//     its agreement is in force that day (the operator's calendar day) and
//     holds the non-disclosure clause (R-IX.3);
//   - the purpose and every category are within the agreement, and the
//     purpose may use each category;
//   - the caller has a duty for the purpose that allows `transfer`, covers
//     every category and shows values in full (R-VIII.1).
// Then each subject is decided on its own: the subject's legal basis for
// the purpose must hold now (the decision index's answer), and a transfer
// abroad must meet LAW.md §8: the recipient's country is on the policy's
// list of countries that ensure protection, or the subject's consent to the
// purpose covers cross-border transfer. Those refused are left out and
// counted by reason; when nobody is left, the transfer is refused.
//
// What goes is recorded before a value leaves: one `transfer.made` event
// (recipient, purpose, categories, agreement, counts) and one
// `transfer.sent` event per subject sent (its basis and cross-border
// ground), which is the subject's access-trail entry and shows in the
// subject's statement. Only then are the values decrypted, straight into
// the export stream (JSON lines or CSV).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

// At most this many subjects in one transfer: every one of them is an
// event of one transaction.
inline constexpr std::size_t kMaxTransferSubjects = 10'000;

struct TransferRequest {
  std::string recipient;                // a recipient id of the policy
  std::string purpose;
  std::vector<std::string> categories;  // what to send of each subject
  std::vector<SubjectId> subjects;      // 1 .. kMaxTransferSubjects, each once
  std::string format = "jsonl";         // jsonl | csv
};

struct TransferOutcome {
  store::TransferRecord record;  // its id, what was sent, who was left out and why
  std::int64_t revision = 0;
};

class Transfers {
 public:
  explicit Transfers(EngineCore& core) : core_(core), d_(core.deps()) {}
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;

  // Decides, records, then writes the export to `out`: one line (JSON
  // lines) or row (CSV, after a header) per subject sent, with the
  // transfer's id, the subject's id and the values of the categories asked
  // (null, or an empty field, where the subject has none).
  Result<TransferOutcome> Transfer(const TransferRequest& request, const Caller& caller, std::ostream& out);
  // The register of transfers, newest first: no value and no subject.
  Result<std::vector<store::TransferRecord>> ListTransfers(const Caller& caller);
  Result<store::TransferRecord> GetTransfer(std::int64_t id, const Caller& caller);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
