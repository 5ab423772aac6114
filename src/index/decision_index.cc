#include "index/decision_index.h"

#include <algorithm>
#include <bit>
#include <mutex>

#include "ledger/ledger.h"

namespace qorgau::index {

using policy::LegalBasis;

std::string_view ReasonCode(Reason r) {
  switch (r) {
    case Reason::kConsentInForce: return "consent_in_force";
    case Reason::kContractActive: return "contract_active";
    case Reason::kLaw: return "law";
    case Reason::kNoConsent: return "no_consent";
    case Reason::kWithdrawn: return "withdrawn";
    case Reason::kNoActiveContract: return "no_active_contract";
    case Reason::kCategoryNotAllowed: return "category_not_allowed_for_purpose";
    case Reason::kSubjectDestroyed: return "subject_destroyed";
    case Reason::kUnknownSubject: return "unknown_subject";
    case Reason::kUnknownPurpose: return "unknown_purpose";
    case Reason::kSubjectBlocked: return "subject_blocked";
    case Reason::kConsentRenewalRequired: return "consent_renewal_required";
    case Reason::kObligationOpen: return "obligation_open";
  }
  return "unknown_subject";
}

std::optional<Reason> ReasonFromCode(std::string_view code) {
  for (int r = 0; r <= static_cast<int>(Reason::kObligationOpen); ++r) {
    if (ReasonCode(static_cast<Reason>(r)) == code) return static_cast<Reason>(r);
  }
  return std::nullopt;
}

std::string_view ReasonText(Reason r) {
  switch (r) {
    case Reason::kConsentInForce: return "the subject's consent to this purpose is in force";
    case Reason::kContractActive: return "an active service of the subject's contract needs this purpose";
    case Reason::kLaw: return "the purpose rests on law";
    case Reason::kNoConsent: return "the subject has not consented to this purpose";
    case Reason::kWithdrawn: return "the subject withdrew consent to this purpose";
    case Reason::kNoActiveContract: return "no active service of the subject needs this purpose";
    case Reason::kCategoryNotAllowed:
      return "a data category asked for is not one this purpose may use";
    case Reason::kSubjectDestroyed: return "the subject's data were destroyed";
    case Reason::kUnknownSubject: return "no such subject";
    case Reason::kUnknownPurpose: return "not a purpose of the policy edition";
    case Reason::kObligationOpen: return "an open obligation of the subject (a debt, an instalment) needs this purpose";
    case Reason::kConsentRenewalRequired:
      return "the consent was given under an earlier edition; the policy now uses this purpose's data more widely, so "
             "the subject must consent again (R-XI.2)";
    case Reason::kSubjectBlocked:
      return "the subject's data are blocked: no processing until the block is lifted";
  }
  return "";
}

std::vector<SubjectId> Audience::Ids() const {
  std::vector<SubjectId> ids;
  ids.reserve(count);
  for (std::size_t w = 0; w < words.size(); ++w) {
    std::uint64_t bits = words[w];
    while (bits != 0) {
      ids.push_back(static_cast<SubjectId>(w * 64 + std::countr_zero(bits)));
      bits &= bits - 1;
    }
  }
  return ids;
}

void DecisionIndex::Bits::Set(std::uint64_t i, bool on) {
  const std::uint64_t mask = std::uint64_t{1} << (i & 63);
  if (on) {
    words_[i >> 6] |= mask;
  } else {
    words_[i >> 6] &= ~mask;
  }
}

DecisionIndex::DecisionIndex(std::shared_ptr<const policy::Policy> policy)
    : policy_(std::move(policy)) {
  const auto& p = *policy_;
  const std::size_t np = p.purposes.size();
  basis_.resize(np);
  category_mask_.assign(np, 0);
  services_needing_.resize(np);
  while_obligation_.resize(np);
  for (std::size_t i = 0; i < np; ++i) {
    basis_[i] = p.purposes[i].basis;
    while_obligation_[i] = p.purposes[i].basis == LegalBasis::kContract && p.purposes[i].while_obligation_open;
    any_while_obligation_ = any_while_obligation_ || while_obligation_[i];
    for (std::size_t c = 0; c < p.categories.size() && c < 64; ++c) {
      if (p.CategoryAllowsPurpose(p.categories[c].id, p.purposes[i].id)) {
        category_mask_[i] |= std::uint64_t{1} << c;
      }
    }
    for (std::size_t s = 0; s < p.services.size(); ++s) {
      for (const auto& r : p.services[s].purposes) {
        if (r.id == p.purposes[i].id) services_needing_[i].push_back(static_cast<int>(s));
      }
    }
  }
  active_.resize(p.services.size());
  granted_.resize(np);
  withdrawn_.resize(np);
  renewal_.resize(np);
  allowed_.resize(np);
}

int DecisionIndex::PurposeOrdinal(std::string_view id) const {
  const auto& v = policy_->purposes;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int DecisionIndex::ServiceOrdinal(std::string_view id) const {
  const auto& v = policy_->services;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (v[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

int DecisionIndex::CategoryOrdinal(std::string_view id) const {
  const auto& v = policy_->categories;
  for (std::size_t i = 0; i < v.size() && i < 64; ++i) {
    if (v[i].id == id) return static_cast<int>(i);
  }
  return -1;
}

Result<std::uint64_t> DecisionIndex::CategoryMask(std::span<const std::string> categories) const {
  std::uint64_t mask = 0;
  for (const auto& c : categories) {
    const int o = CategoryOrdinal(c);
    if (o < 0) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a data category");
    mask |= std::uint64_t{1} << o;
  }
  return mask;
}

Decision DecisionIndex::Check(SubjectId subject, int purpose, std::uint64_t categories) const {
  Decision d;
  std::shared_lock<std::shared_mutex> lock(mu_);
  CheckLocked(std::span<const SubjectId>(&subject, 1), purpose, categories,
              std::span<Decision>(&d, 1));
  return d;
}

void DecisionIndex::CheckMany(std::span<const SubjectId> subjects, int purpose,
                              std::uint64_t categories, std::span<Decision> out) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  CheckLocked(subjects, purpose, categories, out);
}

void DecisionIndex::CheckLocked(std::span<const SubjectId> subjects, int purpose,
                                std::uint64_t categories, std::span<Decision> out) const {
  const int edition = policy_->edition.number;
  const bool known_purpose = purpose >= 0 && purpose < static_cast<int>(basis_.size());
  const LegalBasis basis = known_purpose ? basis_[purpose] : LegalBasis::kConsent;
  const bool categories_ok = known_purpose && (categories & ~category_mask_[purpose]) == 0;
  for (std::size_t k = 0; k < subjects.size(); ++k) {
    const auto i = static_cast<std::uint64_t>(subjects[k]);
    Decision& d = out[k];
    d.basis = basis;
    d.edition = edition;
    d.revision = revision_;
    Reason r;
    if (!known_purpose) {
      r = Reason::kUnknownPurpose;
    } else if (subjects[k] <= 0 || !exists_.Test(i)) {
      r = Reason::kUnknownSubject;
    } else if (destroyed_.Test(i)) {
      r = Reason::kSubjectDestroyed;
    } else if (blocked_.Test(i)) {
      r = Reason::kSubjectBlocked;
    } else if (!categories_ok) {
      r = Reason::kCategoryNotAllowed;
    } else if (allowed_[purpose].Test(i)) {
      r = basis == LegalBasis::kLaw        ? Reason::kLaw
          : basis == LegalBasis::kContract ? Reason::kContractActive
                                           : Reason::kConsentInForce;
      if (r == Reason::kContractActive && while_obligation_[purpose]) {
        bool any = false;
        for (int s : services_needing_[purpose]) any = any || active_[s].Test(i);
        if (!any) r = Reason::kObligationOpen;
      }
    } else if (basis == LegalBasis::kContract) {
      r = Reason::kNoActiveContract;
    } else {
      r = withdrawn_[purpose].Test(i)  ? Reason::kWithdrawn
          : renewal_[purpose].Test(i) ? Reason::kConsentRenewalRequired
                                      : Reason::kNoConsent;
    }
    d.reason = r;
    d.allow = IsAllowed(r);
  }
}

Audience DecisionIndex::Select(int purpose, bool exclude_obligations,
                               const std::vector<SubjectId>* among) const {
  Audience a;
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (purpose < 0 || purpose >= static_cast<int>(allowed_.size())) return a;
  const auto& allowed = allowed_[purpose].words();
  const auto& obligated = obligated_.words();
  a.words.resize(allowed.size());
  if (among != nullptr) {
    std::vector<std::uint64_t> filter(allowed.size(), 0);
    for (SubjectId id : *among) {
      const auto i = static_cast<std::uint64_t>(id);
      if (id > 0 && (i >> 6) < filter.size()) filter[i >> 6] |= std::uint64_t{1} << (i & 63);
    }
    for (std::size_t w = 0; w < allowed.size(); ++w) a.words[w] = allowed[w] & filter[w];
  } else {
    std::copy(allowed.begin(), allowed.end(), a.words.begin());
  }
  if (exclude_obligations) {
    const std::size_t n = std::min(a.words.size(), obligated.size());
    for (std::size_t w = 0; w < n; ++w) a.words[w] &= ~obligated[w];
  }
  for (std::uint64_t w : a.words) a.count += static_cast<std::uint64_t>(std::popcount(w));
  return a;
}

Audience DecisionIndex::ActiveOn(int service) const {
  Audience a;
  std::shared_lock<std::shared_mutex> lock(mu_);
  if (service < 0 || service >= static_cast<int>(active_.size())) return a;
  a.words = active_[service].words();
  for (std::uint64_t w : a.words) a.count += static_cast<std::uint64_t>(std::popcount(w));
  return a;
}

void DecisionIndex::Grow(SubjectId subject) {
  const auto need = static_cast<std::uint64_t>(subject) + 1;
  if (need <= capacity_) return;
  std::uint64_t cap = std::max<std::uint64_t>(capacity_ * 2, 1024);
  while (cap < need) cap *= 2;
  capacity_ = cap;
  for (Bits* b : {&exists_, &destroyed_, &obligated_, &blocked_, &indebted_}) b->Resize(cap);
  for (auto* v : {&active_, &allowed_}) {
    for (Bits& b : *v) b.Resize(cap);
  }
  // Granted and withdrawn exist for consent-basis purposes only.
  for (std::size_t p = 0; p < basis_.size(); ++p) {
    if (basis_[p] != LegalBasis::kConsent) continue;
    granted_[p].Resize(cap);
    withdrawn_[p].Resize(cap);
    renewal_[p].Resize(cap);
  }
}

void DecisionIndex::Recompute(SubjectId subject, int p) {
  const auto i = static_cast<std::uint64_t>(subject);
  bool on = exists_.Test(i) && !destroyed_.Test(i) && !blocked_.Test(i);
  switch (basis_[p]) {
    case LegalBasis::kLaw: break;
    case LegalBasis::kConsent: on = on && granted_[p].Test(i); break;
    case LegalBasis::kContract: {
      bool any = false;
      for (int s : services_needing_[p]) any = any || active_[s].Test(i);
      on = on && (any || (while_obligation_[p] && indebted_.Test(i)));
      break;
    }
  }
  allowed_[p].Set(i, on);
}

void DecisionIndex::RecomputeContractPurposes(SubjectId subject) {
  for (std::size_t p = 0; p < basis_.size(); ++p) {
    if (basis_[p] == LegalBasis::kContract) Recompute(subject, static_cast<int>(p));
  }
}

void DecisionIndex::ApplyLocked(const Delta& d) {
  if (d.subject <= 0) return;
  Grow(d.subject);
  const auto i = static_cast<std::uint64_t>(d.subject);
  switch (d.kind) {
    case Delta::Kind::kSubjectAdded:
      if (!exists_.Test(i)) ++subjects_;
      exists_.Set(i, true);
      for (std::size_t p = 0; p < basis_.size(); ++p) Recompute(d.subject, static_cast<int>(p));
      return;
    case Delta::Kind::kSubjectDestroyed:
      destroyed_.Set(i, true);
      for (std::size_t p = 0; p < basis_.size(); ++p) Recompute(d.subject, static_cast<int>(p));
      return;
    case Delta::Kind::kSubjectBlocked:
    case Delta::Kind::kSubjectUnblocked:
      blocked_.Set(i, d.kind == Delta::Kind::kSubjectBlocked);
      for (std::size_t p = 0; p < basis_.size(); ++p) Recompute(d.subject, static_cast<int>(p));
      return;
    case Delta::Kind::kConsentGranted:
    case Delta::Kind::kConsentWithdrawn: {
      // A consent recorded under an edition where the purpose rested on
      // consent means nothing once it rests on contract or law.
      if (d.ordinal < 0 || basis_[d.ordinal] != LegalBasis::kConsent) return;
      const bool grant = d.kind == Delta::Kind::kConsentGranted;
      granted_[d.ordinal].Set(i, grant);
      withdrawn_[d.ordinal].Set(i, !grant);
      renewal_[d.ordinal].Set(i, false);
      Recompute(d.subject, d.ordinal);
      return;
    }
    case Delta::Kind::kConsentNeedsRenewal:
      if (d.ordinal < 0 || basis_[d.ordinal] != LegalBasis::kConsent) return;
      granted_[d.ordinal].Set(i, false);
      withdrawn_[d.ordinal].Set(i, false);
      renewal_[d.ordinal].Set(i, true);
      Recompute(d.subject, d.ordinal);
      return;
    case Delta::Kind::kServiceOn:
    case Delta::Kind::kServiceOff:
      if (d.ordinal < 0) return;
      active_[d.ordinal].Set(i, d.kind == Delta::Kind::kServiceOn);
      RecomputeContractPurposes(d.subject);
      return;
    case Delta::Kind::kObligationOpened:
      ++open_obligations_[d.subject];
      obligated_.Set(i, true);
      if (d.ordinal != 1) {  // a debt or an instalment; a legal hold collects nothing
        ++open_debts_[d.subject];
        indebted_.Set(i, true);
        if (any_while_obligation_) RecomputeContractPurposes(d.subject);
      }
      return;
    case Delta::Kind::kObligationClosed: {
      auto it = open_obligations_.find(d.subject);
      if (it != open_obligations_.end() && --it->second == 0) {
        open_obligations_.erase(it);
        obligated_.Set(i, false);
      }
      if (d.ordinal != 1) {
        auto debt = open_debts_.find(d.subject);
        if (debt != open_debts_.end() && --debt->second == 0) {
          open_debts_.erase(debt);
          indebted_.Set(i, false);
          if (any_while_obligation_) RecomputeContractPurposes(d.subject);
        }
      }
      return;
    }
  }
}

void DecisionIndex::Apply(std::span<const Delta> deltas, std::int64_t revision) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  for (const Delta& d : deltas) ApplyLocked(d);
  revision_ = std::max(revision_, revision);
}

bool DecisionIndex::IsBlocked(SubjectId subject) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  const auto i = static_cast<std::uint64_t>(subject);
  return subject > 0 && i < capacity_ && blocked_.Test(i);
}

std::int64_t DecisionIndex::revision() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return revision_;
}

std::size_t DecisionIndex::subjects() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return subjects_;
}

