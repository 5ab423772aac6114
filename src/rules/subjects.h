// Subjects and their personal data (R-IV, R-X.1, R-VIII): registering a
// subject, recording a value, and the need-to-know read of the values.
//
// Values are sealed with the subject's data key before they are stored;
// the ledger keeps only the sealed values' digests. Part of rules::Engine
// (rules/engine.h); implemented in subjects.cc.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct SubjectInput {
  std::string iin;
  std::string phone;
  // Further values by category id ("user.identity.name" -> "...").
  std::map<std::string, std::string> data;
  // Where the values come from (R-X.1): subject | service | public_source |
  // third_party | derived.
  std::string provenance = "subject";
};

class Subjects {
 public:
  explicit Subjects(EngineCore& core) : core_(core), d_(core.deps()) {}
  Subjects(const Subjects&) = delete;
  Subjects& operator=(const Subjects&) = delete;

  Result<SubjectId> AddSubject(const SubjectInput& input, const Caller& caller);
  // Records one value of a category for a subject (R-IV.1, R-X.1). A first
  // value is refused when no active service of the subject's contracts
  // needs the category (R-IV.2: only the minimum the contracts need is
  // collected). Changing a recorded value, the IIN or the phone included
  // (the blind index follows), is a rectification (R-IV.5): it needs
  // `application`, the subject's open rectification application whose
  // applicant's identity was verified and that holds at least one
  // document; the new value replaces the old, and the data.recorded event
  // names the application.
  Result<std::int64_t> PutData(const SubjectKey& key, const std::string& category,
                               const std::string& value, const std::string& provenance,
                               const Caller& caller, std::optional<std::int64_t> application = std::nullopt);
  // A read of personal data for a purpose (R-II.3, R-VIII.1, R-VIII.2):
  // allowed only when the caller's duty covers the purpose and the
  // categories, an employee has signed the NDA and acknowledged liability,
  // and the subject's legal basis for the purpose holds. Allowed or not, the
  // attempt is written to the ledger before the answer. `categories` empty:
  // those of the duty. Values are masked unless the duty grants full view.
  Result<SubjectView> ReadPersonalData(const Caller& caller, const SubjectKey& key,
                                       const std::string& purpose,
                                       const std::vector<std::string>& categories);

 private:
  Result<SubjectView> ShowSubject(SubjectId id, bool full);

  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
