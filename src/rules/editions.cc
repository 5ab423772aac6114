// Policy editions (R-0.1, R-XI): see editions.h.
#include "rules/editions.h"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "policy/policy_loader.h"
#include "rules/checks.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;

// The purposes a change concerns; "" for a change that concerns everyone.
std::set<std::string> Concerns(const policy::PolicyChange& c, const policy::Policy& from, const policy::Policy& to) {
  std::set<std::string> out;
  auto add_refs = [&](const std::vector<policy::Ref>& refs) {
    for (const auto& r : refs) out.insert(r.id);
  };
  if (c.section == "purposes") {
    out.insert(c.id);
  } else if (c.section == "categories") {
    for (const policy::Policy* p : {&from, &to}) {
      if (const auto* x = p->FindCategory(c.id)) add_refs(x->purposes);
    }
  } else if (c.section == "services") {
    for (const policy::Policy* p : {&from, &to}) {
      if (const auto* x = p->FindService(c.id)) add_refs(x->purposes);
    }
  } else if (c.section == "recipients") {
    for (const policy::Policy* p : {&from, &to}) {
      if (const auto* x = p->FindRecipient(c.id)) add_refs(x->purposes);
    }
  } else {
    out.insert("");
  }
  // A purpose resting on law concerns every subject.
  for (const std::string& id : std::set<std::string>(out)) {
    for (const policy::Policy* p : {&from, &to}) {
      const auto* pu = p->FindPurpose(id);
      if (pu && pu->basis == policy::LegalBasis::kLaw) out.insert("");
    }
  }
  return out;
}

}  // namespace

std::string PolicyDiffJson(const policy::PolicyDiff& diff, const policy::Policy& to) {
  json::array changes;
  for (const auto& c : diff.changes) {
    auto reason = to.edition.changes.find(c.Key());
    changes.push_back(json::object{{"change", c.Key()},
                                   {"section", c.section},
                                   {"id", c.id},
                                   {"kind", c.change},
                                   {"fields", json::array(c.fields.begin(), c.fields.end())},
                                   {"reason", reason == to.edition.changes.end() ? json::value(nullptr)
                                                                                 : json::value(reason->second)}});
  }
  return json::serialize(json::object{{"changes", std::move(changes)},
                                      {"renewal", json::array(diff.widened.begin(), diff.widened.end())}});
}

Result<policy::PolicyDiff> Editions::Prepare(const PublishRequest& req, const Caller& caller,
                                             store::EditionRecord* latest) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kPolicyPublish));
  if (!req.policy) return Fail(ErrorCode::kInvalidArgument, "policy", "no policy given");
  if (req.reason.empty() || req.reason.size() > 1000) {
    return Fail(ErrorCode::kInvalidArgument, "reason", "say why the edition is published (at most 1000 bytes)");
  }
  const policy::Policy& next = *req.policy;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(auto found, txn->LatestEdition());
    if (!found) return Fail(ErrorCode::kFailedPrecondition, "policy", "no edition is published");
    *latest = std::move(*found);
  }
  if (next.edition.number != latest->number + 1) {
    return Fail(ErrorCode::kFailedPrecondition, "edition.number",
                "the next edition is " + std::to_string(latest->number + 1) + ", not " +
                    std::to_string(next.edition.number));
  }
  const UnixMillis now = d_.clock.Now();
  if (req.effective_at && *req.effective_at < now) {
    return Fail(ErrorCode::kInvalidArgument, "effective_at", "an edition takes effect on publication or later");
  }
  policy::LoadResult before = policy::LoadPolicyBundle(latest->files, latest->main_file);
  if (!before.policy) {
    return Fail(ErrorCode::kCorruption, "editions", "the published edition " + std::to_string(latest->number) +
                                                        " no longer loads");
  }
  policy::PolicyDiff diff = policy::DiffPolicies(*before.policy, next);
  if (diff.changes.empty()) {
    return Refuse("no_change", "policy", "the edition changes nothing from edition " + std::to_string(latest->number));
  }
  // R-XI.1: each change with its reason, and no reason for a change that
  // is not made.
  std::string missing, unknown;
  std::set<std::string> keys;
  for (const auto& c : diff.changes) {
    keys.insert(c.Key());
    if (!next.edition.changes.count(c.Key())) missing += (missing.empty() ? "" : ", ") + c.Key();
  }
  for (const auto& [key, reason] : next.edition.changes) {
    if (!keys.count(key)) unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!missing.empty()) {
    return Refuse("change_without_reason", "edition.changes", "give the reason for: " + missing);
  }
  if (!unknown.empty()) {
    return Refuse("reason_without_change", "edition.changes", "these change nothing: " + unknown);
  }
  return diff;
}

