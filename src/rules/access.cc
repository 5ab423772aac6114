// Actors, duties, API keys and the need-to-know rule (R-II.3, R-VIII.1,
// R-VIII.2), with the access trail in the ledger.
#include <algorithm>
#include <boost/json.hpp>

#include "core/personal_value.h"
#include "rules/checks.h"
#include "rules/engine.h"

namespace qorgau::rules {
namespace {

using store::ActorRole;

constexpr std::string_view kKeyPrefix = "qk_";

}  // namespace

void Engine::ForgetCallers() {
  std::lock_guard<std::mutex> lock(callers_mu_);
  callers_.clear();
  ++callers_generation_;
}

Result<store::ActorRecord> Engine::PutActor(const ActorInput& in, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  if (auto r = CheckReference(in.id, "id"); !r) return tl::unexpected(r.error());
  if (in.name.size() > 200) return Fail(ErrorCode::kInvalidArgument, "name", "longer than 200 bytes");
  for (const auto* date : {&in.nda_signed, &in.liability_acknowledged}) {
    if (date->empty()) continue;
    if (auto d = ParseDate(*date, date == &in.nda_signed ? "nda_signed" : "liability_acknowledged"); !d) {
      return tl::unexpected(d.error());
    }
  }
  for (const auto& p : in.purposes) {
    if (!d_.policy->FindPurpose(p)) {
      return Fail(ErrorCode::kNotFound, "purposes", "'" + p + "' is not a purpose");
    }
  }
  store::ActorRecord rec{in.id, in.role, in.name, in.nda_signed, in.liability_acknowledged,
                         in.purposes, 0};
  auto written = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    // One time for the row and its event: the replay compares them.
    const UnixMillis now = d_.clock.Now();
    rec.created_at = now;
    auto existing = txn.GetActor(in.id);
    if (!existing) return tl::unexpected(existing.error());
    if (*existing) rec.created_at = (*existing)->created_at;
    if (auto r = txn.PutActor(rec); !r) return tl::unexpected(r.error());
    ledger::EventDraft ev{*existing ? "actor.updated" : "actor.created", std::nullopt, by.id(), {}};
    ev.data["actor"] = in.id;
    ev.data["role"] = store::ActorRoleName(in.role);
    // The display name is an employee's personal data: its digest only.
    ev.data["name_hash"] = crypto::ToHex(crypto::Sha256(in.name));
    ev.data["nda_signed"] = in.nda_signed;
    ev.data["liability_acknowledged"] = in.liability_acknowledged;
    boost::json::array purposes;
    for (const auto& p : in.purposes) purposes.emplace_back(p);
    ev.data["purposes"] = std::move(purposes);
    if (auto e = ledger::Append(txn, now, ev); !e) return tl::unexpected(e.error());
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return rec;
}

Result<store::DutyRecord> Engine::GrantDuty(const store::DutyRecord& duty, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  const policy::Policy& p = *d_.policy;
  if (duty.actions == 0 || (duty.actions & ~kAllDutyActions) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "actions",
                "name at least one of read, record, consent, withdraw, obligations");
  }
  if (!p.FindPurpose(duty.purpose)) {
    return Fail(ErrorCode::kNotFound, "purpose", "'" + duty.purpose + "' is not a purpose");
  }
  if (duty.categories.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "categories", "name at least one category");
  }
  for (const auto& c : duty.categories) {
    if (!p.FindCategory(c)) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a category");
    if (!p.CategoryAllowsPurpose(c, duty.purpose)) {
      return Refuse("category_not_allowed_for_purpose", "categories",
                    "'" + c + "' is not a category purpose '" + duty.purpose + "' may use");
    }
  }
  auto written = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto actor = txn.GetActor(duty.actor_id);
    if (!actor) return tl::unexpected(actor.error());
    if (!*actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if ((*actor)->role == ActorRole::kAdmin) {
      return Refuse("role_not_allowed", "actor",
                    "an administrator acts on no subject: give the duty to an employee or system");
    }
    if ((*actor)->role == ActorRole::kSystem &&
        std::find((*actor)->purposes.begin(), (*actor)->purposes.end(), duty.purpose) ==
            (*actor)->purposes.end()) {
      return Refuse("purpose_not_allowed_for_caller", "purpose",
                    "the system does not act for purpose '" + duty.purpose + "'");
    }
    if (auto r = txn.PutDuty(duty); !r) return tl::unexpected(r.error());
    ledger::EventDraft ev{"duty.granted", std::nullopt, by.id(), {}};
    ev.data["actor"] = duty.actor_id;
    ev.data["purpose"] = duty.purpose;
    boost::json::array cats;
    for (const auto& c : duty.categories) cats.emplace_back(c);
    ev.data["categories"] = std::move(cats);
    ev.data["view"] = duty.full_view ? "full" : "masked";
    ev.data["actions"] = DutyActionsText(duty.actions);
    if (auto e = ledger::Append(txn, d_.clock.Now(), ev); !e) return tl::unexpected(e.error());
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return duty;
}

