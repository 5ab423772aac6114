// The Store: where qorgau keeps its state and its ledger.
//
// Contract:
// - Subjects' data keys are kept apart from the data (SQLite: keys.db
//   beside qorgau.db), which a backup does not carry: a key destroyed
//   after a backup was taken makes that backup's copy of the subject
//   unreadable too. A write transaction's key changes are durable before
//   its data: a committed subject always has its key.
// - All reads and writes go through a Transaction. A write transaction is
//   atomic: either Commit() succeeds and every change in it is durable, or
//   nothing of it is visible. Destroying an uncommitted Transaction rolls it
//   back, so an error path never leaves a partial write.
// - Personal-data values reach the Store only sealed (AES-256-GCM) and IIN /
//   phone only as blind indexes; the Store never sees plain values.
// - Thread safety: a Store may be shared; Begin() serialises transactions
//   (one at a time per Store object). A Transaction belongs to one thread.
// - Errors are values: kAlreadyExists for a duplicate unique index, kIo for
//   the backend's failures, kCorruption for unreadable rows.
//
// The SQLite implementation is store/sqlite/; PostgreSQL will follow behind
// the same interface.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/vocabulary.h"
#include "crypto/crypto.h"

namespace qorgau::store {

using crypto::Bytes;
using SubjectId = std::int64_t;
// The domain's words live in core/vocabulary.h; these keep the store's
// records readable.
using qorgau::ActorRole;
using qorgau::ActorRoleName;
using qorgau::ApplicationKind;
using qorgau::ApplicationState;
using qorgau::ConsentState;
using qorgau::ObligationKind;
using qorgau::ObligationKindName;
using qorgau::ParseActorRole;
using qorgau::ParseObligationKind;

struct SubjectRecord {
  SubjectId id = 0;
  UnixMillis created_at = 0;
  Bytes wrapped_key;  // the subject's data key, wrapped by the KEK
  std::optional<UnixMillis> destroyed_at = {};  // its data destroyed (R-VII.2)
};

// One stored value of a data category for a subject.
struct PersonalDataRecord {
  SubjectId subject_id = 0;
  std::string category;    // "user.contact.phone"
  Bytes sealed;            // AES-256-GCM under the subject's data key
  std::string provenance;  // subject | service | public_source | third_party | derived
  UnixMillis recorded_at = 0;
};

// The current consent of a subject for a purpose; the history is in the
// ledger (every change is an event).
struct ConsentRecord {
  SubjectId subject_id = 0;
  std::string purpose;
  ConsentState state = ConsentState::kGranted;
  int edition = 0;
  std::string channel;
  std::string evidence;
  UnixMillis changed_at = 0;
  std::int64_t event_seq = 0;  // the ledger event that set this state
  // The consent covers transfer abroad (LAW.md §8): to a country that does
  // not ensure the protection of personal data, only with it.
  bool cross_border = false;
};

// A ledger event as stored: canonical body and its chain hashes.
struct EventRecord {
  std::int64_t seq = 0;
  std::string body;
  Bytes prev_hash;
  Bytes hash;
  std::optional<SubjectId> subject = {};  // indexed copy of the body's subject
  // Indexed copy of the body's actor for a read of personal data
  // (ledger::IsRead: access.read, access.lookup, transfer.sent); empty for
  // every other event.
  std::string reader = {};
};

// A published policy edition: its files, verbatim, and their hash.
struct EditionRecord {
  int number = 0;
  std::string main_file;
  Bytes hash;
  UnixMillis published_at = 0;
  std::map<std::string, std::string> files;
  // When it takes effect (R-XI.1): set by `policy publish`; none for an
  // edition published at `init`, in force from its publication.
  std::optional<UnixMillis> effective_at = {};
  std::string reason;                 // why it was published
  std::vector<std::string> renewal;   // purposes whose consents must be given again (widened)
  UnixMillis InForceFrom() const { return effective_at.value_or(published_at); }
};

// A subject's acceptance of a policy edition (R-XI.2): explicit (through
// the app, a channel and its evidence) or by continued use, at the first
// processing for the subject after the edition took effect.
struct AcceptanceRecord {
  SubjectId subject_id = 0;
  int edition = 0;
  std::string how;       // explicit | continued_use
  std::string channel;   // explicit: the channel; continued_use: the command that processed
  std::string evidence;  // explicit: its evidence; ""
  UnixMillis at = 0;
  std::int64_t event_seq = 0;
};

// A message other systems must act on, in the transactional outbox: written
// in the transaction of the event it tells of, delivered at least once
// (docs/architecture.md). Keyed by (event, subject): one event may concern
// many subjects (a policy edition).
struct OutboxRecord {
  std::int64_t event_seq = 0;
  SubjectId subject_id = 0;  // 0: no subject
  std::string kind;          // the event's type: policy.published, consent.withdrawn, ...
  UnixMillis created_at = 0;
  std::optional<UnixMillis> delivered_at = {};  // once every webhook has it
  int attempts = 0;                             // failed posts that carried it
};

// A receiver of the outbox (docs/architecture.md, "The outbox and its
// webhooks"): its URL, the file of the key that signs what it is sent, and
// how far delivery got. Everything in the outbox up to and including the
// cursor, in (event_seq, subject_id) order, was delivered to it.
struct WebhookRecord {
  std::string name;
  std::string url;          // may carry a token: never in an event, a log or an error
  std::string secret_file;  // the HMAC key's file, outside the data directory
  UnixMillis added_at = 0;
  std::int64_t event_seq = 0;  // its webhook.added event
  // Delivery (operational state, not ledger state):
  std::int64_t cursor_seq = 0;
  SubjectId cursor_subject = 0;
  std::int64_t delivered = 0;  // rows delivered
  int failures = 0;            // failed posts since the last success
  UnixMillis next_at = 0;      // no post before (the back-off after a failure)
  std::string last_error;      // the last failure, naming host and port only
  std::optional<UnixMillis> last_delivered_at = {};
};

// Where a value of a subject came from when the subject did not give it
// (R-X): enriched from a source of the policy, or derived (profiling) from
// other categories. One per (subject, category), beside the value; deleted
// with it.
struct EnrichmentRecord {
  SubjectId subject_id = 0;
  std::string category;
  std::string kind;       // enriched | derived
  std::string source;     // enriched: the policy's source id; derived: ""
  std::string agreement;  // enriched from a third party: the agreement's number then
  std::string purpose;    // what it was added or derived for
  std::vector<std::string> inputs;  // derived: the categories it was derived from
  UnixMillis at = 0;
  std::int64_t event_seq = 0;
};

// A subject's objection to profiling (R-X.2), from an answered objection
// application: no enrichment or derivation for the subject after it.
struct ProfilingObjectionRecord {
  SubjectId subject_id = 0;
  std::int64_t application_id = 0;
  UnixMillis at = 0;
  std::int64_t event_seq = 0;
};

enum class IndexKind : std::uint8_t { kIin = 0, kPhone = 1 };

// What stands in a blind index once its value is destroyed: unique per
// subject and kind, and of another length than any HMAC, so nobody is found
// by the destroyed IIN or phone, and the number can be given to someone else.
inline Bytes DestroyedIndex(SubjectId subject, IndexKind kind) {
  const std::string tag = "destroyed:" + std::to_string(subject) + (kind == IndexKind::kIin ? "i" : "p");
  return Bytes(tag.begin(), tag.end());
}

// A contract the subject joined (R-III.2).
struct ContractRecord {
  std::int64_t id = 0;
  SubjectId subject_id = 0;
  std::string method;    // a contract method id of the policy
  std::string evidence;  // the form, application or SMS reference
  UnixMillis joined_at = 0;
  std::int64_t event_seq = 0;  // the contract.joined event
  std::optional<UnixMillis> ended_at = {};  // set by its contract.ended event
};

// Whether a subject's service is on; one row per (subject, service).
struct SubscriptionRecord {
  SubjectId subject_id = 0;
  std::string service;
  bool active = false;
  std::int64_t contract_id = 0;
  UnixMillis changed_at = 0;
  std::int64_t event_seq = 0;
};

// An obligation that blocks withdrawal while open (R-VI.3).
struct ObligationRecord {
  std::string ref;  // billing's reference, unique
  SubjectId subject_id = 0;
  ObligationKind kind = ObligationKind::kDebt;
  std::optional<std::int64_t> amount_minor;  // tiyn; absent for legal holds
  UnixMillis opened_at = 0;
  std::optional<UnixMillis> closed_at;
  std::int64_t event_seq = 0;
  // What it keeps from destruction while open (R-VII.1): these categories,
  // or, when empty, every datum and record of the subject.
  std::vector<std::string> categories = {};
};

// An employee or a system that calls qorgau (R-II.3, R-VIII).
struct ActorRecord {
  std::string id;
  ActorRole role = ActorRole::kEmployee;
  std::string name;
  std::string nda_signed;              // YYYY-MM-DD, empty when not signed
  std::string liability_acknowledged;  // YYYY-MM-DD, empty when not (R-VIII.2)
  std::vector<std::string> purposes;   // for systems: the purposes it acts for
  UnixMillis created_at = 0;
  std::optional<UnixMillis> disabled_at = {};  // set: the actor can no longer act
};

// A duty: what the actor may do with these categories for this purpose
// (R-VIII.1; the actions are in docs/access.md).
struct DutyRecord {
  std::string actor_id;
  std::string purpose;
  std::vector<std::string> categories;
  bool full_view = false;  // values unmasked
  DutyActions actions = static_cast<DutyActions>(DutyAction::kRead);
};

// The status of an idempotency record claimed in the transaction of the
// change it guards, whose answer is not stored yet (or was lost with the
// process that made it); its body is {"revision": N}, the change's.
inline constexpr int kIdempotencyPending = 0;

// A stored answer to a write request with an Idempotency-Key.
struct IdempotencyRecord {
  std::string actor_id;
  std::string key;
  Bytes request_hash;
  int status = 0;  // the HTTP status of the answer, or kIdempotencyPending
  std::string body;
  UnixMillis at = 0;
};

// A decision of the decision log's first format (ledger format 2.0): a row
// per decision, in id ranges sealed by ledger events. Read only: decisions
// are now written as DecisionRequestRecord, and these rows are kept, and
// verified, as they were.
struct DecisionRecord {
  std::int64_t id = 0;  // assigned by the store
  UnixMillis at = 0;
  std::string actor;
  SubjectId subject = 0;
  std::string purpose;
  std::string categories;  // comma-separated
  std::string reason;
  std::int64_t revision = 0;
};

// The decisions of one request (a check, or a batch check of many
// subjects), kept in the decision log as one record. The requests flushed
// together are sealed by one `decisions.recorded` ledger event, whose seq
// they carry; each subject they name is indexed once per seal, for the
// subject's access trail (docs/ledger-format.md).
struct DecisionRequestRecord {
  std::int64_t seal = 0;  // the seq of the decisions.recorded event that seals it
  std::int64_t n = 0;     // its place among the requests of its seal, from 0
  UnixMillis at = 0;
  std::string actor;
  std::string purpose;
  std::string categories;     // comma-separated
  std::int64_t revision = 0;  // the ledger revision the decisions reflected
  std::vector<SubjectId> subjects;
  // One byte per subject: its decision's reason number (docs/ledger-format.md).
  std::string reasons;
};

// An API key as stored: only its SHA-256.
struct ApiKeyRecord {
  Bytes key_hash;
  std::string actor_id;
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at = {};  // unset: until revoked
  std::optional<UnixMillis> revoked_at = {};
};

// A one-time enrolment token for an employee's key: its hash only.
struct EnrolmentRecord {
  Bytes token_hash;
  std::string actor_id;
  UnixMillis created_at = 0;
  UnixMillis expires_at = 0;
  std::optional<UnixMillis> redeemed_at = {};
};

// A person's password for the web console: its Argon2id hash in the PHC
// string form libsodium writes ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"),
// set by the person through an enrolment token (rules/access.h).
struct PasswordRecord {
  std::string actor_id;
  std::string hash;
  UnixMillis set_at = 0;
};

// A signed tree head of the ledger (ledger/tree_head.h).
struct TreeHeadRecord {
  std::int64_t size = 0;
  Bytes root;
  UnixMillis at = 0;
  std::string key_id;
  Bytes signature;
};

// A signed consent receipt as issued.
struct ReceiptRecord {
  // The ledger event it documents, an event of subject_id (receipt.issued;
  // in format 1 the change itself): DestroySubject may find a subject's
  // receipts through its events.
  std::int64_t event_seq = 0;
  SubjectId subject_id = 0;
  std::string body;            // canonical JSON with its signature
};

// One year of a working-day calendar as imported (core/working_calendar.h):
// the file verbatim; the `calendar.imported` event holds its hash.
struct CalendarYearRecord {
  std::string country;  // "KZ"
  int year = 0;
  std::string content;  // the YAML file
  UnixMillis imported_at = 0;
  std::int64_t event_seq = 0;
};

// A subject's application (rules/applications.h). Its id is the seq of its
// `application.received` event: unique, and given by the ledger, not by a
// row counter.
struct ApplicationRecord {
  std::int64_t id = 0;
  SubjectId subject_id = 0;
  ApplicationKind kind = ApplicationKind::kInformation;
  std::string channel;    // a channel of the policy: office_written, app_support_chat, ...
  std::string reference;  // the office's registration number, the chat's or document's id
  // Who filed it: "subject", or a legal representative: "parent",
  // "guardian", "attorney" (a power of attorney).
  std::string requester = "subject";
  Bytes representative;  // the representative's identity, sealed under the subject's key
  std::string proof_kind;         // the document proving the authority
  std::string proof_reference;    // its number: "" since it is sealed with the representative (kept for old rows)
  std::string proof_valid_until;  // YYYY-MM-DD, or empty when it does not lapse
  std::vector<std::string> purposes;  // withdrawal, re-enabling: the purposes or services named
  ApplicationState state = ApplicationState::kReceived;
  std::string handler;  // the actor handling it
  UnixMillis received_at = 0;
  UnixMillis due_at = 0;  // the legal deadline (core/working_calendar.h)
  int working_days = 0;   // the period the deadline was counted with
  std::optional<UnixMillis> closed_at = {};  // answered or refused
  std::string outcome;    // the answer's summary, or the refusal's reason
  std::int64_t event_seq = 0;  // the event that last changed it
};

// A document attached to an application: its reference and digest, never
// the file.
struct ApplicationDocumentRecord {
  std::int64_t application_id = 0;
  std::string reference;
  std::string sha256;  // 64 hex digits
  UnixMillis added_at = 0;
  std::int64_t event_seq = 0;
};

// A blocked subject (LAW.md §1, §5): no processing until it is lifted.
struct SubjectBlockRecord {
  SubjectId subject_id = 0;
  std::int64_t application_id = 0;  // the blocking application
  UnixMillis blocked_at = 0;
  std::int64_t event_seq = 0;
};

// A legal representative who acted for a subject in a change other than
// an application (a minor's consent, LAW.md §12), under the seq of the
// change's event, which names the requester and proof and holds the
// SHA-256 of `sealed`.
struct RepresentationRecord {
  std::int64_t event_seq = 0;
  SubjectId subject_id = 0;
  std::string requester;          // parent | guardian | attorney
  std::string proof_kind;         // birth_certificate | guardianship_decision | power_of_attorney
  std::string proof_valid_until;  // YYYY-MM-DD, or empty
  Bytes sealed;                   // name, IIN and the proof's number, sealed under the subject's key
};

// A personal-data security breach (LAW.md §1, §10): its id is the seq of
// its `breach.recorded` event.
struct BreachRecord {
  std::int64_t id = 0;
  UnixMillis detected_at = 0;
  std::string how;                      // how it was detected: a code
  std::vector<std::string> categories;  // the categories concerned
  std::vector<std::string> measures;    // the measures taken: codes
  std::vector<SubjectId> subjects;      // the subjects affected
  UnixMillis notify_due_at = 0;         // the notice to the authorised body is due
  std::optional<UnixMillis> notified_at = {};
  std::string notice_reference;         // the notice's registration, once sent
  std::int64_t event_seq = 0;
};

// A transfer of subjects' data to a recipient (R-IX.1): its id is the seq
// of its `transfer.made` event. What it sent to each subject is a
// TransferSubjectRecord; who was left out is counted by reason.
struct TransferRecord {
  std::int64_t id = 0;
  UnixMillis at = 0;
  std::string actor;
  std::string recipient;                // a recipient id of the policy
  std::string country;                  // the recipient's country then
  std::string agreement;                // the agreement's number then
  std::string purpose;
  std::vector<std::string> categories;
  int edition = 0;                      // the policy edition that allowed it
  std::string format;                   // jsonl | csv
  std::int64_t sent = 0;                // subjects whose data went
  std::map<std::string, std::int64_t> refused;  // reason code -> subjects left out
};

// One subject's data in a transfer, with the ground it went on: the legal
// basis for the purpose, and for a transfer abroad what allowed that
// (domestic, adequate_country, consent).
struct TransferSubjectRecord {
  std::int64_t transfer_id = 0;
  SubjectId subject_id = 0;
  std::string basis;        // consent | contract | law
  std::string cross_border; // domestic | adequate_country | consent
};

// An anonymised aggregate released (R-IX.2): its id is the seq of its
// `aggregate.released` event, whose data `body` is (canonical JSON: the
// query, k, l, epsilon, the generalisation, the cells released with their
// counts, what was suppressed). No identifier is in it.
struct AggregateReleaseRecord {
  std::int64_t id = 0;
  UnixMillis at = 0;
  std::string actor;
  std::string purpose;
  std::string recipient;  // "" for the operator's own use
  double epsilon = 0;     // 0: no noise
  std::string body;
};

// A destruction run (R-VII.2): its id is the seq of its
// `retention.run_started` event; `act` is set when it finishes.
struct RetentionRunRecord {
  std::int64_t run = 0;
  UnixMillis started_at = 0;
  UnixMillis as_of = 0;  // what was due on this instant is destroyed
  std::string actor;
  int edition = 0;       // the policy edition whose rules it applies
  std::optional<UnixMillis> finished_at = {};
  std::string act;       // the act (canonical JSON, as its retention.act event holds it)
  std::int64_t act_seq = 0;
};

// A destruction, remembered where the data keys are kept (not in a
// backup): what a restore of an older backup must destroy again.
struct ForgottenRecord {
  SubjectId subject_id = 0;
  std::string what;  // a category, "record:KIND", or "subject" (its key and indexes)
  std::string key;   // the record's key; "" for a category or the subject
  UnixMillis at = 0;
};

class Transaction {
 public:
  virtual ~Transaction() = default;

