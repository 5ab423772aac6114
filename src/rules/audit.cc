// What an auditor reads: access trails, the ledger's verification and
// checkpoints, receipts.
#include "rules/audit.h"

#include <algorithm>
#include <limits>
#include <boost/json.hpp>

#include "ledger/audit.h"
#include "rules/checks.h"
#include "rules/decision_recorder.h"

namespace qorgau::rules {

namespace {

// An event of a trail: a read, a lookup or a transfer; none for others.
std::optional<AccessEntry> EntryOf(const store::EventRecord& e) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(e.body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  auto text = [](const boost::json::object& obj, const char* key) {
    const auto* x = obj.if_contains(key);
    return x && x->is_string() ? std::string(x->get_string()) : std::string();
  };
  const std::string type = text(o, "type");
  if (type != "access.read" && type != "access.lookup" && type != "transfer.sent") return std::nullopt;
  const auto* data_value = o.if_contains("data");
  if (!data_value || !data_value->is_object()) return std::nullopt;
  const auto& data = data_value->get_object();
  AccessEntry a;
  a.seq = e.seq;
  a.at = text(o, "at");
  a.actor = text(o, "actor");
  a.type = type;
  a.what = type == "access.lookup" ? "lookup" : text(data, "what");
  // A transfer reads the values to hand them to the recipient.
  if (type == "transfer.sent") a.what = "transfer:" + text(data, "recipient");
  if (a.what.empty()) a.what = "data";  // written before reads had kinds
  a.purpose = text(data, "purpose");
  if (const auto* cats = data.if_contains("categories"); cats && cats->is_array()) {
    for (const auto& c : cats->as_array()) {
      if (c.is_string()) a.categories.emplace_back(c.get_string());
    }
  }
  const auto* allowed = data.if_contains("allowed");
  a.allowed = type == "transfer.sent" || (allowed && allowed->is_bool() && allowed->get_bool());
  a.reason = text(data, "reason");
  a.subject = e.subject.value_or(0);
  return a;
}

}  // namespace

Result<std::vector<AccessEntry>> Audit::AccessTrail(const Caller& caller, const SubjectKey& key) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAccessTrailRead));
  QORGAU_ASSIGN_OR_RETURN(const SubjectId subject, core_.FindSubject(caller, key));
  QORGAU_TRY(core_.recorder().Flush());
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  const std::optional<SubjectId> id = subject;
  std::vector<AccessEntry> out;
  auto scanned = (*txn)->ScanSubjectEvents(*id, [&](const store::EventRecord& e) {
    if (auto a = EntryOf(e)) {
      a->subject = 0;
      out.push_back(std::move(*a));
    }
  });
  if (!scanned) return tl::unexpected(scanned.error());
  auto decision = [&](UnixMillis at, const std::string& actor, const std::string& purpose,
                      std::string_view categories, std::string_view reason, bool allowed) {
    AccessEntry a;
    a.seq = 0;
    a.at = FormatUtc(at);
    a.actor = actor;
    a.type = "decision.made";
    a.purpose = purpose;
    size_t start = 0;
    while (start < categories.size()) {
      size_t comma = categories.find(',', start);
      if (comma == std::string::npos) comma = categories.size();
      a.categories.emplace_back(categories.substr(start, comma - start));
      start = comma + 1;
    }
    a.reason = std::string(reason);
    a.allowed = allowed;
    out.push_back(std::move(a));
  };
  // The decision log's first format: a row per decision, its reason by code.
  auto decisions = (*txn)->ScanSubjectDecisions(*id, [&](const store::DecisionRecord& r) {
    const auto reason = index::ReasonFromCode(r.reason);
    decision(r.at, r.actor, r.purpose, r.categories, r.reason, reason && index::IsAllowed(*reason));
  });
  if (!decisions) return tl::unexpected(decisions.error());
  // Its second: the requests of every seal that names the subject.
  decisions = (*txn)->ScanSubjectDecisionRequests(*id, [&](const store::DecisionRequestRecord& r) {
    for (std::size_t i = 0; i < r.subjects.size() && i < r.reasons.size(); ++i) {
      if (r.subjects[i] != *id) continue;
      const auto reason = static_cast<index::Reason>(static_cast<unsigned char>(r.reasons[i]));
      decision(r.at, r.actor, r.purpose, r.categories, index::ReasonCode(reason), index::IsAllowed(reason));
    }
  });
  if (!decisions) return tl::unexpected(decisions.error());
  // One trail in time order (the stamps are ISO 8601, so text order is time order).
  std::stable_sort(out.begin(), out.end(),
                   [](const AccessEntry& x, const AccessEntry& y) { return x.at < y.at; });
  // Reading the trail is itself a read about the subject: recorded once
  // the trail is read, so it appears in the next one.
  txn->reset();
  QORGAU_TRY(core_.RecordRead(caller, subject, "access_trail", "", {}, Result<void>()));
  return out;
}

