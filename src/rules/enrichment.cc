// Enrichment and profiling (R-X): see enrichment.h.
#include "rules/enrichment.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/personal_value.h"
#include "core/working_calendar.h"
#include "crypto/key_ring.h"
#include "ledger/ledger.h"

namespace qorgau::rules {
namespace {

bool Lists(const std::vector<policy::Ref>& refs, std::string_view id) {
  return std::any_of(refs.begin(), refs.end(), [&](const policy::Ref& r) { return r.id == id; });
}

// The purpose and the category, as the policy allows enrichment of them.
Result<void> CheckPurposeAndCategory(const policy::Policy& p, const std::string& purpose, const std::string& category,
                                     const char* category_field) {
  const policy::Purpose* pu = p.FindPurpose(purpose);
  if (!pu) return Fail(ErrorCode::kNotFound, "purpose", "'" + purpose + "' is not a purpose");
  const policy::Category* c = p.FindCategory(category);
  if (!c) return Fail(ErrorCode::kNotFound, category_field, "'" + category + "' is not a data category");
  if (!pu->enrichment) {
    return Refuse("enrichment_not_allowed", "purpose",
                  "purpose '" + purpose + "' does not allow enrichment or profiling (R-X.2: only to build offers)");
  }
  if (c->value == ValueType::kIin || c->value == ValueType::kPhone) {
    return Refuse("identity_category", category_field,
                  "'" + category + "' identifies the subject: it is recorded from the subject, never enriched");
  }
  if (!p.CategoryAllowsPurpose(category, purpose)) {
    return Refuse("category_not_allowed", category_field,
                  "purpose '" + purpose + "' may not use '" + category + "' (R-V.1)");
  }
  return {};
}

}  // namespace

Result<EnrichmentOutcome> Enrichment::EnrichData(const EnrichRequest& req, const Caller& caller) {
  const policy::Policy& p = *d_.policy;
  // Who may add data for the purpose first (R-VIII.1): a caller without the
  // duty learns nothing of the policy's sources.
  QORGAU_TRY(Authorize(p, caller, Action::kDataEnrich, {{req.purpose}, {req.category}, {}}));
  QORGAU_TRY(core_.AuthorizeKey(caller, req.subject));
  const policy::DataSource* source = p.FindSource(req.source);
  if (!source) return Fail(ErrorCode::kNotFound, "source", "'" + req.source + "' is not a source of the policy (R-X.1)");
  QORGAU_TRY(CheckPurposeAndCategory(p, req.purpose, req.category, "category"));
  const std::string who = "source '" + source->id + "'";
  if (!Lists(source->purposes, req.purpose)) {
    return Refuse("purpose_not_in_source", "purpose", who + " does not supply data for '" + req.purpose + "' (R-X.1)");
  }
  if (!Lists(source->categories, req.category)) {
    return Refuse("category_not_from_source", "category", who + " does not supply '" + req.category + "' (R-X.1)");
  }
  store::EnrichmentRecord rec;
  rec.category = req.category;
  rec.kind = "enriched";
  rec.source = source->id;
  rec.purpose = req.purpose;
  if (source->kind == policy::SourceKind::kThirdParty) {
    // A third party supplies data under its agreement, in force on the
    // operator's calendar day.
    const auto day = LocalDateIn(CountryTimeZone(p.controller.country), d_.clock.Now());
    const policy::Agreement& a = *source->agreement;
    if (day < a.signed_on || (a.expires && day > *a.expires)) {
      return Refuse("agreement_not_in_force", "source",
                    who + ": agreement " + a.number + " is not in force on this day (R-X.1)");
    }
    rec.agreement = a.number;
  }
  return Store(req.subject, req.value, std::move(rec), caller);
}

Result<EnrichmentOutcome> Enrichment::DeriveAttribute(const DeriveRequest& req, const Caller& caller) {
  const policy::Policy& p = *d_.policy;
  std::vector<std::string> scope = req.inputs;
  scope.push_back(req.category);
  QORGAU_TRY(Authorize(p, caller, Action::kProfileDerive, {{req.purpose}, scope, {}}));
  QORGAU_TRY(core_.AuthorizeKey(caller, req.subject));
  QORGAU_TRY(CheckPurposeAndCategory(p, req.purpose, req.category, "category"));
  if (req.inputs.empty() || req.inputs.size() > 32) {
    return Fail(ErrorCode::kInvalidArgument, "inputs", "name the 1 to 32 categories the attribute is derived from");
  }
  if (std::set<std::string>(req.inputs.begin(), req.inputs.end()).size() != req.inputs.size()) {
    return Fail(ErrorCode::kInvalidArgument, "inputs", "a category is named twice");
  }
  for (const auto& in : req.inputs) {
    if (in == req.category) return Fail(ErrorCode::kInvalidArgument, "inputs", "the attribute is not its own input");
    if (!p.FindCategory(in)) return Fail(ErrorCode::kNotFound, "inputs", "'" + in + "' is not a data category");
    if (!p.CategoryAllowsPurpose(in, req.purpose)) {
      return Refuse("category_not_allowed", "inputs", "purpose '" + req.purpose + "' may not use '" + in + "' (R-V.1)");
    }
  }
  store::EnrichmentRecord rec;
  rec.category = req.category;
  rec.kind = "derived";
  rec.purpose = req.purpose;
  rec.inputs = req.inputs;
  return Store(req.subject, req.value, std::move(rec), caller);
}

Result<EnrichmentOutcome> Enrichment::Store(const SubjectKey& key, const std::string& value,
                                           store::EnrichmentRecord rec, const Caller& caller) {
  const policy::Policy& p = *d_.policy;
  const policy::Category* c = p.FindCategory(rec.category);
  QORGAU_ASSIGN_OR_RETURN(const std::string normal, NormalizeValue(c->value, value, "value"));
  QORGAU_ASSIGN_OR_RETURN(const int purpose, core_.PurposeOrdinal(rec.purpose));
  const std::vector<std::string> asked{rec.category};
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(asked));
  std::string provenance = "derived";
  if (rec.kind == "enriched") {
    provenance = p.FindSource(rec.source)->kind == policy::SourceKind::kPublic ? "public_source" : "third_party";
  }
  EnrichmentOutcome out;
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.ResolveUnblocked(txn, key));
    QORGAU_ASSIGN_OR_RETURN(const auto objected, txn.GetProfilingObjection(id));
    if (objected) {
      return Refuse("profiling_objected", "subject",
                    "the subject objected to profiling (application " + std::to_string(objected->application_id) +
                        "): nothing more is enriched or derived (R-X.2)");
    }
    // The subject's legal basis for the purpose, now (a consent for
    // marketing): the index's answer.
    const index::Decision decision = d_.index.Check(id, purpose, mask);
    if (!decision.allow) {
      const std::string reason(index::ReasonCode(decision.reason));
      return Refuse(reason, "subject",
                    "the subject's legal basis for '" + rec.purpose + "' does not hold (" + reason + ") (R-X.2)");
    }
    QORGAU_ASSIGN_OR_RETURN(const auto held, txn.GetPersonalData(id));
    // A value the subject gave, or the services recorded, is not replaced by
    // one from elsewhere; an enriched or derived one is.
    for (const auto& h : held) {
      if (h.category == rec.category && (h.provenance == "subject" || h.provenance == "service")) {
        return Refuse("recorded_by_subject", "category",
                      "'" + rec.category + "' holds a value the subject gave (or the services recorded): it "
                      "changes only on the subject's rectification application (R-IV.5)");
      }
    }
    for (const auto& in : rec.inputs) {
      if (std::none_of(held.begin(), held.end(), [&](const store::PersonalDataRecord& h) { return h.category == in; })) {
        return Refuse("input_not_held", "inputs", "the subject has no value of '" + in + "' to derive from");
      }
    }
    QORGAU_ASSIGN_OR_RETURN(const auto subject, txn.GetSubject(id));
    QORGAU_ASSIGN_OR_RETURN(const auto data_key, d_.keys.UnwrapDataKey(id, subject->wrapped_key));
    QORGAU_ASSIGN_OR_RETURN(crypto::Bytes sealed, crypto::Seal(data_key, normal, crypto::PersonalDataAad(id, rec.category)));
    const UnixMillis now = d_.clock.Now();
    const std::string sealed_hash = crypto::ToHex(crypto::Sha256(sealed));
    QORGAU_TRY(txn.PutPersonalData({id, rec.category, std::move(sealed), provenance, now}));
    ledger::EventDraft ev{rec.kind == "derived" ? "data.derived" : "data.enriched", id, caller.id(), {}};
    ev.data["category"] = rec.category;
    ev.data["sealed_hash"] = sealed_hash;
    ev.data["provenance"] = provenance;
    ev.data["purpose"] = rec.purpose;
    if (rec.kind == "derived") {
      ev.data["inputs"] = boost::json::array(rec.inputs.begin(), rec.inputs.end());
    } else {
      ev.data["source"] = rec.source;
      ev.data["agreement"] = rec.agreement;
    }
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
    rec.subject_id = id;
    rec.at = now;
    rec.event_seq = event.seq;
    QORGAU_TRY(txn.PutEnrichment(rec));
    out.subject = id;
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  out.record = std::move(rec);
  out.revision = *written;
  return out;
}

}  // namespace qorgau::rules
