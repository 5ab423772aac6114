// The semantic checks of a loaded policy: everything that makes a
// well-formed file a policy the engine can enforce. Each check cites the
// requirement or legal rule it protects.
#include <algorithm>
#include <map>
#include <set>

#include "policy/policy_loader.h"

namespace qorgau::policy {
namespace {

class Checker {
 public:
  explicit Checker(const Policy& p) : p_(p) {}

  std::vector<Diagnostic> Run() {
    Duplicates();
    Purposes();
    Categories();
    Services();
    Retention();
    Recipients();
    Sources();
    Storage();
    Withdrawal();
    return std::move(out_);
  }

 private:
  void Error(const SourcePos& pos, std::string message) { out_.push_back({pos, std::move(message)}); }

  template <typename T>
  void UniqueIds(const std::vector<T>& items, std::string_view list) {
    std::map<std::string, SourcePos> seen;
    for (const T& item : items) {
      if (item.id.empty()) continue;
      auto [it, fresh] = seen.emplace(item.id, item.pos);
      if (!fresh) {
        Error(item.pos, std::string(list) + ": duplicate id '" + item.id + "' (first at line " +
                            std::to_string(it->second.line) + ")");
      }
    }
  }

  void Duplicates() {
    UniqueIds(p_.channels, "channels");
    UniqueIds(p_.contract_methods, "contract_methods");
    UniqueIds(p_.purposes, "purposes");
    UniqueIds(p_.categories, "categories");
    UniqueIds(p_.services, "services");
    UniqueIds(p_.recipients, "recipients");
    UniqueIds(p_.sources, "sources");
    UniqueIds(p_.rights, "rights");
    UniqueIds(p_.security_measures, "security_measures");
    UniqueIds(p_.statutes, "statutes");
  }

  void PurposeRef(const Ref& r, std::string_view where) {
    if (!p_.FindPurpose(r.id)) Error(r.pos, std::string(where) + ": unknown purpose '" + r.id + "'");
  }
  void CategoryRef(const Ref& r, std::string_view where) {
    if (!p_.FindCategory(r.id)) {
      Error(r.pos, std::string(where) + ": unknown data category '" + r.id + "'");
    }
  }

  // R-V.1: the purposes are a closed, numbered list.
  void Purposes() {
    std::set<int> numbers;
    for (const Purpose& pu : p_.purposes) {
      if (pu.number < 1 || pu.number > static_cast<int>(p_.purposes.size())) {
        Error(pu.pos, "purpose '" + pu.id + "': number " + std::to_string(pu.number) +
                          " is outside 1.." + std::to_string(p_.purposes.size()));
      } else if (!numbers.insert(pu.number).second) {
        Error(pu.pos, "purpose '" + pu.id + "': duplicate number " + std::to_string(pu.number));
      }
      if (pu.basis == LegalBasis::kLaw && pu.statute.empty()) {
        Error(pu.pos, "purpose '" + pu.id + "': basis 'law' needs a 'statute' naming the act");
      }
      if (pu.basis != LegalBasis::kLaw && !pu.statute.empty()) {
        Error(pu.pos, "purpose '" + pu.id + "': 'statute' is only for basis 'law'");
      }
    }
  }

  // R-IV.2: every category is used by a declared purpose.
  void Categories() {
    // The decision index keeps a purpose's categories as a 64-bit mask.
    if (p_.categories.size() > 64) {
      Error(p_.categories[64].pos, "categories: more than 64 data categories (qorgau's limit)");
    }
    std::map<ValueType, const Category*> typed;
    for (const Category& c : p_.categories) {
      if (c.value != ValueType::kText && c.value != ValueType::kDate && c.value != ValueType::kNumber) {
        auto [it, fresh] = typed.emplace(c.value, &c);
        if (!fresh) {
          Error(c.pos, "category '" + c.id + "': a second category with value '" +
                           std::string(ValueTypeName(c.value)) + "' (first: '" + it->second->id +
                           "')");
        }
      }
      if (c.purposes.empty()) {
        Error(c.pos, "category '" + c.id + "': no purpose may use it (empty 'purposes')");
      }
      for (const Ref& r : c.purposes) PurposeRef(r, "category '" + c.id + "'");
    }
  }

  // Services need purposes their kind can have, and categories those
  // purposes may use (R-III.2, R-III.3, R-VI.4).
  void Services() {
    for (const Service& s : p_.services) {
      const std::string where = "service '" + s.id + "'";
      for (const Ref& r : s.join_methods) {
        if (!p_.FindContractMethod(r.id)) {
          Error(r.pos, where + ": unknown contract method '" + r.id + "'");
        }
      }
      if (s.purposes.empty()) Error(s.pos, where + ": needs at least one purpose");
      for (const Ref& r : s.purposes) {
        PurposeRef(r, where);
        const Purpose* pu = p_.FindPurpose(r.id);
        if (pu && s.kind == ServiceKind::kBase && pu->basis == LegalBasis::kConsent) {
          Error(r.pos, where + ": a base service cannot need purpose '" + r.id +
                           "', whose basis is consent (a separate consent cannot be a "
                           "condition of the contract)");
        }
      }
      CategoriesUsable(s.categories, s.purposes, where);
      if (s.kind == ServiceKind::kBase &&
          (s.reenable_written_application || s.reenable_new_consent)) {
        Error(s.pos, where + ": 'reenable' applies to additional services only");
      }
      if (s.kind == ServiceKind::kAdditional && !s.has_reenable) {
        Error(s.pos, where + ": an additional service needs 'reenable' (R-VI.5)");
      }
    }
  }