Result<std::string> Engine::CreateApiKey(const std::string& actor_id, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  auto random = crypto::RandomBytes(32);
  if (!random) return tl::unexpected(random.error());
  const std::string key = std::string(kKeyPrefix) + crypto::ToHex(*random);
  const crypto::Digest digest = crypto::Sha256(key);
  auto written = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto actor = txn.GetActor(actor_id);
    if (!actor) return tl::unexpected(actor.error());
    if (!*actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    const UnixMillis now = d_.clock.Now();
    if (auto r = txn.InsertApiKey(crypto::Bytes(digest.begin(), digest.end()), actor_id, now);
        !r) {
      return tl::unexpected(r.error());
    }
    ledger::EventDraft ev{"key.created", std::nullopt, by.id(), {}};
    ev.data["actor"] = actor_id;
    // The key's SHA-256, as the store keeps it (the `hash` suffix marks it
    // as a digest for the ledger's personal-data guard); never the key.
    ev.data["key_hash"] = crypto::ToHex(digest);
    if (auto e = ledger::Append(txn, now, ev); !e) return tl::unexpected(e.error());
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return key;
}

Result<std::vector<store::ActorRecord>> Engine::ListActors(const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsRead));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return (*txn)->ListActors();
}

Result<std::shared_ptr<const Caller>> Engine::CallerFor(const std::string& actor_id) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto actor, (*txn)->GetActor(actor_id));
  if (!actor) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "as",
                                "no actor '" + actor_id + "' (see 'qorgau actor list')",
                                "unauthenticated"});
  }
  QORGAU_ASSIGN_OR_RETURN(auto duties, (*txn)->GetDuties(actor_id));
  return std::make_shared<const Caller>(Caller{std::move(*actor), std::move(duties)});
}

Result<std::shared_ptr<const Caller>> Engine::Authenticate(std::string_view api_key) {
  auto unauthenticated = [] {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "authorization",
                                "a valid API key is needed (Authorization: Bearer qk_...)",
                                "unauthenticated"});
  };
  if (!api_key.starts_with(kKeyPrefix) || api_key.size() != kKeyPrefix.size() + 64) {
    return unauthenticated();
  }
  // The cache is keyed by the key itself (memory only, never stored), so a
  // known caller costs one lookup and no hashing.
  const std::string cache_key(api_key);
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(callers_mu_);
    if (auto it = callers_.find(cache_key); it != callers_.end()) return it->second;
    generation = callers_generation_;
  }
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  const crypto::Digest digest = crypto::Sha256(api_key);
  auto actor_id = (*txn)->FindApiKey(crypto::Bytes(digest.begin(), digest.end()));
  if (!actor_id) return tl::unexpected(actor_id.error());
  if (!*actor_id) return unauthenticated();
  auto actor = (*txn)->GetActor(**actor_id);
  if (!actor) return tl::unexpected(actor.error());
  if (!*actor) return unauthenticated();
  auto duties = (*txn)->GetDuties(**actor_id);
  if (!duties) return tl::unexpected(duties.error());
  auto caller = std::make_shared<const Caller>(Caller{std::move(**actor), std::move(*duties)});
  std::lock_guard<std::mutex> lock(callers_mu_);
  // An actor, duty or key that changed while we read must not be cached
  // in its old form: only cache what was read in the current generation.
  if (generation == callers_generation_) {
    if (callers_.size() > 10000) callers_.clear();
    callers_[cache_key] = caller;
  }
  return caller;
}