  virtual Result<std::optional<Bytes>> GetMeta(std::string_view key) = 0;
  virtual Result<void> PutMeta(std::string_view key, const Bytes& value) = 0;

  virtual Result<void> PutEdition(const EditionRecord& edition) = 0;
  virtual Result<std::optional<EditionRecord>> LatestEdition() = 0;
  // Every edition, oldest first, with its files.
  virtual Result<std::vector<EditionRecord>> ListEditions() = 0;

  // Acceptances of editions (R-XI.2). Insert fails with kAlreadyExists
  // when the subject accepted the edition already.
  virtual Result<void> InsertAcceptance(const AcceptanceRecord& record) = 0;
  virtual Result<std::optional<AcceptanceRecord>> GetAcceptance(SubjectId subject, int edition) = 0;
  virtual Result<void> ScanAcceptances(const std::function<void(const AcceptanceRecord&)>& each) = 0;

  // The outbox. Scan: by event, then subject; `pending_only` skips the
  // delivered ones.
  virtual Result<void> InsertOutbox(const OutboxRecord& record) = 0;
  virtual Result<void> ScanOutbox(bool pending_only, const std::function<void(const OutboxRecord&)>& each) = 0;
  // At most `limit` rows after (seq, subject) in the outbox's order.
  virtual Result<std::vector<OutboxRecord>> OutboxAfter(std::int64_t seq, SubjectId subject, bool pending_only,
                                                        std::size_t limit) = 0;
  // Marks delivered, at `at`, every pending row up to and including (seq, subject).
  virtual Result<void> MarkOutboxDelivered(std::int64_t seq, SubjectId subject, UnixMillis at) = 0;
  // Counts a failed post of the rows after `from` up to and including `to`.
  virtual Result<void> CountOutboxAttempt(std::pair<std::int64_t, SubjectId> from,
                                          std::pair<std::int64_t, SubjectId> to) = 0;

