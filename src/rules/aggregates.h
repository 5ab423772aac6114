// Anonymised aggregates (R-IX.2): counts of subjects grouped by attributes
// that identify nobody, released only when every group is large enough.
// Part of rules::Engine (rules/engine.h); implemented in aggregates.cc.
//
// The population is the subjects a purpose may use now (the decision
// index's audience). Each is described by attributes qorgau derives:
//   age_band        from the IIN's birth date: 10-year bands ("30-39"),
//                   then 20-year bands ("20-39"), then "*"
//   sex             from the IIN: "female", "male", then "*"
//   tenure          years since registration: "<1", "1-2", "3-4", "5+",
//                   then "<3", "3+", then "*"
//   service:ID      whether the service is on: "on", "off", then "*"
// (a subject whose IIN is not held is "unknown" until "*"). Age and sex
// come from the demographics sealed when the IIN was recorded
// (rules/demographics.h): a release opens no data key.
//
// k-anonymity with ℓ-diversity, as ARX does it: of the generalisations
// of the attributes asked (the lattice of their levels, least general
// first), the first whose groups under k subjects (or, with a sensitive
// attribute, under ℓ distinct values of it) hold at most the policy's
// share of the population is chosen; those groups are suppressed. Then:
//   - a release never hides fewer than k subjects: while 1 .. k-1 are
//     suppressed, the smallest released group is suppressed too;
//   - differencing: against every earlier exact release for the purpose
//     whose groups nest with these (one grouping refines the other, the
//     same grouping included), a coarse group whose count differs from the
//     sum of its released finer groups by 1 .. k-1 (either way: the
//     population may have grown since) would single those subjects out,
//     so the finer groups in it are suppressed (or, coarse now, the group
//     itself). Noisy releases are not compared: the noise hides the
//     difference.
// With `sum` (a category of value type number), each released group also
// carries the total of the values its subjects hold, unless that total
// would tell about a few of them: it is suppressed (the count stays) when
// fewer than k subjects hold a value, or when the two largest values make
// more than 85 % of the group's total of absolute values (the (2, 85 %)
// dominance rule of statistical disclosure control), or when, against an
// earlier release whose groups nest with these, subtracting the totals
// shown would give the total of suppressed ones that fails either test.
// Sums are exact: a release with `epsilon` takes no sum.
// With `epsilon`, each released count carries Laplace noise of scale
// 1/epsilon, charged to the recipient's budget (policy
// aggregates.epsilon_budget), which qorgau refuses to overspend.
// No identifier ever appears: the release is counts by attribute values.
// Each release is an `aggregate.released` event with everything it said.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct AggregateRequest {
  std::string purpose;
  std::vector<std::string> by;  // 1 .. 4 attributes, each once
  std::string sensitive;        // "" or an attribute not in `by`, for ℓ-diversity
  std::string recipient;        // "" (the operator's own use) or a recipient of the policy
  std::optional<double> epsilon;  // differentially private noise, from the recipient's budget
  std::string sum;  // "" or a category of value type number the purpose may use: each group's total
};

struct AggregateCell {
  std::vector<std::string> key;                   // the values of `by`, at the levels chosen
  std::int64_t count = 0;
  std::map<std::string, std::int64_t> sensitive;  // by value of the sensitive attribute
  std::optional<std::string> sum;  // the group's total of the sum's category; none: suppressed
};

struct AggregateRelease {
  std::int64_t id = 0;  // the seq of its aggregate.released event
  UnixMillis at = 0;
  std::string actor, purpose, recipient, sensitive, sum;
  std::vector<std::string> by;
  std::vector<int> levels;  // the generalisation of each attribute of `by` (0: as asked)
  int k = 0, l = 0;
  std::optional<double> epsilon;
  std::int64_t population = 0;
  std::int64_t suppressed_subjects = 0;
  std::int64_t suppressed_groups = 0;
  std::vector<AggregateCell> cells;
  std::int64_t revision = 0;  // the ledger revision after it
};

// The release as JSON (the event's data, the API's answer).
std::string AggregateReleaseJson(const AggregateRelease& r);

class Aggregates {
 public:
  explicit Aggregates(EngineCore& core) : core_(core), d_(core.deps()) {}
  Aggregates(const Aggregates&) = delete;
  Aggregates& operator=(const Aggregates&) = delete;

  Result<AggregateRelease> ReleaseAggregate(const AggregateRequest& request, const Caller& caller);
  // Every release, newest first.
  Result<std::vector<store::AggregateReleaseRecord>> ListAggregateReleases(const Caller& caller);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
