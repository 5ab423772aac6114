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
// The commands are implemented by topic: engine.cc (subjects, consents),
// contracts.cc (contracts and services), obligations.cc, withdrawal.cc,
// decisions.cc (check and audience).
#pragma once

#include <map>
#include <mutex>
#include <span>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/key_ring.h"
#include "crypto/signer.h"
#include "index/decision_index.h"
#include "ledger/ledger.h"
#include "ledger/tree_head.h"
#include "ledger/witness.h"
#include "policy/policy.h"
#include "report/receipt.h"
#include "rules/decision_recorder.h"
#include "rules/permissions.h"
#include "store/group_commit.h"
#include "store/store.h"

namespace qorgau::rules {

using store::SubjectId;

struct EngineDeps {
  store::Store& store;
  store::GroupCommitter& writer;
  index::DecisionIndex& index;
  const Clock& clock;
  const crypto::KeyRing& keys;
  const crypto::Signer& signer;                  // signs consent receipts
  std::shared_ptr<const policy::Policy> policy;  // the edition in force
  ledger::ProofCache* proofs = nullptr;          // receipts' proofs from the sealer, or none
};

struct ActorInput {
  std::string id;
  store::ActorRole role = store::ActorRole::kEmployee;
  std::string name;
  std::string nda_signed;              // YYYY-MM-DD or empty
  std::string liability_acknowledged;  // YYYY-MM-DD or empty
  std::vector<std::string> purposes;   // systems: the purposes it acts for
};

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
};

// How a subject is named by a caller.
struct SubjectKey {
  enum class Kind { kId, kIin, kPhone } kind = Kind::kId;
  std::string value;
  static SubjectKey Id(SubjectId id) { return {Kind::kId, std::to_string(id)}; }
  static SubjectKey Iin(std::string iin) { return {Kind::kIin, std::move(iin)}; }
  static SubjectKey Phone(std::string phone) { return {Kind::kPhone, std::move(phone)}; }
};

struct SubjectInput {
  std::string iin;
  std::string phone;
  // Further values by category id ("user.identity.name" -> "...").
  std::map<std::string, std::string> data;
  // Where the values come from (R-X.1): subject | service | public_source |
  // third_party | derived.
  std::string provenance = "subject";
};

struct DataItem {
  std::string category;
  std::string value;  // masked unless the full view was asked for
  std::string provenance;
  UnixMillis recorded_at = 0;
};

struct SubjectView {
  SubjectId id = 0;
  UnixMillis created_at = 0;
  bool masked = true;
  std::vector<DataItem> data;
};

struct ConsentRequest {
  SubjectKey subject;
  std::string purpose;
  std::string channel;
  std::string evidence;  // document id, message id, call recording id, signature
};

struct ConsentOutcome {
  SubjectId subject = 0;
  std::string purpose;
  store::ConsentState state = store::ConsentState::kGranted;
  int edition = 0;
  std::int64_t revision = 0;  // the ledger revision after it: its receipt's event
  std::string receipt = {};   // the receipt with its proof (report/receipt.h)
};

struct ContractRequest {
  SubjectKey subject;
  std::string method;                 // registration_form | signed_application | sms (or form, application)
  std::vector<std::string> services;  // service ids of the policy
  std::string evidence;               // the form, application or SMS reference; optional
};

struct ContractOutcome {
  SubjectId subject = 0;
  std::int64_t contract_id = 0;
  std::vector<std::string> services;         // switched on by this contract
  std::vector<std::string> contract_purposes;  // consent given by joining (R-III.3)
  std::vector<std::string> consents_granted;   // consent-basis purposes of additional services
  std::int64_t revision = 0;
  std::string receipt;
};

struct ServiceRequest {
  SubjectKey subject;
  std::string service;
  std::string application;  // written application reference (R-VI.5)
  std::string channel;      // for the new consent; default office_written with an application
  std::string evidence;     // for the new consent; default the application
};