  // Enrichment and profiling (R-X). Put replaces the row of (subject,
  // category); DeletePersonalData and DestroySubject delete the rows too.
  virtual Result<void> PutEnrichment(const EnrichmentRecord& record) = 0;
  virtual Result<void> DeleteEnrichment(SubjectId subject, std::string_view category) = 0;
  virtual Result<std::vector<EnrichmentRecord>> GetEnrichments(SubjectId subject) = 0;
  virtual Result<void> ScanEnrichments(const std::function<void(const EnrichmentRecord&)>& each) = 0;
  // Fails with kAlreadyExists when the subject objected already.
  virtual Result<void> InsertProfilingObjection(const ProfilingObjectionRecord& record) = 0;
  virtual Result<std::optional<ProfilingObjectionRecord>> GetProfilingObjection(SubjectId subject) = 0;
  virtual Result<void> ScanProfilingObjections(const std::function<void(const ProfilingObjectionRecord&)>& each) = 0;

  // Webhooks. Insert fails with kAlreadyExists, field "name", when one of
  // the name exists; Delete returns whether there was one.
  virtual Result<void> InsertWebhook(const WebhookRecord& record) = 0;
  virtual Result<bool> DeleteWebhook(std::string_view name) = 0;
  virtual Result<std::vector<WebhookRecord>> ListWebhooks() = 0;
  // Stores the delivery fields of `record` on the webhook of its name and
  // its webhook.added event (not one removed and added again since); the
  // cursor only moves forward. False when no row was changed.
  virtual Result<bool> UpdateWebhookDelivery(const WebhookRecord& record) = 0;

