#include "core/vocabulary.h"

#include <iterator>

namespace qorgau {
namespace {

template <typename E, std::size_t N>
bool ParseName(std::string_view name, const E (&all)[N], const char* (*to_name)(E), E* out) {
  for (E e : all) {
    if (name == to_name(e)) {
      *out = e;
      return true;
    }
  }
  return false;
}

constexpr ConsentState kStates[] = {ConsentState::kGranted, ConsentState::kWithdrawn};
constexpr ObligationKind kKinds[] = {ObligationKind::kDebt, ObligationKind::kInstalment,
                                     ObligationKind::kLegalHold};
constexpr ActorRole kRoles[] = {ActorRole::kAdmin, ActorRole::kEmployee, ActorRole::kSystem,
                                ActorRole::kDpo};
constexpr DutyAction kActions[] = {DutyAction::kRead, DutyAction::kRecord, DutyAction::kConsent,
                                   DutyAction::kWithdraw, DutyAction::kObligations,
                                   DutyAction::kApplications, DutyAction::kTransfer};
constexpr ApplicationKind kApplicationKinds[] = {
    ApplicationKind::kInformation, ApplicationKind::kRectification, ApplicationKind::kBlocking,
    ApplicationKind::kUnblocking,  ApplicationKind::kWithdrawal,    ApplicationKind::kReenabling,
    ApplicationKind::kDestruction, ApplicationKind::kObjection};
constexpr ApplicationState kApplicationStates[] = {
    ApplicationState::kReceived, ApplicationState::kIdentityVerified, ApplicationState::kInProgress,
    ApplicationState::kAnswered, ApplicationState::kRefused};

}  // namespace

const char* ConsentStateName(ConsentState s) {
  return s == ConsentState::kGranted ? "granted" : "withdrawn";
}
bool ParseConsentState(std::string_view name, ConsentState* out) {
  return ParseName(name, kStates, &ConsentStateName, out);
}

const char* ObligationKindName(ObligationKind k) {
  switch (k) {
    case ObligationKind::kDebt: return "debt";
    case ObligationKind::kInstalment: return "instalment";
    case ObligationKind::kLegalHold: return "legal_hold";
  }
  return "debt";
}
bool ParseObligationKind(std::string_view name, ObligationKind* out) {
  return ParseName(name, kKinds, &ObligationKindName, out);
}

const char* ActorRoleName(ActorRole r) {
  switch (r) {
    case ActorRole::kAdmin: return "admin";
    case ActorRole::kEmployee: return "employee";
    case ActorRole::kSystem: return "system";
    case ActorRole::kDpo: return "dpo";
  }
  return "employee";
}
bool ParseActorRole(std::string_view name, ActorRole* out) {
  return ParseName(name, kRoles, &ActorRoleName, out);
}

const char* DutyActionName(DutyAction a) {
  switch (a) {
    case DutyAction::kRead: return "read";
    case DutyAction::kRecord: return "record";
    case DutyAction::kConsent: return "consent";
    case DutyAction::kWithdraw: return "withdraw";
    case DutyAction::kObligations: return "obligations";
    case DutyAction::kApplications: return "applications";
    case DutyAction::kTransfer: return "transfer";
  }
  return "read";
}

std::string DutyActionsText(DutyActions actions) {
  std::string out;
  for (DutyAction a : kActions) {
    if (!HasAction(actions, a)) continue;
    if (!out.empty()) out += ',';
    out += DutyActionName(a);
  }
  return out;
}

std::vector<std::string> DutyActionNames() {
  std::vector<std::string> out;
  for (DutyAction a : kActions) out.emplace_back(DutyActionName(a));
  return out;
}

bool ParseDutyActions(const std::vector<std::string>& names, DutyActions* out, std::string* bad) {
  DutyActions set = 0;
  for (const auto& n : names) {
    DutyAction a;
    if (!ParseName(n, kActions, &DutyActionName, &a)) {
      *bad = n;
      return false;
    }
    set |= static_cast<DutyActions>(a);
  }
  *out = set;
  return true;
}

const char* ApplicationKindName(ApplicationKind k) {
  switch (k) {
    case ApplicationKind::kInformation: return "information";
    case ApplicationKind::kRectification: return "rectification";
    case ApplicationKind::kBlocking: return "blocking";
    case ApplicationKind::kUnblocking: return "unblocking";
    case ApplicationKind::kWithdrawal: return "withdrawal";
    case ApplicationKind::kReenabling: return "reenabling";
    case ApplicationKind::kDestruction: return "destruction";
    case ApplicationKind::kObjection: return "objection";
  }
  return "information";
}
bool ParseApplicationKind(std::string_view name, ApplicationKind* out) {
  return ParseName(name, kApplicationKinds, &ApplicationKindName, out);
}
const std::vector<ApplicationKind>& AllApplicationKinds() {
  static const std::vector<ApplicationKind> all(std::begin(kApplicationKinds), std::end(kApplicationKinds));
  return all;
}

const char* ApplicationStateName(ApplicationState s) {
  switch (s) {
    case ApplicationState::kReceived: return "received";
    case ApplicationState::kIdentityVerified: return "identity_verified";
    case ApplicationState::kInProgress: return "in_progress";
    case ApplicationState::kAnswered: return "answered";
    case ApplicationState::kRefused: return "refused";
  }
  return "received";
}
bool ParseApplicationState(std::string_view name, ApplicationState* out) {
  return ParseName(name, kApplicationStates, &ApplicationStateName, out);
}

}  // namespace qorgau
