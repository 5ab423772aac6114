// What the aggregates of rules::Engine share (rules/engine_core.h).
#include "rules/engine_core.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/iin.h"
#include "core/personal_value.h"
#include "core/working_calendar.h"
#include "ledger/audit.h"
#include "rules/checks.h"
#include "rules/decision_recorder.h"

namespace qorgau::rules {
namespace {

using store::ConsentState;

// Records `claim` for `actor_id`, pending, in the write's transaction.
Result<void> RecordClaim(store::Transaction& txn, const std::string& actor_id,
                         const IdempotencyClaim& claim, std::int64_t revision, UnixMillis now) {
  QORGAU_ASSIGN_OR_RETURN(
      const bool claimed,
      txn.PutIdempotency({actor_id, claim.key, claim.request_hash, store::kIdempotencyPending,
                          "{\"revision\":" + std::to_string(revision) + "}", now},
                         claim.expired_before));
  if (!claimed) {
    return tl::unexpected(Error{ErrorCode::kAlreadyExists, "idempotency-key",
                                "a request with this key was made already", "idempotency_key_used"});
  }
  return {};
}

}  // namespace

EngineCore::EngineCore(EngineDeps deps)
    : d_(std::move(deps)),
      recorder_(std::make_unique<DecisionRecorder>(d_.writer, d_.clock)),
      receipts_(std::make_unique<report::ReceiptWriter>(d_.policy)) {}

EngineCore::~EngineCore() = default;

std::size_t EngineCore::decisions_pending() const { return recorder_->Pending(); }

Result<std::int64_t> EngineCore::Write(const WriteBody& body) {
  std::int64_t revision = 0;
  auto r = d_.writer.Submit(
      [&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
        auto deltas = body(txn);
        if (!deltas) return tl::unexpected(deltas.error());
        auto rev = ledger::Revision(txn);
        if (!rev) return tl::unexpected(rev.error());
        revision = *rev;
        return [this, deltas = std::move(*deltas), rev = *rev] { d_.index.Apply(deltas, rev); };
      });
  if (!r) return tl::unexpected(r.error());
  return revision;
}

Result<std::int64_t> EngineCore::Write(const Caller& caller, const WriteBody& body) {
  IdempotencyClaim* claim = caller.idempotency;
  if (!claim || claim->recorded) return Write(body);
  const WriteBody with_claim = [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto deltas = body(txn);
    if (!deltas) return deltas;
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t rev, ledger::Revision(txn));
    QORGAU_TRY(RecordClaim(txn, caller.id(), *claim, rev, d_.clock.Now()));
    return deltas;
  };
  QORGAU_ASSIGN_OR_RETURN(const std::int64_t revision, Write(with_claim));
  // The batch is committed: the claim is as durable as the change.
  claim->recorded = true;
  claim->revision = revision;
  return revision;
}

Result<SubjectId> EngineCore::Resolve(store::Transaction& txn, const SubjectKey& key) {
  switch (key.kind) {
    case SubjectKey::Kind::kId: {
      auto id = ParseSubjectId(key.value);
      if (!id) return id;
      auto s = txn.GetSubject(*id);
      if (!s) return tl::unexpected(s.error());
      if (!*s) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
      return *id;
    }
    case SubjectKey::Kind::kIin:
    case SubjectKey::Kind::kPhone: {
      const bool iin = key.kind == SubjectKey::Kind::kIin;
      auto normal = NormalizeValue(iin ? ValueType::kIin : ValueType::kPhone, key.value,
                                   iin ? "iin" : "phone");
      if (!normal) return tl::unexpected(normal.error());
      auto index = d_.keys.BlindIndex(iin ? "iin" : "phone", *normal);
      if (!index) return tl::unexpected(index.error());
      auto found = txn.FindSubject(iin ? store::IndexKind::kIin : store::IndexKind::kPhone, *index);
      if (!found) return tl::unexpected(found.error());
      if (!*found) {
        return Fail(ErrorCode::kNotFound, iin ? "iin" : "phone",
                    iin ? "no subject with this IIN" : "no subject with this phone number");
      }
      return **found;
    }
  }
  return Fail(ErrorCode::kInternal, "subject", "unknown key kind");
}