  // Fails with kAlreadyExists, field "iin" or "phone", when either index is
  // already registered.
  virtual Result<SubjectId> InsertSubject(UnixMillis created_at, const Bytes& iin_index,
                                          const Bytes& phone_index) = 0;
  virtual Result<void> SetSubjectKey(SubjectId id, const Bytes& wrapped_key) = 0;
  // Replaces both blind indexes of a subject (a master key rotation);
  // kAlreadyExists as InsertSubject, kNotFound when there is no such subject.
  virtual Result<void> SetSubjectIndexes(SubjectId id, const Bytes& iin_index,
                                         const Bytes& phone_index) = 0;
  virtual Result<std::optional<SubjectId>> FindSubject(IndexKind kind, const Bytes& index) = 0;
  virtual Result<std::optional<SubjectRecord>> GetSubject(SubjectId id) = 0;
  // Subjects with id > after, in id order, at most `limit`.
  virtual Result<std::vector<SubjectRecord>> ListSubjects(SubjectId after, size_t limit) = 0;

  // Inserts or replaces the value of (subject, category).
  virtual Result<void> PutPersonalData(const PersonalDataRecord& record) = 0;
  virtual Result<std::vector<PersonalDataRecord>> GetPersonalData(SubjectId subject) = 0;

  virtual Result<void> PutConsent(const ConsentRecord& record) = 0;
  virtual Result<std::vector<ConsentRecord>> GetConsents(SubjectId subject) = 0;

