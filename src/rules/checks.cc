#include "rules/checks.h"

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

}  // namespace qorgau::rules