Result<SubjectView> EngineCore::ReadValues(store::Transaction& txn, const store::SubjectRecord& s, bool full) {
  SubjectView view{s.id, s.created_at, !full, {}};
  QORGAU_ASSIGN_OR_RETURN(const auto key, d_.keys.UnwrapDataKey(s.id, s.wrapped_key));
  QORGAU_ASSIGN_OR_RETURN(const auto records, txn.GetPersonalData(s.id));
  for (const auto& r : records) {
    QORGAU_ASSIGN_OR_RETURN(const std::string value, crypto::Open(key, r.sealed, crypto::PersonalDataAad(s.id, r.category)));
    const policy::Category* c = d_.policy->FindCategory(r.category);
    const ValueType type = c ? c->value : ValueType::kText;
    view.data.push_back({r.category, full ? value : MaskValue(type, value), r.provenance, r.recorded_at});
  }
  return view;
}

Result<SubjectId> EngineCore::ResolveUnblocked(store::Transaction& txn, const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, Resolve(txn, key));
  QORGAU_ASSIGN_OR_RETURN(const auto block, txn.GetSubjectBlock(id));
  if (block) {
    return Refuse("subject_blocked", "subject",
                  "the subject's data are blocked on application " + std::to_string(block->application_id) +
                      ": nothing is collected, changed or used until the block is lifted (LAW.md §1)");
  }
  return id;
}

Result<SubjectId> EngineCore::FindUnblocked(const Caller& caller, const SubjectKey& key, std::string_view what) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, FindSubject(caller, key));
  if (!d_.index.IsBlocked(id) || caller.role() == ActorRole::kDpo) return id;
  QORGAU_TRY(RecordRead(caller, id, what, "", {},
                        Refuse("subject_blocked", "subject",
                               "the subject's data are blocked: only the data protection officer reads them, "
                               "to handle the application, until the block is lifted (LAW.md §1)")));
  return id;  // not reached: RecordRead returns the refusal
}

Result<SubjectId> EngineCore::FindSubject(const SubjectKey& key) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return Resolve(**txn, key);
}

Result<SubjectId> EngineCore::FindSubject(const Caller& caller, const SubjectKey& key) {
  if (key.kind == SubjectKey::Kind::kId) return FindSubject(key);
  return LookupSubject(caller, key);
}

Result<SubjectId> EngineCore::LookupSubject(const Caller& caller, const SubjectKey& key) {
  const bool by_iin = key.kind == SubjectKey::Kind::kIin;
  if (!by_iin && key.kind != SubjectKey::Kind::kPhone) return FindSubject(key);
  const policy::Category* searched =
      d_.policy->FindCategoryByValue(by_iin ? ValueType::kIin : ValueType::kPhone);
  const Result<void> allowed =
      Authorize(*d_.policy, caller, Action::kSubjectLookup, {{}, {searched ? searched->id : ""}, {}});
  const bool covered = allowed.has_value();
  std::optional<SubjectId> found;
  std::string reason = covered ? "need_to_know" : allowed.error().reason;
  if (covered) {
    auto id = FindSubject(key);
    if (id) {
      found = *id;
    } else if (id.error().code == ErrorCode::kNotFound) {
      reason = "not_found";
    } else {
      return id;  // a bad IIN or phone: nothing was looked up
    }
  }
  auto written = Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"access.lookup", found, caller.actor.id, {}};
    ev.data["by"] = by_iin ? "iin" : "phone";
    ev.data["allowed"] = covered;
    ev.data["found"] = found.has_value();
    ev.data["reason"] = reason;
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  if (!covered) {
    Error e = allowed.error();
    if (e.reason == "no_duty") {
      e.field = by_iin ? "iin" : "phone";
      e.message = std::string("no duty of the caller covers '") + (searched ? searched->id : "") +
                  "', the category searched by (R-VIII.1)";
    }
    return tl::unexpected(std::move(e));
  }
  if (!found) {
    return Fail(ErrorCode::kNotFound, by_iin ? "iin" : "phone",
                by_iin ? "no subject with this IIN" : "no subject with this phone number");
  }
  return *found;
}

Result<void> EngineCore::AuthorizeKey(const Caller& caller, const SubjectKey& key) {
  if (key.kind == SubjectKey::Kind::kId) return {};
  const bool by_iin = key.kind == SubjectKey::Kind::kIin;
  const policy::Category* c =
      d_.policy->FindCategoryByValue(by_iin ? ValueType::kIin : ValueType::kPhone);
  return Authorize(*d_.policy, caller, Action::kSubjectLookup, {{}, {c ? c->id : ""}, {}});
}

Result<void> EngineCore::RecordRead(const Caller& caller, SubjectId subject, std::string_view what,
                                    const std::string& purpose,
                                    const std::vector<std::string>& categories,
                                    const Result<void>& refusal) {
  auto written = Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"access.read", subject, caller.id(), {}};
    ev.data["what"] = what;
    if (!purpose.empty()) ev.data["purpose"] = purpose;
    boost::json::array cats;
    for (const auto& c : categories) cats.emplace_back(c);
    ev.data["categories"] = std::move(cats);
    ev.data["allowed"] = refusal.has_value();
    ev.data["reason"] = refusal ? "need_to_know" : refusal.error().reason;
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return refusal;
}

