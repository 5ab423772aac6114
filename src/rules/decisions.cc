// Decisions from the in-memory index: a check for one subject, an audience
// for a purpose. The store is read only to resolve an IIN or a phone to the
// subject id.
#include "rules/checks.h"
#include "rules/engine.h"

#include <boost/json.hpp>

namespace qorgau::rules {

Result<index::Decision> Engine::Check(const Caller& caller, const SubjectKey& key,
                                      const std::string& purpose,
                                      const std::vector<std::string>& categories) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kCheck, {{purpose}, {}, {}}));
  SubjectId id = 0;
  if (key.kind == SubjectKey::Kind::kId) {
    QORGAU_ASSIGN_OR_RETURN(id, ParseSubjectId(key.value));
  } else {
    // Naming the subject by IIN or phone is a lookup, need-to-know itself.
    QORGAU_ASSIGN_OR_RETURN(id, LookupSubject(caller, key));
  }
  QORGAU_ASSIGN_OR_RETURN(const index::Decision d, Decide(id, purpose, categories));
  QORGAU_TRY(RecordDecisions(caller, purpose, categories, std::span<const SubjectId>(&id, 1),
                             std::span<const index::Decision>(&d, 1), /*bulk=*/false));
  return d;
}

Result<int> Engine::PurposeOrdinal(const std::string& purpose) const {
  const int p = d_.index.PurposeOrdinal(purpose);
  if (p < 0) {
    return Fail(ErrorCode::kNotFound, "purpose",
                "'" + purpose + "' is not a purpose of policy edition " +
                    std::to_string(d_.policy->edition.number));
  }
  return p;
}

Result<void> Engine::CheckMany(const Caller& caller, std::span<const SubjectId> ids,
                               const std::string& purpose,
                               const std::vector<std::string>& categories,
                               std::span<index::Decision> out) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kCheck, {{purpose}, {}, {}}));
  QORGAU_ASSIGN_OR_RETURN(const int p, PurposeOrdinal(purpose));
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(categories));
  d_.index.CheckMany(ids, p, mask, out);
  return RecordDecisions(caller, purpose, categories, ids, out, /*bulk=*/true);
}

Result<index::Decision> Engine::Decide(SubjectId id, const std::string& purpose,
                                       const std::vector<std::string>& categories) {
  QORGAU_ASSIGN_OR_RETURN(const int p, PurposeOrdinal(purpose));
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(categories));
  // The index knows who exists: an id needs no store lookup.
  const index::Decision d = d_.index.Check(id, p, mask);
  if (d.reason == index::Reason::kUnknownSubject) {
    return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
  }
  return d;
}

Result<index::Audience> Engine::SelectAudience(const Caller& caller, const std::string& purpose,
                                               bool exclude_obligations,
                                               const std::vector<SubjectId>* among) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAudience, {{purpose}, {}, {}}));
  QORGAU_ASSIGN_OR_RETURN(const int p, PurposeOrdinal(purpose));
  index::Audience audience = d_.index.Select(p, exclude_obligations, among);
  // An audience is a list of who may be contacted: its export is recorded
  // with its size (the ids themselves are the index's, at this revision).
  auto written = Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
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

}  // namespace qorgau::rules
