// Withdrawal of consent (R-VI.1 - R-VI.4): of everything withdrawable, of
// chosen purposes, or of the data of chosen additional services; previewed
// first if asked. Part of rules::Engine (rules/engine.h); implemented in
// withdrawals.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rules/consents.h"
#include "rules/engine_core.h"

namespace qorgau::rules {

struct WithdrawalRequest {
  SubjectKey subject;
  std::string channel;
  std::string evidence;
  // What to withdraw: the data of these additional services (R-VI.4), or
  // these purposes, or - both empty - everything withdrawable.
  std::vector<std::string> services;
  std::vector<std::string> purposes;
  bool preview = false;  // a dry run: say what would happen, change nothing
  // The subject's withdrawal application this carries out (R-VI, LAW.md
  // §5): its channel, reference and purposes are the withdrawal's, and the
  // withdrawal answers it; refused by a rule of R-VI, it is refused with
  // that rule's reason. Open, with the applicant's identity verified.
  std::optional<std::int64_t> application = std::nullopt;
  // Who withdraws for the subject: required for a minor (LAW.md §12); on
  // an application, its representative.
  std::optional<Representative> representative = std::nullopt;
};

struct NotWithdrawable {
  std::string purpose;
  policy::LegalBasis basis = policy::LegalBasis::kContract;
  std::string why;
};

struct WithdrawalPlan {
  SubjectId subject = 0;
  bool preview = false;
  std::vector<std::string> consents_end;  // purposes whose consent ends
  std::vector<std::string> services_off;  // services switched off (R-VI.4)
  // Destroyed at once: the data only the switched-off services needed,
  // where the policy's rule says so (a period of 0, R-VI.4, R-VII.2).
  std::vector<std::string> destroyed;
  std::vector<NotWithdrawable> not_withdrawable;
  policy::Text warning;                   // R-VI.1
  std::int64_t revision = 0;              // after the change; 0 for a preview
  std::string receipt;                    // signed, after the change
};

class Withdrawals {
 public:
  explicit Withdrawals(EngineCore& core) : core_(core), d_(core.deps()) {}
  Withdrawals(const Withdrawals&) = delete;
  Withdrawals& operator=(const Withdrawals&) = delete;

  Result<WithdrawalPlan> Withdraw(const WithdrawalRequest& request, const Caller& caller);
  // A withdrawal of one purpose: the same rules as Withdraw (R-VI).
  Result<ConsentOutcome> WithdrawConsent(const ConsentRequest& request, const Caller& caller);

 private:
  // `filed_by`: the representative who filed the application it carries
  // out, when one did.
  Result<WithdrawalPlan> Apply(const WithdrawalRequest& request, const Caller& caller,
                               const std::optional<store::RepresentationRecord>& filed_by);
  Result<WithdrawalPlan> Plan(store::Transaction& txn, SubjectId subject,
                              const WithdrawalRequest& request);

  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
