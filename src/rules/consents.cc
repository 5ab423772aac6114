// Consents, contracts and services (R-III.1 - R-III.4, R-VI.4, R-VI.5).
//
// A consent is given to a purpose whose basis is consent, through a declared
// channel, with its evidence (R-III.1, R-III.4). Joining a contract switches
// on the services taken. By R-III.3 it gives the consent that the
// services' contract-basis purposes rest on; for an additional service that
// needs consent-basis purposes, the join records that consent too, with the
// contract method as its channel and the form, application or SMS reference
// as evidence (Art. 8 of the law: never a made-up reference). Switching a service back on after it was switched
// off may need a written application and a new consent (R-VI.5), as the
// policy says for that service.
#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/working_calendar.h"
#include "rules/checks.h"
#include "rules/consents.h"
#include "rules/retention.h"

namespace qorgau::rules {
namespace {

using policy::LegalBasis;
using policy::ServiceKind;
using store::ConsentState;

// The purposes a service's consent covers: those resting on the contract
// (consent by joining, R-III.3) or on consent; a purpose resting on law
// needs no one's consent, so no one's duty to record it.
void AddServiceScope(const policy::Policy& p, const policy::Service& service, Scope* scope) {
  for (const auto& r : service.purposes) {
    const policy::Purpose* pu = p.FindPurpose(r.id);
    if (pu && pu->basis != LegalBasis::kLaw) scope->purposes.push_back(r.id);
  }
}
Scope ServiceScope(const policy::Policy& p, const policy::Service& service) {
  Scope scope;
  AddServiceScope(p, service, &scope);
  return scope;
}

std::string MethodId(const std::string& method) {
  if (method == "form") return "registration_form";
  if (method == "application") return "signed_application";
  return method;
}

// The identity of a representative acting now, checked, to seal ("" for
// none).
Result<std::string> RepresentativeIdentity(const policy::Policy& p, const std::optional<Representative>& rep,
                                           UnixMillis now) {
  if (!rep) return std::string();
  return CheckRepresentative(*rep, now, CountryTimeZone(p.controller.country));
}

// A consent to `purpose` in force: granted, and not waiting for renewal
// after an edition widened the purpose (R-XI.2).
bool Granted(const std::vector<store::ConsentRecord>& consents, const std::string& purpose,
             const index::DecisionIndex& index, SubjectId subject) {
  const bool granted = std::any_of(consents.begin(), consents.end(), [&](const store::ConsentRecord& c) {
    return c.purpose == purpose && c.state == ConsentState::kGranted;
  });
  return granted && index.Check(subject, index.PurposeOrdinal(purpose), 0).reason !=
                        index::Reason::kConsentRenewalRequired;
}

}  // namespace

Result<ConsentOutcome> Consents::GrantConsent(const ConsentRequest& req, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  QORGAU_TRY(CheckConsentPurpose(p, req.purpose));
  QORGAU_TRY(Authorize(p, actor, Action::kConsentGrant, {{req.purpose}, {}, {}}));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  if (!p.FindChannel(req.channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + req.channel + "' is not a consent channel");
  }
  QORGAU_TRY(CheckReference(req.evidence, "evidence"));
  QORGAU_ASSIGN_OR_RETURN(const std::string identity, RepresentativeIdentity(p, req.representative, d_.clock.Now()));

  ConsentOutcome out{0, req.purpose, ConsentState::kGranted, p.edition.number, 0};
  report::ReceiptInput receipt_input;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = core_.ResolveUnblocked(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    auto consents = txn.GetConsents(*id);
    if (!consents) return tl::unexpected(consents.error());
    // A consent in force is not given twice; one that an edition widening
    // the purpose left waiting for renewal (R-XI.2) is given again.
    const bool renewal = d_.index.Check(*id, d_.index.PurposeOrdinal(req.purpose), 0).reason ==
                         index::Reason::kConsentRenewalRequired;
    for (const auto& c : *consents) {
      if (c.purpose == req.purpose && c.state == ConsentState::kGranted && !renewal) {
        return Fail(ErrorCode::kAlreadyExists, "purpose",
                    "consent to '" + req.purpose + "' is already granted");
      }
    }
    QORGAU_ASSIGN_OR_RETURN(const auto by, Represent(d_, txn, *id, d_.clock.Now(), req.representative, identity));
    std::vector<index::Delta> deltas;
    auto seq = core_.PutConsent(txn, *id, req.purpose, ConsentState::kGranted, req.channel,
                          req.evidence, actor, &deltas, by ? &*by : nullptr, req.cross_border);
    if (!seq) return tl::unexpected(seq.error());
    out.subject = *id;
    auto receipt = core_.PrepareReceipt(txn, {*id, "consent.granted", {req.purpose}, {}, {}, req.channel,
                                        req.evidence});
    if (!receipt) return tl::unexpected(receipt.error());
    receipt_input = std::move(*receipt);
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  out.receipt = core_.SignReceipt(receipt_input);
  return out;
}

Result<std::vector<store::ConsentRecord>> Consents::ListConsents(const Caller& caller,
                                                                 const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindUnblocked(caller, key, "consents"));
  QORGAU_TRY(core_.RecordRead(caller, id, "consents", "", {},
                        Authorize(*d_.policy, caller, Action::kConsentsRead)));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto consents, (*txn)->GetConsents(id));
  std::erase_if(consents, [&](const store::ConsentRecord& c) { return !caller.SeesPurpose(c.purpose); });
  return consents;
}

