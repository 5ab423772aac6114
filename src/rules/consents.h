// Consents, contracts and services (R-III, R-VI.5): granting a consent,
// joining a contract (which gives the consent of R-III.3), switching
// services on and off, and reading them. Withdrawing a consent follows the
// withdrawal rules and is in rules/withdrawals.h.
//
// Part of rules::Engine (rules/engine.h); implemented in consents.cc.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct ConsentRequest {
  SubjectKey subject;
  std::string purpose;
  std::string channel;
  std::string evidence;  // document id, message id, call recording id, signature
  // Who gives it for the subject: required for a minor (LAW.md §12).
  std::optional<Representative> representative = std::nullopt;
  // The consent covers transfer of the purpose's data abroad, to a country
  // that does not ensure their protection (LAW.md §8).
  bool cross_border = false;
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
  std::string evidence;               // the form, application or SMS reference (required)
  // Who joins for the subject: required for a minor (LAW.md §12).
  std::optional<Representative> representative = std::nullopt;
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

// The end of a contract (R-VII: the relationship's end starts retention
// periods): its services go off with it.
struct ContractEndRequest {
  SubjectKey subject;
  std::int64_t contract = 0;
  std::string evidence;  // the termination's reference: the subject's application, the operator's notice
};

struct ContractEndOutcome {
  SubjectId subject = 0;
  std::int64_t contract = 0;
  std::vector<std::string> services_off;  // switched off by the end
  bool relationship_ended = false;        // no contract of the subject is in force any more
  std::vector<std::string> destroyed;     // destroyed at once (a retention rule of period 0)
  std::int64_t revision = 0;
};

struct ServiceRequest {
  SubjectKey subject;
  std::string service;
  std::string application;  // written application reference (R-VI.5)
  std::string channel;      // for the new consent; default office_written with an application
  std::string evidence;     // for the new consent; default the application
  // The subject's re-enabling application this carries out (R-VI.5, LAW.md
  // §5): its channel and reference are the new consent's (and, written,
  // the written application), it must name the service, and switching on
  // the last service it names answers it; refused by a rule of R-VI.5 or
  // R-III.2, it is refused with that rule's reason.
  std::optional<std::int64_t> application_id = std::nullopt;
  // Who gives the new consent for the subject: required for a minor.
  std::optional<Representative> representative = std::nullopt;
};

struct ServiceOutcome {
  SubjectId subject = 0;
  std::string service;
  bool active = false;
  std::vector<std::string> consents_granted;
  std::int64_t revision = 0;
  std::string receipt = {};  // when consents were granted
  std::vector<std::string> destroyed = {};  // switched off: destroyed at once (a retention rule of period 0)
};

class Consents {
 public:
  explicit Consents(EngineCore& core) : core_(core), d_(core.deps()) {}
  Consents(const Consents&) = delete;
  Consents& operator=(const Consents&) = delete;

  // R-III.1, R-III.4: consent to a purpose whose basis is consent, through
  // a declared channel, with its evidence.
  Result<ConsentOutcome> GrantConsent(const ConsentRequest& request, const Caller& caller);
  // The consents of the purposes the caller's duties cover.
  Result<std::vector<store::ConsentRecord>> ListConsents(const Caller& caller,
                                                         const SubjectKey& key);

  // Contracts and services. R-III.2, R-III.3, R-VI.5.
  Result<ContractOutcome> JoinContract(const ContractRequest& request, const Caller& caller);
  // Ends a contract in force: a contract.ended event, and every service on
  // under it switched off (service.disabled, why contract_end). Needs the
  // 'withdraw' duty for each purpose of those services.
  Result<ContractEndOutcome> EndContract(const ContractEndRequest& request, const Caller& caller);
  Result<ServiceOutcome> EnableService(const ServiceRequest& request, const Caller& caller);
  Result<ServiceOutcome> DisableService(const ServiceRequest& request, const Caller& caller);
  // The services one of whose purposes the caller's duties cover.
  Result<std::vector<store::SubscriptionRecord>> ListServices(const Caller& caller,
                                                              const SubjectKey& key);

 private:
  // `filed_by`: the representative who filed the re-enabling application
  // it carries out, when one did.
  Result<ServiceOutcome> Enable(const ServiceRequest& request, const Caller& caller,
                                const std::optional<store::RepresentationRecord>& filed_by);
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
