#include "rules/permissions.h"

#include <algorithm>

namespace qorgau::rules {
namespace {

tl::unexpected<Error> Deny(std::string reason, std::string field, std::string message) {
  return tl::unexpected(
      Error{ErrorCode::kPermissionDenied, std::move(field), std::move(message), std::move(reason)});
}

constexpr DutyActions Bit(DutyAction a) { return static_cast<DutyActions>(a); }

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// The duty action a purpose-scoped command needs; 0 for none.
DutyActions PurposeAction(Action a) {
  switch (a) {
    case Action::kDataRead: return Bit(DutyAction::kRead);
    case Action::kContractJoin:
    case Action::kServiceEnable:
    case Action::kConsentGrant: return Bit(DutyAction::kConsent);
    case Action::kTransferMake: return Bit(DutyAction::kTransfer);
    case Action::kDataEnrich:
    case Action::kProfileDerive: return Bit(DutyAction::kRecord);
    case Action::kServiceDisable:
    case Action::kContractEnd:
    case Action::kConsentWithdraw:
    case Action::kWithdrawalPreview: return Bit(DutyAction::kWithdraw);
    case Action::kCheck:
    case Action::kAudience:
    case Action::kAggregateRelease:
    case Action::kReceiptRead: return kProcessingDutyActions;
    default: return 0;
  }
}

bool AdminAction(Action a) {
  return a == Action::kActorsManage || a == Action::kActorsRead || a == Action::kAuditVerify ||
         a == Action::kAuditCheckpoint || a == Action::kKeysRotateMaster ||
         a == Action::kKeysRotateSigning || a == Action::kCalendarImport || a == Action::kStoreBackup ||
         a == Action::kStoreRestore || a == Action::kWebhooksManage || a == Action::kOutboxDeliver;
}

}  // namespace

std::string_view ActionName(Action a) {
  switch (a) {
    case Action::kSubjectAdd: return "subject.add";
    case Action::kSubjectLookup: return "subject.lookup";
    case Action::kDataRecord: return "data.record";
    case Action::kDataRead: return "data.read";
    case Action::kContractJoin: return "contract.join";
    case Action::kContractEnd: return "contract.end";
    case Action::kServiceEnable: return "service.enable";
    case Action::kServiceDisable: return "service.disable";
    case Action::kServicesRead: return "services.read";
    case Action::kConsentGrant: return "consent.grant";
    case Action::kConsentWithdraw: return "consent.withdraw";
    case Action::kWithdrawalPreview: return "withdrawal.preview";
    case Action::kConsentsRead: return "consents.read";
    case Action::kObligationOpen: return "obligation.open";
    case Action::kObligationClose: return "obligation.close";
    case Action::kObligationImport: return "obligation.import";
    case Action::kObligationsRead: return "obligations.read";
    case Action::kCheck: return "check";
    case Action::kAudience: return "audience";
    case Action::kReceiptRead: return "receipt.read";
    case Action::kAccessTrailRead: return "access_trail.read";
    case Action::kAuditVerify: return "audit.verify";
    case Action::kAuditCheckpoint: return "audit.checkpoint";
    case Action::kActorsManage: return "actors.manage";
    case Action::kActorsRead: return "actors.read";
    case Action::kKeysRotateMaster: return "keys.rotate_master";
    case Action::kKeysRotateSigning: return "keys.rotate_signing";
    case Action::kCalendarImport: return "calendar.import";
    case Action::kCalendarsRead: return "calendars.read";
    case Action::kApplicationFile: return "application.file";
    case Action::kApplicationsRead: return "applications.read";
    case Action::kApplicationHandle: return "application.handle";
    case Action::kStatementRead: return "statement.read";
    case Action::kBreachRecord: return "breach.record";
    case Action::kBreachesRead: return "breaches.read";
    case Action::kRetentionPlan: return "retention.plan";
    case Action::kRetentionRun: return "retention.run";
    case Action::kRetentionActs: return "retention.acts";
    case Action::kStoreBackup: return "store.backup";
    case Action::kStoreRestore: return "store.restore";
    case Action::kTransferMake: return "transfer.make";
    case Action::kTransfersRead: return "transfers.read";
    case Action::kAggregateRelease: return "aggregate.release";
    case Action::kAggregatesRead: return "aggregates.read";
    case Action::kPolicyPublish: return "policy.publish";
    case Action::kPolicyAccept: return "policy.accept";
    case Action::kOutboxRead: return "outbox.read";
    case Action::kWebhooksManage: return "webhooks.manage";
    case Action::kOutboxDeliver: return "outbox.deliver";
    case Action::kDataEnrich: return "data.enrich";
    case Action::kProfileDerive: return "profile.derive";
    case Action::kStatisticsRead: return "statistics.read";
  }
  return "unknown";
}

const store::DutyRecord* Caller::Duty(std::string_view purpose) const {
  for (const auto& d : duties) {
    if (d.purpose == purpose) return &d;
  }
  return nullptr;
}

bool Caller::CoversCategory(std::string_view category, DutyActions action) const {
  for (const auto& d : duties) {
    if ((d.actions & action) != 0 && Contains(d.categories, category)) return true;
  }
  return false;
}

bool HandlesLegalHolds(const policy::Policy& policy, const Caller& caller) {
  const auto& roles = policy.withdrawal.legal_hold_roles;
  return std::find(roles.begin(), roles.end(), caller.role()) != roles.end();
}

Result<void> Authorize(const policy::Policy& policy, const Caller& caller, Action action,
                       const Scope& scope) {
  const std::string name(ActionName(action));
  const ActorRole role = caller.role();
  // The calendars are public, like the policy.
  if (action == Action::kCalendarsRead) return {};
  // Roles first.
  if (AdminAction(action)) {
    if (role == ActorRole::kAdmin) return {};
    const bool dpo_too = action == Action::kAuditVerify || action == Action::kAuditCheckpoint ||
                         action == Action::kCalendarImport;
    if (dpo_too && role == ActorRole::kDpo) return {};
    return Deny("admin_only", "actor",
                std::string(dpo_too ? "only an administrator or the data protection officer may "
                                    : "only an administrator may ") +
                    name);
  }
  // The outbox holds event and subject ids, no value: administrators run
  // its delivery, the data protection officer watches it.
  // Counts per day, no subject and no value: the officer's dashboard, and
  // the administrators who keep the service running.
  if (action == Action::kStatisticsRead) {
    if (role == ActorRole::kDpo || role == ActorRole::kAdmin) return {};
    return Deny("admin_only", "actor", "only an administrator or the data protection officer reads the statistics");
  }
  if (action == Action::kOutboxRead) {
    if (role == ActorRole::kDpo || role == ActorRole::kAdmin) return {};
    return Deny("admin_only", "actor", "only an administrator or the data protection officer reads the outbox");
  }
  if (role == ActorRole::kAdmin) {
    return Deny("role_not_allowed", "actor",
                "administrators manage actors, duties and keys; they act on no subject");
  }
  if (action == Action::kAccessTrailRead) {
    if (role == ActorRole::kDpo) return {};
    return Deny("dpo_only", "actor", "only the data protection officer reads the access trail");
  }
  if (action == Action::kBreachRecord || action == Action::kBreachesRead) {
    if (role == ActorRole::kDpo) return {};
    return Deny("dpo_only", "actor", "only the data protection officer keeps the breach register (LAW.md §10)");
  }
  // The policy is published by the data protection officer, the outbox
  // watched by the officer and the administrators.
  if (action == Action::kPolicyPublish) {
    if (role == ActorRole::kDpo) return {};
    return Deny("dpo_only", "actor", "only the data protection officer publishes an edition of the policy");
  }
  if (action == Action::kAggregatesRead) {
    if (role == ActorRole::kDpo) return {};
    return Deny("dpo_only", "actor", "only the data protection officer reads the register of aggregate releases");
  }
  // Retention (R-VII) is the data protection officer's: the plan shows
  // counts and dates, never a value.
  if (action == Action::kRetentionPlan || action == Action::kRetentionRun || action == Action::kRetentionActs) {
    if (role == ActorRole::kDpo) return {};
    return Deny("dpo_only", "actor", "only the data protection officer plans and runs destruction (R-VII)");
  }
  // The register of transfers names no value and no subject: the data
  // protection officer's, and theirs whose duties hand data over.
  if (action == Action::kTransfersRead) {
    if (role == ActorRole::kDpo) return {};
    for (const auto& d : caller.duties) {
      if (HasAction(d.actions, DutyAction::kTransfer)) return {};
    }
    return Deny("no_duty", "actor", "no duty of the caller allows 'transfer' (R-VIII.1)");
  }
  // People: the NDA (R-II.3) and the liability warning (R-VIII.2), for
  // every action on a subject, reads and writes alike.
  if (role != ActorRole::kSystem) {
    if (caller.actor.nda_signed.empty()) {
      return Deny("nda_not_signed", "actor",
                  "the employee has not signed the non-disclosure obligation (R-II.3)");
    }
    if (caller.actor.liability_acknowledged.empty()) {
      return Deny("liability_not_acknowledged", "actor",
                  "the employee has not been warned of liability (R-VIII.2)");
    }
  }
  // A system never acts beyond the purposes it was registered for.
  if (role == ActorRole::kSystem) {
    for (const auto& p : scope.purposes) {
      if (!Contains(caller.actor.purposes, p)) {
        return Deny("purpose_not_allowed_for_caller", "purpose",
                    "the system does not act for purpose '" + p + "'");
      }
    }
  }
  // Obligations: legal holds by role (R-VI.3), money by duty.
  if (action == Action::kObligationOpen || action == Action::kObligationClose ||
      action == Action::kObligationImport || action == Action::kObligationsRead) {
    if (scope.kind == ObligationKind::kLegalHold) {
      if (HandlesLegalHolds(policy, caller)) return {};
      std::string roles;
      for (ActorRole r : policy.withdrawal.legal_hold_roles) {
        roles += (roles.empty() ? "" : ", ") + std::string(ActorRoleName(r));
      }
      return Deny("legal_hold_role_required", "kind",
                  "legal holds are handled only by the role(s) the policy names: " + roles);
    }
    bool has = false;
    for (const auto& d : caller.duties) has = has || HasAction(d.actions, DutyAction::kObligations);
    if (!has && !(action == Action::kObligationsRead && HandlesLegalHolds(policy, caller))) {
      return Deny("no_duty", "actor", "no duty of the caller allows 'obligations' (R-VIII.1)");
    }
    if (action == Action::kObligationImport) {
      // The CSV names subjects by IIN: importing is looking them up.
      for (const auto& c : scope.categories) {
        if (!caller.CoversCategory(c, kAllDutyActions)) {
          return Deny("no_duty", "iin",
                      "no duty of the caller covers '" + c + "', the category the import "
                      "finds subjects by (R-VIII.1)");
        }
      }
    }
    return {};
  }
  // Subjects' applications (R-IV.4, R-IV.5, LAW.md §5): the data
  // protection officer, or a duty that allows 'applications'.
  if (action == Action::kApplicationFile || action == Action::kApplicationsRead ||
      action == Action::kApplicationHandle || action == Action::kStatementRead) {
    if (role == ActorRole::kDpo) return {};
    bool has = false;
    for (const auto& d : caller.duties) has = has || HasAction(d.actions, DutyAction::kApplications);
    if (!has) return Deny("no_duty", "actor", "no duty of the caller allows 'applications' (R-VIII.1)");
    // Verifying the applicant, answering and refusing are a person's acts:
    // a system (the privacy centre) files applications and produces
    // statements, and handles none.
    if (action == Action::kApplicationHandle && role == ActorRole::kSystem) {
      return Deny("role_not_allowed", "actor",
                  "an application is handled by a person; a system files applications, it does not handle them");
    }
    return {};
  }
  // A system checks and selects audiences for its purposes without a duty:
  // a decision carries no personal-data value.
  if (role == ActorRole::kSystem &&
      (action == Action::kCheck || action == Action::kAudience || action == Action::kAggregateRelease)) {
    return {};
  }
  // Purpose-scoped actions: a duty for each purpose with the action, and
  // (for reads) covering each category.
  if (const DutyActions needed = PurposeAction(action); needed != 0) {
    for (const auto& p : scope.purposes) {
      const store::DutyRecord* duty = caller.Duty(p);
      if ((action == Action::kReceiptRead || action == Action::kAggregateRelease) && role == ActorRole::kDpo) break;
      if (!duty || (duty->actions & needed) == 0) {
        const std::string what =
            needed == kProcessingDutyActions ? std::string("") : " allows '" + DutyActionsText(needed) + "' and";
        return Deny("no_duty", "purpose",
                    "no duty of the caller" + what + " covers purpose '" + p + "' (R-VIII.1)");
      }
      if (action != Action::kDataRead && action != Action::kTransferMake && action != Action::kDataEnrich &&
          action != Action::kProfileDerive) {
        continue;
      }
      for (const auto& c : scope.categories) {
        if (!Contains(duty->categories, c)) {
          return Deny("category_not_in_duty", "categories",
                      "the caller's duty for '" + p + "' does not cover '" + c + "' (R-VIII.1)");
        }
      }
      // A transfer hands values over in full: a duty that shows them
      // masked does not let its holder send them.
      if (action == Action::kTransferMake && !duty->full_view) {
        return Deny("full_view_required", "purpose",
                    "the caller's duty for '" + p + "' shows values masked; a transfer hands them over in full");
      }
    }
    return {};
  }
  // Category-scoped actions.
  if (action == Action::kSubjectAdd || action == Action::kDataRecord ||
      action == Action::kSubjectLookup) {
    const DutyActions needed = action == Action::kSubjectLookup ? kAllDutyActions
                                                                 : Bit(DutyAction::kRecord);
    for (const auto& c : scope.categories) {
      if (!caller.CoversCategory(c, needed)) {
        const std::string what = action == Action::kSubjectLookup ? "" : " allows 'record' and";
        return Deny("no_duty", action == Action::kSubjectLookup ? "by" : "categories",
                    "no duty of the caller" + what + " covers '" + c + "' (R-VIII.1)");
      }
    }
    return {};
  }
  // An acceptance of the edition is recorded by whoever records consents.
  if (action == Action::kPolicyAccept) {
    for (const auto& d : caller.duties) {
      if (HasAction(d.actions, DutyAction::kConsent)) return {};
    }
    return Deny("no_duty", "actor", "no duty of the caller allows 'consent' (R-VIII.1)");
  }
  // Listings: any duty; the engine shows only the purposes the caller's
  // duties cover.
  if (action == Action::kConsentsRead || action == Action::kServicesRead) {
    if (caller.duties.empty()) {
      return Deny("no_duty", "actor", "the caller has no duty (R-VIII.1)");
    }
    return {};
  }
  return Deny("role_not_allowed", "actor", "no rule allows " + name);
}

}  // namespace qorgau::rules
