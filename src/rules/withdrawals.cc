// Withdrawal of consent, as the policy says (R-VI):
// - through a channel the policy takes withdrawals from (R-VI.2);
// - refused while an obligation or a legal hold is open, naming it (R-VI.3);
// - for everything withdrawable, for chosen purposes, or for the data of
//   chosen additional services, switching off exactly the services that
//   need the purposes whose consent ends (R-VI.4);
// - with the warning that services may end (R-VI.1);
// - previewed first if asked: the preview and the confirmation compute the
//   same plan, and the confirmation does exactly that and nothing more.
// Purposes that rest on law or on the contract are not withdrawable by
// consent; the plan lists them and says why.
#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "core/working_calendar.h"
#include "rules/checks.h"
#include "rules/withdrawals.h"
#include "rules/retention.h"

namespace qorgau::rules {
namespace {

using policy::LegalBasis;
using store::ConsentState;
using store::ObligationKind;

}  // namespace

Result<WithdrawalPlan> Withdrawals::Plan(store::Transaction& txn, SubjectId subject,
                                         const WithdrawalRequest& req) {
  const policy::Policy& p = *d_.policy;
  WithdrawalPlan plan;
  plan.subject = subject;
  plan.preview = req.preview;
  plan.warning = p.withdrawal.warning;

  // R-VI.3: an open obligation or legal hold refuses the withdrawal. A
  // debt refuses it outright, unless the policy scopes it to some purposes
  // (withdrawal.obligation_blocks): then once the plan shows which consents
  // end.
  auto obligations = txn.GetObligations(subject, /*open_only=*/true);
  if (!obligations) return tl::unexpected(obligations.error());
  std::string debts, holds;
  for (const auto& o : *obligations) {
    const bool hold = o.kind == ObligationKind::kLegalHold;
    if (hold && !p.withdrawal.block_if_legal_hold) continue;
    if (!hold && !p.withdrawal.block_if_unfulfilled_obligation) continue;
    std::string& list = hold ? holds : debts;
    list += (list.empty() ? "" : ", ") + o.ref;
  }
  const auto& scope = p.withdrawal.obligation_blocks;
  if (!debts.empty() && scope.empty()) {
    return Refuse("withdrawal_blocked_by_obligation", "subject",
                  "consent cannot be withdrawn while an obligation to the operator is unfulfilled "
                  "(R-VI.3): open " + debts);
  }
  if (!holds.empty()) {
    return Refuse("withdrawal_blocked_by_legal_hold", "subject",
                  "consent cannot be withdrawn while a legal restriction applies (R-VI.3): " + holds);
  }

  auto consents = txn.GetConsents(subject);
  if (!consents) return tl::unexpected(consents.error());
  auto granted = [&](const std::string& purpose) {
    return std::any_of(consents->begin(), consents->end(), [&](const store::ConsentRecord& c) {
      return c.purpose == purpose && c.state == ConsentState::kGranted;
    });
  };
  auto subs = txn.GetSubscriptions(subject);
  if (!subs) return tl::unexpected(subs.error());
  auto active = [&](const std::string& service) {
    return std::any_of(subs->begin(), subs->end(), [&](const store::SubscriptionRecord& s) {
      return s.service == service && s.active;
    });
  };

  std::set<std::string> ending;
  auto not_withdrawable = [&](const policy::Purpose& pu) {
    plan.not_withdrawable.push_back({pu.id, pu.basis, NotWithdrawableWhy(pu)});
  };
  if (!req.services.empty()) {
    for (const auto& sid : req.services) {
      const policy::Service* s = p.FindService(sid);
      if (!s) return Fail(ErrorCode::kNotFound, "services", "'" + sid + "' is not a service");
      if (s->kind != policy::ServiceKind::kAdditional) {
        return Refuse("service_not_additional", "services",
                      "'" + sid + "' is a base service: its data rest on the contract, and "
                      "consent can be withdrawn only for additional services (R-VI.4)");
      }
      if (!active(sid)) return Refuse("service_not_on", "services", "'" + sid + "' is not on");
      for (const auto& r : s->purposes) {
        const policy::Purpose* pu = p.FindPurpose(r.id);
        if (pu->basis == LegalBasis::kConsent && granted(r.id)) ending.insert(r.id);
      }
    }
  } else if (!req.purposes.empty()) {
    for (const auto& id : req.purposes) {
      auto pu = CheckConsentPurpose(p, id);
      if (!pu) return tl::unexpected(pu.error());
      if (!granted(id)) {
        return Refuse("no_consent_in_force", "purpose",
                      "there is no consent to '" + id + "' in force to withdraw");
      }
      ending.insert(id);
    }
  } else {
    for (const auto& pu : p.purposes) {
      if (pu.basis != LegalBasis::kConsent) {
        not_withdrawable(pu);
      } else if (granted(pu.id)) {
        ending.insert(pu.id);
      }
    }
  }
  if (ending.empty()) {
    return Refuse("nothing_to_withdraw", "subject", "no consent in force would end");
  }
  if (!debts.empty()) {
    for (const auto& r : scope) {
      if (!ending.count(r.id)) continue;
      return Refuse("withdrawal_blocked_by_obligation", "subject",
                    "consent to '" + r.id + "' cannot be withdrawn while an obligation to the operator is "
                    "unfulfilled (R-VI.3, as the policy scopes it): open " + debts);
    }
  }
  plan.consents_end.assign(ending.begin(), ending.end());
  // R-VI.4: exactly the active services that need a purpose whose consent ends.
  for (const auto& s : p.services) {
    if (!active(s.id)) continue;
    const bool tied = std::any_of(s.purposes.begin(), s.purposes.end(),
                                  [&](const policy::Ref& r) { return ending.count(r.id) > 0; });
    if (tied) plan.services_off.push_back(s.id);
  }
  return plan;
}

Result<WithdrawalPlan> Withdrawals::Withdraw(const WithdrawalRequest& request, const Caller& actor) {
  if (!request.application) return Apply(request, actor, std::nullopt);
  // On a withdrawal application (LAW.md §5): it says through which channel
  // and what is withdrawn, and its registration is the evidence. Who
  // carries it out answers it, so handles applications.
  if (!request.channel.empty() || !request.evidence.empty() || !request.services.empty() ||
      !request.purposes.empty() || request.representative) {
    return Fail(ErrorCode::kInvalidArgument, "application",
                "the channel, evidence, purposes and representative of a withdrawal on an application are "
                "the application's; give none of them with it");
  }
  QORGAU_ASSIGN_OR_RETURN(const auto app, core_.ApplicationToCarryOut(actor, request.subject, *request.application,
                                                                     ApplicationKind::kWithdrawal,
                                                                     "withdrawal_application_required", "application"));
  WithdrawalRequest req = request;
  req.channel = app.channel;
  req.evidence = app.reference;
  req.purposes = app.purposes;
  auto plan = Apply(req, actor, RepresentationOf(app));
  if (plan || req.preview) return plan;
  // Refused by a rule of R-VI: that is the application's answer.
  return tl::unexpected(core_.RefuseApplicationOnRule(
      *req.application, plan.error(),
      {"channel_not_accepted", "withdrawal_blocked_by_obligation", "withdrawal_blocked_by_legal_hold",
       "nothing_to_withdraw", "no_consent_in_force"},
      actor));
}

Result<WithdrawalPlan> Withdrawals::Apply(const WithdrawalRequest& req, const Caller& actor,
                                          const std::optional<store::RepresentationRecord>& filed_by) {
  const policy::Policy& p = *d_.policy;
  if (!p.FindChannel(req.channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + req.channel + "' is not a channel");
  }
  const bool accepted = std::any_of(p.withdrawal.channels.begin(), p.withdrawal.channels.end(),
                                    [&](const policy::Ref& r) { return r.id == req.channel; });
  if (!accepted) {
    return Refuse("channel_not_accepted", "channel",
                  "withdrawal is not accepted through '" + req.channel + "' (R-VI.2)");
  }
  std::string identity;  // the representative's, to seal
  if (!req.preview) {
    QORGAU_TRY(CheckReference(req.evidence, "evidence"));
    if (req.representative) {
      QORGAU_ASSIGN_OR_RETURN(identity, CheckRepresentative(*req.representative, d_.clock.Now(),
                                                            CountryTimeZone(p.controller.country)));
    }
  }
  // What the caller asked to withdraw must be theirs to withdraw; what the
  // plan then ends is checked again below (an "everything" withdrawal ends
  // every consent in force, and each needs the caller's duty).
  const Action action = req.preview ? Action::kWithdrawalPreview : Action::kConsentWithdraw;
  {
    Scope asked{req.purposes, {}, {}};
    for (const auto& sid : req.services) {
      if (const policy::Service* s = p.FindService(sid)) {
        for (const auto& r : s->purposes) {
          if (p.FindPurpose(r.id)->basis == LegalBasis::kConsent) asked.purposes.push_back(r.id);
        }
      }
    }
    QORGAU_TRY(Authorize(p, actor, action, asked));
    QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  }
  auto authorize_plan = [&](const WithdrawalPlan& plan) {
    Scope scope{plan.consents_end, {}, {}};
    for (const auto& sid : plan.services_off) {
      for (const auto& r : p.FindService(sid)->purposes) scope.purposes.push_back(r.id);
    }
    return Authorize(p, actor, action, scope);
  };

  if (req.preview) {
    SubjectId id = 0;
    Result<WithdrawalPlan> planned = [&]() -> Result<WithdrawalPlan> {
      auto txn = d_.store.Begin(store::Store::Mode::kRead);
      if (!txn) return tl::unexpected(txn.error());
      QORGAU_ASSIGN_OR_RETURN(id, core_.Resolve(**txn, req.subject));
      return Plan(**txn, id, req);
    }();
    if (id == 0) return planned;  // no such subject: nothing was read
    // A preview reads the subject's consents, services and obligations:
    // of a blocked subject, the data protection officer alone.
    Result<void> allowed = planned ? authorize_plan(*planned) : Result<void>();
    if (allowed && d_.index.IsBlocked(id) && actor.role() != ActorRole::kDpo) {
      allowed = Refuse("subject_blocked", "subject",
                       "the subject's data are blocked: only the data protection officer reads them (LAW.md §1)");
    }
    QORGAU_TRY(core_.RecordRead(actor, id, "withdrawal_preview", "", {}, allowed));
    return planned;
  }

  WithdrawalPlan plan;
  report::ReceiptInput receipt_input;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = core_.Resolve(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    std::optional<store::ApplicationRecord> app;
    if (req.application) {
      QORGAU_ASSIGN_OR_RETURN(app, core_.VerifiedApplication(txn, *req.application, *id, ApplicationKind::kWithdrawal,
                                                             "withdrawal_application_required", "application"));
    }
    // A minor withdraws through a legal representative (LAW.md §12): the
    // one who filed the application, or the one named.
    std::optional<store::RepresentationRecord> by = filed_by;
    if (!by) {
      QORGAU_ASSIGN_OR_RETURN(by, Represent(d_, txn, *id, d_.clock.Now(), req.representative, identity));
    }
    auto planned = Plan(txn, *id, req);
    if (!planned) return tl::unexpected(planned.error());
    QORGAU_TRY(authorize_plan(*planned));
    plan = std::move(*planned);
    std::vector<index::Delta> deltas;
    for (const auto& purpose : plan.consents_end) {
      auto seq = core_.PutConsent(txn, *id, purpose, ConsentState::kWithdrawn, req.channel, req.evidence,
                            actor, &deltas, by ? &*by : nullptr);
      if (!seq) return tl::unexpected(seq.error());
    }
    auto subs = txn.GetSubscriptions(*id);
    if (!subs) return tl::unexpected(subs.error());
    for (const auto& service : plan.services_off) {
      std::int64_t contract = 0;
      for (const auto& s : *subs) {
        if (s.service == service) contract = s.contract_id;
      }
      auto seq = core_.PutService(txn, *id, service, false, contract, "withdrawal", actor, &deltas,
                                  by ? &*by : nullptr);
      if (!seq) return tl::unexpected(seq.error());
    }
    QORGAU_ASSIGN_OR_RETURN(plan.destroyed, DestroyAtOnce(d_, txn, actor, *id, "withdrawal", &deltas));
    auto receipt = core_.PrepareReceipt(txn, {*id, "consent.withdrawn", plan.consents_end, {},
                                        plan.services_off, req.channel, req.evidence});
    if (!receipt) return tl::unexpected(receipt.error());
    receipt_input = std::move(*receipt);
    // The application is answered by the withdrawal's receipt.
    if (app) QORGAU_TRY(core_.CloseApplication(txn, *app, true, report::ReceiptId(receipt_input.receipt_seq), actor));
    return deltas;
  });
  if (!written) return tl::unexpected(written.error());
  plan.revision = *written;
  plan.receipt = core_.SignReceipt(receipt_input);
  // What the destroyed rows left in the log goes too; the withdrawal is
  // done either way.
  if (!plan.destroyed.empty()) (void)d_.store.ForgetDeleted();
  return plan;
}

Result<ConsentOutcome> Withdrawals::WithdrawConsent(const ConsentRequest& req, const Caller& actor) {
  WithdrawalRequest w{req.subject, req.channel, req.evidence, {}, {req.purpose}, false};
  w.representative = req.representative;
  auto plan = Withdraw(w, actor);
  if (!plan) return tl::unexpected(plan.error());
  return ConsentOutcome{plan->subject, req.purpose, ConsentState::kWithdrawn,
                        d_.policy->edition.number, plan->revision, plan->receipt};
}

}  // namespace qorgau::rules