struct ServiceOutcome {
  SubjectId subject = 0;
  std::string service;
  bool active = false;
  std::vector<std::string> consents_granted;
  std::int64_t revision = 0;
  std::string receipt = {};  // when consents were granted
};

struct ObligationRequest {
  SubjectKey subject;
  store::ObligationKind kind = store::ObligationKind::kDebt;
  std::string ref;
  std::string amount;  // tenge, "12500" or "12500.50"; empty for none
};

struct ImportReport {
  std::size_t opened = 0;
  std::size_t closed = 0;
  // "line N: field: reason" for every bad row; when not empty, nothing was
  // imported.
  std::vector<std::string> problems;
};

struct WithdrawalRequest {
  SubjectKey subject;
  std::string channel;
  std::string evidence;
  // What to withdraw: the data of these additional services (R-VI.4), or
  // these purposes, or - both empty - everything withdrawable.
  std::vector<std::string> services;
  std::vector<std::string> purposes;
  bool preview = false;  // a dry run: say what would happen, change nothing
};

struct NotWithdrawable {
  std::string purpose;
  policy::LegalBasis basis = policy::LegalBasis::kContract;
  std::string why;
};

struct WithdrawalPlan {
  SubjectId subject = 0;
  bool preview = false;
  std::vector<std::string> consents_end;  // purposes whose consent ends
  std::vector<std::string> services_off;  // services switched off (R-VI.4)
  std::vector<NotWithdrawable> not_withdrawable;
  policy::Text warning;                   // R-VI.1
  std::int64_t revision = 0;              // after the change; 0 for a preview
  std::string receipt;                    // signed, after the change
};

// A one-time enrolment token, shown once (Engine::CreateEnrolment).
struct Enrolment {
  std::string token;          // "qe_" and 64 hex digits
  UnixMillis expires_at = 0;  // redeemable before this
};

// An API key as an administrator sees it: its id, never the key.
struct KeyInfo {
  std::string id;  // hex SHA-256 of the key, as the store keeps it (`key revoke --key` takes a prefix)
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at = {};
  std::optional<UnixMillis> revoked_at = {};
};

// Publishes a loaded policy edition (its bundle of files) as immutable; the
// first publication also starts the ledger.
Result<int> PublishEdition(store::Store& store, const Clock& clock, const policy::Policy& policy,
                           const std::map<std::string, std::string>& files,
                           const std::string& main_file, const std::string& actor_id);

// The actor that `init` creates: an administrator at the console of the
// data directory, the CLI's default `--as`.
inline constexpr std::string_view kConsoleActor = "console";
// Creates it, at init: the first administrator, from whom every other
// actor, duty and key comes (actor.created, by "init").
Result<void> CreateConsoleActor(store::Store& store, const Clock& clock);

// Tenge as text to tiyn: "12500" -> 1250000, "12500.5" -> 1250050.
Result<std::int64_t> ParseAmount(std::string_view text, std::string_view field);

// A request's Idempotency-Key (docs/api.md), carried by its Caller. The
// request's first write records it as a pending idempotency record in the
// write's own transaction: the change and its key are durable together, and
// of two requests with one key only one changes anything (the store's
// unique (actor, key) is the lock). The API stores the answer afterwards.
struct IdempotencyClaim {
  std::string key;
  crypto::Bytes request_hash;  // keyed hash of method, path and body
  UnixMillis expired_before = 0;  // an older record of the key has expired
  // Set by the engine once the claim is durable:
  bool recorded = false;
  std::int64_t revision = 0;  // the ledger revision of the write
};

class Engine {
 public:
  explicit Engine(EngineDeps deps);
  ~Engine();

  const policy::Policy& policy() const { return *d_.policy; }
  const index::DecisionIndex& index() const { return d_.index; }
  // The engine's clock, for the doors that keep time about their callers
  // (the HTTP API's lockout of failed authentications).
  const Clock& clock() const { return d_.clock; }

  // Every command takes the caller and is authorized by rules/permissions.h
  // before it reads or writes anything; a refusal is kPermissionDenied with
  // a stable reason. Every read about a subject is recorded in the ledger
  // (access.read), allowed or not, before the answer.