Result<SubjectView> Engine::ReadPersonalData(const Caller& caller, const SubjectKey& key,
                                             const std::string& purpose,
                                             const std::vector<std::string>& asked) {
  const policy::Policy& p = *d_.policy;
  if (!p.FindPurpose(purpose)) {
    return Fail(ErrorCode::kNotFound, "purpose", "'" + purpose + "' is not a purpose");
  }
  for (const auto& c : asked) {
    if (!p.FindCategory(c)) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a category");
  }
  auto subject = FindSubject(caller, key);
  if (!subject) return tl::unexpected(subject.error());

  // The need-to-know rule (rules/permissions.h); the first that fails is
  // the reason.
  const store::DutyRecord* duty = caller.Duty(purpose);
  std::vector<std::string> categories = asked;
  if (categories.empty() && duty) categories = duty->categories;
  std::string reason, why;
  if (auto allowed = Authorize(p, caller, Action::kDataRead, {{purpose}, categories, {}});
      !allowed) {
    reason = allowed.error().reason;
    why = allowed.error().message;
  }
  if (reason.empty()) {
    // Categories and subject first, from the index; the legal basis itself
    // is decided below, inside the transaction that records the read.
    auto decision = Decide(*subject, purpose, categories);
    if (!decision) return tl::unexpected(decision.error());
    if (decision->reason == index::Reason::kCategoryNotAllowed ||
        decision->reason == index::Reason::kSubjectDestroyed) {
      reason = std::string(index::ReasonCode(decision->reason));
      why = std::string(index::ReasonText(decision->reason));
    }
  }

  // The access trail: the attempt is recorded before the answer, and the
  // subject's legal basis is read in the same transaction, so no withdrawal
  // can fall between the decision and its record.
  const policy::Purpose* pu = p.FindPurpose(purpose);
  auto written = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    if (reason.empty() && pu->basis == policy::LegalBasis::kConsent) {
      auto consents = txn.GetConsents(*subject);
      if (!consents) return tl::unexpected(consents.error());
      index::Reason r = index::Reason::kNoConsent;
      for (const auto& c : *consents) {
        if (c.purpose != purpose) continue;
        r = c.state == store::ConsentState::kGranted ? index::Reason::kConsentInForce
                                                     : index::Reason::kWithdrawn;
      }
      if (r != index::Reason::kConsentInForce) {
        reason = std::string(index::ReasonCode(r));
        why = std::string(index::ReasonText(r));
      }
    } else if (reason.empty() && pu->basis == policy::LegalBasis::kContract) {
      auto subs = txn.GetSubscriptions(*subject);
      if (!subs) return tl::unexpected(subs.error());
      bool active = false;
      for (const auto& sub : *subs) {
        const policy::Service* service = sub.active ? p.FindService(sub.service) : nullptr;
        if (!service) continue;
        for (const auto& r : service->purposes) active = active || r.id == purpose;
      }
      if (!active) {
        reason = std::string(index::ReasonCode(index::Reason::kNoActiveContract));
        why = std::string(index::ReasonText(index::Reason::kNoActiveContract));
      }
    }
    ledger::EventDraft ev{"access.read", *subject, caller.actor.id, {}};
    ev.data["what"] = "data";
    ev.data["purpose"] = purpose;
    boost::json::array cats;
    for (const auto& c : categories) cats.emplace_back(c);
    ev.data["categories"] = std::move(cats);
    ev.data["allowed"] = reason.empty();
    ev.data["reason"] = reason.empty() ? "need_to_know" : reason;
    if (auto e = ledger::Append(txn, d_.clock.Now(), ev); !e) return tl::unexpected(e.error());
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  if (!reason.empty()) {
    return tl::unexpected(Error{ErrorCode::kPermissionDenied, "purpose", why, reason});
  }

  auto view = ShowSubject(*subject, duty->full_view);
  if (!view) return view;
  std::erase_if(view->data, [&](const DataItem& d) {
    return std::find(categories.begin(), categories.end(), d.category) == categories.end();
  });
  return view;
}

