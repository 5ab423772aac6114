// What the engine's aggregates share: the dependencies, the group-commit
// write path with its idempotency claims, finding subjects, the access
// record of reads, the consent and service changes that several commands
// make, receipts, and the decision log.
//
// EngineCore is not an entry point: rules::Engine (rules/engine.h) owns one
// and hands it to each aggregate. Its methods authorize nothing unless they
// say so; the commands that call them do. Thread safety: as the Engine's,
// a core may be used from many threads at once.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "crypto/key_ring.h"
#include "crypto/signer.h"
#include "index/decision_index.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "report/receipt.h"
#include "rules/permissions.h"
#include "rules/representation.h"
#include "store/group_commit.h"
#include "store/store.h"

namespace qorgau::rules {

class DecisionRecorder;

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

// How a subject is named by a caller.
struct SubjectKey {
  enum class Kind { kId, kIin, kPhone } kind = Kind::kId;
  std::string value;
  static SubjectKey Id(SubjectId id) { return {Kind::kId, std::to_string(id)}; }
  static SubjectKey Iin(std::string iin) { return {Kind::kIin, std::move(iin)}; }
  static SubjectKey Phone(std::string phone) { return {Kind::kPhone, std::move(phone)}; }
};

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

// A subject's values, decrypted: masked unless the full view was asked for.
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

class EngineCore {
 public:
  explicit EngineCore(EngineDeps deps);
  ~EngineCore();
  EngineCore(const EngineCore&) = delete;
  EngineCore& operator=(const EngineCore&) = delete;

  const EngineDeps& deps() const { return d_; }
  const policy::Policy& policy() const { return *d_.policy; }
  const index::DecisionIndex& index() const { return d_.index; }
  // The engine's clock, for the doors that keep time about their callers
  // (the HTTP API's lockout of failed authentications).
  const Clock& clock() const { return d_.clock; }
  // The decision log; a reader of decisions flushes it first.
  DecisionRecorder& recorder() { return *recorder_; }
  // Decisions made and not yet handed to the store (back-pressure starts
  // at half the log's buffer; rules/decision_recorder.h).
  std::size_t decisions_pending() const;

  // A command's writes: they return the index deltas to apply once durable.
  using WriteBody = std::function<Result<std::vector<index::Delta>>(store::Transaction&)>;
  // Runs `body` through the group committer; returns the ledger revision
  // after it. With `caller`, the caller's idempotency claim (if any, and
  // not yet recorded) is recorded in the same transaction.
  Result<std::int64_t> Write(const WriteBody& body);
  Result<std::int64_t> Write(const Caller& caller, const WriteBody& body);

  Result<SubjectId> Resolve(store::Transaction& txn, const SubjectKey& key);
  // The subject's values, decrypted, masked unless `full`; authorizes and
  // records nothing: the caller has.
  Result<SubjectView> ReadValues(store::Transaction& txn, const store::SubjectRecord& s, bool full);
  // Resolve, for a change that processes the subject's data: refused with
  // `subject_blocked` while the subject is blocked (LAW.md §1, §5).
  Result<SubjectId> ResolveUnblocked(store::Transaction& txn, const SubjectKey& key);
  // FindSubject, for a read of the subject's records: while the subject is
  // blocked only the data protection officer reads (to handle the
  // application); anyone else is refused with `subject_blocked`, and the
  // attempt recorded as a read of `what`.
  Result<SubjectId> FindUnblocked(const Caller& caller, const SubjectKey& key, std::string_view what);
  Result<SubjectId> FindSubject(const SubjectKey& key);
  // By id, or by IIN or phone as a recorded lookup (LookupSubject).
  Result<SubjectId> FindSubject(const Caller& caller, const SubjectKey& key);
  // Finds a subject by IIN or phone for a caller. Looking someone up reveals
  // whether they are a subscriber, so it is need-to-know too: some duty of
  // the caller must cover the category searched by (R-VIII.1). Found or
  // not, allowed or not, the lookup is recorded (`access.lookup`).
  Result<SubjectId> LookupSubject(const Caller& caller, const SubjectKey& key);
  // Naming a subject by IIN or phone needs the lookup right (R-VIII.1).
  Result<void> AuthorizeKey(const Caller& caller, const SubjectKey& key);
  // A read about a subject in the ledger (access.read, `what` read), with
  // the refusal's reason when `refusal` is set; returns `refusal` itself or
  // success, so a caller can `return RecordRead(...)`.
  Result<void> RecordRead(const Caller& caller, SubjectId subject, std::string_view what,
                          const std::string& purpose, const std::vector<std::string>& categories,
                          const Result<void>& refusal);