std::size_t DecisionIndex::MemoryBytes() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::size_t bytes = exists_.bytes() + destroyed_.bytes() + obligated_.bytes() + blocked_.bytes();
  for (const auto* v : {&active_, &granted_, &withdrawn_, &renewal_, &allowed_}) {
    for (const Bits& b : *v) bytes += b.bytes();
  }
  return bytes + open_obligations_.size() * 32;
}

Result<std::unique_ptr<DecisionIndex>> DecisionIndex::Load(
    store::Store& store, std::shared_ptr<const policy::Policy> policy) {
  auto index = std::make_unique<DecisionIndex>(std::move(policy));
  auto txn = store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  std::vector<Delta> deltas;
  auto add = [&](Delta d) {
    deltas.push_back(d);
    if (deltas.size() >= 65536) {
      index->Apply(deltas, 0);
      deltas.clear();
    }
  };
  auto r1 = (*txn)->ScanSubjectIds([&](SubjectId id, bool destroyed) {
    add({Delta::Kind::kSubjectAdded, id});
    if (destroyed) add({Delta::Kind::kSubjectDestroyed, id});
  });
  if (!r1) return tl::unexpected(r1.error());
  // R-XI.2: the edition (up to the one in force) that last widened each
  // purpose; a consent given under an earlier one must be given again.
  std::map<std::string, int> renew_from;
  {
    QORGAU_ASSIGN_OR_RETURN(const auto editions, (*txn)->ListEditions());
    for (const auto& e : editions) {
      if (e.number > index->policy_->edition.number) continue;
      for (const auto& purpose : e.renewal) renew_from[purpose] = std::max(renew_from[purpose], e.number);
    }
  }
  auto r2 = (*txn)->ScanConsents([&](const store::ConsentRecord& c) {
    const int p = index->PurposeOrdinal(c.purpose);
    if (p < 0) return;  // a purpose the edition in force no longer has
    const bool granted = c.state == store::ConsentState::kGranted;
    auto renew = renew_from.find(c.purpose);
    if (granted && renew != renew_from.end() && c.edition < renew->second) {
      add({Delta::Kind::kConsentNeedsRenewal, c.subject_id, p});
      return;
    }
    add({granted ? Delta::Kind::kConsentGranted : Delta::Kind::kConsentWithdrawn, c.subject_id, p});
  });
  if (!r2) return tl::unexpected(r2.error());
  auto r3 = (*txn)->ScanSubscriptions([&](const store::SubscriptionRecord& s) {
    const int o = index->ServiceOrdinal(s.service);
    if (o >= 0) add({Delta::Kind::kServiceOn, s.subject_id, o});
  });
  if (!r3) return tl::unexpected(r3.error());
  QORGAU_TRY((*txn)->ScanSubjectBlocks([&](const store::SubjectBlockRecord& b) {
    add({Delta::Kind::kSubjectBlocked, b.subject_id});
  }));
  auto r4 = (*txn)->ScanOpenObligations([&](const store::ObligationRecord& o) {
    add({Delta::Kind::kObligationOpened, o.subject_id, ObligationOrdinal(o.kind)});
  });
  if (!r4) return tl::unexpected(r4.error());
  auto revision = ledger::Revision(**txn);
  if (!revision) return tl::unexpected(revision.error());
  index->Apply(deltas, *revision);
  return index;
}

}  // namespace qorgau::index