Result<policy::PolicyDiff> Editions::PreviewPolicy(const PublishRequest& req, const Caller& caller) {
  store::EditionRecord latest;
  return Prepare(req, caller, &latest);
}

Result<PublishOutcome> Editions::PublishPolicy(const PublishRequest& req, const Caller& caller) {
  store::EditionRecord latest;
  QORGAU_ASSIGN_OR_RETURN(policy::PolicyDiff diff, Prepare(req, caller, &latest));
  const policy::Policy& next = *req.policy;
  policy::LoadResult loaded_before = policy::LoadPolicyBundle(latest.files, latest.main_file);
  const policy::Policy& before = *loaded_before.policy;
  QORGAU_ASSIGN_OR_RETURN(const crypto::Bytes hash, EditionHash(req.files));
  const UnixMillis now = d_.clock.Now();
  const UnixMillis effective_at = req.effective_at.value_or(now);

  // Who is told (R-V.1 purpose 6): every subject whose data a changed
  // purpose serves (a consent to it, an active service that needs it), or
  // everyone in a relationship when the change concerns all.
  std::set<std::string> purposes;
  bool everyone = false;
  for (const auto& c : diff.changes) {
    for (const auto& p : Concerns(c, before, next)) {
      if (p.empty()) everyone = true;
      else purposes.insert(p);
    }
  }
  auto serves = [&](const std::string& service) {
    for (const policy::Policy* p : {&before, &next}) {
      const auto* s = p->FindService(service);
      if (!s) continue;
      for (const auto& r : s->purposes) {
        if (everyone || purposes.count(r.id)) return true;
      }
    }
    return false;
  };

  PublishOutcome out;
  out.edition = next.edition.number;
  out.effective_at = effective_at;
  out.diff = diff;
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    std::set<SubjectId> told;
    QORGAU_TRY(txn.ScanSubscriptions([&](const store::SubscriptionRecord& s) {
      if (s.active && serves(s.service)) told.insert(s.subject_id);
    }));
    QORGAU_TRY(txn.ScanConsents([&](const store::ConsentRecord& c) {
      if (c.state == store::ConsentState::kGranted && (everyone || purposes.count(c.purpose))) {
        told.insert(c.subject_id);
      }
    }));
    std::set<SubjectId> destroyed;
    QORGAU_TRY(txn.ScanSubjectIds([&](SubjectId id, bool gone) {
      if (gone) destroyed.insert(id);
    }));
    for (SubjectId id : destroyed) told.erase(id);

    store::EditionRecord rec{next.edition.number, req.main_file, hash, now, req.files, effective_at, req.reason,
                             diff.widened};
    QORGAU_TRY(txn.PutEdition(rec));
    ledger::EventDraft ev{"policy.published", std::nullopt, caller.id(), {}};
    ev.data["edition"] = next.edition.number;
    ev.data["hash"] = crypto::ToHex(hash);
    if (next.edition.effective_date) {
      ev.data["effective_date"] = FormatDate(*next.edition.effective_date);
    } else {
      ev.data["effective_date"] = nullptr;
    }
    ev.data["effective_at"] = FormatUtc(effective_at);
    ev.data["reason"] = req.reason;
    boost::system::error_code ec;
    ev.data["diff"] = json::parse(PolicyDiffJson(diff, next), ec);
    ev.data["renewal"] = json::array(diff.widened.begin(), diff.widened.end());
    ev.data["notified"] = static_cast<std::int64_t>(told.size());
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
    for (SubjectId id : told) QORGAU_TRY(txn.InsertOutbox({event.seq, id, "policy.published", now}));
    out.notified = static_cast<std::int64_t>(told.size());
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  return out;
}