Result<std::vector<AccessEntry>> Audit::AccessTrailBy(const Caller& caller, const TrailQuery& q) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAccessTrailRead));
  if (q.limit == 0 || q.limit > 10000) return Fail(ErrorCode::kInvalidArgument, "limit", "must be 1 to 10000");
  if (q.from && q.to && *q.to <= *q.from) return Fail(ErrorCode::kInvalidArgument, "to", "must be after 'from'");
  if (!q.actor.empty()) QORGAU_TRY(CheckReference(q.actor, "actor"));
  QORGAU_TRY(core_.recorder().Flush());
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  if (!q.actor.empty()) {
    // An unknown actor is said, not answered with an empty trail.
    QORGAU_ASSIGN_OR_RETURN(const auto known, txn->GetActor(q.actor));
    if (!known) return Fail(ErrorCode::kNotFound, "actor", "no such actor");
  }
  const std::string from = q.from ? FormatUtc(*q.from) : std::string();
  const std::string to = q.to ? FormatUtc(*q.to) : std::string();
  // Events are appended in time order, save clocks a moment apart: the
  // walk back stops a minute before `from`.
  const std::string floor = q.from ? FormatUtc(*q.from - 60'000) : std::string();
  std::vector<AccessEntry> out;
  QORGAU_TRY(txn->ScanReads(q.actor, std::numeric_limits<std::int64_t>::max(), [&](const store::EventRecord& e) {
    auto a = EntryOf(e);
    if (!a) return true;
    if (!floor.empty() && a->at < floor) return false;
    if ((!from.empty() && a->at < from) || (!to.empty() && a->at >= to)) return true;
    out.push_back(std::move(*a));
    return out.size() < q.limit;
  }));
  return out;
}

Result<ledger::VerifyReport> Audit::VerifyLedger(const Caller& caller,
                                                 const std::optional<ledger::TreeHead>& checkpoint) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAuditVerify));
  QORGAU_TRY(core_.recorder().Flush());
  QORGAU_ASSIGN_OR_RETURN(const std::string pem, d_.signer.PublicPem());
  QORGAU_ASSIGN_OR_RETURN(const crypto::Verifier key, crypto::Verifier::FromPem(pem));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return ledger::Audit(**txn, ledger::AuditOptions{&key, report::ReceiptChecker(key), checkpoint});
}

Result<ledger::TreeHead> Audit::LatestCheckpoint(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAuditCheckpoint));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto head, txn->LatestTreeHead());
  // Every committed batch ends signed, and opening seals what was not.
  if (!head) return Fail(ErrorCode::kFailedPrecondition, "ledger", "no signed tree head yet");
  return ledger::TreeHeadFromRecord(*head);
}

Result<ledger::WitnessStatement> Audit::ConsistencyProof(const Caller& caller, std::int64_t from,
                                                        std::optional<std::int64_t> to) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kAuditCheckpoint));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  return ledger::MakeWitnessStatement(*txn, from, to);
}

Result<std::string> Audit::Receipt(const Caller& caller, std::int64_t seq) {
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
  QORGAU_TRY(core_.RecordRead(caller, found->subject_id, "receipt", "", {},
                        Authorize(*d_.policy, caller, Action::kReceiptRead, scope)));
  return core_.ReceiptAt(seq);
}

}  // namespace qorgau::rules

