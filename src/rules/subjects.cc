// Subjects and their personal data (R-IV, R-X.1, R-VIII).
#include "rules/subjects.h"

#include <algorithm>
#include <boost/json.hpp>

#include "core/personal_value.h"
#include "core/iin.h"
#include "rules/checks.h"
#include "rules/demographics.h"

namespace qorgau::rules {
namespace {

// Hex SHA-256 of a sealed value: a ciphertext's digest reveals nothing of
// the value, and lets the ledger prove what was stored.
std::string SealedHash(const crypto::Bytes& sealed) {
  return crypto::ToHex(crypto::Sha256(sealed));
}

bool IsProvenance(std::string_view p) {
  return p == "subject" || p == "service" || p == "public_source" || p == "third_party" ||
         p == "derived";
}

// Under an edition that names its sources and the purposes that allow
// enrichment (R-X), data not from the subject or the services go through
// EnrichData and DeriveAttribute, which check them; an earlier edition's
// provenance stays a word.
Result<void> CheckProvenance(const policy::Policy& p, const std::string& provenance) {
  if (!IsProvenance(provenance)) {
    return Fail(ErrorCode::kInvalidArgument, "provenance",
                "must be one of subject, service, public_source, third_party, derived");
  }
  const bool checked = !p.sources.empty() || std::any_of(p.purposes.begin(), p.purposes.end(),
                                                         [](const policy::Purpose& pu) { return pu.enrichment; });
  if (checked && provenance != "subject" && provenance != "service") {
    return Refuse("enrichment_required", "provenance",
                  "data from a source are recorded with `subject enrich` (POST /v1/subjects/{id}/enrichments), "
                  "derived attributes with `subject derive` (POST /v1/subjects/{id}/derived): R-X");
  }
  return {};
}

}  // namespace

Result<SubjectId> Subjects::AddSubject(const SubjectInput& input, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  QORGAU_TRY(CheckProvenance(p, input.provenance));
  const policy::Category* iin_cat = p.FindCategoryByValue(ValueType::kIin);
  const policy::Category* phone_cat = p.FindCategoryByValue(ValueType::kPhone);
  if (!iin_cat || !phone_cat) {
    return Fail(ErrorCode::kFailedPrecondition, "policy",
                "the policy has no category with value 'iin' or 'phone'");
  }
  // Validate every value before touching the store.
  std::map<std::string, std::string> values;
  auto iin = NormalizeValue(ValueType::kIin, input.iin, "iin");
  if (!iin) return tl::unexpected(iin.error());
  auto phone = NormalizeValue(ValueType::kPhone, input.phone, "phone");
  if (!phone) return tl::unexpected(phone.error());
  values[iin_cat->id] = *iin;
  values[phone_cat->id] = *phone;
  for (const auto& [category, raw] : input.data) {
    const policy::Category* c = p.FindCategory(category);
    if (!c) {
      return Fail(ErrorCode::kNotFound, "data",
                  "'" + category + "' is not a data category of policy edition " +
                      std::to_string(p.edition.number));
    }
    if (values.count(category)) return Fail(ErrorCode::kInvalidArgument, category, "given twice");
    // R-IV.2: at registration, only what the base contract needs; the rest
    // comes with the service that needs it (PutData).
    bool base_needs = false;
    for (const auto& service : p.services) {
      if (service.kind != policy::ServiceKind::kBase) continue;
      for (const auto& r : service.categories) base_needs = base_needs || r.id == category;
    }
    if (!base_needs) {
      return Refuse("category_not_needed", "data",
                    "'" + category + "' is not needed by the base contract; record it with the "
                    "service that needs it (R-IV.2)");
    }
    auto v = NormalizeValue(c->value, raw, category);
    if (!v) return tl::unexpected(v.error());
    values[category] = *v;
  }
  {
    Scope scope;
    for (const auto& [category, value] : values) scope.categories.push_back(category);
    QORGAU_TRY(Authorize(p, actor, Action::kSubjectAdd, scope));
  }
  auto iin_index = d_.keys.BlindIndex("iin", *iin);
  auto phone_index = d_.keys.BlindIndex("phone", *phone);
  if (!iin_index) return tl::unexpected(iin_index.error());
  if (!phone_index) return tl::unexpected(phone_index.error());

  SubjectId added = 0;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    const UnixMillis now = d_.clock.Now();
    auto id = txn.InsertSubject(now, *iin_index, *phone_index);
    if (!id) return tl::unexpected(id.error());
    auto key = d_.keys.NewDataKey(*id);
    if (!key) return tl::unexpected(key.error());
    QORGAU_TRY(txn.SetSubjectKey(*id, key->second));
    {
      QORGAU_ASSIGN_OR_RETURN(const Iin parsed, Iin::Parse(*iin));
      QORGAU_TRY(RecordDemographics(txn, d_.keys, *id, parsed));
    }
    boost::json::array categories, sealed_hashes;
    for (const auto& [category, value] : values) {
      auto sealed = crypto::Seal(key->first, value, crypto::PersonalDataAad(*id, category));
      if (!sealed) return tl::unexpected(sealed.error());
      sealed_hashes.push_back(
          boost::json::object{{"category", category}, {"sealed_hash", SealedHash(*sealed)}});
      store::PersonalDataRecord rec{*id, category, std::move(*sealed), input.provenance, now};
      QORGAU_TRY(txn.PutPersonalData(rec));
      categories.emplace_back(category);
    }
    ledger::EventDraft ev{"subject.added", *id, actor.id(), {}};
    ev.data["categories"] = std::move(categories);
    // The sealed values' digests, so that `audit verify` proves the stored
    // ciphertexts without the keys (docs/ledger-format.md).
    ev.data["sealed"] = std::move(sealed_hashes);
    ev.data["provenance"] = input.provenance;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    added = *id;
    return std::vector<index::Delta>{{index::Delta::Kind::kSubjectAdded, *id}};
  });
  if (!written) return tl::unexpected(written.error());
  return added;
}