  virtual Result<std::int64_t> InsertContract(const ContractRecord& record) = 0;
  virtual Result<std::vector<ContractRecord>> GetContracts(SubjectId subject) = 0;
  // Sets the contract's end, once.
  virtual Result<void> EndContract(std::int64_t id, UnixMillis at) = 0;
  virtual Result<void> PutSubscription(const SubscriptionRecord& record) = 0;
  virtual Result<std::vector<SubscriptionRecord>> GetSubscriptions(SubjectId subject) = 0;

  // Fails with kAlreadyExists, field "ref", when the reference is taken.
  virtual Result<void> InsertObligation(const ObligationRecord& record) = 0;
  virtual Result<void> CloseObligation(std::string_view ref, UnixMillis at) = 0;
  virtual Result<std::optional<ObligationRecord>> GetObligation(std::string_view ref) = 0;
  virtual Result<std::vector<ObligationRecord>> GetObligations(SubjectId subject,
                                                               bool open_only) = 0;

  virtual Result<void> PutActor(const ActorRecord& record) = 0;
  virtual Result<std::optional<ActorRecord>> GetActor(std::string_view id) = 0;
  virtual Result<std::vector<ActorRecord>> ListActors() = 0;
  // Replaces the actor's duty for the same purpose.
  virtual Result<void> PutDuty(const DutyRecord& record) = 0;
  virtual Result<std::vector<DutyRecord>> GetDuties(std::string_view actor_id) = 0;
  virtual Result<void> InsertApiKey(const ApiKeyRecord& key) = 0;
  virtual Result<std::optional<ApiKeyRecord>> FindApiKey(const Bytes& key_hash) = 0;
  virtual Result<void> RevokeApiKey(const Bytes& key_hash, UnixMillis at) = 0;
  virtual Result<void> DeleteDuty(std::string_view actor_id, std::string_view purpose) = 0;
  virtual Result<void> PutEnrolment(const EnrolmentRecord& enrolment) = 0;
  virtual Result<std::optional<EnrolmentRecord>> FindEnrolment(const Bytes& token_hash) = 0;
  // Replaces the actor's password.
  virtual Result<void> PutPassword(const PasswordRecord& password) = 0;
  virtual Result<std::optional<PasswordRecord>> GetPassword(std::string_view actor_id) = 0;
  virtual Result<std::optional<IdempotencyRecord>> GetIdempotency(std::string_view actor_id,
                                                                  std::string_view key) = 0;
  // Inserts `record`, or replaces one of the same (actor, key) made before
  // `expired_before`; false, and nothing written, when a live one exists:
  // the unique (actor, key) is the lock that lets one request of a key
  // change state.
  virtual Result<bool> PutIdempotency(const IdempotencyRecord& record, UnixMillis expired_before) = 0;
  // Stores the answer of a record claimed with status kIdempotencyPending.
  virtual Result<void> CompleteIdempotency(std::string_view actor_id, std::string_view key, int status,
                                           std::string_view body) = 0;
  // Deletes up to `limit` records made before `before`.
  virtual Result<void> DeleteIdempotencyBefore(UnixMillis before, int limit) = 0;
  // Events about one subject, in order.
  virtual Result<void> ScanSubjectEvents(SubjectId subject,
                                         const std::function<void(const EventRecord&)>& each) = 0;
  // The reads of personal data (events with a `reader`) with seq < before,
  // the newest first; only `reader`'s when it is not empty. Stops when
  // `each` returns false. Indexed: the trail by actor or time.
  virtual Result<void> ScanReads(std::string_view reader, std::int64_t before,
                                 const std::function<bool(const EventRecord&)>& each) = 0;