Result<ContractOutcome> Consents::JoinContract(const ContractRequest& req, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  const std::string method = MethodId(req.method);
  if (!p.FindContractMethod(method)) {
    return Fail(ErrorCode::kNotFound, "method", "'" + req.method + "' is not a way of joining a contract");
  }
  if (req.services.empty()) return Fail(ErrorCode::kInvalidArgument, "services", "name at least one service");
  std::set<std::string> seen;
  for (const auto& id : req.services) {
    const policy::Service* s = p.FindService(id);
    if (!s) return Fail(ErrorCode::kNotFound, "services", "'" + id + "' is not a service");
    if (!seen.insert(id).second) return Fail(ErrorCode::kInvalidArgument, "services", "'" + id + "' given twice");
    const bool allowed = std::any_of(s->join_methods.begin(), s->join_methods.end(),
                                     [&](const policy::Ref& r) { return r.id == method; });
    if (!allowed) {
      return Refuse("method_not_allowed_for_service", "method",
                    "service '" + id + "' is not joined by '" + method + "' (R-III.2)");
    }
  }
  // Art. 8: the consent joining gives rests on the form, application or
  // SMS it was given by; its reference is the evidence, never one made up.
  QORGAU_TRY(CheckReference(req.evidence, "evidence"));
  // Joining gives consent to every purpose of the services joined (R-III.3):
  // the caller must be one who records consent for each of them.
  {
    Scope scope;
    for (const auto& id : req.services) AddServiceScope(p, *p.FindService(id), &scope);
    QORGAU_TRY(Authorize(p, actor, Action::kContractJoin, scope));
    QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  }
  QORGAU_ASSIGN_OR_RETURN(const std::string identity, RepresentativeIdentity(p, req.representative, d_.clock.Now()));

  ContractOutcome out;
  report::ReceiptInput receipt_input;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    out = ContractOutcome{};
    auto id = core_.ResolveUnblocked(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    auto subs = txn.GetSubscriptions(*id);
    if (!subs) return tl::unexpected(subs.error());
    for (const auto& s : *subs) {
      if (!seen.count(s.service)) continue;
      if (s.active) {
        return Fail(ErrorCode::kAlreadyExists, "services", "service '" + s.service + "' is already on");
      }
      // Switched off before (by a withdrawal or on request): switching it
      // back on follows the policy's re-enabling rule (R-VI.5).
      return Refuse("reenable_required", "services",
                    "service '" + s.service +
                        "' was switched off; switch it back on with 'service enable' (R-VI.5)");
    }
    auto consents = txn.GetConsents(*id);
    if (!consents) return tl::unexpected(consents.error());
    const UnixMillis now = d_.clock.Now();
    QORGAU_ASSIGN_OR_RETURN(const auto by, Represent(d_, txn, *id, now, req.representative, identity));
    auto contract = txn.InsertContract({0, *id, method, req.evidence, now, 0});
    if (!contract) return tl::unexpected(contract.error());
    const std::string& evidence = req.evidence;
    std::set<std::string> contract_purposes, consent_purposes;
    for (const auto& sid : req.services) {
      for (const auto& r : p.FindService(sid)->purposes) {
        const LegalBasis b = p.FindPurpose(r.id)->basis;
        if (b == LegalBasis::kContract) contract_purposes.insert(r.id);
        if (b == LegalBasis::kConsent) consent_purposes.insert(r.id);
      }
    }
    ledger::EventDraft ev{"contract.joined", *id, actor.id(), {}};
    ev.data["contract"] = *contract;
    ev.data["method"] = method;
    ev.data["evidence"] = evidence;
    boost::json::array services, given;
    for (const auto& s : req.services) services.emplace_back(s);
    for (const auto& pu : contract_purposes) given.emplace_back(pu);
    ev.data["services"] = std::move(services);
    ev.data["consent_by_joining"] = std::move(given);  // R-III.3
    if (by) RepresentationData(*by, ev.data);
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord joined, ledger::Append(txn, now, ev));
    if (by) {
      store::RepresentationRecord r = *by;
      r.event_seq = joined.seq;
      QORGAU_TRY(txn.InsertRepresentation(r));
    }

    std::vector<index::Delta> deltas;
    for (const auto& pu : consent_purposes) {
      if (Granted(*consents, pu, d_.index, *id)) continue;
      auto seq = core_.PutConsent(txn, *id, pu, ConsentState::kGranted, method, evidence, actor, &deltas,
                                  by ? &*by : nullptr);
      if (!seq) return tl::unexpected(seq.error());
      out.consents_granted.push_back(pu);
    }
    for (const auto& sid : req.services) {
      auto seq = core_.PutService(txn, *id, sid, true, *contract, "contract", actor, &deltas);
      if (!seq) return tl::unexpected(seq.error());
    }
    out.subject = *id;
    out.contract_id = *contract;
    out.services = req.services;
    out.contract_purposes.assign(contract_purposes.begin(), contract_purposes.end());
    std::vector<std::string> purposes = out.contract_purposes;
    purposes.insert(purposes.end(), consent_purposes.begin(), consent_purposes.end());
    auto receipt = core_.PrepareReceipt(txn, {*id, "contract.joined", purposes, req.services, {}, method,
                                        evidence});
    if (!receipt) return tl::unexpected(receipt.error());
    receipt_input = std::move(*receipt);
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  out.receipt = core_.SignReceipt(receipt_input);
  return out;
}