  // The index's ordinal of a purpose; kNotFound names the edition.
  Result<int> PurposeOrdinal(const std::string& purpose) const;
  // The index's decision, without authorization or record.
  Result<index::Decision> Decide(SubjectId id, const std::string& purpose,
                                 const std::vector<std::string>& categories);

  // Records one consent change and its event; the index delta is appended.
  // `cross_border`: a grant that covers transfer abroad (LAW.md §8).
  Result<std::int64_t> PutConsent(store::Transaction& txn, SubjectId subject,
                                  const std::string& purpose, store::ConsentState to,
                                  const std::string& channel, const std::string& evidence,
                                  const Caller& actor, std::vector<index::Delta>* deltas,
                                  const store::RepresentationRecord* representative = nullptr,
                                  bool cross_border = false);
  // R-XI.2: the subject's first processing under an edition published
  // after the first records its acceptance by continued use (a
  // `policy.accepted` event, how continued_use, channel `what`), once.
  Result<void> NoteContinuedUse(store::Transaction& txn, SubjectId subject, std::string_view what,
                                const Caller& actor);
  // R-X.2: profiling stops. Destroys the subject's derived attributes that
  // rest on `purpose` ("" for every purpose: an objection, which also takes
  // derived values recorded before the edition that names sources), with a
  // retention.destroyed event that says `why`; returns the categories.
  Result<std::vector<std::string>> StopProfiling(store::Transaction& txn, SubjectId subject,
                                                 const std::string& purpose, std::string_view why,
                                                 const Caller& actor);
  // Records one service switched on or off and its event; likewise.
  Result<std::int64_t> PutService(store::Transaction& txn, SubjectId subject,
                                  const std::string& service, bool active,
                                  std::int64_t contract_id, const std::string& why,
                                  const Caller& actor, std::vector<index::Delta>* deltas,
                                  const store::RepresentationRecord* representative = nullptr);

  // The subject's open application `id` of `kind`, whose applicant's
  // identity was verified: what a change carried out on an application
  // rests on (rectification, withdrawal, re-enabling). Anything else is
  // refused with `code`, naming the field `field`.
  Result<store::ApplicationRecord> VerifiedApplication(store::Transaction& txn, std::int64_t id,
                                                       SubjectId subject, ApplicationKind kind,
                                                       const std::string& code, const std::string& field);
  // The application `id` of `kind` that a change is about to carry out for
  // the subject `key` names: authorized (`application.handle`, since the
  // change answers it, and naming the subject), and open and verified
  // (VerifiedApplication) before any rule decides on it. The change checks
  // it again in its own write.
  Result<store::ApplicationRecord> ApplicationToCarryOut(const Caller& caller, const SubjectKey& key,
                                                         std::int64_t id, ApplicationKind kind,
                                                         const std::string& code, const std::string& field);
  // Closes the open application `app` in `txn`: answered with `outcome`
  // (the answer's reference) or refused with `outcome` (a reason code),
  // as an `application.answered` or `application.refused` event by `caller`.
  Result<void> CloseApplication(store::Transaction& txn, store::ApplicationRecord& app, bool answered,
                                const std::string& outcome, const Caller& caller);
  // When a change carried out on application `id` was refused by a rule of
  // the policy (`refusal.reason` one of `answers`), the refusal is the
  // application's answer: it is refused with that reason in a write of its
  // own. Returns the refusal, saying so.
  Error RefuseApplicationOnRule(std::int64_t id, Error refusal, std::initializer_list<std::string_view> answers,
                                const Caller& caller);

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

 private:
  EngineDeps d_;
  std::unique_ptr<DecisionRecorder> recorder_;
  std::unique_ptr<report::ReceiptWriter> receipts_;
};

}  // namespace qorgau::rules
