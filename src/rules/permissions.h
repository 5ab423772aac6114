// The one permission model: who may do what to whom (R-II.3, R-VIII.1,
// R-VIII.2, R-VI.3). Every command of the engine asks Authorize before it
// reads or writes anything, whichever door the caller came through (HTTP,
// CLI, library); docs/access.md is this file as a table.
//
// A caller acts through its role and its duties:
// - an administrator manages actors, duties and keys and verifies the
//   ledger; it acts on no subject and reads no personal data;
// - an employee or the data protection officer acts on subjects only with
//   a signed NDA (R-II.3), an acknowledged liability warning (R-VIII.2) and
//   a duty covering the purpose, the categories and the action (R-VIII.1);
// - a system acts through duties as well, and never beyond the purposes it
//   was registered for;
// - legal holds are opened and closed only by the roles the policy names
//   (policy.withdrawal.legal_hold_roles).
// A refusal is kPermissionDenied with a stable reason code (the table in
// docs/access.md), naming the field that was not covered.
//
// Pure functions over the caller and the policy: no I/O, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/vocabulary.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::rules {

// Every action a caller can ask of the engine. Persisted by name only.
enum class Action : std::uint8_t {
  kSubjectAdd,         // register a subject with its first values
  kSubjectLookup,      // find a subject by IIN or phone
  kDataRecord,         // record a value of a category
  kDataRead,           // read values of categories for a purpose
  kContractJoin,       // join a contract (consent by joining, R-III.3)
  kContractEnd,        // end a contract, switching its services off (starts retention periods)
  kServiceEnable,      // switch a service on (R-VI.5)
  kServiceDisable,     // switch a service off
  kServicesRead,       // list a subject's services
  kConsentGrant,       // record a consent (R-III.4)
  kConsentWithdraw,    // record a withdrawal (R-VI)
  kWithdrawalPreview,  // what a withdrawal would do, without doing it
  kConsentsRead,       // list a subject's consents
  kObligationOpen,     // open a debt, instalment or legal hold (R-VI.3)
  kObligationClose,    // close one
  kObligationImport,   // billing's CSV of openings and closings
  kObligationsRead,    // list a subject's obligations
  kCheck,              // decide whether a purpose may use a subject's data now
  kAudience,           // the subjects a purpose may use now
  kReceiptRead,        // a consent receipt
  kAccessTrailRead,    // who read a subject's data
  kAuditVerify,        // verify the ledger
  kAuditCheckpoint,    // export a signed tree head for an outside witness
  kActorsManage,       // add or change actors, duties and keys
  kActorsRead,         // list actors
  kKeysRotateMaster,   // rewrap every data key under a new master key (CLI only)
  kKeysRotateSigning,  // replace the key that signs tree heads and receipts (CLI only)
  kCalendarImport,     // load a year of the working-day calendar
  kCalendarsRead,      // list the calendars loaded (public)
  kApplicationFile,    // register a subject's application (R-IV.4, R-IV.5, LAW.md §5)
  kApplicationsRead,   // read applications: one, a subject's, those falling due
  kApplicationHandle,  // verify, progress, attach documents, answer or refuse
  kStatementRead,      // produce a subject's information statement (R-IV.4)
  kBreachRecord,       // record a security breach, or its notice sent (LAW.md §10)
  kBreachesRead,       // the breach register, and a breach's notice with the subjects' identifiers
  kRetentionPlan,      // what falls due for destruction, by category and ground (R-VII)
  kRetentionRun,       // destroy what is due, with its act (R-VII.2)
  kRetentionActs,      // the destruction runs and their acts
  kStoreBackup,        // copy the database, without its data keys (CLI only)
  kStoreRestore,       // put a backup in place, and destroy again what was destroyed since (CLI only)
  kTransferMake,       // hand subjects' data to a recipient of the policy (R-IX.1)
  kTransfersRead,      // the register of transfers: recipients, purposes, counts
  kAggregateRelease,   // release anonymised counts over the subjects a purpose allows (R-IX.2)
  kAggregatesRead,     // the releases made
  kPolicyPublish,      // publish a new edition of the policy (R-XI.1)
  kPolicyAccept,       // record a subject's explicit acceptance of the edition in force (R-XI.2)
  kOutboxRead,         // the messages waiting for other systems
  kWebhooksManage,     // add, remove and list the webhooks the outbox is delivered to (CLI only)
  kOutboxDeliver,      // deliver the outbox to the webhooks now (CLI only; `serve` delivers on its own)
  kDataEnrich,         // add a value about a subject from a source of the policy (R-X.1)
  kProfileDerive,      // derive an attribute (a segment) from a subject's data (R-X.2)
  kStatisticsRead,     // counts per day of consents and decisions, the ledger's state (the dashboard)
};

// "subject.add", "consent.grant", ...: the names docs/access.md uses.
std::string_view ActionName(Action a);

// An authenticated caller: the actor and its duties.
struct IdempotencyClaim;  // rules/engine_core.h

struct Caller {
  store::ActorRecord actor;
  std::vector<store::DutyRecord> duties;
  // The request's Idempotency-Key, when it has one: the engine records it
  // in the transaction of the request's first write (rules/engine.h).
  IdempotencyClaim* idempotency = nullptr;

  const std::string& id() const { return actor.id; }
  ActorRole role() const { return actor.role; }
  // The caller's duty for `purpose`, or nullptr.
  const store::DutyRecord* Duty(std::string_view purpose) const;
  // Whether some duty allows `action` (kAllDutyActions: any) on `category`.
  bool CoversCategory(std::string_view category, DutyActions action) const;
  // Whether the caller may see the consents and services of `purpose`.
  bool SeesPurpose(std::string_view purpose) const { return Duty(purpose) != nullptr; }
};

// What an action concerns; every item must be covered.
struct Scope {
  std::vector<std::string> purposes;
  std::vector<std::string> categories;
  std::optional<ObligationKind> kind;  // obligations only
};

Result<void> Authorize(const policy::Policy& policy, const Caller& caller, Action action,
                       const Scope& scope = {});

// Whether the caller's role may handle legal holds under `policy`.
bool HandlesLegalHolds(const policy::Policy& policy, const Caller& caller);

}  // namespace qorgau::rules