  // The decision log's first format (read only): rows with ids in
  // [first, last], and the rows about one subject.
  virtual Result<void> ScanDecisions(std::int64_t first, std::int64_t last,
                                     const std::function<void(const DecisionRecord&)>& each) = 0;
  virtual Result<void> ScanSubjectDecisions(
      SubjectId subject, const std::function<void(const DecisionRecord&)>& each) = 0;

  // The decision log: appends the requests of one seal (each with its
  // `seal` and `n` set) and indexes each subject they name once for the
  // seal.
  virtual Result<void> InsertDecisionRequests(
      const std::vector<DecisionRequestRecord>& records) = 0;
  // The requests of one seal, in `n` order.
  virtual Result<void> ScanDecisionRequests(
      std::int64_t seal, const std::function<void(const DecisionRequestRecord&)>& each) = 0;
  virtual Result<std::int64_t> CountDecisionRequests() = 0;
  // The requests of every seal whose index names the subject, in order
  // (they may name other subjects too).
  virtual Result<void> ScanSubjectDecisionRequests(
      SubjectId subject, const std::function<void(const DecisionRequestRecord&)>& each) = 0;
  // The subject index, every (subject, seal) pair.
  virtual Result<void> ScanDecisionSubjects(
      const std::function<void(SubjectId subject, std::int64_t seal)>& each) = 0;

  // Working-day calendars: one row per (country, year), replaced on import.
  virtual Result<void> PutCalendarYear(const CalendarYearRecord& record) = 0;
  virtual Result<void> ScanCalendarYears(const std::function<void(const CalendarYearRecord&)>& each) = 0;

  // The breach register; Insert fails with kAlreadyExists for a taken id.
  virtual Result<void> InsertBreach(const BreachRecord& record) = 0;
  virtual Result<void> UpdateBreach(const BreachRecord& record) = 0;
  virtual Result<std::optional<BreachRecord>> GetBreach(std::int64_t id) = 0;
  // Every breach, newest first.
  virtual Result<void> ScanBreaches(const std::function<void(const BreachRecord&)>& each) = 0;