  // The caller an actor id acts as, from the store (the CLI's --as); an
  // unknown or disabled actor is kUnauthenticated.
  Result<std::shared_ptr<const Caller>> CallerFor(const std::string& actor_id);

  // Subjects (engine.cc).
  Result<SubjectId> AddSubject(const SubjectInput& input, const Caller& caller);
  // Records one value of a category for a subject (R-IV.1, R-X.1). Refused
  // when no active service of the subject's contracts needs the category
  // (R-IV.2: only the minimum the contracts need is collected). The IIN and
  // phone, by which the subject is found, are set at registration.
  Result<std::int64_t> PutData(const SubjectKey& key, const std::string& category,
                               const std::string& value, const std::string& provenance,
                               const Caller& caller);

  // Consents (engine.cc). R-III.1, R-III.4: consent to a purpose whose basis
  // is consent, through a declared channel, with its evidence.
  Result<ConsentOutcome> GrantConsent(const ConsentRequest& request, const Caller& caller);
  // A withdrawal of one purpose: the same rules as Withdraw (R-VI).
  Result<ConsentOutcome> WithdrawConsent(const ConsentRequest& request, const Caller& caller);
  // The consents of the purposes the caller's duties cover.
  Result<std::vector<store::ConsentRecord>> ListConsents(const Caller& caller,
                                                         const SubjectKey& key);

  // Contracts and services (contracts.cc). R-III.2, R-III.3, R-VI.5.
  Result<ContractOutcome> JoinContract(const ContractRequest& request, const Caller& caller);
  Result<ServiceOutcome> EnableService(const ServiceRequest& request, const Caller& caller);
  Result<ServiceOutcome> DisableService(const ServiceRequest& request, const Caller& caller);
  // The services one of whose purposes the caller's duties cover.
  Result<std::vector<store::SubscriptionRecord>> ListServices(const Caller& caller,
                                                              const SubjectKey& key);

  // Obligations (obligations.cc). R-VI.3.
  Result<store::ObligationRecord> OpenObligation(const ObligationRequest& request,
                                                 const Caller& caller);
  Result<store::ObligationRecord> CloseObligation(const std::string& ref, const Caller& caller);
  // CSV with the header action,iin,kind,ref,amount; all rows or none.
  Result<ImportReport> ImportObligations(std::string_view csv, const Caller& caller);
  // Debts and instalments for an 'obligations' duty, legal holds for the
  // roles that handle them.
  Result<std::vector<store::ObligationRecord>> ListObligations(const Caller& caller,
                                                               const SubjectKey& key);

  // Withdrawal (withdrawal.cc). R-VI.1 - R-VI.4.
  Result<WithdrawalPlan> Withdraw(const WithdrawalRequest& request, const Caller& caller);

  // Decisions (decisions.cc), recorded in the decision log.
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

