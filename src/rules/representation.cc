// Legal representatives (rules/representation.h).
#include "rules/representation.h"

#include <boost/json.hpp>
#include <set>

#include "core/iin.h"
#include "core/personal_value.h"
#include "core/utf8.h"
#include "core/working_calendar.h"
#include "crypto/crypto.h"
#include "rules/checks.h"
#include "rules/engine_core.h"

namespace qorgau::rules {

Result<std::string> CheckRepresentative(const Representative& rep, UnixMillis at, const std::string& zone) {
  static const std::set<std::string> kinds{"parent", "guardian", "attorney"};
  static const std::set<std::string> proofs{"birth_certificate", "guardianship_decision", "power_of_attorney"};
  if (!kinds.count(rep.kind)) {
    return Fail(ErrorCode::kInvalidArgument, "representative.kind", "must be parent, guardian or attorney");
  }
  if (!proofs.count(rep.proof_kind)) {
    return Fail(ErrorCode::kInvalidArgument, "representative.proof_kind",
                "must be birth_certificate, guardianship_decision or power_of_attorney");
  }
  // Each kind of representative proves its authority by its own document.
  const std::string proof_of_kind = rep.kind == "parent"     ? "birth_certificate"
                                    : rep.kind == "guardian" ? "guardianship_decision"
                                                             : "power_of_attorney";
  if (rep.proof_kind != proof_of_kind) {
    return Fail(ErrorCode::kInvalidArgument, "representative.proof_kind",
                "a " + rep.kind + "'s authority is proved by a " + proof_of_kind);
  }
  QORGAU_TRY(CheckReference(rep.proof_reference, "representative.proof_reference"));
  if (rep.name.empty() || rep.name.size() > 200 || !IsValidUtf8(rep.name)) {
    return Fail(ErrorCode::kInvalidArgument, "representative.name", "must be 1-200 bytes of UTF-8");
  }
  QORGAU_ASSIGN_OR_RETURN(const std::string iin, NormalizeValue(ValueType::kIin, rep.iin, "representative.iin"));
  if (rep.kind == "attorney" && rep.valid_until.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "representative.valid_until",
                "a power of attorney needs its last valid day");
  }
  if (!rep.valid_until.empty()) {
    QORGAU_ASSIGN_OR_RETURN(const auto until, ParseDate(rep.valid_until, "representative.valid_until"));
    if (EndOfLocalDayIn(zone, until) < at) {
      return Refuse("authority_expired", "representative.valid_until", "the proof of authority had lapsed by then");
    }
  }
  // The proof's number (a birth certificate's, say) identifies a person's
  // document: it is sealed with the identity, never kept in clear.
  return boost::json::serialize(
      boost::json::object{{"name", rep.name}, {"iin", iin}, {"proof_reference", rep.proof_reference}});
}

Result<void> CheckRepresentation(const EngineDeps& d, store::Transaction& txn, SubjectId subject, UnixMillis at,
                                             const Representative* rep) {
  // The subject's own IIN, which carries the birth date.
  std::optional<Iin> own;
  const policy::Category* by_iin = nullptr;
  for (const auto& c : d.policy->categories) {
    if (c.value == ValueType::kIin && !by_iin) by_iin = &c;
  }
  if (by_iin) {
    QORGAU_ASSIGN_OR_RETURN(const auto s, txn.GetSubject(subject));
    if (!s) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
    QORGAU_ASSIGN_OR_RETURN(const auto records, txn.GetPersonalData(subject));
    for (const auto& r : records) {
      if (r.category != by_iin->id) continue;
      QORGAU_ASSIGN_OR_RETURN(const auto key, d.keys.UnwrapDataKey(subject, s->wrapped_key));
      QORGAU_ASSIGN_OR_RETURN(const std::string value,
                              crypto::Open(key, r.sealed, crypto::PersonalDataAad(subject, r.category)));
      if (auto iin = Iin::Parse(value)) own = *iin;
    }
  }
  const auto today = LocalDateIn(CountryTimeZone(d.policy->controller.country), at);
  const bool minor = own && own->MinorOn(today);
  if (!rep) {
    if (!minor) return {};
    return Refuse("representative_required", "representative",
                  "the subject is under 18: a minor acts only through a parent, guardian or holder of a "
                  "power of attorney, with proof of authority (LAW.md §12)");
  }
  // CheckRepresentative validated the representative's IIN.
  QORGAU_ASSIGN_OR_RETURN(const std::string digits, NormalizeValue(ValueType::kIin, rep->iin, "representative.iin"));
  QORGAU_ASSIGN_OR_RETURN(const Iin theirs, Iin::Parse(digits));
  if (own && own->digits() == theirs.digits()) {
    return Refuse("representative_is_the_subject", "representative.iin",
                  "a subject does not represent themselves");
  }
  if (theirs.MinorOn(today)) {
    return Refuse("representative_is_a_minor", "representative.iin", "a legal representative is 18 or older");
  }
  if (rep->kind == "parent" && !minor) {
    return Refuse("parent_of_an_adult", "representative.kind",
                  "a parent represents a child under 18; an adult acts alone, through a guardian or by a power "
                  "of attorney");
  }
  return {};
}

Result<store::RepresentationRecord> SealRepresentation(const EngineDeps& d, store::Transaction& txn, SubjectId subject,
                                                                   const Representative& rep,
                                                                   const std::string& identity) {
  QORGAU_ASSIGN_OR_RETURN(const auto s, txn.GetSubject(subject));
  if (!s) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
  QORGAU_ASSIGN_OR_RETURN(const auto key, d.keys.UnwrapDataKey(subject, s->wrapped_key));
  store::RepresentationRecord r{0, subject, rep.kind, rep.proof_kind, rep.valid_until, {}};
  QORGAU_ASSIGN_OR_RETURN(r.sealed, crypto::Seal(key, identity, crypto::PersonalDataAad(subject, "representative")));
  return r;
}

std::optional<store::RepresentationRecord> RepresentationOf(const store::ApplicationRecord& app) {
  if (app.requester == "subject" || app.representative.empty()) return std::nullopt;
  return store::RepresentationRecord{0, app.subject_id, app.requester, app.proof_kind, app.proof_valid_until,
                                     app.representative};
}

void RepresentationData(const store::RepresentationRecord& r, boost::json::object& data) {
  data["requester"] = r.requester;
  data["representative_hash"] = crypto::ToHex(crypto::Sha256(r.sealed));
  data["proof_kind"] = r.proof_kind;
  data["proof_valid_until"] = r.proof_valid_until;
}

Result<std::optional<store::RepresentationRecord>> Represent(
    const EngineDeps& d, store::Transaction& txn, SubjectId subject, UnixMillis at, const std::optional<Representative>& rep,
    const std::string& identity) {
  QORGAU_TRY(CheckRepresentation(d, txn, subject, at, rep ? &*rep : nullptr));
  if (!rep) return std::optional<store::RepresentationRecord>();
  QORGAU_ASSIGN_OR_RETURN(auto sealed, SealRepresentation(d, txn, subject, *rep, identity));
  return std::optional<store::RepresentationRecord>(std::move(sealed));
}

}  // namespace qorgau::rules
