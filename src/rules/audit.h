// What an auditor reads: a subject's access trail, the ledger's
// verification, its signed tree heads, and the receipts it issued. Part of
// rules::Engine (rules/engine.h); implemented in audit.cc. A new audit read
// is one more method here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/tree_head.h"
#include "ledger/witness.h"
#include "rules/engine_core.h"

namespace qorgau::rules {

// One entry of a subject's access trail.
struct AccessEntry {
  std::int64_t seq = 0;
  std::string at;
  std::string actor;
  std::string type;  // access.read, access.lookup, decision.made
  std::string what;  // what was read: data, consents, services, obligations, receipt, ...
  std::string purpose;
  std::vector<std::string> categories;
  bool allowed = false;
  std::string reason;
  store::SubjectId subject = 0;  // whose data (AccessTrailBy; the subject's own trail leaves it 0)
};

// Which reads a trail by actor or date shows: by `actor` (empty: any),
// at or after `from` and before `to` (UTC), at most `limit`, the newest.
struct TrailQuery {
  std::string actor;
  std::optional<UnixMillis> from, to;
  std::size_t limit = 500;
};

class Audit {
 public:
  explicit Audit(EngineCore& core) : core_(core), d_(core.deps()) {}
  Audit(const Audit&) = delete;
  Audit& operator=(const Audit&) = delete;

  // The reads, lookups and decisions about a subject, in time order.
  Result<std::vector<AccessEntry>> AccessTrail(const Caller& caller, const SubjectKey& key);
  // The reads, lookups and transfers of an actor, or of everyone in a
  // time range, newest first, from the store's index of reads (decisions
  // are kept per subject; a subject's own trail shows them).
  Result<std::vector<AccessEntry>> AccessTrailBy(const Caller& caller, const TrailQuery& query);
  // `audit verify` (ledger/audit.h) on the open store, optionally against a
  // checkpoint an outside witness kept.
  Result<ledger::VerifyReport> VerifyLedger(const Caller& caller,
                                            const std::optional<ledger::TreeHead>& checkpoint = {});
  // The latest signed tree head, for an outside witness to keep
  // (audit.checkpoint); the same as app::LatestCheckpoint on the open store.
  Result<ledger::TreeHead> LatestCheckpoint(const Caller& caller);
  // A consistency proof for a witness that pulls (audit.checkpoint): the
  // same as app::WitnessStatementFor on the open store.
  Result<ledger::WitnessStatement> ConsistencyProof(const Caller& caller, std::int64_t from,
                                                    std::optional<std::int64_t> to);
  // The receipt issued with ledger event `seq`, for a caller with a duty
  // for each of its purposes (or the data protection officer).
  Result<std::string> Receipt(const Caller& caller, std::int64_t seq);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