Result<ServiceOutcome> Consents::EnableService(const ServiceRequest& request, const Caller& actor) {
  if (!request.application_id) return Enable(request, actor, std::nullopt);
  // On a re-enabling application (R-VI.5, LAW.md §5): its channel and
  // reference are the new consent's. Who carries it out answers it, so
  // handles applications.
  if (!request.application.empty() || !request.channel.empty() || !request.evidence.empty() ||
      request.representative) {
    return Fail(ErrorCode::kInvalidArgument, "application_id",
                "the written application, channel, evidence and representative of a re-enabling on an "
                "application are the application's; give none of them with it");
  }
  QORGAU_ASSIGN_OR_RETURN(const auto app, core_.ApplicationToCarryOut(actor, request.subject, *request.application_id,
                                                                     ApplicationKind::kReenabling,
                                                                     "reenabling_application_required",
                                                                     "application_id"));
  if (!app.purposes.empty() &&
      std::find(app.purposes.begin(), app.purposes.end(), request.service) == app.purposes.end()) {
    return Refuse("reenabling_application_required", "service",
                  "application " + std::to_string(app.id) + " does not ask for '" + request.service + "'");
  }
  ServiceRequest req = request;
  if (d_.policy->FindChannel(app.channel)) req.channel = app.channel;
  req.evidence = app.reference;
  // A written application: at the office, or an electronic document.
  if (app.channel == "office_written" || app.channel == "e_document") req.application = app.reference;
  auto out = Enable(req, actor, RepresentationOf(app));
  if (out) return out;
  Error refusal = out.error();
  // Asked to switch on what is on: nothing to carry out, and the
  // application is closed with that reason rather than left open.
  if (refusal.code == ErrorCode::kAlreadyExists && refusal.field == "service") refusal.reason = "service_already_on";
  // Refused by a rule (R-III.2, R-VI.5): that is the application's answer.
  return tl::unexpected(core_.RefuseApplicationOnRule(*req.application_id, std::move(refusal),
                                                      {"no_active_contract", "written_application_required",
                                                       "new_consent_required", "consent_required", "service_already_on"},
                                                      actor));
}

