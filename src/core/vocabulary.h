// Words of the domain that every layer speaks: consent states, obligation
// kinds, actor roles and the actions a duty may allow. Each has one stable
// spelling, the one the CLI, the API, the ledger and the store use.
//
// These are persisted (as their numeric values, or their names in ledger
// events): never renumber a value; append new ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace qorgau {

enum class ConsentState : std::uint8_t {
  kGranted = 0,    // in force
  kWithdrawn = 1,  // withdrawn by the subject
};
const char* ConsentStateName(ConsentState s);
bool ParseConsentState(std::string_view name, ConsentState* out);

enum class ObligationKind : std::uint8_t {
  kDebt = 0,        // money owed to the operator
  kInstalment = 1,  // an instalment plan in progress
  kLegalHold = 2,   // a legal restriction (court, investigation)
};
const char* ObligationKindName(ObligationKind k);
bool ParseObligationKind(std::string_view name, ObligationKind* out);

enum class ActorRole : std::uint8_t {
  kAdmin = 0,     // manages actors, duties and keys; acts on no subject
  kEmployee = 1,  // staff: acts on subjects only through duties (R-VIII.1)
  kSystem = 2,    // an API client, through duties, within the purposes it acts for
  kDpo = 3,       // the data protection officer: employee duties, plus the
                  // audit, the access trail and what the policy gives the role
};
const char* ActorRoleName(ActorRole r);
bool ParseActorRole(std::string_view name, ActorRole* out);

// What a duty lets its holder do with its purpose and categories
// (docs/access.md). A bit set; stored as names.
enum class DutyAction : std::uint8_t {
  kRead = 1,         // read values of the categories, and the subject's records for the purpose
  kRecord = 2,       // register subjects and record values of the categories
  kConsent = 4,      // record consents and contracts for the purpose
  kWithdraw = 8,     // record withdrawals for the purpose, switch its services off
  kObligations = 16, // open, close and read debts and instalments
  kApplications = 32, // register and handle subjects' applications (R-IV.4, R-IV.5)
  kTransfer = 64,     // hand values of the categories to a recipient for the purpose (R-IX.1)
};
using DutyActions = std::uint8_t;
inline constexpr DutyActions kAllDutyActions = 127;
// The actions that process a purpose's data (all but `applications`): a
// duty for a purpose with one of them lets its holder check and select
// audiences for the purpose and read its receipts.
inline constexpr DutyActions kProcessingDutyActions = 31 | 64;
const char* DutyActionName(DutyAction a);
// "read,record"; every action named once, in the enum's order.
std::string DutyActionsText(DutyActions actions);
// Every action's name, in the enum's order (for choices and messages).
std::vector<std::string> DutyActionNames();
// Parses names; false with the first unknown name in *bad.
bool ParseDutyActions(const std::vector<std::string>& names, DutyActions* out, std::string* bad);
inline bool HasAction(DutyActions set, DutyAction a) {
  return (set & static_cast<DutyActions>(a)) != 0;
}

// A subject's application (LAW.md §5; R-IV.4, R-IV.5, R-VI). Stored and
// logged by name.
enum class ApplicationKind : std::uint8_t {
  kInformation = 0,    // what is held about me (R-IV.4)
  kRectification = 1,  // change my data, on documents (R-IV.5)
  kBlocking = 2,       // stop processing: collection or processing conditions broken
  kUnblocking = 3,     // lift a block
  kWithdrawal = 4,     // withdraw consent (R-VI)
  kReenabling = 5,     // switch an additional service back on (R-VI.5)
  kDestruction = 6,    // destroy unlawfully collected data
  kObjection = 7,      // object to profiling (R-X.2)
};
const char* ApplicationKindName(ApplicationKind k);
bool ParseApplicationKind(std::string_view name, ApplicationKind* out);
// Every kind, in the enum's order.
const std::vector<ApplicationKind>& AllApplicationKinds();

// Where an application stands: received -> identity_verified ->
// in_progress -> answered | refused.
enum class ApplicationState : std::uint8_t {
  kReceived = 0,
  kIdentityVerified = 1,
  kInProgress = 2,
  kAnswered = 3,
  kRefused = 4,
};
const char* ApplicationStateName(ApplicationState s);
bool ParseApplicationState(std::string_view name, ApplicationState* out);
inline bool IsClosed(ApplicationState s) {
  return s == ApplicationState::kAnswered || s == ApplicationState::kRefused;
}

}  // namespace qorgau