  // Actors, duties and keys (access.cc). Only an administrator may manage
  // them (R-II.3, R-VIII).
  Result<store::ActorRecord> PutActor(const ActorInput& input, const Caller& by);
  Result<store::DutyRecord> GrantDuty(const store::DutyRecord& duty, const Caller& by);
  // A new API key for a system, returned once; only its SHA-256 is kept.
  // A person's key is refused (enrolment_required): see CreateEnrolment.
  Result<std::string> CreateApiKey(const std::string& actor_id, const Caller& by,
                                   std::optional<UnixMillis> expires_at = std::nullopt);
  // A one-time token (returned once, "qe_..."), valid for `valid_for` ms,
  // with which the employee, and only whoever holds the token, gets a key.
  Result<Enrolment> CreateEnrolment(const std::string& actor_id, const Caller& by,
                                    UnixMillis valid_for = 72LL * 3600 * 1000);
  // Redeems an enrolment token: {actor id, the new API key}. The token is
  // the credential; it works once, before it expires.
  Result<std::pair<std::string, std::string>> RedeemEnrolment(std::string_view token);
  // Revokes the live key of `actor_id` whose id (hex SHA-256) starts with
  // `key_id`; disables an actor; removes a duty. Effective at once.
  Result<void> RevokeKey(const std::string& actor_id, const std::string& key_id, const Caller& by);
  Result<void> DisableActor(const std::string& actor_id, const Caller& by);
  Result<void> RemoveDuty(const std::string& actor_id, const std::string& purpose, const Caller& by);
  Result<std::vector<store::ActorRecord>> ListActors(const Caller& by);
  // The keys of an actor, live or not, by key id; never the keys.
  Result<std::vector<KeyInfo>> ListKeys(const std::string& actor_id, const Caller& by);
  // The caller a key belongs to; cached (shared, immutable) until actors,
  // duties or keys change. A refusal is kUnauthenticated with a reason
  // saying why: `unauthenticated` (not a key, or no such key),
  // `key_revoked`, `key_expired`, `actor_disabled`. A door that faces the
  // network may answer them all alike (the HTTP API does) and count the
  // reasons instead.
  Result<std::shared_ptr<const Caller>> Authenticate(std::string_view api_key);

  // A read of personal data for a purpose (R-II.3, R-VIII.1, R-VIII.2):
  // allowed only when the caller's duty covers the purpose and the
  // categories, an employee has signed the NDA and acknowledged liability,
  // and the subject's legal basis for the purpose holds. Allowed or not, the
  // attempt is written to the ledger before the answer. `categories` empty:
  // those of the duty. Values are masked unless the duty grants full view.
  Result<SubjectView> ReadPersonalData(const Caller& caller, const SubjectKey& key,
                                       const std::string& purpose,
                                       const std::vector<std::string>& categories);
  // Finds a subject by IIN or phone for a caller. Looking someone up reveals
  // whether they are a subscriber, so it is need-to-know too: some duty of
  // the caller must cover the category searched by (R-VIII.1). Found or
  // not, allowed or not, the lookup is recorded (`access.lookup`).
  Result<SubjectId> LookupSubject(const Caller& caller, const SubjectKey& key);
  // Records decisions made for a caller, without waiting for the commit;
  // those of a batch check (`bulk`) wait while the log is behind.
  Result<void> RecordDecisions(const Caller& caller, const std::string& purpose,
                               const std::vector<std::string>& categories,
                               std::span<const SubjectId> subjects,
                               std::span<const index::Decision> decisions, bool bulk);
  Result<std::vector<AccessEntry>> AccessTrail(const Caller& caller, const SubjectKey& key);

  // `audit verify` (ledger/audit.h) on the open store, optionally against a
  // checkpoint an outside witness kept.
  Result<ledger::VerifyReport> VerifyLedger(const Caller& caller,
                                            const std::optional<ledger::TreeHead>& checkpoint = {});
  // The latest signed tree head, for an outside witness to keep
  // (audit.checkpoint); the same as app::LatestCheckpoint on the open store.
  Result<ledger::TreeHead> LatestCheckpoint(const Caller& caller);
  // A consistency proof for a witness that pulls (audit.checkpoint): the
  // same as app::WitnessStatementFor on the open store (access.cc).
  Result<ledger::WitnessStatement> ConsistencyProof(const Caller& caller, std::int64_t from,
                                                    std::optional<std::int64_t> to);
  // The receipt issued with ledger event `seq`, for a caller with a duty
  // for each of its purposes (or the data protection officer).
  Result<std::string> Receipt(const Caller& caller, std::int64_t seq);

 private:
  // A command's writes: they return the index deltas to apply once durable.
  using WriteBody = std::function<Result<std::vector<index::Delta>>(store::Transaction&)>;
  // Runs `body` through the group committer; returns the ledger revision
  // after it. With `caller`, the caller's idempotency claim (if any, and
  // not yet recorded) is recorded in the same transaction.
  Result<std::int64_t> Write(const WriteBody& body);
  Result<std::int64_t> Write(const Caller& caller, const WriteBody& body);