Result<std::vector<EditionView>> Editions::ListEditions() {
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(auto records, txn->ListEditions());
  std::lock_guard lock(loaded_mu_);
  // What was loaded before stays, as long as it is the same edition (its
  // number and the hash of its files).
  std::size_t same = 0;
  while (same < loaded_.size() && same < records.size() && loaded_[same].record.number == records[same].number &&
         loaded_[same].record.hash == records[same].hash) {
    ++same;
  }
  loaded_.resize(same);
  for (std::size_t i = same; i < records.size(); ++i) {
    auto& r = records[i];
    policy::LoadResult loaded = policy::LoadPolicyBundle(r.files, r.main_file);
    if (!loaded.policy) {
      return Fail(ErrorCode::kCorruption, "editions", "edition " + std::to_string(r.number) + " no longer loads");
    }
    EditionView v{std::move(r), std::make_shared<const policy::Policy>(std::move(*loaded.policy)), std::nullopt,
                  false};
    if (!loaded_.empty()) v.diff = policy::DiffPolicies(*loaded_.back().policy, *v.policy);
    loaded_.push_back(std::move(v));
  }
  std::vector<EditionView> out = loaded_;
  for (auto& v : out) v.in_force = v.record.number == d_.policy->edition.number;
  return out;
}

Result<store::AcceptanceRecord> Editions::AcceptEdition(const SubjectKey& key, const std::string& channel,
                                                        const std::string& evidence, const Caller& caller) {
  const policy::Policy& p = *d_.policy;
  QORGAU_TRY(Authorize(p, caller, Action::kPolicyAccept));
  QORGAU_TRY(core_.AuthorizeKey(caller, key));
  if (!p.FindChannel(channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + channel + "' is not a consent channel");
  }
  QORGAU_TRY(CheckReference(evidence, "evidence"));
  store::AcceptanceRecord rec;
  auto written = core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.ResolveUnblocked(txn, key));
    QORGAU_ASSIGN_OR_RETURN(const auto found, txn.GetAcceptance(id, p.edition.number));
    if (found) {
      return Fail(ErrorCode::kAlreadyExists, "edition",
                  "the subject accepted edition " + std::to_string(p.edition.number) + " already (" + found->how + ")");
    }
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"policy.accepted", id, caller.id(), {}};
    ev.data["edition"] = p.edition.number;
    ev.data["how"] = "explicit";
    ev.data["channel"] = channel;
    ev.data["evidence"] = evidence;
    QORGAU_ASSIGN_OR_RETURN(const auto event, ledger::Append(txn, now, ev));
    rec = {id, p.edition.number, "explicit", channel, evidence, now, event.seq};
    QORGAU_TRY(txn.InsertAcceptance(rec));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return rec;
}

Result<std::optional<store::AcceptanceRecord>> Editions::EditionAcceptance(const Caller& caller,
                                                                         const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindUnblocked(caller, key, "acceptance"));
  QORGAU_TRY(core_.RecordRead(caller, id, "acceptance", "", {}, Authorize(*d_.policy, caller, Action::kConsentsRead)));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  return txn->GetAcceptance(id, d_.policy->edition.number);
}

Result<std::vector<store::OutboxRecord>> Editions::Outbox(bool pending_only, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kOutboxRead));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<store::OutboxRecord> out;
  QORGAU_TRY(txn->ScanOutbox(pending_only, [&](const store::OutboxRecord& r) { out.push_back(r); }));
  return out;
}

}  // namespace qorgau::rules