Result<std::int64_t> Subjects::PutData(const SubjectKey& key, const std::string& category,
                                       const std::string& value, const std::string& provenance,
                                       const Caller& actor, std::optional<std::int64_t> application) {
  const policy::Policy& p = *d_.policy;
  const policy::Category* c = p.FindCategory(category);
  if (!c) return Fail(ErrorCode::kNotFound, "category", "'" + category + "' is not a data category");
  QORGAU_TRY(Authorize(p, actor, Action::kDataRecord, {{}, {category}, {}}));
  QORGAU_TRY(core_.AuthorizeKey(actor, key));
  QORGAU_TRY(CheckProvenance(p, provenance));
  auto normal = NormalizeValue(c->value, value, "value");
  if (!normal) return tl::unexpected(normal.error());
  // The categories the subject is found by (their blind indexes), not any
  // category whose values look like an IIN or a phone number.
  const policy::Category* by_iin = p.FindCategoryByValue(ValueType::kIin);
  const policy::Category* by_phone = p.FindCategoryByValue(ValueType::kPhone);
  const bool identity_key = c == by_iin || c == by_phone;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.ResolveUnblocked(txn, key));
    QORGAU_ASSIGN_OR_RETURN(const auto held, txn.GetPersonalData(id));
    const bool change = identity_key || std::any_of(held.begin(), held.end(), [&](const auto& d) {
                          return d.category == category;
                        });
    if (change) {
      // R-IV.5: a recorded value changes only on the subject's written
      // application, with documents that confirm the change.
      if (!application) {
        return Refuse("rectification_application_required", "application",
                      "'" + category + "' is recorded already: changing it needs the subject's "
                      "rectification application with a supporting document (R-IV.5)");
      }
      QORGAU_ASSIGN_OR_RETURN(const auto app,
                              core_.VerifiedApplication(txn, *application, id, ApplicationKind::kRectification,
                                                        "rectification_application_required", "application"));
      QORGAU_ASSIGN_OR_RETURN(const auto documents, txn.GetApplicationDocuments(app.id));
      if (documents.empty()) {
        return Refuse("rectification_document_required", "application",
                      "the rectification application holds no document confirming the change (R-IV.5)");
      }
    } else {
      auto subs = txn.GetSubscriptions(id);
      if (!subs) return tl::unexpected(subs.error());
      bool needed = false;
      for (const auto& s : *subs) {
        const policy::Service* service = s.active ? p.FindService(s.service) : nullptr;
        if (!service) continue;
        for (const auto& r : service->categories) needed = needed || r.id == category;
      }
      if (!needed) {
        return Refuse("category_not_needed", "category",
                      "no active service of the subject's contracts needs '" + category + "' (R-IV.2)");
      }
    }
    auto subject = txn.GetSubject(id);
    if (!subject) return tl::unexpected(subject.error());
    auto data_key = d_.keys.UnwrapDataKey(id, (*subject)->wrapped_key);
    if (!data_key) return tl::unexpected(data_key.error());
    if (identity_key) {
      // The blind indexes follow the value; the other one is recomputed
      // from its stored value.
      const bool iin = c == by_iin;
      const policy::Category* other = iin ? by_phone : by_iin;
      const auto kept = std::find_if(held.begin(), held.end(), [&](const auto& d) {
        return other && d.category == other->id;
      });
      if (kept == held.end()) return Fail(ErrorCode::kCorruption, "subject", "the subject's other identifier is not stored");
      QORGAU_ASSIGN_OR_RETURN(const std::string other_value,
                              crypto::Open(*data_key, kept->sealed, crypto::PersonalDataAad(id, other->id)));
      QORGAU_ASSIGN_OR_RETURN(const auto new_index, d_.keys.BlindIndex(iin ? "iin" : "phone", *normal));
      QORGAU_ASSIGN_OR_RETURN(const auto other_index, d_.keys.BlindIndex(iin ? "phone" : "iin", other_value));
      auto set = iin ? txn.SetSubjectIndexes(id, new_index, other_index)
                     : txn.SetSubjectIndexes(id, other_index, new_index);
      if (!set) {
        if (set.error().code == ErrorCode::kAlreadyExists) {
          return Fail(ErrorCode::kAlreadyExists, "value",
                      std::string("another subject is registered with this ") + (iin ? "IIN" : "phone number"));
        }
        return tl::unexpected(set.error());
      }
      if (iin) {
        QORGAU_ASSIGN_OR_RETURN(const Iin parsed, Iin::Parse(*normal));
        QORGAU_TRY(RecordDemographics(txn, d_.keys, id, parsed));
      }
    }
    auto sealed = crypto::Seal(*data_key, *normal, crypto::PersonalDataAad(id, category));
    if (!sealed) return tl::unexpected(sealed.error());
    const UnixMillis now = d_.clock.Now();
    const std::string sealed_hash = SealedHash(*sealed);
    store::PersonalDataRecord rec{id, category, std::move(*sealed), provenance, now};
    QORGAU_TRY(txn.PutPersonalData(rec));
    QORGAU_TRY(txn.DeleteEnrichment(id, category));  // the subject's value replaces an enriched one
    ledger::EventDraft ev{"data.recorded", id, actor.id(), {}};
    ev.data["category"] = category;
    ev.data["sealed_hash"] = sealed_hash;
    ev.data["provenance"] = provenance;
    if (change) ev.data["application"] = *application;  // the rectification it carries out
    QORGAU_TRY(ledger::Append(txn, now, ev));
    QORGAU_TRY(core_.NoteContinuedUse(txn, id, "data.recorded", actor));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return *written;
}

