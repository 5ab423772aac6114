// The destruction act (R-VII.2, LAW.md §9): what a retention run destroyed,
// by category or record and ground, when, by whom, and how; never a value,
// and no subject but through the ledger events that stand for them. In
// Kazakh, Russian or English, as JSON or a printable A4 HTML page, built
// from the act a finished run keeps (rules/retention.h). Renders only: it
// reads nothing and records nothing.
#pragma once

#include <string>
#include <string_view>

#include "core/error.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::report {

// The words of retention the statement shares with the act, in kk, ru or
// en: where a period starts ("from.relationship_end", ...) and the records
// ("record:contracts", ...); the key itself when there is none.
std::string RetentionText(std::string_view key, std::string_view lang);

// kInvalidArgument (field "lang") for a language other than kk, ru, en;
// kFailedPrecondition (field "run") for a run that has not finished.
Result<std::string> RetentionActJson(const policy::Policy& policy, const store::RetentionRunRecord& run,
                                     std::string_view lang);
Result<std::string> RetentionActHtml(const policy::Policy& policy, const store::RetentionRunRecord& run,
                                     std::string_view lang);

}  // namespace qorgau::report
