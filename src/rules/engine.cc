#include "rules/engine.h"

#include <boost/json.hpp>
#include <limits>

#include "core/personal_value.h"
#include "ledger/audit.h"
#include "rules/checks.h"

namespace qorgau::rules {
namespace {

using policy::LegalBasis;
using store::ConsentState;

std::string DataAad(SubjectId id, std::string_view category) {
  return "qorgau:pd:v1:" + std::to_string(id) + ":" + std::string(category);
}

// Hex SHA-256 of a sealed value: a ciphertext's digest reveals nothing of
// the value, and lets the ledger prove what was stored.
std::string SealedHash(const crypto::Bytes& sealed) {
  return crypto::ToHex(crypto::Sha256(sealed));
}

bool IsProvenance(std::string_view p) {
  return p == "subject" || p == "service" || p == "public_source" || p == "third_party" ||
         p == "derived";
}

Result<crypto::Bytes> EditionHash(const std::map<std::string, std::string>& files) {
  // Length-prefixed so that no two bundles share an encoding.
  std::string msg = "qorgau-edition/1\n";
  for (const auto& [path, content] : files) {
    msg += std::to_string(path.size()) + ":" + path + std::to_string(content.size()) + ":" + content;
  }
  const crypto::Digest d = crypto::Sha256(msg);
  return crypto::Bytes(d.begin(), d.end());
}

}  // namespace

Engine::Engine(EngineDeps deps)
    : d_(std::move(deps)),
      recorder_(std::make_unique<DecisionRecorder>(d_.writer, d_.clock)),
      receipts_(std::make_unique<report::ReceiptWriter>(d_.policy)) {}

Engine::~Engine() = default;

Result<int> PublishEdition(store::Store& store, const Clock& clock, const policy::Policy& policy,
                           const std::map<std::string, std::string>& files,
                           const std::string& main_file, const std::string& actor_id) {
  auto hash = EditionHash(files);
  if (!hash) return tl::unexpected(hash.error());
  auto txn = store.Begin(store::Store::Mode::kWrite);
  if (!txn) return tl::unexpected(txn.error());
  auto latest = (*txn)->LatestEdition();
  if (!latest) return tl::unexpected(latest.error());
  if (*latest && (*latest)->number >= policy.edition.number) {
    return Fail(ErrorCode::kFailedPrecondition, "edition.number",
                "edition " + std::to_string(policy.edition.number) +
                    " is not newer than the published edition " +
                    std::to_string((*latest)->number));
  }
  const UnixMillis now = clock.Now();
  store::EditionRecord rec{policy.edition.number, main_file, *hash, now, files};
  QORGAU_TRY((*txn)->PutEdition(rec));
  ledger::EventDraft ev{"policy.published", std::nullopt, actor_id, {}};
  ev.data["edition"] = policy.edition.number;
  ev.data["hash"] = crypto::ToHex(*hash);
  ev.data["effective_date"] = FormatDate(policy.edition.effective_date);
  QORGAU_TRY(ledger::Append(**txn, now, ev));
  QORGAU_TRY((*txn)->Commit());
  return policy.edition.number;
}

Result<void> CreateConsoleActor(store::Store& store, const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, store.Begin(store::Store::Mode::kWrite));
  const UnixMillis now = clock.Now();
  const store::ActorRecord console{std::string(kConsoleActor), ActorRole::kAdmin,
                                   "Administrator at the console", "", "", {}, now};
  QORGAU_TRY(txn->PutActor(console));
  ledger::EventDraft ev{"actor.created", std::nullopt, "init", {}};
  ev.data["actor"] = console.id;
  ev.data["role"] = ActorRoleName(console.role);
  ev.data["name_hash"] = crypto::ToHex(crypto::Sha256(console.name));
  ev.data["nda_signed"] = "";
  ev.data["liability_acknowledged"] = "";
  ev.data["purposes"] = boost::json::array();
  QORGAU_TRY(ledger::Append(*txn, now, ev));
  return txn->Commit();
}