Result<ServiceOutcome> Consents::Enable(const ServiceRequest& req, const Caller& actor,
                                        const std::optional<store::RepresentationRecord>& filed_by) {
  const policy::Policy& p = *d_.policy;
  const policy::Service* service = p.FindService(req.service);
  if (!service) return Fail(ErrorCode::kNotFound, "service", "'" + req.service + "' is not a service");
  QORGAU_TRY(Authorize(p, actor, Action::kServiceEnable, ServiceScope(p, *service)));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  if (!req.application.empty()) {
    QORGAU_TRY(CheckReference(req.application, "application"));
  }
  // The new consent's channel and evidence: given, or the written application.
  const std::string channel =
      !req.channel.empty() ? req.channel : (!req.application.empty() ? "office_written" : "");
  const std::string evidence = !req.evidence.empty() ? req.evidence : req.application;
  if (!channel.empty() && !p.FindChannel(channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + channel + "' is not a consent channel");
  }
  if (!evidence.empty()) {
    QORGAU_TRY(CheckReference(evidence, "evidence"));
  }
  QORGAU_ASSIGN_OR_RETURN(const std::string identity, RepresentativeIdentity(p, req.representative, d_.clock.Now()));

  ServiceOutcome out{0, req.service, true, {}, 0};
  report::ReceiptInput receipt_input;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    out.consents_granted.clear();
    auto id = core_.ResolveUnblocked(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    std::optional<store::ApplicationRecord> app;
    if (req.application_id) {
      QORGAU_ASSIGN_OR_RETURN(app, core_.VerifiedApplication(txn, *req.application_id, *id, ApplicationKind::kReenabling,
                                                             "reenabling_application_required", "application_id"));
    }
    std::optional<store::RepresentationRecord> by = filed_by;
    if (!by) {
      QORGAU_ASSIGN_OR_RETURN(by, Represent(d_, txn, *id, d_.clock.Now(), req.representative, identity));
    }
    auto contracts = txn.GetContracts(*id);
    if (!contracts) return tl::unexpected(contracts.error());
    // Only a contract in force: an ended one's clocks are running (R-VII).
    std::erase_if(*contracts, [](const store::ContractRecord& c) { return c.ended_at.has_value(); });
    if (contracts->empty()) {
      return Refuse("no_active_contract", "subject",
                    "the subject has no contract in force: services are provided only under a contract "
                    "(R-III.2)");
    }
    auto subs = txn.GetSubscriptions(*id);
    if (!subs) return tl::unexpected(subs.error());
    bool was_off = false;
    for (const auto& s : *subs) {
      if (s.service != req.service) continue;
      if (s.active) {
        return Fail(ErrorCode::kAlreadyExists, "service", "'" + req.service + "' is already on");
      }
      was_off = true;
    }
    if (was_off && service->reenable_written_application && req.application.empty()) {
      return Refuse("written_application_required", "application",
                    "switching '" + req.service +
                        "' back on needs a written application (R-VI.5); give its reference");
    }
    auto consents = txn.GetConsents(*id);
    if (!consents) return tl::unexpected(consents.error());
    std::vector<std::string> need;  // consent-basis purposes to (re)grant
    for (const auto& r : service->purposes) {
      if (p.FindPurpose(r.id)->basis != LegalBasis::kConsent) continue;
      const bool renew = was_off && service->reenable_new_consent;
      if (renew || !Granted(*consents, r.id, d_.index, *id)) need.push_back(r.id);
    }
    if (!need.empty() && (channel.empty() || evidence.empty())) {
      return Refuse(was_off ? "new_consent_required" : "consent_required", "evidence",
                    "switching '" + req.service + "' on needs " +
                        (was_off ? std::string("a new consent (R-VI.5)") : std::string("consent")) +
                        " to its purposes; give --application or --channel and --evidence");
    }
    std::vector<index::Delta> deltas;
    for (const auto& pu : need) {
      auto seq = core_.PutConsent(txn, *id, pu, ConsentState::kGranted, channel, evidence, actor, &deltas,
                                  by ? &*by : nullptr);
      if (!seq) return tl::unexpected(seq.error());
      out.consents_granted.push_back(pu);
    }
    auto seq = core_.PutService(txn, *id, req.service, true, contracts->back().id,
                          was_off ? "re-enabled" : "enabled", actor, &deltas, by ? &*by : nullptr);
    if (!seq) return tl::unexpected(seq.error());
    out.subject = *id;
    if (!out.consents_granted.empty()) {
      auto receipt = core_.PrepareReceipt(txn, {*id, "service.enabled", out.consents_granted,
                                          {req.service}, {}, channel, evidence});
      if (!receipt) return tl::unexpected(receipt.error());
      receipt_input = std::move(*receipt);
    }
    if (app) {
      // Answered once every service it names is on again: by the receipt,
      // or by the ledger event that switched the last one on.
      const bool all_on = std::all_of(app->purposes.begin(), app->purposes.end(), [&](const std::string& sid) {
        return sid == req.service || std::any_of(subs->begin(), subs->end(), [&](const store::SubscriptionRecord& s) {
                 return s.service == sid && s.active;
               });
      });
      if (all_on) {
        const std::string answer = receipt_input.receipt_seq != 0 ? report::ReceiptId(receipt_input.receipt_seq)
                                                                  : "event-" + std::to_string(*seq);
        QORGAU_TRY(core_.CloseApplication(txn, *app, true, answer, actor));
      }
    }
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  out.receipt = core_.SignReceipt(receipt_input);
  return out;
}

Result<ServiceOutcome> Consents::DisableService(const ServiceRequest& req, const Caller& actor) {
  const policy::Service* service = d_.policy->FindService(req.service);
  if (!service) return Fail(ErrorCode::kNotFound, "service", "'" + req.service + "' is not a service");
  QORGAU_TRY(Authorize(*d_.policy, actor, Action::kServiceDisable, ServiceScope(*d_.policy, *service)));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  ServiceOutcome out{0, req.service, false, {}, 0};
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = core_.Resolve(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    auto subs = txn.GetSubscriptions(*id);
    if (!subs) return tl::unexpected(subs.error());
    const auto it = std::find_if(subs->begin(), subs->end(), [&](const store::SubscriptionRecord& s) {
      return s.service == req.service && s.active;
    });
    if (it == subs->end()) {
      return Refuse("service_not_on", "service", "'" + req.service + "' is not on");
    }
    std::vector<index::Delta> deltas;
    auto seq = core_.PutService(txn, *id, req.service, false, it->contract_id, "request", actor, &deltas);
    if (!seq) return tl::unexpected(seq.error());
    QORGAU_ASSIGN_OR_RETURN(out.destroyed, DestroyAtOnce(d_, txn, actor, *id, "service_off", &deltas));
    out.subject = *id;
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  if (!out.destroyed.empty()) (void)d_.store.ForgetDeleted();
  return out;
}

Result<ContractEndOutcome> Consents::EndContract(const ContractEndRequest& req, const Caller& actor) {
  if (req.contract <= 0) return Fail(ErrorCode::kInvalidArgument, "contract", "must be a contract id");
  QORGAU_TRY(CheckReference(req.evidence, "evidence"));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  const policy::Policy& p = *d_.policy;
  ContractEndOutcome out;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    out = ContractEndOutcome{};
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.Resolve(txn, req.subject));
    QORGAU_ASSIGN_OR_RETURN(const auto contracts, txn.GetContracts(id));
    const auto contract = std::find_if(contracts.begin(), contracts.end(),
                                       [&](const store::ContractRecord& c) { return c.id == req.contract; });
    if (contract == contracts.end()) {
      return Fail(ErrorCode::kNotFound, "contract", "the subject has no contract " + std::to_string(req.contract));
    }
    QORGAU_ASSIGN_OR_RETURN(const auto subs, txn.GetSubscriptions(id));
    // Ending the contract switches its services off: the caller must be
    // one who may switch off each service joined under it.
    Scope scope;
    std::vector<std::string> going_off;
    for (const auto& sub : subs) {
      if (sub.contract_id != req.contract) continue;
      if (const policy::Service* s = p.FindService(sub.service)) AddServiceScope(p, *s, &scope);
      if (sub.active) going_off.push_back(sub.service);
    }
    if (scope.purposes.empty()) {
      return Fail(ErrorCode::kInternal, "contract", "the contract has no service of the policy");
    }
    QORGAU_TRY(Authorize(p, actor, Action::kContractEnd, scope));
    if (contract->ended_at) return Refuse("contract_ended", "contract", "the contract has ended already");
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"contract.ended", id, actor.id(), {}};
    ev.data["contract"] = req.contract;
    ev.data["evidence"] = req.evidence;
    boost::json::array off;
    for (const auto& s : going_off) off.emplace_back(s);
    ev.data["services"] = std::move(off);
    QORGAU_TRY(ledger::Append(txn, now, ev));
    QORGAU_TRY(txn.EndContract(req.contract, now));
    std::vector<index::Delta> deltas;
    for (const auto& service : going_off) {
      QORGAU_TRY(core_.PutService(txn, id, service, false, req.contract, "contract_end", actor, &deltas));
    }
    QORGAU_ASSIGN_OR_RETURN(out.destroyed, DestroyAtOnce(d_, txn, actor, id, "contract_end", &deltas));
    out.subject = id;
    out.contract = req.contract;
    out.services_off = going_off;
    out.relationship_ended = std::none_of(contracts.begin(), contracts.end(), [&](const store::ContractRecord& c) {
      return c.id != req.contract && !c.ended_at;
    });
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  out.revision = *written;
  if (!out.destroyed.empty()) (void)d_.store.ForgetDeleted();
  return out;
}

Result<std::vector<store::SubscriptionRecord>> Consents::ListServices(const Caller& caller,
                                                                      const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindUnblocked(caller, key, "services"));
  QORGAU_TRY(core_.RecordRead(caller, id, "services", "", {},
                        Authorize(*d_.policy, caller, Action::kServicesRead)));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto subs, (*txn)->GetSubscriptions(id));
  // Need to know: only the services one of whose purposes the caller serves.
  std::erase_if(subs, [&](const store::SubscriptionRecord& sub) {
    const policy::Service* service = d_.policy->FindService(sub.service);
    if (!service) return true;
    return std::none_of(service->purposes.begin(), service->purposes.end(),
                        [&](const policy::Ref& r) { return caller.SeesPurpose(r.id); });
  });
  return subs;
}

}  // namespace qorgau::rules
