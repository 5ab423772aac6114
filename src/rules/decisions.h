// Decisions from the in-memory index: a check for one subject or many, an
// audience for a purpose; each recorded in the decision log
// (rules/decision_recorder.h) or the ledger. Part of rules::Engine
// (rules/engine.h); implemented in decisions.cc.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

class Decisions {
 public:
  explicit Decisions(EngineCore& core) : core_(core), d_(core.deps()) {}
  Decisions(const Decisions&) = delete;
  Decisions& operator=(const Decisions&) = delete;

  Result<index::Decision> Check(const Caller& caller, const SubjectKey& key,
                                const std::string& purpose,
                                const std::vector<std::string>& categories);
  // Decisions for many subjects by id (unknown ids answer unknown_subject),
  // recorded like Check's; `out` has one slot per id.
  Result<void> CheckMany(const Caller& caller, std::span<const SubjectId> ids,
                         const std::string& purpose, const std::vector<std::string>& categories,
                         std::span<index::Decision> out);
  // The audience of a purpose; recorded (access.audience) with its size.
  Result<index::Audience> SelectAudience(const Caller& caller, const std::string& purpose,
                                         bool exclude_obligations,
                                         const std::vector<SubjectId>* among);
  // Records decisions made for a caller, without waiting for the commit;
  // those of a batch check (`bulk`) wait while the log is behind.
  Result<void> RecordDecisions(const Caller& caller, const std::string& purpose,
                               const std::vector<std::string>& categories,
                               std::span<const SubjectId> subjects,
                               std::span<const index::Decision> decisions, bool bulk);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
