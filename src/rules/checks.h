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

// Why a purpose of this basis is not withdrawable by consent.
std::string NotWithdrawableWhy(const policy::Purpose& purpose);

}  // namespace qorgau::rules