  // Transfers to recipients (R-IX.1). Insert fails with kAlreadyExists
  // for a taken id.
  virtual Result<void> InsertTransfer(const TransferRecord& record,
                                      const std::vector<TransferSubjectRecord>& subjects) = 0;
  virtual Result<std::optional<TransferRecord>> GetTransfer(std::int64_t id) = 0;
  // Every transfer, newest first.
  virtual Result<void> ScanTransfers(const std::function<void(const TransferRecord&)>& each) = 0;
  // What went of one subject's data, oldest first.
  virtual Result<std::vector<TransferSubjectRecord>> GetTransferSubjects(SubjectId subject) = 0;
  virtual Result<void> ScanTransferSubjects(const std::function<void(const TransferSubjectRecord&)>& each) = 0;

  // Anonymised aggregates released (R-IX.2); Scan is newest first.
  virtual Result<void> InsertAggregateRelease(const AggregateReleaseRecord& record) = 0;
  virtual Result<void> ScanAggregateReleases(const std::function<void(const AggregateReleaseRecord&)>& each) = 0;

  // Representatives who acted in changes; one per event.
  virtual Result<void> InsertRepresentation(const RepresentationRecord& record) = 0;
  virtual Result<void> ScanRepresentations(const std::function<void(const RepresentationRecord&)>& each) = 0;

  // Blocks: one row per blocked subject, deleted when the block is lifted.
  virtual Result<void> PutSubjectBlock(const SubjectBlockRecord& record) = 0;
  virtual Result<void> DeleteSubjectBlock(SubjectId subject) = 0;
  virtual Result<std::optional<SubjectBlockRecord>> GetSubjectBlock(SubjectId subject) = 0;
  virtual Result<void> ScanSubjectBlocks(const std::function<void(const SubjectBlockRecord&)>& each) = 0;

  // Applications. Insert fails with kAlreadyExists when the id is taken;
  // Update rewrites every field but the id.
  virtual Result<void> InsertApplication(const ApplicationRecord& record) = 0;
  virtual Result<void> UpdateApplication(const ApplicationRecord& record) = 0;
  virtual Result<std::optional<ApplicationRecord>> GetApplication(std::int64_t id) = 0;
  // A subject's applications, newest first.
  virtual Result<std::vector<ApplicationRecord>> GetSubjectApplications(SubjectId subject) = 0;
  // Open applications (not answered or refused), earliest deadline first.
  virtual Result<void> ScanOpenApplications(const std::function<void(const ApplicationRecord&)>& each) = 0;
  virtual Result<void> ScanAllApplications(const std::function<void(const ApplicationRecord&)>& each) = 0;
  // kAlreadyExists (field "document") when the application has a document
  // with this reference.
  virtual Result<void> InsertApplicationDocument(const ApplicationDocumentRecord& record) = 0;
  virtual Result<std::vector<ApplicationDocumentRecord>> GetApplicationDocuments(std::int64_t application) = 0;
  virtual Result<void> ScanAllApplicationDocuments(
      const std::function<void(const ApplicationDocumentRecord&)>& each) = 0;

  // Destruction (R-VII.2): rows deleted for good, at `at`. A store keeps
  // deleted rows unreadable in its files (SQLite: secure_delete, and
  // Store::ForgetDeleted for the log), and remembers each destruction with
  // the data keys, apart from the data (ScanForgotten): a restore of an
  // older backup destroys it again.
  virtual Result<void> DeletePersonalData(SubjectId subject, std::string_view category, UnixMillis at) = 0;
  virtual Result<void> DeleteConsent(SubjectId subject, std::string_view purpose, UnixMillis at) = 0;
  // The contract and the subscriptions joined under it.
  virtual Result<void> DeleteContract(std::int64_t id, UnixMillis at) = 0;
  virtual Result<void> DeleteObligation(std::string_view ref, UnixMillis at) = 0;
  // The application and its documents.
  virtual Result<void> DeleteApplication(std::int64_t id, UnixMillis at) = 0;
  // The subject's data key and blind indexes are destroyed (crypto-
  // shredding: no copy of its sealed values can be opened, and nobody can
  // be found by IIN or phone); its receipts and its representatives' sealed
  // identities are deleted. The row stays, marked, so ids are never reused.
  virtual Result<void> DestroySubject(SubjectId subject, UnixMillis at) = 0;
  // The IIN or phone value of a living subject was destroyed: its blind
  // index becomes DestroyedIndex (and, for the IIN, its demographics go).
  virtual Result<void> ForgetSubjectIndex(SubjectId subject, IndexKind kind) = 0;

  // A subject's demographics for anonymised aggregates: the birth date and
  // sex its IIN tells, sealed under the key ring's demographics key
  // (rules/demographics.h). A store keeps them with the subject's data key,
  // not with the data: destroying the key destroys them, and no backup of
  // the data holds them. Empty clears them; SetSubjectKey clears them too.
  virtual Result<void> SetSubjectDemographics(SubjectId id, const Bytes& sealed) = 0;
  // Every living subject in id order, with its registration and its sealed
  // demographics (empty when none): one pass for an aggregate.
  virtual Result<void> ScanSubjectDemographics(
      const std::function<void(SubjectId, UnixMillis created_at, std::span<const std::uint8_t> sealed)>& each) = 0;

