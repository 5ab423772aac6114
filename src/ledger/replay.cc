#include "ledger/replay.h"

#include <algorithm>
#include <charconv>
#include <boost/json.hpp>
#include <map>
#include <set>
#include <utility>

#include "core/clock.h"
#include "core/vocabulary.h"
#include "crypto/crypto.h"
#include "crypto/key_ring.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/tree_head.h"

namespace qorgau::ledger {
namespace {

namespace json = boost::json;
using store::SubjectId;

// One parsed event; `data` points into `body`.
struct Event {
  std::int64_t seq = 0;
  UnixMillis at = 0;
  std::string type;
  std::string actor;
  std::optional<SubjectId> subject;
  json::value body;
  const json::object* data = nullptr;
};

// Field readers that never throw: a missing or mistyped field is an error
// naming the field, reported at the event's position.
class Fields {
 public:
  explicit Fields(const json::object& o) : o_(o) {}
  Result<std::string> Text(const char* key) const {
    const json::value* v = o_.if_contains(key);
    if (!v || !v->is_string()) return Fail(ErrorCode::kCorruption, key, "missing or not a string");
    return std::string(v->get_string());
  }
  Result<std::int64_t> Int(const char* key) const {
    const json::value* v = o_.if_contains(key);
    if (!v || !v->is_int64()) return Fail(ErrorCode::kCorruption, key, "missing or not an integer");
    return v->get_int64();
  }
  Result<bool> Bool(const char* key) const {
    const json::value* v = o_.if_contains(key);
    if (!v || !v->is_bool()) return Fail(ErrorCode::kCorruption, key, "missing or not true/false");
    return v->get_bool();
  }
  Result<std::vector<std::string>> List(const char* key) const {
    const json::value* v = o_.if_contains(key);
    if (!v || !v->is_array()) return Fail(ErrorCode::kCorruption, key, "missing or not a list");
    std::vector<std::string> out;
    for (const auto& item : v->get_array()) {
      if (!item.is_string()) return Fail(ErrorCode::kCorruption, key, "not a list of strings");
      out.emplace_back(item.get_string());
    }
    return out;
  }
  bool Has(const char* key) const { return o_.contains(key); }
  const json::object& object() const { return o_; }