Result<int> EngineCore::PurposeOrdinal(const std::string& purpose) const {
  const int p = d_.index.PurposeOrdinal(purpose);
  if (p < 0) {
    return Fail(ErrorCode::kNotFound, "purpose",
                "'" + purpose + "' is not a purpose of policy edition " +
                    std::to_string(d_.policy->edition.number));
  }
  return p;
}

Result<index::Decision> EngineCore::Decide(SubjectId id, const std::string& purpose,
                                           const std::vector<std::string>& categories) {
  QORGAU_ASSIGN_OR_RETURN(const int p, PurposeOrdinal(purpose));
  QORGAU_ASSIGN_OR_RETURN(const std::uint64_t mask, d_.index.CategoryMask(categories));
  // The index knows who exists: an id needs no store lookup.
  const index::Decision d = d_.index.Check(id, p, mask);
  if (d.reason == index::Reason::kUnknownSubject) {
    return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
  }
  return d;
}

Result<std::int64_t> EngineCore::PutConsent(store::Transaction& txn, SubjectId subject,
                                            const std::string& purpose, ConsentState to,
                                            const std::string& channel, const std::string& evidence,
                                            const Caller& actor, std::vector<index::Delta>* deltas,
                                            const store::RepresentationRecord* representative,
                                            bool cross_border) {
  const policy::Policy& p = *d_.policy;
  const policy::Purpose* pu = p.FindPurpose(purpose);
  const UnixMillis now = d_.clock.Now();
  const bool grant = to == ConsentState::kGranted;
  ledger::EventDraft ev{grant ? "consent.granted" : "consent.withdrawn", subject, actor.id(), {}};
  ev.data["purpose"] = purpose;
  ev.data["basis"] = std::string(policy::LegalBasisName(pu->basis));
  ev.data["edition"] = p.edition.number;
  ev.data["channel"] = channel;
  ev.data["evidence"] = evidence;
  cross_border = cross_border && grant;
  if (cross_border) ev.data["cross_border"] = true;
  if (representative) RepresentationData(*representative, ev.data);
  auto event = ledger::Append(txn, now, ev);
  if (!event) return tl::unexpected(event.error());
  if (representative) {
    store::RepresentationRecord r = *representative;
    r.event_seq = event->seq;
    QORGAU_TRY(txn.InsertRepresentation(r));
  }
  store::ConsentRecord rec{subject, purpose, to, p.edition.number, channel, evidence, now,
                           event->seq, cross_border};
  QORGAU_TRY(txn.PutConsent(rec));
  if (grant) QORGAU_TRY(NoteContinuedUse(txn, subject, "consent.granted", actor));
  // The withdrawal of the consent a profile rests on destroys it (R-X.2).
  // (Whatever the edition in force says of enrichment now: attributes
  // derived under an earlier one go too.)
  if (!grant) QORGAU_TRY(StopProfiling(txn, subject, purpose, "withdrawal", actor));
  deltas->push_back({grant ? index::Delta::Kind::kConsentGranted
                           : index::Delta::Kind::kConsentWithdrawn,
                     subject, d_.index.PurposeOrdinal(purpose)});
  return event->seq;
}

Result<std::vector<std::string>> EngineCore::StopProfiling(store::Transaction& txn, SubjectId subject,
                                                           const std::string& purpose, std::string_view why,
                                                           const Caller& actor) {
  QORGAU_ASSIGN_OR_RETURN(const auto enrichments, txn.GetEnrichments(subject));
  std::vector<std::string> gone;
  std::set<std::string> recorded;
  for (const auto& e : enrichments) {
    recorded.insert(e.category);
    if (e.kind == "derived" && (purpose.empty() || e.purpose == purpose)) gone.push_back(e.category);
  }
  // An objection takes as well the derived values with no record of their
  // purpose (recorded as `derived` before the edition that names its
  // sources). A withdrawal leaves those to the retention rules, as before
  // (period 0 once the services that need them are off, R-VI.4).
  if (purpose.empty()) {
    QORGAU_ASSIGN_OR_RETURN(const auto held, txn.GetPersonalData(subject));
    for (const auto& h : held) {
      if (h.provenance == "derived" && !recorded.count(h.category)) gone.push_back(h.category);
    }
  }
  if (gone.empty()) return gone;
  const UnixMillis now = d_.clock.Now();
  boost::json::array items;
  for (const auto& c : gone) {
    QORGAU_TRY(txn.DeletePersonalData(subject, c, now));
    items.push_back(boost::json::object{{"what", c}, {"rule", -1}});
  }
  // As any destruction: what went, never a value (docs/ledger-format.md).
  ledger::EventDraft ev{"retention.destroyed", subject, actor.id(), {}};
  ev.data["why"] = std::string(why);
  ev.data["as_of"] = FormatUtc(now);
  ev.data["edition"] = d_.policy->edition.number;
  ev.data["items"] = std::move(items);
  ev.data["subject_destroyed"] = false;
  QORGAU_TRY(ledger::Append(txn, now, ev));
  return gone;
}

