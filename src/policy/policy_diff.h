// What changed from one policy edition to the next (R-XI.1): entries
// added, removed or changed, section by section, and the purposes whose
// consent now covers more (R-XI.2: those consents must be given again).
// Pure functions over two loaded policies.
#pragma once

#include <string>
#include <vector>

#include "policy/policy.h"

namespace qorgau::policy {

struct PolicyChange {
  std::string section;  // controller, texts, channels, contract_methods, purposes, categories, services,
                        // retention, recipients, transfers, aggregates, withdrawal, rights, security_measures
  std::string id;       // the entry's id; retention: CATEGORY-or-record:KIND[/purpose][/evidence][/minimum]
  std::string change;   // added | removed | changed
  std::vector<std::string> fields;  // changed: the fields that differ
  // "section/id": how an edition's `changes` list names it with its reason.
  std::string Key() const { return section + "/" + id; }
};

struct PolicyDiff {
  std::vector<PolicyChange> changes;
  // Purposes of both editions that may now use a category, or whose data
  // now go to a recipient (or a recipient of theirs receives a category),
  // that the earlier edition did not: a consent given before covers less.
  std::vector<std::string> widened;
};

PolicyDiff DiffPolicies(const Policy& from, const Policy& to);

}  // namespace qorgau::policy