 private:
  const json::object& o_;
};

struct PersonalData {
  std::string provenance;
  UnixMillis recorded_at = 0;
  std::string sealed_hash;  // "" when the event predates it
  std::int64_t seq = 0;
};

struct ActorState {
  store::ActorRecord record;
  std::string name_hash;  // "" when the event predates it
  std::int64_t seq = 0;
};

struct KeyState {
  std::string actor;
  UnixMillis at = 0;
  std::int64_t seq = 0;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
};

struct EnrolmentState {
  std::string actor;
  UnixMillis at = 0;
  UnixMillis expires_at = 0;
  std::optional<UnixMillis> redeemed_at;
  std::int64_t seq = 0;
};

struct CalendarState {
  std::string file_hash;
  UnixMillis at = 0;
  std::int64_t seq = 0;
};

// A representative who acted in a change (a minor's consent): the row
// the event describes, with the digest of its sealed identity.
struct RepresentationReplay {
  store::RepresentationRecord record;  // sealed left empty
  std::string sealed_hash;
};

struct ApplicationReplay {
  store::ApplicationRecord record;  // representative left empty
  std::string representative_hash;  // "" for the subject
};

// The state the events describe.
struct Replayed {
  std::map<SubjectId, std::int64_t> subjects;  // -> the event that added it
  std::map<std::pair<SubjectId, std::string>, PersonalData> data;
  std::map<std::pair<SubjectId, std::string>, store::ConsentRecord> consents;
  std::map<std::int64_t, std::pair<store::ContractRecord, std::int64_t>> contracts;
  std::map<std::int64_t, std::int64_t> contract_ended_by;  // contract -> its contract.ended event
  std::map<std::pair<SubjectId, std::string>, store::SubscriptionRecord> subscriptions;
  std::map<std::string, store::ObligationRecord> obligations;
  std::map<std::string, std::int64_t> obligation_closed_by;
  std::map<std::string, ActorState> actors;
  std::map<std::pair<std::string, std::string>, std::pair<store::DutyRecord, std::int64_t>> duties;
  std::map<std::string, KeyState> keys;        // full hex hash -> key
  std::map<std::string, KeyState> key_prefixes;  // format 1: 16 hex digits -> key
  std::map<std::string, EnrolmentState> enrolments;  // token hash hex -> enrolment
  // password.set: actor -> the SHA-256 hex of the stored hash, when, seq.
  struct PasswordState {
    std::string digest;
    UnixMillis at = 0;
    std::int64_t seq = 0;
  };
  std::map<std::string, PasswordState> passwords;
  std::map<std::int64_t, std::pair<SubjectId, std::string>> events;  // seq -> subject, hash (receipts)
  std::map<std::int64_t, std::pair<SubjectId, std::string>> receipts;  // receipt.issued: subject, digest
  // The last master_key.rotated: its check value's digest, and its seq.
  std::optional<std::pair<std::string, std::int64_t>> key_check;
  // The last signing_key.rotated: the new key's id, and its seq.
  std::optional<std::pair<std::string, std::int64_t>> signing_key;
  std::map<std::pair<std::string, int>, CalendarState> calendars;
  std::map<std::int64_t, ApplicationReplay> applications;
  std::map<std::pair<std::int64_t, std::string>, store::ApplicationDocumentRecord> documents;
  std::map<SubjectId, store::SubjectBlockRecord> blocks;
  std::map<std::int64_t, store::BreachRecord> breaches;
  std::map<std::int64_t, store::TransferRecord> transfers;
  std::map<std::int64_t, store::AggregateReleaseRecord> aggregates;
  std::map<int, std::pair<store::EditionRecord, std::int64_t>> editions;  // number -> record (no files), event
  std::map<std::pair<SubjectId, int>, store::AcceptanceRecord> acceptances;
  std::map<std::int64_t, std::string> outbox_events;  // seq -> type, of the events the outbox tells of
  std::set<std::pair<std::int64_t, SubjectId>> outbox_due;  // (seq, subject) rows GoesToOutbox asks for
  std::map<std::int64_t, std::int64_t> outbox_notified;      // policy.published seq -> subjects told
  struct WebhookReplay {
    std::string url_hash, secret_file;
    UnixMillis added_at = 0;
    std::int64_t seq = 0;
  };
  std::map<std::string, WebhookReplay> webhooks;
  std::map<std::pair<SubjectId, std::string>, store::EnrichmentRecord> enrichments;
  std::map<SubjectId, store::ProfilingObjectionRecord> objections;
  std::set<SubjectId> ever_added;                     // every subject an event added
  std::map<std::pair<std::int64_t, SubjectId>, std::pair<store::TransferSubjectRecord, std::int64_t>> transfer_subjects;
  std::map<std::int64_t, RepresentationReplay> representations;  // event seq -> representative
  std::map<SubjectId, std::int64_t> destroyed;  // subject -> its retention.destroyed event
  std::map<std::int64_t, std::pair<store::RetentionRunRecord, std::int64_t>> runs;  // run -> record, last event
};

Result<void> Apply(const Event& e, Replayed* s) {
  const Fields d(*e.data);
  auto need_subject = [&]() -> Result<SubjectId> {
    if (!e.subject) return Fail(ErrorCode::kCorruption, "subject", "missing");
    return *e.subject;
  };
  // A change a legal representative made for the subject (LAW.md §12).
  auto note_representative = [&](SubjectId id) -> Result<void> {
    if (!d.Has("representative_hash")) return {};
    RepresentationReplay r;
    r.record.event_seq = e.seq;
    r.record.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(r.record.requester, d.Text("requester"));
    QORGAU_ASSIGN_OR_RETURN(r.record.proof_kind, d.Text("proof_kind"));
    QORGAU_ASSIGN_OR_RETURN(r.record.proof_valid_until, d.Text("proof_valid_until"));
    QORGAU_ASSIGN_OR_RETURN(r.sealed_hash, d.Text("representative_hash"));
    s->representations[e.seq] = std::move(r);
    return {};
  };
  if (e.type == "subject.added") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_ASSIGN_OR_RETURN(const auto categories, d.List("categories"));
    QORGAU_ASSIGN_OR_RETURN(const std::string provenance, d.Text("provenance"));
    std::map<std::string, std::string> sealed;
    if (const json::value* list = d.object().if_contains("sealed"); list && list->is_array()) {
      for (const auto& item : list->get_array()) {
        if (!item.is_object()) return Fail(ErrorCode::kCorruption, "sealed", "not a list of objects");
        const Fields f(item.get_object());
        QORGAU_ASSIGN_OR_RETURN(const std::string c, f.Text("category"));
        QORGAU_ASSIGN_OR_RETURN(sealed[c], f.Text("sealed_hash"));
      }
    }
    s->subjects[id] = e.seq;
    s->ever_added.insert(id);
    for (const auto& c : categories) s->data[{id, c}] = {provenance, e.at, sealed[c], e.seq};
  } else if (e.type == "data.recorded") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_ASSIGN_OR_RETURN(const std::string category, d.Text("category"));
    QORGAU_ASSIGN_OR_RETURN(const std::string provenance, d.Text("provenance"));
    std::string sealed;
    if (d.Has("sealed_hash")) {
      QORGAU_ASSIGN_OR_RETURN(sealed, d.Text("sealed_hash"));
    }
    s->data[{id, category}] = {provenance, e.at, sealed, e.seq};
    s->enrichments.erase({id, category});
  } else if (e.type == "data.enriched" || e.type == "data.derived") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::EnrichmentRecord r;
    r.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(r.category, d.Text("category"));
    QORGAU_ASSIGN_OR_RETURN(const std::string provenance, d.Text("provenance"));
    QORGAU_ASSIGN_OR_RETURN(const std::string sealed, d.Text("sealed_hash"));
    QORGAU_ASSIGN_OR_RETURN(r.purpose, d.Text("purpose"));
    if (e.type == "data.derived") {
      r.kind = "derived";
      QORGAU_ASSIGN_OR_RETURN(r.inputs, d.List("inputs"));
    } else {
      r.kind = "enriched";
      QORGAU_ASSIGN_OR_RETURN(r.source, d.Text("source"));
      QORGAU_ASSIGN_OR_RETURN(r.agreement, d.Text("agreement"));
    }
    r.at = e.at;
    r.event_seq = e.seq;
    s->data[{id, r.category}] = {provenance, e.at, sealed, e.seq};
    s->enrichments[{id, r.category}] = std::move(r);
  } else if (e.type == "consent.granted" || e.type == "consent.withdrawn") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::ConsentRecord c;
    c.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(c.purpose, d.Text("purpose"));
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t edition, d.Int("edition"));
    c.edition = static_cast<int>(edition);
    QORGAU_ASSIGN_OR_RETURN(c.channel, d.Text("channel"));
    QORGAU_ASSIGN_OR_RETURN(c.evidence, d.Text("evidence"));
    c.state = e.type == "consent.granted" ? ConsentState::kGranted : ConsentState::kWithdrawn;
    if (d.Has("cross_border")) {
      QORGAU_ASSIGN_OR_RETURN(c.cross_border, d.Bool("cross_border"));
    }
    c.changed_at = e.at;
    c.event_seq = e.seq;
    s->consents[{id, c.purpose}] = c;
    QORGAU_TRY(note_representative(id));
  } else if (e.type == "contract.joined") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::ContractRecord c;
    c.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(c.id, d.Int("contract"));
    QORGAU_ASSIGN_OR_RETURN(c.method, d.Text("method"));
    QORGAU_ASSIGN_OR_RETURN(const std::string evidence, d.Text("evidence"));
    // A contract joined without a reference is recorded as "contract:<id>"
    // in the event (the consent's evidence) and as "" in the table.
    c.evidence = evidence == "contract:" + std::to_string(c.id) ? "" : evidence;
    c.joined_at = e.at;
    s->contracts[c.id] = {c, e.seq};
    QORGAU_TRY(note_representative(id));
  } else if (e.type == "contract.ended") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t contract, d.Int("contract"));
    auto it = s->contracts.find(contract);
    if (it == s->contracts.end() || it->second.first.subject_id != id) {
      return Fail(ErrorCode::kCorruption, "contract", "ends a contract the subject did not join");
    }
    if (it->second.first.ended_at) return Fail(ErrorCode::kCorruption, "contract", "ends a contract twice");
    it->second.first.ended_at = e.at;
    s->contract_ended_by[contract] = e.seq;
  } else if (e.type == "service.enabled" || e.type == "service.disabled") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::SubscriptionRecord sub;
    sub.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(sub.service, d.Text("service"));
    QORGAU_ASSIGN_OR_RETURN(sub.contract_id, d.Int("contract"));
    sub.active = e.type == "service.enabled";
    sub.changed_at = e.at;
    sub.event_seq = e.seq;
    s->subscriptions[{id, sub.service}] = sub;
    QORGAU_TRY(note_representative(id));
  } else if (e.type == "obligation.opened") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::ObligationRecord o;
    o.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(o.ref, d.Text("ref"));
    QORGAU_ASSIGN_OR_RETURN(const std::string kind, d.Text("kind"));
    if (!ParseObligationKind(kind, &o.kind)) return Fail(ErrorCode::kCorruption, "kind", "unknown");
    if (d.Has("amount_tiyn")) {
      QORGAU_ASSIGN_OR_RETURN(o.amount_minor, d.Int("amount_tiyn"));
    }
    if (d.Has("categories")) {
      QORGAU_ASSIGN_OR_RETURN(o.categories, d.List("categories"));
    }
    o.opened_at = e.at;
    o.event_seq = e.seq;
    s->obligations[o.ref] = o;
  } else if (e.type == "obligation.closed") {
    QORGAU_ASSIGN_OR_RETURN(const std::string ref, d.Text("ref"));
    auto it = s->obligations.find(ref);
    if (it == s->obligations.end()) {
      return Fail(ErrorCode::kCorruption, "ref", "closes an obligation no event opened");
    }
    it->second.closed_at = e.at;
    s->obligation_closed_by[ref] = e.seq;
  } else if (e.type == "actor.created" || e.type == "actor.updated") {
    QORGAU_ASSIGN_OR_RETURN(const std::string id, d.Text("actor"));
    ActorState& a = s->actors[id];
    const bool created = a.seq == 0;
    a.record.id = id;
    QORGAU_ASSIGN_OR_RETURN(const std::string role, d.Text("role"));
    if (!ParseActorRole(role, &a.record.role)) return Fail(ErrorCode::kCorruption, "role", "unknown");
    QORGAU_ASSIGN_OR_RETURN(a.record.nda_signed, d.Text("nda_signed"));
    QORGAU_ASSIGN_OR_RETURN(a.record.liability_acknowledged, d.Text("liability_acknowledged"));
    QORGAU_ASSIGN_OR_RETURN(a.record.purposes, d.List("purposes"));
    a.name_hash.clear();
    if (d.Has("name_hash")) {
      QORGAU_ASSIGN_OR_RETURN(a.name_hash, d.Text("name_hash"));
    }
    if (created) a.record.created_at = e.at;
    a.seq = e.seq;
  } else if (e.type == "duty.granted") {
    store::DutyRecord duty;
    QORGAU_ASSIGN_OR_RETURN(duty.actor_id, d.Text("actor"));
    QORGAU_ASSIGN_OR_RETURN(duty.purpose, d.Text("purpose"));
    QORGAU_ASSIGN_OR_RETURN(duty.categories, d.List("categories"));
    QORGAU_ASSIGN_OR_RETURN(const std::string view, d.Text("view"));
    duty.full_view = view == "full";
    // Format 1 duties allowed reading only.
    duty.actions = static_cast<DutyActions>(DutyAction::kRead);
    if (d.Has("actions")) {
      QORGAU_ASSIGN_OR_RETURN(const std::string text, d.Text("actions"));
      std::vector<std::string> names;
      size_t start = 0;
      while (start < text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        names.push_back(text.substr(start, comma - start));
        start = comma + 1;
      }
      std::string bad;
      if (!ParseDutyActions(names, &duty.actions, &bad)) {
        return Fail(ErrorCode::kCorruption, "actions", "unknown action '" + bad + "'");
      }
    }
    s->duties[{duty.actor_id, duty.purpose}] = {duty, e.seq};
  } else if (e.type == "receipt.issued") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_ASSIGN_OR_RETURN(const std::string digest, d.Text("receipt_hash"));
    s->receipts[e.seq] = {id, digest};
  } else if (e.type == "key.created") {
    QORGAU_ASSIGN_OR_RETURN(const std::string actor, d.Text("actor"));
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("key_hash"));
    KeyState k{actor, e.at, e.seq, {}, {}};
    if (d.Has("expires_at")) {
      QORGAU_ASSIGN_OR_RETURN(const std::string when, d.Text("expires_at"));
      QORGAU_ASSIGN_OR_RETURN(k.expires_at, ParseUtc(when, "expires_at"));
    }
    (hash.size() == 64 ? s->keys : s->key_prefixes)[hash] = k;
  } else if (e.type == "key.revoked") {
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("key_hash"));
    KeyState* key = nullptr;
    if (auto it = s->keys.find(hash); it != s->keys.end()) {
      key = &it->second;
    } else if (auto old = s->key_prefixes.find(hash.substr(0, 16)); old != s->key_prefixes.end()) {
      key = &old->second;
    }
    if (!key) return Fail(ErrorCode::kCorruption, "key_hash", "revokes a key no event created");
    key->revoked_at = e.at;
  } else if (e.type == "actor.disabled") {
    QORGAU_ASSIGN_OR_RETURN(const std::string id, d.Text("actor"));
    auto it = s->actors.find(id);
    if (it == s->actors.end()) return Fail(ErrorCode::kCorruption, "actor", "disables an actor no event created");
    it->second.record.disabled_at = e.at;
    it->second.seq = e.seq;
  } else if (e.type == "duty.removed") {
    QORGAU_ASSIGN_OR_RETURN(const std::string actor, d.Text("actor"));
    QORGAU_ASSIGN_OR_RETURN(const std::string purpose, d.Text("purpose"));
    s->duties.erase({actor, purpose});
  } else if (e.type == "master_key.rotated") {
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t subjects, d.Int("subjects"));
    if (subjects < 0) return Fail(ErrorCode::kCorruption, "subjects", "negative");
    QORGAU_ASSIGN_OR_RETURN(const std::string check, d.Text("check_hash"));
    s->key_check = {check, e.seq};
  } else if (e.type == "signing_key.rotated") {
    QORGAU_ASSIGN_OR_RETURN(const std::string old_id, d.Text("old_key_id"));
    QORGAU_ASSIGN_OR_RETURN(const std::string new_id, d.Text("new_key_id"));
    if (s->signing_key && s->signing_key->first != old_id) {
      return Fail(ErrorCode::kCorruption, "old_key_id", "is not the key the previous rotation put in force");
    }
    s->signing_key = {new_id, e.seq};
  } else if (e.type == "calendar.imported") {
    QORGAU_ASSIGN_OR_RETURN(const std::string country, d.Text("country"));
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t year, d.Int("year"));
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("file_hash"));
    s->calendars[{country, static_cast<int>(year)}] = {hash, e.at, e.seq};
  } else if (e.type == "application.received") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    ApplicationReplay a;
    store::ApplicationRecord& r = a.record;
    r.id = e.seq;
    r.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(const std::string kind, d.Text("kind"));
    if (!ParseApplicationKind(kind, &r.kind)) return Fail(ErrorCode::kCorruption, "kind", "unknown");
    QORGAU_ASSIGN_OR_RETURN(r.channel, d.Text("channel"));
    QORGAU_ASSIGN_OR_RETURN(r.reference, d.Text("reference"));
    QORGAU_ASSIGN_OR_RETURN(r.requester, d.Text("requester"));
    QORGAU_ASSIGN_OR_RETURN(r.purposes, d.List("purposes"));
    QORGAU_ASSIGN_OR_RETURN(const std::string received, d.Text("received_at"));
    QORGAU_ASSIGN_OR_RETURN(r.received_at, ParseUtc(received, "received_at"));
    QORGAU_ASSIGN_OR_RETURN(const std::string due, d.Text("due_at"));
    QORGAU_ASSIGN_OR_RETURN(r.due_at, ParseUtc(due, "due_at"));
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t days, d.Int("working_days"));
    r.working_days = static_cast<int>(days);
    if (d.Has("representative_hash")) {
      QORGAU_ASSIGN_OR_RETURN(a.representative_hash, d.Text("representative_hash"));
      QORGAU_ASSIGN_OR_RETURN(r.proof_kind, d.Text("proof_kind"));
      // Sealed with the representative since it was found to identify a
      // document; events before that carry it in clear.
      if (d.Has("proof_reference")) {
        QORGAU_ASSIGN_OR_RETURN(r.proof_reference, d.Text("proof_reference"));
      }
      const json::value* until = d.object().if_contains("proof_valid_until");
      if (!until || !until->is_string()) return Fail(ErrorCode::kCorruption, "proof_valid_until", "missing");
      r.proof_valid_until = std::string(until->get_string());
    }
    r.handler = e.actor;
    r.event_seq = e.seq;
    const json::value* docs = d.object().if_contains("documents");
    if (!docs || !docs->is_array()) return Fail(ErrorCode::kCorruption, "documents", "missing or not a list");
    for (const auto& item : docs->get_array()) {
      if (!item.is_object()) return Fail(ErrorCode::kCorruption, "documents", "not a list of objects");
      const Fields f(item.get_object());
      store::ApplicationDocumentRecord doc{e.seq, "", "", e.at, e.seq};
      QORGAU_ASSIGN_OR_RETURN(doc.reference, f.Text("reference"));
      QORGAU_ASSIGN_OR_RETURN(doc.sha256, f.Text("sha256_hash"));
      s->documents[{e.seq, doc.reference}] = doc;
    }
    s->applications[e.seq] = std::move(a);
  } else if (e.type == "application.document_added" || e.type == "application.advanced" ||
             e.type == "application.answered" || e.type == "application.refused") {
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t id, d.Int("application"));
    auto it = s->applications.find(id);
    if (it == s->applications.end()) {
      return Fail(ErrorCode::kCorruption, "application", "changes an application no event received");
    }
    store::ApplicationRecord& r = it->second.record;
    if (e.type == "application.document_added") {
      store::ApplicationDocumentRecord doc{id, "", "", e.at, e.seq};
      QORGAU_ASSIGN_OR_RETURN(doc.reference, d.Text("reference"));
      QORGAU_ASSIGN_OR_RETURN(doc.sha256, d.Text("sha256_hash"));
      s->documents[{id, doc.reference}] = doc;
    } else if (e.type == "application.advanced") {
      QORGAU_ASSIGN_OR_RETURN(const std::string state, d.Text("state"));
      if (!ParseApplicationState(state, &r.state)) return Fail(ErrorCode::kCorruption, "state", "unknown");
      r.handler = e.actor;
    } else {
      const bool answered = e.type == "application.answered";
      r.state = answered ? ApplicationState::kAnswered : ApplicationState::kRefused;
      QORGAU_ASSIGN_OR_RETURN(r.outcome, d.Text(answered ? "reference" : "reason"));
      r.closed_at = e.at;
      r.handler = e.actor;
      // An objection to profiling, answered (R-X.2).
      if (answered && r.kind == ApplicationKind::kObjection) {
        s->objections.emplace(r.subject_id, store::ProfilingObjectionRecord{r.subject_id, id, e.at, e.seq});
      }
    }
    r.event_seq = e.seq;
  } else if (e.type == "breach.recorded") {
    store::BreachRecord b;
    b.id = e.seq;
    b.event_seq = e.seq;
    QORGAU_ASSIGN_OR_RETURN(const std::string detected, d.Text("detected_at"));
    QORGAU_ASSIGN_OR_RETURN(b.detected_at, ParseUtc(detected, "detected_at"));
    QORGAU_ASSIGN_OR_RETURN(b.how, d.Text("how"));
    QORGAU_ASSIGN_OR_RETURN(b.categories, d.List("categories"));
    QORGAU_ASSIGN_OR_RETURN(b.measures, d.List("measures"));
    QORGAU_ASSIGN_OR_RETURN(const std::string due, d.Text("notify_due_at"));
    QORGAU_ASSIGN_OR_RETURN(b.notify_due_at, ParseUtc(due, "notify_due_at"));
    const json::value* subjects = d.object().if_contains("subjects");
    if (!subjects || !subjects->is_array()) return Fail(ErrorCode::kCorruption, "subjects", "missing or not a list");
    for (const auto& id : subjects->get_array()) {
      if (!id.is_int64()) return Fail(ErrorCode::kCorruption, "subjects", "not a list of ids");
      b.subjects.push_back(id.get_int64());
    }
    std::sort(b.subjects.begin(), b.subjects.end());
    s->breaches[e.seq] = std::move(b);
  } else if (e.type == "transfer.made") {
    store::TransferRecord t;
    t.id = e.seq;
    t.at = e.at;
    t.actor = e.actor;
    QORGAU_ASSIGN_OR_RETURN(t.recipient, d.Text("recipient"));
    QORGAU_ASSIGN_OR_RETURN(t.country, d.Text("country"));
    QORGAU_ASSIGN_OR_RETURN(t.agreement, d.Text("agreement"));
    QORGAU_ASSIGN_OR_RETURN(t.purpose, d.Text("purpose"));
    QORGAU_ASSIGN_OR_RETURN(t.categories, d.List("categories"));
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t edition, d.Int("edition"));
    t.edition = static_cast<int>(edition);
    QORGAU_ASSIGN_OR_RETURN(t.format, d.Text("format"));
    QORGAU_ASSIGN_OR_RETURN(t.sent, d.Int("sent"));
    const json::value* refused = d.object().if_contains("refused");
    if (!refused || !refused->is_object()) return Fail(ErrorCode::kCorruption, "refused", "missing or not an object");
    for (const auto& [reason, n] : refused->get_object()) {
      if (!n.is_int64()) return Fail(ErrorCode::kCorruption, "refused", "a count is not a number");
      t.refused[std::string(reason)] = n.get_int64();
    }
    s->transfers[e.seq] = std::move(t);
  } else if (e.type == "policy.published") {
    store::EditionRecord r;
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t number, d.Int("edition"));
    r.number = static_cast<int>(number);
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("hash"));
    QORGAU_ASSIGN_OR_RETURN(r.hash, crypto::FromHex(hash, "hash"));
    r.published_at = e.at;
    if (d.Has("effective_at")) {
      QORGAU_ASSIGN_OR_RETURN(const std::string at, d.Text("effective_at"));
      QORGAU_ASSIGN_OR_RETURN(r.effective_at, ParseUtc(at, "effective_at"));
      QORGAU_ASSIGN_OR_RETURN(r.reason, d.Text("reason"));
      QORGAU_ASSIGN_OR_RETURN(r.renewal, d.List("renewal"));
    }
    s->editions[r.number] = {std::move(r), e.seq};
    s->outbox_events[e.seq] = e.type;
    if (d.Has("notified")) {
      QORGAU_ASSIGN_OR_RETURN(s->outbox_notified[e.seq], d.Int("notified"));
    }
  } else if (e.type == "policy.accepted") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::AcceptanceRecord a;
    a.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t edition, d.Int("edition"));
    a.edition = static_cast<int>(edition);
    QORGAU_ASSIGN_OR_RETURN(a.how, d.Text("how"));
    QORGAU_ASSIGN_OR_RETURN(a.channel, d.Text("channel"));
    QORGAU_ASSIGN_OR_RETURN(a.evidence, d.Text("evidence"));
    a.at = e.at;
    a.event_seq = e.seq;
    if (!s->acceptances.emplace(std::pair{id, a.edition}, a).second) {
      return Fail(ErrorCode::kCorruption, "edition", "accepted twice by the same subject");
    }
  } else if (e.type == "aggregate.released") {
    store::AggregateReleaseRecord a;
    a.id = e.seq;
    a.at = e.at;
    a.actor = e.actor;
    QORGAU_ASSIGN_OR_RETURN(a.purpose, d.Text("purpose"));
    QORGAU_ASSIGN_OR_RETURN(a.recipient, d.Text("recipient"));
    if (d.Has("epsilon_milli")) {
      QORGAU_ASSIGN_OR_RETURN(const std::int64_t milli, d.Int("epsilon_milli"));
      a.epsilon = static_cast<double>(milli) / 1000;
    }
    QORGAU_ASSIGN_OR_RETURN(a.body, ledger::CanonicalJson(d.object()));
    s->aggregates[e.seq] = std::move(a);
  } else if (e.type == "transfer.sent") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    store::TransferSubjectRecord t;
    t.subject_id = id;
    QORGAU_ASSIGN_OR_RETURN(t.transfer_id, d.Int("transfer"));
    if (!s->transfers.count(t.transfer_id)) {
      return Fail(ErrorCode::kCorruption, "transfer", "sends data in a transfer no event made");
    }
    QORGAU_ASSIGN_OR_RETURN(t.basis, d.Text("basis"));
    QORGAU_ASSIGN_OR_RETURN(t.cross_border, d.Text("cross_border"));
    s->transfer_subjects[{t.transfer_id, id}] = {t, e.seq};
  } else if (e.type == "breach.notified") {
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t id, d.Int("breach"));
    auto it = s->breaches.find(id);
    if (it == s->breaches.end()) return Fail(ErrorCode::kCorruption, "breach", "notifies a breach no event recorded");
    QORGAU_ASSIGN_OR_RETURN(it->second.notice_reference, d.Text("reference"));
    it->second.notified_at = e.at;
    it->second.event_seq = e.seq;
  } else if (e.type == "subject.blocked") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t application, d.Int("application"));
    s->blocks[id] = {id, application, e.at, e.seq};
  } else if (e.type == "subject.unblocked") {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    QORGAU_TRY(d.Text("reason"));
    if (!s->blocks.erase(id)) return Fail(ErrorCode::kCorruption, "subject", "unblocks a subject no event blocked");
  } else if (e.type == "enrolment.created") {
    QORGAU_ASSIGN_OR_RETURN(const std::string actor, d.Text("actor"));
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("token_hash"));
    QORGAU_ASSIGN_OR_RETURN(const std::string until, d.Text("expires_at"));
    QORGAU_ASSIGN_OR_RETURN(const UnixMillis expires, ParseUtc(until, "expires_at"));
    s->enrolments[hash] = {actor, e.at, expires, {}, e.seq};
  } else if (e.type == "retention.destroyed") {
    // R-VII.2: what the destruction deleted is gone from the state.
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, need_subject());
    const json::value* items = d.object().if_contains("items");
    if (!items || !items->is_array()) return Fail(ErrorCode::kCorruption, "items", "not a list");
    for (const auto& item : items->get_array()) {
      if (!item.is_object()) return Fail(ErrorCode::kCorruption, "items", "not a list of objects");
      const Fields f(item.get_object());
      QORGAU_ASSIGN_OR_RETURN(const std::string what, f.Text("what"));
      std::string key;
      if (f.Has("key")) {
        QORGAU_ASSIGN_OR_RETURN(key, f.Text("key"));
      }
      // A record's key, as the id it names.
      auto key_id = [&]() -> Result<std::int64_t> {
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), v);
        if (ec != std::errc() || end != key.data() + key.size()) {
          return Fail(ErrorCode::kCorruption, "items", "'" + key + "' is not a record id");
        }
        return v;
      };
      if (what.rfind("record:", 0) != 0) {
        s->data.erase({id, what});
        s->enrichments.erase({id, what});
      } else if (what == "record:contracts") {
        QORGAU_ASSIGN_OR_RETURN(const std::int64_t contract, key_id());
        s->contracts.erase(contract);
        std::erase_if(s->subscriptions, [&](const auto& kv) { return kv.second.contract_id == contract; });
      } else if (what == "record:consents") {
        s->consents.erase({id, key});
      } else if (what == "record:obligations") {
        s->obligations.erase(key);
      } else if (what == "record:applications") {
        QORGAU_ASSIGN_OR_RETURN(const std::int64_t app, key_id());
        s->applications.erase(app);
        std::erase_if(s->documents, [&](const auto& kv) { return kv.first.first == app; });
      } else {
        return Fail(ErrorCode::kCorruption, "items", "no record kind '" + what + "'");
      }
    }
    QORGAU_ASSIGN_OR_RETURN(const bool whole, d.Bool("subject_destroyed"));
    if (whole) {
      s->destroyed[id] = e.seq;
      std::erase_if(s->data, [&](const auto& kv) { return kv.first.first == id; });
      std::erase_if(s->enrichments, [&](const auto& kv) { return kv.first.first == id; });
      std::erase_if(s->subscriptions, [&](const auto& kv) { return kv.first.first == id; });
      std::erase_if(s->receipts, [&](const auto& kv) { return kv.second.first == id; });
      std::erase_if(s->representations, [&](const auto& kv) { return kv.second.record.subject_id == id; });
    }
  } else if (e.type == "retention.run_started") {
    store::RetentionRunRecord run;
    run.run = e.seq;
    run.started_at = e.at;
    run.actor = e.actor;
    QORGAU_ASSIGN_OR_RETURN(const std::string as_of, d.Text("as_of"));
    QORGAU_ASSIGN_OR_RETURN(run.as_of, ParseUtc(as_of, "as_of"));
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t edition, d.Int("edition"));
    run.edition = static_cast<int>(edition);
    s->runs[e.seq] = {run, e.seq};
  } else if (e.type == "retention.act") {
    QORGAU_ASSIGN_OR_RETURN(const std::int64_t run, d.Int("run"));
    auto it = s->runs.find(run);
    if (it == s->runs.end()) return Fail(ErrorCode::kCorruption, "run", "an act of a run that never started");
    const json::value* act = d.object().if_contains("act");
    if (!act) return Fail(ErrorCode::kCorruption, "act", "missing");
    QORGAU_ASSIGN_OR_RETURN(it->second.first.act, CanonicalJson(*act));
    it->second.first.finished_at = e.at;
    it->second.first.act_seq = e.seq;
    it->second.second = e.seq;
  } else if (e.type == "enrolment.redeemed") {
    QORGAU_ASSIGN_OR_RETURN(const std::string hash, d.Text("token_hash"));
    auto it = s->enrolments.find(hash);
    if (it == s->enrolments.end()) return Fail(ErrorCode::kCorruption, "token_hash", "redeems no enrolment");
    it->second.redeemed_at = e.at;
    it->second.seq = e.seq;
  } else if (e.type == "password.set") {
    QORGAU_ASSIGN_OR_RETURN(const std::string actor, d.Text("actor"));
    QORGAU_ASSIGN_OR_RETURN(const std::string digest, d.Text("password_hash"));
    s->passwords[actor] = {digest, e.at, e.seq};
  } else if (e.type == "webhook.added") {
    QORGAU_ASSIGN_OR_RETURN(const std::string name, d.Text("name"));
    Replayed::WebhookReplay w;
    QORGAU_ASSIGN_OR_RETURN(w.url_hash, d.Text("url_hash"));
    QORGAU_ASSIGN_OR_RETURN(w.secret_file, d.Text("secret_file"));
    w.added_at = e.at;
    w.seq = e.seq;
    s->webhooks[name] = std::move(w);
  } else if (e.type == "webhook.removed") {
    QORGAU_ASSIGN_OR_RETURN(const std::string name, d.Text("name"));
    if (!s->webhooks.erase(name)) return Fail(ErrorCode::kCorruption, "name", "removes no webhook");
  }
  if (ledger::GoesToOutbox(e.type)) {
    s->outbox_due.insert({e.seq, e.subject.value_or(0)});
    s->outbox_events[e.seq] = e.type;
  }
  return {};
}