  void CategoriesUsable(const std::vector<Ref>& categories, const std::vector<Ref>& purposes,
                        const std::string& where) {
    for (const Ref& c : categories) {
      if (!p_.FindCategory(c.id)) {
        CategoryRef(c, where);
        continue;
      }
      const bool usable = std::any_of(purposes.begin(), purposes.end(), [&](const Ref& pu) {
        return p_.CategoryAllowsPurpose(c.id, pu.id);
      });
      if (!usable) {
        Error(c.pos, where + ": category '" + c.id + "' is not allowed for any of its purposes");
      }
    }
  }

  // R-VII.1: every category has a retention rule; a category may have
  // several (the longest applicable wins), none shorter than the statutory
  // minimum it cites, each counting from an event qorgau records.
  void Retention() {
    std::map<std::string, int> rules;
    std::set<std::string> for_everyone;  // categories with a rule every subject's clock can reach
    for (const RetentionRule& r : p_.retention) {
      const std::string what = r.Subject();
      if (!r.category.id.empty()) {
        CategoryRef(r.category, "retention");
        ++rules[r.category.id];
        if (!r.purpose && (r.from == "collection" || r.from == "relationship_end" || r.from == "tax_period_end" ||
                           r.from == "service_end")) {
          for_everyone.insert(r.category.id);
        }
      }
      if (!r.record.empty()) RecordRule(r);
      if (r.purpose) {
        PurposeRef(*r.purpose, "retention");
        if (!r.category.id.empty() && p_.FindPurpose(r.purpose->id) &&
            !p_.CategoryAllowsPurpose(r.category.id, r.purpose->id)) {
          Error(r.purpose->pos, "retention for '" + what + "': purpose '" + r.purpose->id +
                                    "' does not use this category");
        }
      }
      if (!r.from.empty() &&
          std::find(std::begin(kRetentionStarts), std::end(kRetentionStarts), r.from) == std::end(kRetentionStarts)) {
        std::string list;
        for (auto s : kRetentionStarts) list += (list.empty() ? "" : ", ") + std::string(s);
        Error(r.from_pos, "retention for '" + what + "': qorgau records no event '" + r.from +
                              "' for a period to count from; use one of " + list);
      }
      if (!r.evidence.empty() && r.from != "consent_end") {
        Error(r.pos, "retention for '" + what + "': 'evidence' narrows the consents of 'from: consent_end' only");
      }
      if (r.from == "consent_end" && r.purpose && p_.FindPurpose(r.purpose->id) &&
          p_.FindPurpose(r.purpose->id)->basis != LegalBasis::kConsent) {
        Error(r.purpose->pos, "retention for '" + what + "': purpose '" + r.purpose->id +
                                  "' rests on no consent, so 'consent_end' never comes");
      }
      if (!r.minimum) continue;
      const Statute* st = p_.FindStatute(r.minimum->id);
      if (!st) {
        Error(r.minimum->pos, "retention: unknown statute '" + r.minimum->id + "' in the law table");
        continue;
      }
      if (st->period.amount > 0 && r.period.Days() < st->period.Days()) {
        Error(r.period_pos, "retention for '" + what + "': period " + r.period.ToString() +
                                " is shorter than the statutory minimum " + st->period.ToString() + " of '" +
                                st->id + "'");
      }
    }
    for (const Category& c : p_.categories) {
      if (!rules.count(c.id)) {
        Error(c.pos, "category '" + c.id + "': has no retention rule");
      } else if (!for_everyone.count(c.id)) {
        // Otherwise a subject none of the rules concerns keeps the data
        // for ever.
        Error(c.pos, "category '" + c.id + "': needs a retention rule that applies to every subject "
                                           "(no 'purpose'; from collection, relationship_end, tax_period_end "
                                           "or service_end)");
      }
    }
  }

  // A rule for a record qorgau keeps counts from that record's own event.
  void RecordRule(const RetentionRule& r) {
    const RecordKind* kind = nullptr;
    for (const RecordKind& k : kRecordKinds) {
      if (k.id == r.record) kind = &k;
    }
    if (!kind) {
      std::string list;
      for (const RecordKind& k : kRecordKinds) list += (list.empty() ? "" : ", ") + std::string(k.id);
      Error(r.pos, "retention: '" + r.record + "' is not a record qorgau keeps; one of " + list);
      return;
    }
    if (!r.from.empty() && r.from != kind->from) {
      Error(r.from_pos, "retention for records of '" + r.record + "': they count from '" + std::string(kind->from) +
                            "', not '" + r.from + "'");
    }
    if (r.purpose || !r.evidence.empty()) {
      Error(r.pos, "retention for records of '" + r.record + "': 'purpose' and 'evidence' are for data categories");
    }
  }

