// The engine: qorgau's commands, each a rule of the operator's policy.
//
// Every change is validated first, then written with its ledger event in one
// store transaction through the group committer; the decision index is
// updated after the commit, before the caller is answered. A refused command
// changes nothing and says why: Error::reason is a stable code, the message
// says it in words.
//
// The engine does no I/O of its own: the store, the clock, the keys, the
// policy edition and the index come in EngineDeps, so rules are tested on any
// date and store. Thread safety: an Engine may be shared between threads.
//
// Every command takes the caller and is authorized by rules/permissions.h
// before it reads or writes anything; a refusal is kPermissionDenied with
// a stable reason. Every read about a subject is recorded in the ledger
// (access.read), allowed or not, before the answer.
//
// The commands are split by aggregate, a class each, and Engine is all of
// them: it owns the one EngineCore (rules/engine_core.h: the deps, the
// write path, finding subjects, recording reads, consent and service
// changes, receipts, the decision log), hands it to each aggregate, and
// inherits their commands, so callers write engine.GrantConsent(...) as
// ever. No aggregate calls another: what two of them need is in the core.
// A new command is declared in its aggregate's header, and is the Engine's.
//   Subjects     subjects.h, .cc      subjects and their data, the need-to-know read
//   Consents     consents.h, .cc      consents, contracts and services
//   Obligations  obligations.h, .cc   debts, instalments, legal holds, the CSV import
//   Withdrawals  withdrawals.h, .cc   withdrawal of consent
//   Decisions    decisions.h, .cc     checks, audiences, the decision log
//   Access       access.h, .cc        actors, duties, keys, authentication
//   Audit        audit.h, .cc         access trails, ledger verification, tree heads, receipts
//   Applications applications.h, .cc subjects' applications, deadlines, the statement, breaches
//   Retention    retention.h, .cc    when data fall due for destruction (R-VII)
//   Transfers    transfers.h, .cc    transfers to the operator's partners (R-IX.1)
//   Aggregates   aggregates.h, .cc   anonymised counts for third parties (R-IX.2)
//   Editions     editions.h, .cc     publishing editions, acceptance, the outbox (R-XI)
//   Webhooks     webhooks.h, .cc     the outbox delivered to other systems
//   Enrichment   enrichment.h, .cc   data from sources, derived attributes (R-X)
//   Statistics   statistics.h, .cc   counts per day for the dashboard
//   EngineCore   engine_core.h, .cc   what they share
// representation.h, .cc: legal representatives, for applications and
// consents alike (functions over the core's deps).
// engine.cc builds the Engine and publishes policy editions.
#pragma once

#include <map>
#include <string>

#include "rules/access.h"
#include "rules/aggregates.h"
#include "rules/applications.h"
#include "rules/audit.h"
#include "rules/consents.h"
#include "rules/decisions.h"
#include "rules/editions.h"
#include "rules/enrichment.h"
#include "rules/engine_core.h"
#include "rules/obligations.h"
#include "rules/retention.h"
#include "rules/statistics.h"
#include "rules/subjects.h"
#include "rules/transfers.h"
#include "rules/webhooks.h"
#include "rules/withdrawals.h"

namespace qorgau::rules {

// Publishes a loaded policy edition (its bundle of files) as immutable; the
// first publication also starts the ledger.
Result<int> PublishEdition(store::Store& store, const Clock& clock, const policy::Policy& policy,
                           const std::map<std::string, std::string>& files,
                           const std::string& main_file, const std::string& actor_id);

// EngineCore is the first, private base: it is constructed before the
// aggregates that hold a reference to it, and destroyed after them.
class Engine : private EngineCore,
               public Subjects,
               public Consents,
               public Obligations,
               public Withdrawals,
               public Decisions,
               public Access,
               public Audit,
               public Applications,
               public Retention,
               public Transfers,
               public Aggregates,
               public Editions,
               public Webhooks,
               public Enrichment,
               public Statistics {
 public:
  explicit Engine(EngineDeps deps);
  ~Engine();

  using EngineCore::clock;
  using EngineCore::decisions_pending;
  using EngineCore::index;
  using EngineCore::policy;
  // Shared with the commands that name a subject by IIN or phone.
  using EngineCore::LookupSubject;
};

}  // namespace qorgau::rules
