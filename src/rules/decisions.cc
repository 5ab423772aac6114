// Decisions from the in-memory index: a check for one subject, an audience
// for a purpose. The store is read only to resolve an IIN or a phone to the
// subject id. Every decision is recorded in the decision log.
#include "rules/decisions.h"

#include <algorithm>
#include <boost/json.hpp>

#include "rules/checks.h"
#include "rules/decision_recorder.h"

namespace qorgau::rules {
namespace {

// A name that is no purpose of the policy is a mistake of the request, not
// a question of permission: the policy is public, and a typo should not
// send its author looking for a missing duty. (Checked before Authorize.)
Result<void> KnownPurpose(const policy::Policy& p, const std::string& purpose) {
  if (p.FindPurpose(purpose)) return {};
  return Fail(ErrorCode::kNotFound, "purpose",
              "'" + purpose + "' is not a purpose of policy edition " + std::to_string(p.edition.number));
}

}  // namespace

Result<index::Decision> Decisions::Check(const Caller& caller, const SubjectKey& key,
                                         const std::string& purpose,
                                         const std::vector<std::string>& categories) {
  QORGAU_TRY(KnownPurpose(*d_.policy, purpose));
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kCheck, {{purpose}, {}, {}}));
  SubjectId id = 0;
  if (key.kind == SubjectKey::Kind::kId) {
    QORGAU_ASSIGN_OR_RETURN(id, ParseSubjectId(key.value));
  } else {
    // Naming the subject by IIN or phone is a lookup, need-to-know itself.
    QORGAU_ASSIGN_OR_RETURN(id, core_.LookupSubject(caller, key));
  }
  QORGAU_ASSIGN_OR_RETURN(const index::Decision d, core_.Decide(id, purpose, categories));
  QORGAU_TRY(RecordDecisions(caller, purpose, categories, std::span<const SubjectId>(&id, 1),
                             std::span<const index::Decision>(&d, 1), /*bulk=*/false));
  return d;
}

Result<void> Decisions::CheckMany(const Caller& caller, std::span<const SubjectId> ids,
                                  const std::string& purpose,
                                  const std::vector<std::string>& categories,
                                  std::span<index::Decision> out) {
  QORGAU_TRY(KnownPurpose(*d_.policy, purpose));
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kCheck, {{purpose}, {}, {}}));
  QORGAU_ASSIGN_OR_RETURN(const int p, core_.PurposeOrdinal(purpose));
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(categories));
  d_.index.CheckMany(ids, p, mask, out);
  return RecordDecisions(caller, purpose, categories, ids, out, /*bulk=*/true);
}

Result<index::Audience> Decisions::SelectAudience(const Caller& caller, const std::string& purpose,
                                                  bool exclude_obligations,
                                                  const std::vector<SubjectId>* among) {
  QORGAU_TRY(KnownPurpose(*d_.policy, purpose));
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAudience, {{purpose}, {}, {}}));
  QORGAU_ASSIGN_OR_RETURN(const int p, core_.PurposeOrdinal(purpose));
  index::Audience audience = d_.index.Select(p, exclude_obligations, among);
  // An audience is a list of who may be contacted: its export is recorded
  // with its size (the ids themselves are the index's, at this revision).
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"access.audience", std::nullopt, caller.id(), {}};
    ev.data["purpose"] = purpose;
    ev.data["exclude_obligations"] = exclude_obligations;
    ev.data["among"] = among ? static_cast<std::int64_t>(among->size()) : -1;
    ev.data["count"] = static_cast<std::int64_t>(audience.count);
    ev.data["revision"] = d_.index.revision();
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return audience;
}

Result<void> Decisions::RecordDecisions(const Caller& caller, const std::string& purpose,
                                        const std::vector<std::string>& categories,
                                        std::span<const SubjectId> subjects,
                                        std::span<const index::Decision> decisions, bool bulk) {
  store::DecisionRequestRecord request;
  request.at = d_.clock.Now();
  request.actor = caller.actor.id;
  request.purpose = purpose;
  for (const auto& c : categories) request.categories += (request.categories.empty() ? "" : ",") + c;
  const std::size_t n = std::min(subjects.size(), decisions.size());
  request.subjects.assign(subjects.begin(), subjects.begin() + static_cast<std::ptrdiff_t>(n));
  request.reasons.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    request.reasons[i] = static_cast<char>(decisions[i].reason);
    // One check's decisions reflect one revision of the index.
    request.revision = std::max(request.revision, decisions[i].revision);
  }
  return core_.recorder().Record(std::move(request), bulk);
}

}  // namespace qorgau::rules
