// Input checks shared by the engine's commands. Internal to rules/.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::rules {

// Evidence and application references: 1-128 of [A-Za-z0-9-_.:/#], and
// never personal data (no IIN or phone number inside). `field` names it.
Result<void> CheckReference(std::string_view ref, std::string_view field);

// A consent can be granted or withdrawn only for a purpose whose basis is
// consent; the refusal says which basis it has instead.
Result<const policy::Purpose*> CheckConsentPurpose(const policy::Policy& p,
                                                   const std::string& purpose);

// A subject id as given by a caller: 1-18 digits.
Result<store::SubjectId> ParseSubjectId(std::string_view text);

// A legal representative acting at `at` (LAW.md §5, §12): a known kind
// and proof, a name, a valid IIN, and a proof of authority valid on that
// day in `zone` (a power of attorney names its last valid day). Returns
// the identity to seal under the subject's key, {"name","iin",
// "proof_reference"} as JSON (a proof's number identifies a document).
struct Representative;
Result<std::string> CheckRepresentative(const Representative& rep, UnixMillis at, const std::string& zone);

// Why a purpose of this basis is not withdrawable by consent.
std::string NotWithdrawableWhy(const policy::Purpose& purpose);

}  // namespace qorgau::rules