// Compares the tables with the replay; the first difference fills `report`.
class Comparer {
 public:
  explicit Comparer(StateReport& report) : report_(report) {}

  // Records a difference unless one was found already; returns false.
  bool Differ(std::int64_t event, std::string what) {
    if (report_.ok) {
      report_.ok = false;
      report_.event = event;
      report_.difference = std::move(what);
    }
    return false;
  }
  bool ok() const { return report_.ok; }
  void Row() { ++report_.rows; }
  void Unproven() { ++report_.unproven; }

 private:
  StateReport& report_;
};

std::string Hex(const crypto::Bytes& b) { return crypto::ToHex(b); }

}  // namespace

Result<StateReport> ReplayAndCompare(store::Transaction& txn, const ReceiptCheck& check_receipt) {
  StateReport report;
  Replayed r;
  std::optional<Error> malformed;
  std::int64_t malformed_at = 0;
  QORGAU_TRY(txn.ScanEvents(1, [&](const store::EventRecord& rec) {
    Event e;
    e.seq = rec.seq;
    boost::system::error_code ec;
    e.body = json::parse(rec.body, ec);
    auto bad = [&](std::string field, std::string why) {
      malformed = Error{ErrorCode::kCorruption, std::move(field), std::move(why)};
      malformed_at = rec.seq;
      return false;
    };
    if (ec || !e.body.is_object()) return bad("body", "not a JSON object");
    const Fields f(e.body.get_object());
    auto type = f.Text("type");
    auto actor = f.Text("actor");
    auto at = f.Text("at");
    if (!type) return bad("type", type.error().message);
    if (!actor) return bad("actor", actor.error().message);
    if (!at) return bad("at", at.error().message);
    auto when = ParseUtc(*at, "at");
    if (!when) return bad("at", "not a UTC time");
    e.type = std::move(*type);
    e.actor = std::move(*actor);
    e.at = *when;
    if (const json::value* subject = e.body.get_object().if_contains("subject")) {
      if (!subject->is_int64()) return bad("subject", "not an integer");
      e.subject = subject->get_int64();
    }
    // The subject column is an index of the body's subject: a changed
    // column would hide the event from the subject's trail.
    if (rec.subject != e.subject) {
      return bad("subject", "the indexed subject does not match the event's subject");
    }
    const json::value* data = e.body.get_object().if_contains("data");
    if (!data || !data->is_object()) return bad("data", "missing or not an object");
    e.data = &data->get_object();
    if (auto applied = Apply(e, &r); !applied) {
      return bad(applied.error().field, applied.error().message);
    }
    if (e.subject) r.events[e.seq] = {*e.subject, Hex(rec.hash)};
    ++report.events;
    return true;
  }));
  if (malformed) {
    report.ok = false;
    report.event = malformed_at;
    report.difference = "event " + std::to_string(malformed_at) + " cannot be replayed: " +
                        malformed->ToString();
    return report;
  }

  Comparer cmp(report);
  const auto at = [](UnixMillis t) { return FormatUtc(t); };

  // Subjects and their sealed values.
  QORGAU_TRY(txn.ScanSubjectIds([&](SubjectId id, bool destroyed) {
    cmp.Row();
    if (!r.subjects.erase(id)) return (void)cmp.Differ(0, "subjects (" + std::to_string(id) + "): no event added it");
    const auto by = r.destroyed.find(id);
    if (destroyed != (by != r.destroyed.end())) {
      cmp.Differ(by == r.destroyed.end() ? 0 : by->second,
                 "subjects (" + std::to_string(id) + "): " + (destroyed ? "destroyed" : "not destroyed") +
                     ", the ledger says " + (destroyed ? "it was not" : "it was"));
    }
  }));
  if (!r.subjects.empty() && cmp.ok()) {
    cmp.Differ(r.subjects.begin()->second,
               "subjects (" + std::to_string(r.subjects.begin()->first) + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanPersonalData([&](const store::PersonalDataRecord& pd) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "personal_data (subject " + std::to_string(pd.subject_id) + ", " + pd.category + "): ";
    auto it = r.data.find({pd.subject_id, pd.category});
    if (it == r.data.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const PersonalData& want = it->second;
    if (pd.provenance != want.provenance) {
      cmp.Differ(want.seq, where + "provenance is " + pd.provenance + ", the ledger says " + want.provenance);
    } else if (pd.recorded_at != want.recorded_at) {
      cmp.Differ(want.seq, where + "recorded at " + at(pd.recorded_at) + ", the ledger says " + at(want.recorded_at));
    } else if (want.sealed_hash.empty()) {
      cmp.Unproven();
    } else if (crypto::ToHex(crypto::Sha256(pd.sealed)) != want.sealed_hash) {
      cmp.Differ(want.seq, where + "the sealed value is not the one the ledger recorded");
    }
    r.data.erase(it);
  }));
  if (!r.data.empty() && cmp.ok()) {
    const auto& [key, want] = *r.data.begin();
    cmp.Differ(want.seq, "personal_data (subject " + std::to_string(key.first) + ", " + key.second +
                             "): missing from the table");
  }

  // Enrichment and profiling (R-X): each value's source, agreement,
  // purpose and inputs as its event says; objections to profiling.
  QORGAU_TRY(txn.ScanEnrichments([&](const store::EnrichmentRecord& x) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "enrichments (subject " + std::to_string(x.subject_id) + ", " + x.category + "): ";
    auto it = r.enrichments.find({x.subject_id, x.category});
    if (it == r.enrichments.end()) return (void)cmp.Differ(0, where + "no event enriched or derived it");
    const store::EnrichmentRecord& w = it->second;
    if (x.kind != w.kind || x.source != w.source || x.agreement != w.agreement || x.purpose != w.purpose ||
        x.inputs != w.inputs || x.at != w.at || x.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "differs from its data." + w.kind + " event");
    }
    r.enrichments.erase(it);
  }));
  if (!r.enrichments.empty() && cmp.ok()) {
    const auto& [key, w] = *r.enrichments.begin();
    cmp.Differ(w.event_seq, "enrichments (subject " + std::to_string(key.first) + ", " + key.second +
                                "): missing from the table");
  }
  QORGAU_TRY(txn.ScanProfilingObjections([&](const store::ProfilingObjectionRecord& o) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "profiling_objections (subject " + std::to_string(o.subject_id) + "): ";
    auto it = r.objections.find(o.subject_id);
    if (it == r.objections.end()) return (void)cmp.Differ(0, where + "no answered objection application");
    if (o.application_id != it->second.application_id || o.at != it->second.at ||
        o.event_seq != it->second.event_seq) {
      cmp.Differ(it->second.event_seq, where + "differs from the answer's event");
    }
    r.objections.erase(it);
  }));
  if (!r.objections.empty() && cmp.ok()) {
    cmp.Differ(r.objections.begin()->second.event_seq,
               "profiling_objections (subject " + std::to_string(r.objections.begin()->first) +
                   "): missing from the table");
  }

  // Consents.
  QORGAU_TRY(txn.ScanConsents([&](const store::ConsentRecord& c) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "consents (subject " + std::to_string(c.subject_id) + ", " + c.purpose + "): ";
    auto it = r.consents.find({c.subject_id, c.purpose});
    if (it == r.consents.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const store::ConsentRecord& w = it->second;
    if (c.state != w.state) {
      cmp.Differ(w.event_seq, where + "state is " + ConsentStateName(c.state) + ", the ledger says " +
                                  ConsentStateName(w.state));
    } else if (c.edition != w.edition || c.channel != w.channel || c.evidence != w.evidence ||
               c.cross_border != w.cross_border) {
      cmp.Differ(w.event_seq, where + "edition, channel, evidence or cross-border transfer differ from the ledger's");
    } else if (c.changed_at != w.changed_at || c.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "changed at event " + std::to_string(c.event_seq) +
                                  ", the ledger says event " + std::to_string(w.event_seq));
    }
    r.consents.erase(it);
  }));
  if (!r.consents.empty() && cmp.ok()) {
    const auto& [key, w] = *r.consents.begin();
    cmp.Differ(w.event_seq, "consents (subject " + std::to_string(key.first) + ", " + key.second +
                                "): missing from the table");
  }

  // Contracts and services.
  QORGAU_TRY(txn.ScanContracts([&](const store::ContractRecord& c) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "contracts (" + std::to_string(c.id) + "): ";
    auto it = r.contracts.find(c.id);
    if (it == r.contracts.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const auto& [w, seq] = it->second;
    if (c.subject_id != w.subject_id || c.method != w.method || c.evidence != w.evidence ||
        c.joined_at != w.joined_at) {
      cmp.Differ(seq, where + "subject, method, evidence or time differ from the ledger's");
    } else if (c.ended_at != w.ended_at) {
      const auto ended = r.contract_ended_by.find(c.id);
      cmp.Differ(ended == r.contract_ended_by.end() ? seq : ended->second,
                 where + (c.ended_at ? "ended" : "in force") + ", the ledger says " +
                     (w.ended_at ? (c.ended_at ? "ended at another time" : "ended") : "in force"));
    }
    r.contracts.erase(it);
  }));
  if (!r.contracts.empty() && cmp.ok()) {
    const auto& [id, w] = *r.contracts.begin();
    cmp.Differ(w.second, "contracts (" + std::to_string(id) + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanAllSubscriptions([&](const store::SubscriptionRecord& sub) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "subscriptions (subject " + std::to_string(sub.subject_id) + ", " + sub.service + "): ";
    auto it = r.subscriptions.find({sub.subject_id, sub.service});
    if (it == r.subscriptions.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const store::SubscriptionRecord& w = it->second;
    if (sub.active != w.active) {
      cmp.Differ(w.event_seq, where + (sub.active ? "on" : "off") + ", the ledger says " +
                                  (w.active ? "on" : "off"));
    } else if (sub.contract_id != w.contract_id || sub.changed_at != w.changed_at ||
               sub.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "contract, time or event differ from the ledger's");
    }
    r.subscriptions.erase(it);
  }));
  if (!r.subscriptions.empty() && cmp.ok()) {
    const auto& [key, w] = *r.subscriptions.begin();
    cmp.Differ(w.event_seq, "subscriptions (subject " + std::to_string(key.first) + ", " +
                                key.second + "): missing from the table");
  }

  // Obligations.
  QORGAU_TRY(txn.ScanAllObligations([&](const store::ObligationRecord& o) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "obligations (" + o.ref + "): ";
    auto it = r.obligations.find(o.ref);
    if (it == r.obligations.end()) return (void)cmp.Differ(0, where + "no event opened it");
    const store::ObligationRecord& w = it->second;
    const std::int64_t seq = r.obligation_closed_by.count(o.ref) ? r.obligation_closed_by[o.ref] : w.event_seq;
    if (o.closed_at.has_value() != w.closed_at.has_value()) {
      cmp.Differ(seq, where + (o.closed_at ? "closed" : "open") + ", the ledger says " +
                          (w.closed_at ? "closed" : "open"));
    } else if (o.subject_id != w.subject_id || o.kind != w.kind || o.amount_minor != w.amount_minor) {
      cmp.Differ(seq, where + "subject, kind or amount differ from the ledger's");
    } else if (o.categories != w.categories) {
      cmp.Differ(w.event_seq, where + "the categories it keeps differ from the ledger's");
    } else if (o.opened_at != w.opened_at || o.closed_at != w.closed_at || o.event_seq != w.event_seq) {
      cmp.Differ(seq, where + "times or event differ from the ledger's");
    }
    r.obligations.erase(it);
  }));
  if (!r.obligations.empty() && cmp.ok()) {
    const auto& [ref, w] = *r.obligations.begin();
    cmp.Differ(w.event_seq, "obligations (" + ref + "): missing from the table");
  }

  // Actors, duties and keys.
  QORGAU_ASSIGN_OR_RETURN(const auto actors, txn.ListActors());
  for (const auto& a : actors) {
    if (!cmp.ok()) break;
    cmp.Row();
    const std::string where = "actors (" + a.id + "): ";
    auto it = r.actors.find(a.id);
    if (it == r.actors.end()) {
      cmp.Differ(0, where + "no event created it");
      break;
    }
    const ActorState& w = it->second;
    if (a.role != w.record.role) {
      cmp.Differ(w.seq, where + "role is " + ActorRoleName(a.role) + ", the ledger says " +
                            ActorRoleName(w.record.role));
    } else if (a.nda_signed != w.record.nda_signed ||
               a.liability_acknowledged != w.record.liability_acknowledged ||
               a.purposes != w.record.purposes || a.created_at != w.record.created_at ||
               a.disabled_at != w.record.disabled_at) {
      cmp.Differ(w.seq, where + "NDA, liability warning, purposes, creation or disabling differ from the ledger's");
    } else if (w.name_hash.empty()) {
      cmp.Unproven();
    } else if (crypto::ToHex(crypto::Sha256(a.name)) != w.name_hash) {
      cmp.Differ(w.seq, where + "the name is not the one the ledger recorded");
    }
    r.actors.erase(it);
  }
  if (!r.actors.empty() && cmp.ok()) {
    cmp.Differ(r.actors.begin()->second.seq,
               "actors (" + r.actors.begin()->first + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanDuties([&](const store::DutyRecord& duty) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "duties (" + duty.actor_id + ", " + duty.purpose + "): ";
    auto it = r.duties.find({duty.actor_id, duty.purpose});
    if (it == r.duties.end()) return (void)cmp.Differ(0, where + "no event granted it");
    const auto& [w, seq] = it->second;
    if (duty.full_view != w.full_view) {
      cmp.Differ(seq, where + "view is " + (duty.full_view ? "full" : "masked") + ", the ledger says " +
                          (w.full_view ? "full" : "masked"));
    } else if (duty.categories != w.categories || duty.actions != w.actions) {
      cmp.Differ(seq, where + "categories or actions differ from the ledger's");
    }
    r.duties.erase(it);
  }));
  if (!r.duties.empty() && cmp.ok()) {
    const auto& [key, w] = *r.duties.begin();
    cmp.Differ(w.second, "duties (" + key.first + ", " + key.second + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanApiKeys([&](const store::ApiKeyRecord& k) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string hex = Hex(k.key_hash);
    const std::string where = "api_keys (" + hex.substr(0, 16) + "…): ";
    auto it = r.keys.find(hex);
    auto& source = it != r.keys.end() ? r.keys : r.key_prefixes;
    if (it == r.keys.end()) {
      it = r.key_prefixes.find(hex.substr(0, 16));
      if (it == r.key_prefixes.end()) return (void)cmp.Differ(0, where + "no event created it");
      cmp.Unproven();
    }
    if (k.actor_id != it->second.actor || k.created_at != it->second.at) {
      cmp.Differ(it->second.seq, where + "belongs to " + k.actor_id + ", the ledger says " + it->second.actor);
    } else if (k.revoked_at != it->second.revoked_at) {
      cmp.Differ(it->second.seq, where + (k.revoked_at ? "revoked" : "live") + ", the ledger says " +
                                     (it->second.revoked_at ? "revoked" : "live"));
    } else if (k.expires_at != it->second.expires_at) {
      cmp.Differ(it->second.seq, where + "its expiry differs from the ledger's");
    }
    source.erase(it);
  }));
  if (cmp.ok() && (!r.keys.empty() || !r.key_prefixes.empty())) {
    const auto& [hash, w] = !r.keys.empty() ? *r.keys.begin() : *r.key_prefixes.begin();
    cmp.Differ(w.seq, "api_keys (" + hash.substr(0, 16) + "…): missing from the table");
  }

  // Enrolment tokens: a forged one would hand out a key.
  QORGAU_TRY(txn.ScanEnrolments([&](const store::EnrolmentRecord& en) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string hex = Hex(en.token_hash);
    const std::string where = "enrolments (" + hex.substr(0, 16) + "…): ";
    auto it = r.enrolments.find(hex);
    if (it == r.enrolments.end()) return (void)cmp.Differ(0, where + "no event created it");
    const EnrolmentState& w = it->second;
    if (en.actor_id != w.actor || en.created_at != w.at || en.expires_at != w.expires_at ||
        en.redeemed_at != w.redeemed_at) {
      cmp.Differ(w.seq, where + "actor, validity or redemption differ from the ledger's");
    }
    r.enrolments.erase(it);
  }));
  if (!r.enrolments.empty() && cmp.ok()) {
    cmp.Differ(r.enrolments.begin()->second.seq,
               "enrolments (" + r.enrolments.begin()->first.substr(0, 16) + "…): missing from the table");
  }

  // Console passwords: a row no event set would let someone sign in.
  QORGAU_TRY(txn.ScanPasswords([&](const store::PasswordRecord& pw) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "passwords (" + pw.actor_id + "): ";
    auto it = r.passwords.find(pw.actor_id);
    if (it == r.passwords.end()) return (void)cmp.Differ(0, where + "no event set it");
    if (crypto::ToHex(crypto::Sha256(pw.hash)) != it->second.digest || pw.set_at != it->second.at) {
      cmp.Differ(it->second.seq, where + "the hash or its time differ from the ledger's");
    }
    r.passwords.erase(it);
  }));
  if (!r.passwords.empty() && cmp.ok()) {
    cmp.Differ(r.passwords.begin()->second.seq,
               "passwords (" + r.passwords.begin()->first + "): missing from the table");
  }

  // Receipts: each documents an event of its subject, and checks.
  QORGAU_TRY(txn.ScanReceipts([&](const store::ReceiptRecord& rec) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "receipts (event " + std::to_string(rec.event_seq) + "): ";
    // Format 2: the row is the content whose digest the event recorded.
    if (auto issued = r.receipts.find(rec.event_seq); issued != r.receipts.end()) {
      if (issued->second.first != rec.subject_id) {
        cmp.Differ(rec.event_seq, where + "belongs to subject " + std::to_string(rec.subject_id) +
                                      ", the ledger says " + std::to_string(issued->second.first));
      } else if (crypto::ToHex(crypto::Sha256(rec.body)) != issued->second.second) {
        cmp.Differ(rec.event_seq, where + "the content is not the one the ledger recorded");
      }
      r.receipts.erase(issued);
      return;
    }
    // Format 1: a signed receipt naming its event's hash.
    auto it = r.events.find(rec.event_seq);
    if (it == r.events.end() || it->second.first != rec.subject_id) {
      return (void)cmp.Differ(rec.event_seq, where + "documents no event of subject " +
                                                 std::to_string(rec.subject_id));
    }
    boost::system::error_code ec;
    const json::value v = json::parse(rec.body, ec);
    const json::value* ledger = !ec && v.is_object() ? v.get_object().if_contains("ledger") : nullptr;
    const json::value* hash = ledger && ledger->is_object() ? ledger->get_object().if_contains("hash") : nullptr;
    if (!hash || !hash->is_string() || hash->get_string() != it->second.second) {
      return (void)cmp.Differ(rec.event_seq, where + "does not name its event's hash");
    }
    if (check_receipt) {
      if (const std::string why = check_receipt(rec); !why.empty()) {
        cmp.Differ(rec.event_seq, where + why);
      }
    }
  }));
  if (!r.receipts.empty() && cmp.ok()) {
    cmp.Differ(r.receipts.begin()->first,
               "receipts (event " + std::to_string(r.receipts.begin()->first) + "): missing from the table");
  }

  // Calendars: the file the ledger recorded.
  QORGAU_TRY(txn.ScanCalendarYears([&](const store::CalendarYearRecord& c) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "calendar_years (" + c.country + ", " + std::to_string(c.year) + "): ";
    auto it = r.calendars.find({c.country, c.year});
    if (it == r.calendars.end()) return (void)cmp.Differ(0, where + "no event imported it");
    const CalendarState& w = it->second;
    if (crypto::ToHex(crypto::Sha256(c.content)) != w.file_hash) {
      cmp.Differ(w.seq, where + "the file is not the one the ledger recorded");
    } else if (c.imported_at != w.at || c.event_seq != w.seq) {
      cmp.Differ(w.seq, where + "time or event differ from the ledger's");
    }
    r.calendars.erase(it);
  }));
  if (!r.calendars.empty() && cmp.ok()) {
    const auto& [key, w] = *r.calendars.begin();
    cmp.Differ(w.seq, "calendar_years (" + key.first + ", " + std::to_string(key.second) + "): missing from the table");
  }

  // The breach register.
  QORGAU_TRY(txn.ScanBreaches([&](const store::BreachRecord& b) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "breaches (" + std::to_string(b.id) + "): ";
    auto it = r.breaches.find(b.id);
    if (it == r.breaches.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const store::BreachRecord& w = it->second;
    if (b.detected_at != w.detected_at || b.notify_due_at != w.notify_due_at) {
      cmp.Differ(w.event_seq, where + "detection or notice deadline differ from the ledger's");
    } else if (b.how != w.how || b.categories != w.categories || b.measures != w.measures || b.subjects != w.subjects) {
      cmp.Differ(w.event_seq, where + "how, categories, measures or subjects differ from the ledger's");
    } else if (b.notified_at != w.notified_at || b.notice_reference != w.notice_reference || b.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "the notice's sending differs from the ledger's");
    }
    r.breaches.erase(it);
  }));
  if (!r.breaches.empty() && cmp.ok()) {
    cmp.Differ(r.breaches.begin()->first,
               "breaches (" + std::to_string(r.breaches.begin()->first) + "): missing from the table");
  }

  // Transfers to recipients and who went in each.
  QORGAU_TRY(txn.ScanTransfers([&](const store::TransferRecord& t) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "transfers (" + std::to_string(t.id) + "): ";
    auto it = r.transfers.find(t.id);
    if (it == r.transfers.end()) return (void)cmp.Differ(0, where + "no event made it");
    const store::TransferRecord& w = it->second;
    if (t.at != w.at || t.actor != w.actor || t.recipient != w.recipient || t.country != w.country ||
        t.agreement != w.agreement) {
      cmp.Differ(w.id, where + "time, actor, recipient, country or agreement differ from the ledger's");
    } else if (t.purpose != w.purpose || t.categories != w.categories || t.edition != w.edition ||
               t.format != w.format || t.sent != w.sent || t.refused != w.refused) {
      cmp.Differ(w.id, where + "purpose, categories, edition, format or counts differ from the ledger's");
    }
    r.transfers.erase(it);
  }));
  if (!r.transfers.empty() && cmp.ok()) {
    cmp.Differ(r.transfers.begin()->first,
               "transfers (" + std::to_string(r.transfers.begin()->first) + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanTransferSubjects([&](const store::TransferSubjectRecord& t) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "transfer_subjects (" + std::to_string(t.transfer_id) + ", subject " + std::to_string(t.subject_id) + "): ";
    auto it = r.transfer_subjects.find({t.transfer_id, t.subject_id});
    if (it == r.transfer_subjects.end()) return (void)cmp.Differ(0, where + "no event sent this subject's data");
    const auto& [w, seq] = it->second;
    if (t.basis != w.basis || t.cross_border != w.cross_border) {
      cmp.Differ(seq, where + "basis or cross-border ground differ from the ledger's");
    }
    r.transfer_subjects.erase(it);
  }));
  if (!r.transfer_subjects.empty() && cmp.ok()) {
    const auto& [key, w] = *r.transfer_subjects.begin();
    cmp.Differ(w.second, "transfer_subjects (" + std::to_string(key.first) + ", subject " +
                             std::to_string(key.second) + "): missing from the table");
  }

  // Editions: each as its policy.published event recorded it.
  QORGAU_ASSIGN_OR_RETURN(const auto editions, txn.ListEditions());
  for (const auto& ed : editions) {
    if (!cmp.ok()) break;
    cmp.Row();
    const std::string where = "editions (" + std::to_string(ed.number) + "): ";
    auto it = r.editions.find(ed.number);
    if (it == r.editions.end()) {
      cmp.Differ(0, where + "no event published it");
      break;
    }
    const auto& [w, seq] = it->second;
    if (ed.hash != w.hash || ed.published_at != w.published_at) {
      cmp.Differ(seq, where + "its files' hash or publication differ from the ledger's");
    } else if (ed.effective_at != w.effective_at || ed.reason != w.reason || ed.renewal != w.renewal) {
      cmp.Differ(seq, where + "its moment, reason or renewal differ from the ledger's");
    }
    r.editions.erase(it);
  }
  if (!r.editions.empty() && cmp.ok()) {
    cmp.Differ(r.editions.begin()->second.second,
               "editions (" + std::to_string(r.editions.begin()->first) + "): missing from the table");
  }
  // Acceptances of editions.
  QORGAU_TRY(txn.ScanAcceptances([&](const store::AcceptanceRecord& a) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "acceptances (subject " + std::to_string(a.subject_id) + ", edition " + std::to_string(a.edition) + "): ";
    auto it = r.acceptances.find({a.subject_id, a.edition});
    if (it == r.acceptances.end()) return (void)cmp.Differ(0, where + "no event recorded it");
    const store::AcceptanceRecord& w = it->second;
    if (a.how != w.how || a.channel != w.channel || a.evidence != w.evidence || a.at != w.at ||
        a.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "differs from the ledger's");
    }
    r.acceptances.erase(it);
  }));
  if (!r.acceptances.empty() && cmp.ok()) {
    const auto& [key, w] = *r.acceptances.begin();
    cmp.Differ(w.event_seq, "acceptances (subject " + std::to_string(key.first) + ", edition " +
                                std::to_string(key.second) + "): missing from the table");
  }
  // The outbox tells of events: each row names one of the kind it says,
  // about a subject the ledger knows.
  QORGAU_TRY(txn.ScanOutbox(false, [&](const store::OutboxRecord& o) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where =
        "outbox (event " + std::to_string(o.event_seq) + ", subject " + std::to_string(o.subject_id) + "): ";
    auto it = r.outbox_events.find(o.event_seq);
    if (it == r.outbox_events.end() || it->second != o.kind) {
      cmp.Differ(o.event_seq, where + "no " + o.kind + " event has this seq");
    } else if (o.subject_id != 0 && !r.ever_added.count(o.subject_id)) {
      cmp.Differ(o.event_seq, where + "no event added this subject");
    } else if (o.kind == "policy.published") {
      --r.outbox_notified[o.event_seq];
    } else if (!r.outbox_due.erase({o.event_seq, o.subject_id})) {
      cmp.Differ(o.event_seq, where + "the " + o.kind + " event concerns another subject");
    }
  }));
  // And nothing the ledger sent other systems is missing from it.
  if (!r.outbox_due.empty() && cmp.ok()) {
    const auto [seq, subject] = *r.outbox_due.begin();
    cmp.Differ(seq, "outbox (event " + std::to_string(seq) + ", subject " + std::to_string(subject) +
                        "): missing; the " + r.outbox_events[seq] + " event was not put in the outbox");
  }
  for (const auto& [seq, left] : r.outbox_notified) {
    if (left != 0 && cmp.ok()) {
      cmp.Differ(seq, "outbox (event " + std::to_string(seq) + "): the policy.published event told " +
                          (left > 0 ? std::to_string(left) + " subjects more than the outbox holds"
                                    : std::to_string(-left) + " subjects fewer than the outbox holds"));
    }
  }
  // Webhooks: each as its webhook.added event says, none removed or never
  // added. Their delivery cursors are operational state, not the ledger's.
  QORGAU_ASSIGN_OR_RETURN(const auto hooks, txn.ListWebhooks());
  for (const auto& w : hooks) {
    if (!cmp.ok()) break;
    cmp.Row();
    const std::string where = "webhooks (" + w.name + "): ";
    auto it = r.webhooks.find(w.name);
    if (it == r.webhooks.end()) {
      cmp.Differ(0, where + "no event added it, or an event removed it");
    } else if (crypto::ToHex(crypto::Sha256(w.url)) != it->second.url_hash ||
               w.secret_file != it->second.secret_file || w.added_at != it->second.added_at ||
               w.event_seq != it->second.seq) {
      cmp.Differ(it->second.seq, where + "differs from its webhook.added event");
    }
    if (it != r.webhooks.end()) r.webhooks.erase(it);
  }
  if (!r.webhooks.empty() && cmp.ok()) {
    cmp.Differ(r.webhooks.begin()->second.seq, "webhooks (" + r.webhooks.begin()->first + "): missing from the table");
  }

  // Aggregate releases: what each said, as its event says it.
  QORGAU_TRY(txn.ScanAggregateReleases([&](const store::AggregateReleaseRecord& a) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "aggregate_releases (" + std::to_string(a.id) + "): ";
    auto it = r.aggregates.find(a.id);
    if (it == r.aggregates.end()) return (void)cmp.Differ(0, where + "no event released it");
    const store::AggregateReleaseRecord& w = it->second;
    if (a.at != w.at || a.actor != w.actor || a.purpose != w.purpose || a.recipient != w.recipient ||
        a.epsilon != w.epsilon || a.body != w.body) {
      cmp.Differ(w.id, where + "differs from the release the ledger recorded");
    }
    r.aggregates.erase(it);
  }));
  if (!r.aggregates.empty() && cmp.ok()) {
    cmp.Differ(r.aggregates.begin()->first,
               "aggregate_releases (" + std::to_string(r.aggregates.begin()->first) + "): missing from the table");
  }

  // Blocks.
  QORGAU_TRY(txn.ScanSubjectBlocks([&](const store::SubjectBlockRecord& b) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "subject_blocks (" + std::to_string(b.subject_id) + "): ";
    auto it = r.blocks.find(b.subject_id);
    if (it == r.blocks.end()) return (void)cmp.Differ(0, where + "no event blocked it, or the block was lifted");
    const auto& w = it->second;
    if (b.application_id != w.application_id || b.blocked_at != w.blocked_at || b.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "application, time or event differ from the ledger's");
    }
    r.blocks.erase(it);
  }));
  if (!r.blocks.empty() && cmp.ok()) {
    cmp.Differ(r.blocks.begin()->second.event_seq,
               "subject_blocks (" + std::to_string(r.blocks.begin()->first) + "): missing from the table: the "
               "ledger says the subject is blocked");
  }

  // Representatives of changes.
  QORGAU_TRY(txn.ScanRepresentations([&](const store::RepresentationRecord& x) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "representations (" + std::to_string(x.event_seq) + "): ";
    auto it = r.representations.find(x.event_seq);
    if (it == r.representations.end()) return (void)cmp.Differ(0, where + "no event names a representative");
    const auto& w = it->second;
    if (x.subject_id != w.record.subject_id || x.requester != w.record.requester ||
        x.proof_kind != w.record.proof_kind || x.proof_valid_until != w.record.proof_valid_until ||
        crypto::ToHex(crypto::Sha256(x.sealed)) != w.sealed_hash) {
      cmp.Differ(w.record.event_seq, where + "the subject, representative or proof differ from the ledger's");
    }
    r.representations.erase(it);
  }));
  if (!r.representations.empty() && cmp.ok()) {
    cmp.Differ(r.representations.begin()->first,
               "representations (" + std::to_string(r.representations.begin()->first) +
                   "): missing from the table: the ledger says a representative acted");
  }

  // Applications and their documents.
  QORGAU_TRY(txn.ScanAllApplications([&](const store::ApplicationRecord& a) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "applications (" + std::to_string(a.id) + "): ";
    auto it = r.applications.find(a.id);
    if (it == r.applications.end()) return (void)cmp.Differ(0, where + "no event received it");
    const store::ApplicationRecord& w = it->second.record;
    const std::string rep = a.representative.empty() ? "" : crypto::ToHex(crypto::Sha256(a.representative));
    if (a.state != w.state) {
      cmp.Differ(w.event_seq, where + "state is " + ApplicationStateName(a.state) + ", the ledger says " +
                                  ApplicationStateName(w.state));
    } else if (a.received_at != w.received_at || a.due_at != w.due_at || a.working_days != w.working_days) {
      cmp.Differ(w.event_seq, where + "receipt or deadline differ from the ledger's");
    } else if (a.subject_id != w.subject_id || a.kind != w.kind || a.channel != w.channel ||
               a.reference != w.reference || a.requester != w.requester || a.purposes != w.purposes ||
               a.proof_kind != w.proof_kind || a.proof_reference != w.proof_reference ||
               a.proof_valid_until != w.proof_valid_until || rep != it->second.representative_hash) {
      cmp.Differ(w.event_seq, where + "subject, kind, channel, applicant or authority differ from the ledger's");
    } else if (a.handler != w.handler || a.closed_at != w.closed_at || a.outcome != w.outcome ||
               a.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "handler, outcome or event differ from the ledger's");
    }
    r.applications.erase(it);
  }));
  if (!r.applications.empty() && cmp.ok()) {
    cmp.Differ(r.applications.begin()->first,
               "applications (" + std::to_string(r.applications.begin()->first) + "): missing from the table");
  }
  QORGAU_TRY(txn.ScanAllApplicationDocuments([&](const store::ApplicationDocumentRecord& doc) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "application_documents (" + std::to_string(doc.application_id) + ", " + doc.reference + "): ";
    auto it = r.documents.find({doc.application_id, doc.reference});
    if (it == r.documents.end()) return (void)cmp.Differ(0, where + "no event added it");
    const auto& w = it->second;
    if (doc.sha256 != w.sha256 || doc.added_at != w.added_at || doc.event_seq != w.event_seq) {
      cmp.Differ(w.event_seq, where + "digest, time or event differ from the ledger's");
    }
    r.documents.erase(it);
  }));
  if (!r.documents.empty() && cmp.ok()) {
    const auto& [key, w] = *r.documents.begin();
    cmp.Differ(w.event_seq, "application_documents (" + std::to_string(key.first) + ", " + key.second +
                                "): missing from the table");
  }

  // Destruction runs and their acts.
  QORGAU_TRY(txn.ScanRetentionRuns([&](const store::RetentionRunRecord& run) {
    if (!cmp.ok()) return;
    cmp.Row();
    const std::string where = "retention_runs (" + std::to_string(run.run) + "): ";
    auto it = r.runs.find(run.run);
    if (it == r.runs.end()) return (void)cmp.Differ(0, where + "no event started it");
    const auto& [w, seq] = it->second;
    if (run.as_of != w.as_of || run.started_at != w.started_at || run.actor != w.actor || run.edition != w.edition) {
      cmp.Differ(seq, where + "as_of, start, actor or edition differ from the ledger's");
    } else if (run.finished_at != w.finished_at || run.act != w.act || run.act_seq != w.act_seq) {
      cmp.Differ(seq, where + "its act is not the one the ledger recorded");
    }
    r.runs.erase(it);
  }));
  if (!r.runs.empty() && cmp.ok()) {
    cmp.Differ(r.runs.begin()->second.second,
               "retention_runs (" + std::to_string(r.runs.begin()->first) + "): missing from the table");
  }

  // The keys in force: after a rotation, the meta rows it wrote. Before
  // any, the check value was written at init without an event.
  if (r.key_check && cmp.ok()) {
    cmp.Row();
    QORGAU_ASSIGN_OR_RETURN(const auto check, txn.GetMeta(crypto::kKeyCheckMeta));
    if (!check || crypto::ToHex(crypto::Sha256(*check)) != r.key_check->first) {
      cmp.Differ(r.key_check->second, "meta (key_check): the master key's check value is not the one "
                                      "the last master_key.rotated event recorded");
    }
  }
  if (r.signing_key && cmp.ok()) {
    cmp.Row();
    QORGAU_ASSIGN_OR_RETURN(const auto id, txn.GetMeta(kSigningKeyMeta));
    if (!id || std::string(id->begin(), id->end()) != r.signing_key->first) {
      cmp.Differ(r.signing_key->second, "meta (signing_key): the ledger key is not the one the last "
                                        "signing_key.rotated event put in force");
    }
  }
  return report;
}

}  // namespace qorgau::ledger