Result<SubjectId> Engine::LookupSubject(const Caller& caller, const SubjectKey& key) {
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
  auto written = Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"access.lookup", found, caller.actor.id, {}};
    ev.data["by"] = by_iin ? "iin" : "phone";
    ev.data["allowed"] = covered;
    ev.data["found"] = found.has_value();
    ev.data["reason"] = reason;
    if (auto e = ledger::Append(txn, d_.clock.Now(), ev); !e) return tl::unexpected(e.error());
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

void Engine::RecordDecisions(const Caller& caller, const std::string& purpose,
                             const std::vector<std::string>& categories,
                             std::span<const SubjectId> subjects,
                             std::span<const index::Decision> decisions) {
  std::string cats;
  for (const auto& c : categories) cats += (cats.empty() ? "" : ",") + c;
  const UnixMillis now = d_.clock.Now();
  std::vector<store::DecisionRecord> rows;
  rows.reserve(subjects.size());
  for (std::size_t i = 0; i < subjects.size() && i < decisions.size(); ++i) {
    rows.push_back({0, now, caller.actor.id, subjects[i], purpose, cats,
                    std::string(index::ReasonCode(decisions[i].reason)), decisions[i].revision});
  }
  recorder_->Record(std::move(rows));
}

Result<std::vector<AccessEntry>> Engine::AccessTrail(const Caller& caller, const SubjectKey& key) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAccessTrailRead));
  QORGAU_ASSIGN_OR_RETURN(const SubjectId subject, FindSubject(caller, key));
  if (auto r = recorder_->Flush(); !r) return tl::unexpected(r.error());
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  const std::optional<SubjectId> id = subject;
  std::vector<AccessEntry> out;
  auto scanned = (*txn)->ScanSubjectEvents(*id, [&](const store::EventRecord& e) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(e.body, ec);
    if (ec || !v.is_object()) return;
    const auto& o = v.get_object();
    auto text = [](const boost::json::object& obj, const char* key) {
      const auto* x = obj.if_contains(key);
      return x && x->is_string() ? std::string(x->get_string()) : std::string();
    };
    const std::string type = text(o, "type");
    if (type != "access.read" && type != "access.lookup") return;
    const auto* data_value = o.if_contains("data");
    if (!data_value || !data_value->is_object()) return;
    const auto& data = data_value->get_object();
    AccessEntry a;
    a.seq = e.seq;
    a.at = text(o, "at");
    a.actor = text(o, "actor");
    a.type = type;
    a.what = type == "access.lookup" ? "lookup" : text(data, "what");
    if (a.what.empty()) a.what = "data";  // written before reads had kinds
    a.purpose = text(data, "purpose");
    if (const auto* cats = data.if_contains("categories"); cats && cats->is_array()) {
      for (const auto& c : cats->as_array()) {
        if (c.is_string()) a.categories.emplace_back(c.get_string());
      }
    }
    const auto* allowed = data.if_contains("allowed");
    a.allowed = allowed && allowed->is_bool() && allowed->get_bool();
    a.reason = text(data, "reason");
    out.push_back(std::move(a));
  });
  if (!scanned) return tl::unexpected(scanned.error());
  auto decisions = (*txn)->ScanSubjectDecisions(*id, [&](const store::DecisionRecord& r) {
    AccessEntry a;
    a.seq = 0;
    a.at = FormatUtc(r.at);
    a.actor = r.actor;
    a.type = "decision.made";
    a.purpose = r.purpose;
    size_t start = 0;
    while (start < r.categories.size()) {
      size_t comma = r.categories.find(',', start);
      if (comma == std::string::npos) comma = r.categories.size();
      a.categories.push_back(r.categories.substr(start, comma - start));
      start = comma + 1;
    }
    a.reason = r.reason;
    a.allowed = r.reason == "consent_in_force" || r.reason == "contract_active" || r.reason == "law";
    out.push_back(std::move(a));
  });
  if (!decisions) return tl::unexpected(decisions.error());
  // One trail in time order (the stamps are ISO 8601, so text order is time order).
  std::stable_sort(out.begin(), out.end(),
                   [](const AccessEntry& x, const AccessEntry& y) { return x.at < y.at; });
  // Reading the trail is itself a read about the subject: recorded once
  // the trail is read, so it appears in the next one.
  txn->reset();
  QORGAU_TRY(RecordRead(caller, subject, "access_trail", "", {}, Result<void>()));
  return out;
}

}  // namespace qorgau::rules