Result<void> EngineCore::NoteContinuedUse(store::Transaction& txn, SubjectId subject, std::string_view what,
                                          const Caller& actor) {
  // Edition 1 is the one subjects joined under; later ones are published.
  const int edition = d_.policy->edition.number;
  if (edition <= 1) return {};
  QORGAU_ASSIGN_OR_RETURN(const auto found, txn.GetAcceptance(subject, edition));
  if (found) return {};
  const UnixMillis now = d_.clock.Now();
  ledger::EventDraft ev{"policy.accepted", subject, actor.id(), {}};
  ev.data["edition"] = edition;
  ev.data["how"] = "continued_use";
  ev.data["channel"] = std::string(what);
  ev.data["evidence"] = "";
  QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
  return txn.InsertAcceptance({subject, edition, "continued_use", std::string(what), "", now, event.seq});
}

Result<std::int64_t> EngineCore::PutService(store::Transaction& txn, SubjectId subject,
                                            const std::string& service, bool active,
                                            std::int64_t contract_id, const std::string& why,
                                            const Caller& actor, std::vector<index::Delta>* deltas,
                                            const store::RepresentationRecord* representative) {
  const UnixMillis now = d_.clock.Now();
  ledger::EventDraft ev{active ? "service.enabled" : "service.disabled", subject, actor.id(), {}};
  ev.data["service"] = service;
  ev.data["contract"] = contract_id;
  ev.data["why"] = why;
  if (representative) RepresentationData(*representative, ev.data);
  auto event = ledger::Append(txn, now, ev);
  if (!event) return tl::unexpected(event.error());
  if (representative) {
    store::RepresentationRecord r = *representative;
    r.event_seq = event->seq;
    QORGAU_TRY(txn.InsertRepresentation(r));
  }
  store::SubscriptionRecord rec{subject, service, active, contract_id, now, event->seq};
  QORGAU_TRY(txn.PutSubscription(rec));
  if (active) QORGAU_TRY(NoteContinuedUse(txn, subject, "service.enabled", actor));
  deltas->push_back({active ? index::Delta::Kind::kServiceOn : index::Delta::Kind::kServiceOff,
                     subject, d_.index.ServiceOrdinal(service)});
  return event->seq;
}

Result<store::ApplicationRecord> EngineCore::VerifiedApplication(store::Transaction& txn, std::int64_t id,
                                                                 SubjectId subject, ApplicationKind kind,
                                                                 const std::string& code,
                                                                 const std::string& field) {
  QORGAU_ASSIGN_OR_RETURN(const auto app, txn.GetApplication(id));
  const std::string what = std::string(ApplicationKindName(kind));
  if (!app || app->subject_id != subject || app->kind != kind) {
    return Refuse(code, field, "is not a " + what + " application of this subject");
  }
  if (IsClosed(app->state) || app->state == ApplicationState::kReceived) {
    return Refuse(code, field,
                  "the " + what + " application is " + ApplicationStateName(app->state) +
                      "; it must be open, with the applicant's identity verified");
  }
  return *app;
}

Result<store::ApplicationRecord> EngineCore::ApplicationToCarryOut(const Caller& caller, const SubjectKey& key,
                                                                   std::int64_t id, ApplicationKind kind,
                                                                   const std::string& code, const std::string& field) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationHandle));
  QORGAU_TRY(AuthorizeKey(caller, key));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const SubjectId subject, Resolve(*txn, key));
  return VerifiedApplication(*txn, id, subject, kind, code, field);
}

Result<void> EngineCore::CloseApplication(store::Transaction& txn, store::ApplicationRecord& app,
                                          bool answered, const std::string& outcome, const Caller& caller) {
  const UnixMillis now = d_.clock.Now();
  ledger::EventDraft ev{answered ? "application.answered" : "application.refused", app.subject_id,
                        caller.id(), {}};
  ev.data["application"] = app.id;
  ev.data[answered ? "reference" : "reason"] = outcome;
  QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
  app.state = answered ? ApplicationState::kAnswered : ApplicationState::kRefused;
  app.closed_at = now;
  app.outcome = outcome;
  app.handler = caller.id();
  app.event_seq = e.seq;
  return txn.UpdateApplication(app);
}

