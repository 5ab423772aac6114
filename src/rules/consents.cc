// Consents to purposes whose basis is consent (R-III.1, R-III.4).
#include "rules/consents.h"

#include "rules/checks.h"

namespace qorgau::rules {

using store::ConsentState;

Result<ConsentOutcome> Consents::GrantConsent(const ConsentRequest& req, const Caller& actor) {
  const policy::Policy& p = *d_.policy;
  QORGAU_TRY(CheckConsentPurpose(p, req.purpose));
  QORGAU_TRY(Authorize(p, actor, Action::kConsentGrant, {{req.purpose}, {}, {}}));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  if (!p.FindChannel(req.channel)) {
    return Fail(ErrorCode::kNotFound, "channel", "'" + req.channel + "' is not a consent channel");
  }
  QORGAU_TRY(CheckReference(req.evidence, "evidence"));

  ConsentOutcome out{0, req.purpose, ConsentState::kGranted, p.edition.number, 0};
  report::ReceiptInput receipt_input;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = core_.Resolve(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    auto consents = txn.GetConsents(*id);
    if (!consents) return tl::unexpected(consents.error());
    for (const auto& c : *consents) {
      if (c.purpose == req.purpose && c.state == ConsentState::kGranted) {
        return Fail(ErrorCode::kAlreadyExists, "purpose",
                    "consent to '" + req.purpose + "' is already granted");
      }
    }
    std::vector<index::Delta> deltas;
    auto seq = core_.PutConsent(txn, *id, req.purpose, ConsentState::kGranted, req.channel,
                          req.evidence, actor, &deltas);
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
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindSubject(caller, key));
  QORGAU_TRY(core_.RecordRead(caller, id, "consents", "", {},
                        Authorize(*d_.policy, caller, Action::kConsentsRead)));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto consents, (*txn)->GetConsents(id));
  std::erase_if(consents, [&](const store::ConsentRecord& c) { return !caller.SeesPurpose(c.purpose); });
  return consents;
}

}  // namespace qorgau::rules

