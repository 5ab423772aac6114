#include "policy/policy.h"

#include <algorithm>

namespace qorgau::policy {
namespace {

template <typename T>
const T* FindById(const std::vector<T>& items, std::string_view id) {
  for (const T& item : items) {
    if (item.id == id) return &item;
  }
  return nullptr;
}

}  // namespace

const std::string& InLanguage(const Text& text, std::string_view lang) {
  static const std::string kEmpty;
  if (auto it = text.find(lang); it != text.end()) return it->second;
  if (auto it = text.find("kk"); it != text.end()) return it->second;
  return text.empty() ? kEmpty : text.begin()->second;
}

std::string_view LegalBasisName(LegalBasis b) {
  switch (b) {
    case LegalBasis::kContract: return "contract";
    case LegalBasis::kConsent: return "consent";
    case LegalBasis::kLaw: return "law";
  }
  return "consent";
}

double Period::Days() const {
  switch (unit) {
    case 'y': return amount * 365.25;
    case 'm': return amount * 30.4375;
    default: return amount;
  }
}

UnixMillis Period::After(UnixMillis from) const {
  using namespace std::chrono;
  const sys_time<milliseconds> t{milliseconds{from}};
  const sys_days day = floor<days>(t);
  const milliseconds time_of_day = t - day;
  if (unit == 'd') return (t + days{amount}).time_since_epoch().count();
  year_month_day ymd{day};
  ymd += unit == 'y' ? months{12 * amount} : months{amount};
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / last;
  return (sys_days{ymd} + time_of_day).time_since_epoch().count();
}

std::string Period::ToString() const { return std::to_string(amount) + unit; }

const Purpose* Policy::FindPurpose(std::string_view id) const { return FindById(purposes, id); }
const Category* Policy::FindCategory(std::string_view id) const { return FindById(categories, id); }
const Channel* Policy::FindChannel(std::string_view id) const { return FindById(channels, id); }
const ContractMethod* Policy::FindContractMethod(std::string_view id) const {
  return FindById(contract_methods, id);
}
const Service* Policy::FindService(std::string_view id) const { return FindById(services, id); }
const Statute* Policy::FindStatute(std::string_view id) const { return FindById(statutes, id); }
const Recipient* Policy::FindRecipient(std::string_view id) const { return FindById(recipients, id); }
const DataSource* Policy::FindSource(std::string_view id) const { return FindById(sources, id); }

std::vector<const RetentionRule*> Policy::RetentionRules(std::string_view subject) const {
  std::vector<const RetentionRule*> out;
  for (const auto& r : retention) {
    if (r.Subject() == subject) out.push_back(&r);
  }
  return out;
}

const Category* Policy::FindCategoryByValue(ValueType type) const {
  for (const auto& c : categories) {
    if (c.value == type) return &c;
  }
  return nullptr;
}

bool Policy::CategoryAllowsPurpose(std::string_view category, std::string_view purpose) const {
  const Category* c = FindCategory(category);
  if (c == nullptr) return false;
  return std::any_of(c->purposes.begin(), c->purposes.end(),
                     [&](const Ref& r) { return r.id == purpose; });
}

}  // namespace qorgau::policy