Result<SubjectId> Engine::Resolve(store::Transaction& txn, const SubjectKey& key) {
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

Result<std::int64_t> Engine::Write(const WriteBody& body) {
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

namespace {

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

Result<std::int64_t> Engine::Write(const Caller& caller, const WriteBody& body) {
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

Result<report::ReceiptInput> Engine::PrepareReceipt(store::Transaction& txn,
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

std::string Engine::SignReceipt(const report::ReceiptInput& in) {
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

Result<std::string> Engine::ReceiptAt(std::int64_t seq) {
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

Result<std::string> Engine::Receipt(const Caller& caller, std::int64_t seq) {
  std::optional<store::ReceiptRecord> found;
  {
    auto txn = d_.store.Begin(store::Store::Mode::kRead);
    if (!txn) return tl::unexpected(txn.error());
    QORGAU_ASSIGN_OR_RETURN(found, (*txn)->GetReceipt(seq));
  }
  // Refused and missing answer alike, so receipts cannot be enumerated by
  // seq without a duty for what they are about.
  auto denied = [] {
    return Fail(ErrorCode::kNotFound, "event", "no receipt was issued with this event");
  };
  if (!found) {
    QORGAU_TRY(Authorize(*d_.policy, caller, Action::kReceiptRead));
    return denied();
  }
  Scope scope;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(found->body, ec);
  if (const auto* o = ec ? nullptr : v.if_object()) {
    if (const auto* ps = o->if_contains("purposes"); ps && ps->is_array()) {
      for (const auto& p : ps->get_array()) {
        if (const auto* id = p.is_object() ? p.get_object().if_contains("id") : nullptr;
            id && id->is_string()) {
          scope.purposes.emplace_back(id->get_string());
        } else if (p.is_string()) {
          scope.purposes.emplace_back(p.get_string());
        }
      }
    }
  }
  QORGAU_TRY(RecordRead(caller, found->subject_id, "receipt", "", {},
                        Authorize(*d_.policy, caller, Action::kReceiptRead, scope)));
  return ReceiptAt(seq);
}

Result<void> Engine::RecordRead(const Caller& caller, SubjectId subject, std::string_view what,
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

Result<SubjectId> Engine::FindSubject(const SubjectKey& key) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return Resolve(**txn, key);
}

Result<SubjectId> Engine::FindSubject(const Caller& caller, const SubjectKey& key) {
  if (key.kind == SubjectKey::Kind::kId) return FindSubject(key);
  return LookupSubject(caller, key);
}

Result<void> Engine::AuthorizeKey(const Caller& caller, const SubjectKey& key) {
  if (key.kind == SubjectKey::Kind::kId) return {};
  const bool by_iin = key.kind == SubjectKey::Kind::kIin;
  const policy::Category* c =
      d_.policy->FindCategoryByValue(by_iin ? ValueType::kIin : ValueType::kPhone);
  return Authorize(*d_.policy, caller, Action::kSubjectLookup, {{}, {c ? c->id : ""}, {}});
}

Result<SubjectId> Engine::AddSubject(const SubjectInput& input, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  if (!IsProvenance(input.provenance)) {
    return Fail(ErrorCode::kInvalidArgument, "provenance",
                "must be one of subject, service, public_source, third_party, derived");
  }
  const policy::Category* iin_cat = p.FindCategoryByValue(ValueType::kIin);
  const policy::Category* phone_cat = p.FindCategoryByValue(ValueType::kPhone);
  if (!iin_cat || !phone_cat) {
    return Fail(ErrorCode::kFailedPrecondition, "policy",
                "the policy has no category with value 'iin' or 'phone'");
  }
  // Validate every value before touching the store.
  std::map<std::string, std::string> values;
  auto iin = NormalizeValue(ValueType::kIin, input.iin, "iin");
  if (!iin) return tl::unexpected(iin.error());
  auto phone = NormalizeValue(ValueType::kPhone, input.phone, "phone");
  if (!phone) return tl::unexpected(phone.error());
  values[iin_cat->id] = *iin;
  values[phone_cat->id] = *phone;
  for (const auto& [category, raw] : input.data) {
    const policy::Category* c = p.FindCategory(category);
    if (!c) {
      return Fail(ErrorCode::kNotFound, "data",
                  "'" + category + "' is not a data category of policy edition " +
                      std::to_string(p.edition.number));
    }
    if (values.count(category)) return Fail(ErrorCode::kInvalidArgument, category, "given twice");
    // R-IV.2: at registration, only what the base contract needs; the rest
    // comes with the service that needs it (PutData).
    bool base_needs = false;
    for (const auto& service : p.services) {
      if (service.kind != policy::ServiceKind::kBase) continue;
      for (const auto& r : service.categories) base_needs = base_needs || r.id == category;
    }
    if (!base_needs) {
      return Refuse("category_not_needed", "data",
                    "'" + category + "' is not needed by the base contract; record it with the "
                    "service that needs it (R-IV.2)");
    }
    auto v = NormalizeValue(c->value, raw, category);
    if (!v) return tl::unexpected(v.error());
    values[category] = *v;
  }
  {
    Scope scope;
    for (const auto& [category, value] : values) scope.categories.push_back(category);
    QORGAU_TRY(Authorize(p, actor, Action::kSubjectAdd, scope));
  }
  auto iin_index = d_.keys.BlindIndex("iin", *iin);
  auto phone_index = d_.keys.BlindIndex("phone", *phone);
  if (!iin_index) return tl::unexpected(iin_index.error());
  if (!phone_index) return tl::unexpected(phone_index.error());

  SubjectId added = 0;
  auto written = Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    const UnixMillis now = d_.clock.Now();
    auto id = txn.InsertSubject(now, *iin_index, *phone_index);
    if (!id) return tl::unexpected(id.error());
    auto key = d_.keys.NewDataKey(*id);
    if (!key) return tl::unexpected(key.error());
    QORGAU_TRY(txn.SetSubjectKey(*id, key->second));
    boost::json::array categories, sealed_hashes;
    for (const auto& [category, value] : values) {
      auto sealed = crypto::Seal(key->first, value, DataAad(*id, category));
      if (!sealed) return tl::unexpected(sealed.error());
      sealed_hashes.push_back(
          boost::json::object{{"category", category}, {"sealed_hash", SealedHash(*sealed)}});
      store::PersonalDataRecord rec{*id, category, std::move(*sealed), input.provenance, now};
      QORGAU_TRY(txn.PutPersonalData(rec));
      categories.emplace_back(category);
    }
    ledger::EventDraft ev{"subject.added", *id, actor.id(), {}};
    ev.data["categories"] = std::move(categories);
    // The sealed values' digests, so that `audit verify` proves the stored
    // ciphertexts without the keys (docs/ledger-format.md).
    ev.data["sealed"] = std::move(sealed_hashes);
    ev.data["provenance"] = input.provenance;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    added = *id;
    return std::vector<index::Delta>{{index::Delta::Kind::kSubjectAdded, *id}};
  });
  if (!written) return tl::unexpected(written.error());
  return added;
}

Result<std::int64_t> Engine::PutData(const SubjectKey& key, const std::string& category,
                                     const std::string& value, const std::string& provenance,
                                     const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  const policy::Category* c = p.FindCategory(category);
  if (!c) return Fail(ErrorCode::kNotFound, "category", "'" + category + "' is not a data category");
  QORGAU_TRY(Authorize(p, actor, Action::kDataRecord, {{}, {category}, {}}));
  QORGAU_TRY(AuthorizeKey(actor, key));
  if (c->value == ValueType::kIin || c->value == ValueType::kPhone) {
    return Refuse("identity_key", "category",
                  "the IIN and the phone number identify the subject and are set at registration");
  }
  if (!IsProvenance(provenance)) {
    return Fail(ErrorCode::kInvalidArgument, "provenance",
                "must be one of subject, service, public_source, third_party, derived");
  }
  auto normal = NormalizeValue(c->value, value, "value");
  if (!normal) return tl::unexpected(normal.error());
  auto written = Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = Resolve(txn, key);
    if (!id) return tl::unexpected(id.error());
    auto subs = txn.GetSubscriptions(*id);
    if (!subs) return tl::unexpected(subs.error());
    bool needed = false;
    for (const auto& s : *subs) {
      const policy::Service* service = s.active ? p.FindService(s.service) : nullptr;
      if (!service) continue;
      for (const auto& r : service->categories) needed = needed || r.id == category;
    }
    if (!needed) {
      return Refuse("category_not_needed", "category",
                    "no active service of the subject's contracts needs '" + category + "' (R-IV.2)");
    }
    auto subject = txn.GetSubject(*id);
    if (!subject) return tl::unexpected(subject.error());
    auto data_key = d_.keys.UnwrapDataKey(*id, (*subject)->wrapped_key);
    if (!data_key) return tl::unexpected(data_key.error());
    auto sealed = crypto::Seal(*data_key, *normal, DataAad(*id, category));
    if (!sealed) return tl::unexpected(sealed.error());
    const UnixMillis now = d_.clock.Now();
    const std::string sealed_hash = SealedHash(*sealed);
    store::PersonalDataRecord rec{*id, category, std::move(*sealed), provenance, now};
    QORGAU_TRY(txn.PutPersonalData(rec));
    ledger::EventDraft ev{"data.recorded", *id, actor.id(), {}};
    ev.data["category"] = category;
    ev.data["sealed_hash"] = sealed_hash;
    ev.data["provenance"] = provenance;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return *written;
}

Result<SubjectView> Engine::View(store::Transaction& txn, const store::SubjectRecord& s, bool full) {
  SubjectView view{s.id, s.created_at, !full, {}};
  auto key = d_.keys.UnwrapDataKey(s.id, s.wrapped_key);
  if (!key) return tl::unexpected(key.error());
  auto records = txn.GetPersonalData(s.id);
  if (!records) return tl::unexpected(records.error());
  for (const auto& r : *records) {
    auto value = crypto::Open(*key, r.sealed, DataAad(s.id, r.category));
    if (!value) return tl::unexpected(value.error());
    const policy::Category* c = d_.policy->FindCategory(r.category);
    const ValueType type = c ? c->value : ValueType::kText;
    view.data.push_back({r.category, full ? *value : MaskValue(type, *value), r.provenance,
                         r.recorded_at});
  }
  return view;
}

Result<SubjectView> Engine::ShowSubject(SubjectId id, bool full) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto s, (*txn)->GetSubject(id));
  if (!s) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
  return View(**txn, *s, full);
}

Result<std::int64_t> Engine::PutConsent(store::Transaction& txn, SubjectId subject,
                                        const std::string& purpose, ConsentState to,
                                        const std::string& channel, const std::string& evidence,
                                        const Caller& actor, std::vector<index::Delta>* deltas) {
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
  auto event = ledger::Append(txn, now, ev);
  if (!event) return tl::unexpected(event.error());
  store::ConsentRecord rec{subject, purpose, to, p.edition.number, channel, evidence, now,
                           event->seq};
  QORGAU_TRY(txn.PutConsent(rec));
  deltas->push_back({grant ? index::Delta::Kind::kConsentGranted
                           : index::Delta::Kind::kConsentWithdrawn,
                     subject, d_.index.PurposeOrdinal(purpose)});
  return event->seq;
}

Result<ConsentOutcome> Engine::GrantConsent(const ConsentRequest& req, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  QORGAU_TRY(CheckConsentPurpose(p, req.purpose));
  QORGAU_TRY(Authorize(p, actor, Action::kConsentGrant, {{req.purpose}, {}, {}}));
  QORGAU_TRY(AuthorizeKey(actor, req.subject));
  if (!p.FindChannel(req.channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + req.channel + "' is not a consent channel");
  }
  QORGAU_TRY(CheckReference(req.evidence, "evidence"));

  ConsentOutcome out{0, req.purpose, ConsentState::kGranted, p.edition.number, 0};
  report::ReceiptInput receipt_input;
  auto written = Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = Resolve(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    auto consents = txn.GetConsents(*id);
    if (!consents) return tl::unexpected(consents.error());
    for (const auto& c : *consents) {
      if (c.purpose == req.purpose && c.state == ConsentState::kGranted) {
        return Fail(ErrorCode::kAlreadyExists, "purpose",
                    "consent to '" + req.purpose + "' is already granted");
      }
    }
    std::vector<index::Delta> deltas;
    auto seq = PutConsent(txn, *id, req.purpose, ConsentState::kGranted, req.channel,
                          req.evidence, actor, &deltas);
    if (!seq) return tl::unexpected(seq.error());
    out.subject = *id;
    auto receipt = PrepareReceipt(txn, {*id, "consent.granted", {req.purpose}, {}, {}, req.channel,
                                        req.evidence});
    if (!receipt) return tl::unexpected(receipt.error());
    receipt_input = std::move(*receipt);
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  out.receipt = SignReceipt(receipt_input);
  return out;
}

Result<ConsentOutcome> Engine::WithdrawConsent(const ConsentRequest& req, const Caller& actor) {
  WithdrawalRequest w{req.subject, req.channel, req.evidence, {}, {req.purpose}, false};
  auto plan = Withdraw(w, actor);
  if (!plan) return tl::unexpected(plan.error());
  return ConsentOutcome{plan->subject, req.purpose, ConsentState::kWithdrawn,
                        d_.policy->edition.number, plan->revision, plan->receipt};
}

Result<std::vector<store::ConsentRecord>> Engine::ListConsents(const Caller& caller,
                                                               const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, FindSubject(caller, key));
  QORGAU_TRY(RecordRead(caller, id, "consents", "", {},
                        Authorize(*d_.policy, caller, Action::kConsentsRead)));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto consents, (*txn)->GetConsents(id));
  std::erase_if(consents, [&](const store::ConsentRecord& c) { return !caller.SeesPurpose(c.purpose); });
  return consents;
}

Result<ledger::VerifyReport> Engine::VerifyLedger(const Caller& caller,
                                                  const std::optional<ledger::TreeHead>& checkpoint) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAuditVerify));
  QORGAU_TRY(recorder_->Flush());
  QORGAU_ASSIGN_OR_RETURN(const std::string pem, d_.signer.PublicPem());
  QORGAU_ASSIGN_OR_RETURN(const crypto::Verifier key, crypto::Verifier::FromPem(pem));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return ledger::Audit(**txn, ledger::AuditOptions{&key, report::ReceiptChecker(key), checkpoint});
}

Result<ledger::TreeHead> Engine::LatestCheckpoint(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAuditCheckpoint));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto head, txn->LatestTreeHead());
  // Every committed batch ends signed, and opening seals what was not.
  if (!head) return Fail(ErrorCode::kFailedPrecondition, "ledger", "no signed tree head yet");
  return ledger::TreeHeadFromRecord(*head);
}

}  // namespace qorgau::rules