  Result<SubjectId> Resolve(store::Transaction& txn, const SubjectKey& key);
  // Writes a new key for `actor_id` (access.cc); `enrolled`: redeeming the
  // enrolment `token_hash`, by the actor itself.
  Result<std::string> IssueKey(const std::string& actor_id, const std::string& by,
                               std::optional<UnixMillis> expires_at, bool enrolled,
                               const crypto::Bytes& token_hash = {});
  Result<SubjectId> FindSubject(const SubjectKey& key);
  // By id, or by IIN or phone as a recorded lookup (LookupSubject).
  Result<SubjectId> FindSubject(const Caller& caller, const SubjectKey& key);
  // Naming a subject by IIN or phone needs the lookup right (R-VIII.1).
  Result<void> AuthorizeKey(const Caller& caller, const SubjectKey& key);
  Result<SubjectView> ShowSubject(SubjectId id, bool full);
  // The index's ordinal of a purpose; kNotFound names the edition.
  Result<int> PurposeOrdinal(const std::string& purpose) const;
  // The index's decision, without authorization or record.
  Result<index::Decision> Decide(SubjectId id, const std::string& purpose,
                                 const std::vector<std::string>& categories);
  // A read about a subject in the ledger (access.read, `what` read), with
  // the refusal's reason when `refusal` is set; returns `refusal` itself or
  // success, so a caller can `return RecordRead(...)`.
  Result<void> RecordRead(const Caller& caller, SubjectId subject, std::string_view what,
                          const std::string& purpose, const std::vector<std::string>& categories,
                          const Result<void>& refusal);
  Result<SubjectView> View(store::Transaction& txn, const store::SubjectRecord& s, bool full);
  // Records one consent change and its event; the index delta is appended.
  Result<std::int64_t> PutConsent(store::Transaction& txn, SubjectId subject,
                                  const std::string& purpose, store::ConsentState to,
                                  const std::string& channel, const std::string& evidence,
                                  const Caller& actor, std::vector<index::Delta>* deltas);
  Result<std::int64_t> PutService(store::Transaction& txn, SubjectId subject,
                                  const std::string& service, bool active,
                                  std::int64_t contract_id, const std::string& why,
                                  const Caller& actor, std::vector<index::Delta>* deltas);
  // A receipt in two steps. PrepareReceipt, inside the change's
  // transaction, stamps the input with the change's last ledger event,
  // appends the content's digest as a `receipt.issued` event and stores the
  // content. SignReceipt, after the commit, returns the receipt with its
  // inclusion proof to the batch's signed tree head ("" when none was
  // prepared, or it cannot be read now: it can be asked for again).
  Result<report::ReceiptInput> PrepareReceipt(store::Transaction& txn, report::ReceiptInput input);
  std::string SignReceipt(const report::ReceiptInput& input);
  // The stored receipt `seq` with its proof to the latest signed head.
  Result<std::string> ReceiptAt(std::int64_t seq);
  // One row of an obligation import looked a subject up by IIN.
  Result<void> RecordImportLookup(store::Transaction& txn, const Caller& caller, SubjectId subject,
                                  UnixMillis at);
  Result<WithdrawalPlan> Plan(store::Transaction& txn, SubjectId subject,
                              const WithdrawalRequest& request);

  EngineDeps d_;
  std::unique_ptr<DecisionRecorder> recorder_;
  std::unique_ptr<report::ReceiptWriter> receipts_;
  // Authenticated callers by key (in memory only); cleared when actors,
  // duties or keys change.
  std::mutex callers_mu_;
  struct CachedCaller {
    std::shared_ptr<const Caller> caller;
    std::optional<UnixMillis> expires_at;  // of the key
  };
  std::unordered_map<std::string, CachedCaller> callers_;
  std::uint64_t callers_generation_ = 0;  // bumped at every change; guarded by callers_mu_
  void ForgetCallers();
};

}  // namespace qorgau::rules