Result<SubjectView> Subjects::ReadPersonalData(const Caller& caller, const SubjectKey& key,
                                               const std::string& purpose,
                                               const std::vector<std::string>& asked) {
  const policy::Policy& p = *d_.policy;
  if (!p.FindPurpose(purpose)) {
    return Fail(ErrorCode::kNotFound, "purpose", "'" + purpose + "' is not a purpose");
  }
  for (const auto& c : asked) {
    if (!p.FindCategory(c)) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a category");
  }
  auto subject = core_.FindUnblocked(caller, key, "data");
  if (!subject) return tl::unexpected(subject.error());

  // The need-to-know rule (rules/permissions.h); the first that fails is
  // the reason.
  const store::DutyRecord* duty = caller.Duty(purpose);
  std::vector<std::string> categories = asked;
  if (categories.empty() && duty) categories = duty->categories;
  std::string reason, why;
  if (auto allowed = Authorize(p, caller, Action::kDataRead, {{purpose}, categories, {}});
      !allowed) {
    reason = allowed.error().reason;
    why = allowed.error().message;
  }
  if (reason.empty()) {
    // Categories and subject first, from the index; the legal basis itself
    // is decided below, inside the transaction that records the read.
    auto decision = core_.Decide(*subject, purpose, categories);
    if (!decision) return tl::unexpected(decision.error());
    if (decision->reason == index::Reason::kCategoryNotAllowed ||
        decision->reason == index::Reason::kSubjectDestroyed) {
      reason = std::string(index::ReasonCode(decision->reason));
      why = std::string(index::ReasonText(decision->reason));
    }
  }

  // The access trail: the attempt is recorded before the answer, and the
  // subject's legal basis is read in the same transaction, so no withdrawal
  // can fall between the decision and its record.
  const policy::Purpose* pu = p.FindPurpose(purpose);
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    if (reason.empty() && pu->basis == policy::LegalBasis::kConsent) {
      auto consents = txn.GetConsents(*subject);
      if (!consents) return tl::unexpected(consents.error());
      index::Reason r = index::Reason::kNoConsent;
      for (const auto& c : *consents) {
        if (c.purpose != purpose) continue;
        r = c.state == store::ConsentState::kGranted ? index::Reason::kConsentInForce
                                                     : index::Reason::kWithdrawn;
      }
      // Given under an edition before one that widened the purpose (R-XI.2).
      if (r == index::Reason::kConsentInForce &&
          d_.index.Check(*subject, d_.index.PurposeOrdinal(purpose), 0).reason ==
              index::Reason::kConsentRenewalRequired) {
        r = index::Reason::kConsentRenewalRequired;
      }
      if (r != index::Reason::kConsentInForce) {
        reason = std::string(index::ReasonCode(r));
        why = std::string(index::ReasonText(r));
      }
    } else if (reason.empty() && pu->basis == policy::LegalBasis::kContract) {
      auto subs = txn.GetSubscriptions(*subject);
      if (!subs) return tl::unexpected(subs.error());
      bool active = false;
      for (const auto& sub : *subs) {
        const policy::Service* service = sub.active ? p.FindService(sub.service) : nullptr;
        if (!service) continue;
        for (const auto& r : service->purposes) active = active || r.id == purpose;
      }
      // A purpose the policy keeps while a debt is open (debt collection).
      if (!active && pu->while_obligation_open) {
        auto open = txn.GetObligations(*subject, /*open_only=*/true);
        if (!open) return tl::unexpected(open.error());
        active = std::any_of(open->begin(), open->end(), [](const store::ObligationRecord& o) {
          return o.kind != store::ObligationKind::kLegalHold;
        });
      }
      if (!active) {
        reason = std::string(index::ReasonCode(index::Reason::kNoActiveContract));
        why = std::string(index::ReasonText(index::Reason::kNoActiveContract));
      }
    }
    ledger::EventDraft ev{"access.read", *subject, caller.actor.id, {}};
    ev.data["what"] = "data";
    ev.data["purpose"] = purpose;
    boost::json::array cats;
    for (const auto& c : categories) cats.emplace_back(c);
    ev.data["categories"] = std::move(cats);
    ev.data["allowed"] = reason.empty();
    ev.data["reason"] = reason.empty() ? "need_to_know" : reason;
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  if (!reason.empty()) {
    return tl::unexpected(Error{ErrorCode::kPermissionDenied, "purpose", why, reason});
  }

  auto view = ShowSubject(*subject, duty->full_view);
  if (!view) return view;
  std::erase_if(view->data, [&](const DataItem& d) {
    return std::find(categories.begin(), categories.end(), d.category) == categories.end();
  });
  return view;
}

Result<SubjectView> Subjects::ShowSubject(SubjectId id, bool full) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto s, (*txn)->GetSubject(id));
  if (!s) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
  return core_.ReadValues(**txn, *s, full);
}

}  // namespace qorgau::rules