  // R-IX.3: recipients receive only what their purposes may use.
  void Recipients() {
    for (const Recipient& r : p_.recipients) {
      const std::string where = "recipient '" + r.id + "'";
      if (r.purposes.empty()) Error(r.pos, where + ": needs at least one purpose");
      for (const Ref& pu : r.purposes) PurposeRef(pu, where);
      CategoriesUsable(r.categories, r.purposes, where);
      if (!r.bin.empty() && !r.registration.empty()) {
        Error(r.pos, where + ": give its 'bin' (a Kazakh partner) or its 'registration' (a foreign one), not both");
      }
      if (r.agreement.expires && *r.agreement.expires < r.agreement.signed_on) {
        Error(r.pos, where + ": its agreement expires before it was signed");
      }
    }
    for (const std::string& c : p_.transfers.adequate_countries) {
      if (c == p_.controller.country) {
        Error({}, "transfers.adequate_countries: '" + c + "' is the operator's own country; a transfer there is not cross-border");
      }
    }
  }

  // R-X: sources supply data for purposes that allow enrichment, of
  // categories those purposes may use; a third party under an agreement.
  void Sources() {
    for (const DataSource& s : p_.sources) {
      const std::string where = "source '" + s.id + "'";
      if (s.purposes.empty()) Error(s.pos, where + ": needs at least one purpose");
      for (const Ref& pu : s.purposes) {
        PurposeRef(pu, where);
        const Purpose* purpose = p_.FindPurpose(pu.id);
        if (purpose && !purpose->enrichment) {
          Error(s.pos, where + ": purpose '" + pu.id + "' does not allow enrichment (R-X.2; set its 'enrichment')");
        }
      }
      CategoriesUsable(s.categories, s.purposes, where);
      if (s.kind == SourceKind::kThirdParty && !s.agreement) {
        Error(s.pos, where + ": a third party supplies data under an agreement with the operator (R-X.1)");
      }
      if (s.kind == SourceKind::kPublic && (s.agreement || !s.bin.empty() || !s.registration.empty())) {
        Error(s.pos, where + ": a public source has no agreement, BIN or registration");
      }
      if (s.agreement && s.agreement->expires && *s.agreement->expires < s.agreement->signed_on) {
        Error(s.pos, where + ": its agreement expires before it was signed");
      }
    }
  }

  // LAW.md §6: the primary database of a Kazakh operator is in Kazakhstan;
  // a copy abroad is a cross-border transfer, not the store.
  void Storage() {
    const Controller& c = p_.controller;
    if (p_.jurisdiction == "KZ" && !c.primary_storage_country.empty() && c.primary_storage_country != "KZ") {
      Error({}, "controller.primary_storage_country: '" + c.primary_storage_country +
                    "': the primary database must be in Kazakhstan (KZ) (LAW.md §6)");
    }
  }

  // R-VI.2: withdrawal channels are declared channels; R-VI.3's scope
  // names purposes a withdrawal could end.
  void Withdrawal() {
    for (const Ref& c : p_.withdrawal.channels) {
      if (!p_.FindChannel(c.id)) Error(c.pos, "withdrawal: unknown channel '" + c.id + "'");
    }
    for (const Ref& r : p_.withdrawal.obligation_blocks) {
      const Purpose* pu = p_.FindPurpose(r.id);
      if (!pu) {
        Error(r.pos, "withdrawal.obligation_blocks: unknown purpose '" + r.id + "'");
      } else if (pu->basis != LegalBasis::kConsent) {
        Error(r.pos, "withdrawal.obligation_blocks: '" + r.id + "' rests on " +
                         std::string(LegalBasisName(pu->basis)) + ", not on a consent that could be withdrawn");
      }
    }
    for (const Purpose& pu : p_.purposes) {
      // R-X.2: profiling builds offers on the subject's consent, which
      // the subject can withdraw (and the profile goes with it).
      if (pu.enrichment && pu.basis != LegalBasis::kConsent) {
        Error(pu.pos, "purpose '" + pu.id + "': enrichment is for a purpose resting on consent (R-X.2)");
      }
      if (pu.while_obligation_open && pu.basis != LegalBasis::kContract) {
        Error(pu.pos, "purpose '" + pu.id + "': while_obligation_open is for a purpose resting on the contract");
      }
    }
  }

  const Policy& p_;
  std::vector<Diagnostic> out_;
};

}  // namespace

std::vector<Diagnostic> ValidatePolicy(const Policy& policy) { return Checker(policy).Run(); }

}  // namespace qorgau::policy
