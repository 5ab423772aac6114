// A policy edition as readable text, for `qorgau policy show`.
#pragma once

#include <string>
#include <string_view>

#include "policy/policy.h"

namespace qorgau::policy {

// `lang` is kk, ru or en; texts missing in it fall back to Kazakh.
std::string FormatPolicy(const Policy& policy, std::string_view lang);

}  // namespace qorgau::policy
