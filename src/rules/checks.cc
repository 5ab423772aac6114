#include "rules/checks.h"

#include <boost/json.hpp>
#include <set>

#include "core/utf8.h"
#include "core/working_calendar.h"
#include "rules/engine_core.h"

#include "core/personal_value.h"

namespace qorgau::rules {

Result<void> CheckReference(std::string_view ref, std::string_view field) {
  const std::string f(field);
  if (ref.empty() || ref.size() > 128) {
    return Fail(ErrorCode::kInvalidArgument, f, "must be 1-128 characters");
  }
  for (char c : ref) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '#';
    if (!ok) return Fail(ErrorCode::kInvalidArgument, f, "may contain only letters, digits and - _ . : / #");
  }
  if (ContainsPersonalDataShape(ref)) {
    return Fail(ErrorCode::kInvalidArgument, f,
                "must be a reference, not personal data (it contains an IIN or phone number)");
  }
  return {};
}

Result<store::SubjectId> ParseSubjectId(std::string_view text) {
  store::SubjectId id = 0;
  if (text.empty() || text.size() > 18) {
    return Fail(ErrorCode::kInvalidArgument, "subject", "must be a subject id (digits)");
  }
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Fail(ErrorCode::kInvalidArgument, "subject", "must be a subject id (digits)");
    }
    id = id * 10 + (c - '0');
  }
  return id;
}

std::string NotWithdrawableWhy(const policy::Purpose& pu) {
  if (pu.basis == policy::LegalBasis::kLaw) {
    return "rests on law (" + pu.statute + "): consent is neither needed nor withdrawable";
  }
  return "rests on the contract: joining it gave the consent (R-III.3), and it ends with the "
         "contract, not by withdrawing consent";
}

Result<const policy::Purpose*> CheckConsentPurpose(const policy::Policy& p,
                                                   const std::string& purpose) {
  const policy::Purpose* pu = p.FindPurpose(purpose);
  if (!pu) {
    return Fail(ErrorCode::kNotFound, "purpose",
                "'" + purpose + "' is not a purpose of policy edition " +
                    std::to_string(p.edition.number));
  }
  if (pu->basis != policy::LegalBasis::kConsent) {
    return Refuse(pu->basis == policy::LegalBasis::kLaw ? "basis_is_law" : "basis_is_contract",
                  "purpose", "'" + purpose + "' " + NotWithdrawableWhy(*pu));
  }
  return pu;
}

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

}  // namespace qorgau::rules