  // Every destruction remembered with the keys, oldest first.
  virtual Result<void> ScanForgotten(const std::function<void(const ForgottenRecord&)>& each) = 0;

  // Destruction runs: one row each, replaced as it finishes.
  virtual Result<void> PutRetentionRun(const RetentionRunRecord& record) = 0;
  virtual Result<std::optional<RetentionRunRecord>> GetRetentionRun(std::int64_t run) = 0;
  // Every run, newest first.
  virtual Result<void> ScanRetentionRuns(const std::function<void(const RetentionRunRecord&)>& each) = 0;

  virtual Result<void> PutReceipt(const ReceiptRecord& record) = 0;
  virtual Result<std::optional<ReceiptRecord>> GetReceipt(std::int64_t event_seq) = 0;

  // Bulk reads for loading the decision index, in subject order.
  virtual Result<void> ScanSubjectIds(const std::function<void(SubjectId, bool destroyed)>& each) = 0;
  virtual Result<void> ScanConsents(const std::function<void(const ConsentRecord&)>& each) = 0;
  virtual Result<void> ScanSubscriptions(
      const std::function<void(const SubscriptionRecord&)>& each) = 0;
  virtual Result<void> ScanOpenObligations(
      const std::function<void(const ObligationRecord&)>& each) = 0;

  // The ledger's Merkle tree: the hash of each complete, aligned subtree of
  // 2^level leaves (level >= 1), leaves [index * 2^level, (index+1) * 2^level).
  virtual Result<void> PutMerkleNode(int level, std::int64_t index, const Bytes& hash) = 0;
  virtual Result<std::optional<Bytes>> GetMerkleNode(int level, std::int64_t index) = 0;

  // Signed tree heads, one per size; Latest is the largest.
  virtual Result<void> PutTreeHead(const TreeHeadRecord& head) = 0;
  virtual Result<std::optional<TreeHeadRecord>> LatestTreeHead() = 0;
  virtual Result<void> ScanTreeHeads(const std::function<void(const TreeHeadRecord&)>& each) = 0;

  // Every row of the state tables, for `audit verify` to compare with a
  // replay of the ledger (ledger/replay.h). Any order.
  virtual Result<void> ScanAllSubscriptions(
      const std::function<void(const SubscriptionRecord&)>& each) = 0;
  virtual Result<void> ScanAllObligations(
      const std::function<void(const ObligationRecord&)>& each) = 0;
  virtual Result<void> ScanContracts(const std::function<void(const ContractRecord&)>& each) = 0;
  virtual Result<void> ScanDuties(const std::function<void(const DutyRecord&)>& each) = 0;
  virtual Result<void> ScanApiKeys(const std::function<void(const ApiKeyRecord&)>& each) = 0;
  virtual Result<void> ScanEnrolments(const std::function<void(const EnrolmentRecord&)>& each) = 0;
  virtual Result<void> ScanPasswords(const std::function<void(const PasswordRecord&)>& each) = 0;
  virtual Result<void> ScanReceipts(const std::function<void(const ReceiptRecord&)>& each) = 0;
  virtual Result<void> ScanPersonalData(
      const std::function<void(const PersonalDataRecord&)>& each) = 0;
  // Every stored value of one category, in subject order: an aggregate's sums.
  virtual Result<void> ScanCategoryValues(
      std::string_view category, const std::function<void(SubjectId, std::span<const std::uint8_t> sealed)>& each) = 0;

  // Nested rollback points inside a write transaction, for group commit:
  // one command's failure undoes its own writes only.
  virtual Result<void> Savepoint() = 0;
  virtual Result<void> RollbackToSavepoint() = 0;
  virtual Result<void> ReleaseSavepoint() = 0;

  virtual Result<std::optional<EventRecord>> LastEvent() = 0;
  virtual Result<void> AppendEvent(const EventRecord& event) = 0;
  // Calls `each` for events with seq >= from in order, with the indexed
  // subject; stops when it returns false.
  virtual Result<void> ScanEvents(std::int64_t from,
                                  const std::function<bool(const EventRecord&)>& each) = 0;

  // Makes every change durable; afterwards the Transaction may only be
  // destroyed.
  virtual Result<void> Commit() = 0;
};

class Store {
 public:
  enum class Mode { kRead, kWrite };
  virtual ~Store() = default;
  virtual Result<std::unique_ptr<Transaction>> Begin(Mode mode) = 0;
  // A consistent copy of the data, taken while others write, into the new
  // file `file`: everything but the data keys (docs/architecture.md,
  // "Backups that forget"). kAlreadyExists when the file exists.
  virtual Result<void> BackupTo(const std::filesystem::path& file) = 0;
  // After a destruction: what deleted rows left in the store's files (a
  // log, free pages) is made unreadable. SQLite: a TRUNCATE checkpoint of
  // the WAL (deleted cells are zeroed by secure_delete).
  virtual Result<void> ForgetDeleted() = 0;
  // The schema version of the open database.
  virtual int SchemaVersion() const = 0;
};

}  // namespace qorgau::store
