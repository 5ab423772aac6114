// Enrichment and profiling (R-X). Part of rules::Engine (rules/engine.h);
// implemented in enrichment.cc.
//
// Data about a subject that the subject did not give come from a source the
// policy names (`sources`: public social-network accounts, or a third party
// under an agreement with the operator, R-X.1), for a purpose that allows
// enrichment (`enrichment: true`: to build offers for the subject, R-X.2).
// An enrichment is refused when
//   - the source is not the policy's, its agreement is not in force that day
//     (a third party), or it does not supply the category for the purpose;
//   - the purpose does not allow enrichment, or may not use the category;
//   - the caller has no duty for the purpose that allows `record` and covers
//     the category (R-VIII.1);
//   - the subject's legal basis for the purpose does not hold now (the
//     decision index's answer, e.g. no consent), or the subject objected to
//     profiling;
//   - the category holds a value the subject gave (that changes only on the
//     subject's rectification application, R-IV.5), or identifies the
//     subject (IIN, phone).
// A derived attribute (a segment) records its input categories and purpose:
// each input must be a category the subject holds and the purpose may use.
//
// The value is sealed like any other, with its provenance (public_source,
// third_party, derived) and an enrichment record (source, agreement then,
// purpose, inputs): a `data.enriched` or `data.derived` event. The statement
// shows it under its source.
//
// An objection to profiling (an objection application, answered) or the
// withdrawal of the consent a derived attribute rests on destroys the
// derived attributes (a `retention.destroyed` event, why
// `profiling_objection` or `withdrawal`); after an objection nothing more is
// enriched or derived for the subject (EngineCore::StopProfiling).
#pragma once

#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct EnrichRequest {
  SubjectKey subject;
  std::string category;
  std::string value;
  std::string source;   // a source of the policy
  std::string purpose;  // what it is added for
};

struct DeriveRequest {
  SubjectKey subject;
  std::string category;  // where the attribute is kept (a derived category)
  std::string value;     // the segment
  std::string purpose;
  std::vector<std::string> inputs;  // the categories it was derived from
};

struct EnrichmentOutcome {
  SubjectId subject = 0;
  store::EnrichmentRecord record;
  std::int64_t revision = 0;
};

class Enrichment {
 public:
  explicit Enrichment(EngineCore& core) : core_(core), d_(core.deps()) {}
  Enrichment(const Enrichment&) = delete;
  Enrichment& operator=(const Enrichment&) = delete;

  Result<EnrichmentOutcome> EnrichData(const EnrichRequest& request, const Caller& caller);
  Result<EnrichmentOutcome> DeriveAttribute(const DeriveRequest& request, const Caller& caller);

 private:
  // Seals `value` for the subject, records it with `record` and its event,
  // after the checks both share (the basis, an objection, what is held).
  Result<EnrichmentOutcome> Store(const SubjectKey& key, const std::string& value, store::EnrichmentRecord record,
                                  const Caller& caller);
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