Error EngineCore::RefuseApplicationOnRule(std::int64_t id, Error refusal,
                                          std::initializer_list<std::string_view> answers,
                                          const Caller& caller) {
  if (std::find(answers.begin(), answers.end(), refusal.reason) == answers.end()) return refusal;
  // Without the caller's idempotency claim: the request was refused, and
  // its retry finds the application closed. The rule decided on the
  // state the refused write read; the refusal records that decision.
  bool closed = false;
  auto refused = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    closed = false;
    QORGAU_ASSIGN_OR_RETURN(auto app, txn.GetApplication(id));
    if (!app || IsClosed(app->state)) return std::vector<index::Delta>{};
    QORGAU_TRY(CloseApplication(txn, *app, false, refusal.reason, caller));
    closed = true;
    return std::vector<index::Delta>{};
  });
  if (!refused) return refused.error();  // the application is still open: say why
  if (closed) refusal.message += "; application " + std::to_string(id) + " is refused with this reason";
  return refusal;
}

Result<report::ReceiptInput> EngineCore::PrepareReceipt(store::Transaction& txn,
                                                        report::ReceiptInput in) {
  auto last = txn.LastEvent();
  if (!last) return tl::unexpected(last.error());
  if (!*last) return Fail(ErrorCode::kInternal, "", "a receipt needs a ledger event");
  in.event_seq = (*last)->seq;
  in.event_hash = crypto::ToHex((*last)->hash);
  in.at = d_.clock.Now();
  in.receipt_seq = in.event_seq + 1;  // the receipt.issued event below
  // The content goes into the ledger, as its digest, in the change's own
  // transaction: the receipt is as durable as the change, and its proof is
  // the ledger's (report/receipt.h).
  QORGAU_ASSIGN_OR_RETURN(const std::string content, receipts_->Content(in));
  ledger::EventDraft ev{"receipt.issued", in.subject, "system", {}};
  ev.data["receipt_hash"] = report::ReceiptDigest(content);
  ev.data["action"] = in.action;
  QORGAU_ASSIGN_OR_RETURN(const store::EventRecord issued, ledger::Append(txn, in.at, ev));
  if (issued.seq != in.receipt_seq) return Fail(ErrorCode::kInternal, "ledger", "receipt event out of place");
  QORGAU_TRY(txn.PutReceipt({issued.seq, in.subject, content}));
  in.leaf = issued.body;
  return in;
}

std::string EngineCore::SignReceipt(const report::ReceiptInput& in) {
  if (in.receipt_seq == 0) return "";
  // The sealer proved the receipt's event in its batch's head: no read of
  // the store on the caller's thread, which would queue behind the writer.
  if (d_.proofs) {
    if (auto proof = d_.proofs->Take(in.receipt_seq)) {
      auto receipt = receipts_->WithProof(
          in, report::ReceiptProof{in.leaf, in.receipt_seq, proof->head, std::move(proof->path)});
      if (receipt) return *receipt;
    }
  }
  auto receipt = ReceiptAt(in.receipt_seq);
  // The change is committed either way; the receipt can be asked for again.
  return receipt ? *receipt : "";
}

Result<std::string> EngineCore::ReceiptAt(std::int64_t seq) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto stored, txn->GetReceipt(seq));
  if (!stored) return Fail(ErrorCode::kNotFound, "event", "no receipt was issued with this event");
  // A format-1 receipt was signed on its own and stored whole.
  if (stored->body.find(report::kReceiptFormatV1) != std::string::npos) return stored->body;
  QORGAU_ASSIGN_OR_RETURN(const auto head, txn->LatestTreeHead());
  if (!head || head->size < seq) {
    return Fail(ErrorCode::kInternal, "ledger", "no signed tree head covers the receipt yet");
  }
  report::ReceiptProof proof;
  proof.seq = seq;
  proof.head = ledger::TreeHeadFromRecord(*head);
  QORGAU_TRY(txn->ScanEvents(seq, [&](const store::EventRecord& e) {
    if (e.seq == seq) proof.leaf = e.body;
    return false;
  }));
  QORGAU_ASSIGN_OR_RETURN(proof.path, ledger::InclusionProofFor(*txn, seq, head->size));
  return report::ReceiptWithProof(stored->body, proof);
}

}  // namespace qorgau::rules

