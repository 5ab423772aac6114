#include "policy/policy_diff.h"

#include <algorithm>
#include <map>
#include <set>

namespace qorgau::policy {
namespace {

using Fields = std::map<std::string, std::string>;
using Entries = std::map<std::string, Fields>;

std::string Str(const Text& t) {
  std::string out;
  for (const auto& [lang, text] : t) out += lang + "=" + text + "\x1f";
  return out;
}
std::string Str(const std::vector<Ref>& refs) {
  std::string out;
  for (const auto& r : refs) out += r.id + ",";
  return out;
}
std::string Str(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& s : list) out += s + ",";
  return out;
}
std::string Str(const std::optional<std::chrono::year_month_day>& d) { return d ? FormatDate(*d) : "-"; }

void Compare(const std::string& section, const Entries& a, const Entries& b, std::vector<PolicyChange>* out) {
  for (const auto& [id, fields] : a) {
    auto it = b.find(id);
    if (it == b.end()) {
      out->push_back({section, id, "removed", {}});
      continue;
    }
    PolicyChange c{section, id, "changed", {}};
    for (const auto& [name, value] : fields) {
      auto f = it->second.find(name);
      if (f == it->second.end() || f->second != value) c.fields.push_back(name);
    }
    for (const auto& [name, value] : it->second) {
      if (!fields.count(name)) c.fields.push_back(name);
    }
    if (!c.fields.empty()) out->push_back(std::move(c));
  }
  for (const auto& [id, fields] : b) {
    if (!a.count(id)) out->push_back({section, id, "added", {}});
  }
}

struct Sections {
  std::map<std::string, Entries> by;
};

Sections Read(const Policy& p) {
  Sections s;
  const Controller& c = p.controller;
  s.by["controller"]["controller"] = {{"name", Str(c.name)},
                                      {"brand", c.brand},
                                      {"address", Str(c.address)},
                                      {"postal_index", c.postal_index},
                                      {"country", c.country},
                                      {"primary_storage_country", c.primary_storage_country},
                                      {"bin", c.bin},
                                      {"dpo_contact", c.dpo_contact}};
  s.by["edition"]["edition"] = {{"owner", Str(p.edition.owner)},
                                {"approval_order", p.edition.order_number.value_or("-") + "/" +
                                                       std::to_string(p.edition.order_year)},
                                {"effective", p.edition.effective + " " + Str(p.edition.effective_date)}};
  for (const auto& [lang, text] : p.edition.texts) s.by["texts"][lang] = {{"text", text}};
  for (const auto& x : p.channels) s.by["channels"][x.id] = {{"evidence", x.evidence}, {"name", Str(x.name)}};
  for (const auto& x : p.contract_methods) s.by["contract_methods"][x.id] = {{"name", Str(x.name)}};
  for (const auto& x : p.purposes) {
    s.by["purposes"][x.id] = {{"number", std::to_string(x.number)},
                              {"basis", std::string(LegalBasisName(x.basis))},
                              {"statute", x.statute},
                              {"while_obligation_open", std::to_string(x.while_obligation_open)},
                              {"enrichment", std::to_string(x.enrichment)},
                              {"name", Str(x.name)}};
  }
  for (const auto& x : p.categories) {
    s.by["categories"][x.id] = {{"access", x.access == AccessClass::kPublic ? "public" : "restricted"},
                                {"value", std::string(ValueTypeName(x.value))},
                                {"name", Str(x.name)},
                                {"purposes", Str(x.purposes)}};
  }
  for (const auto& x : p.services) {
    s.by["services"][x.id] = {{"kind", x.kind == ServiceKind::kBase ? "base" : "additional"},
                              {"name", Str(x.name)},
                              {"join_methods", Str(x.join_methods)},
                              {"purposes", Str(x.purposes)},
                              {"categories", Str(x.categories)},
                              {"reenable", std::to_string(x.reenable_written_application) +
                                               std::to_string(x.reenable_new_consent)}};
  }
  for (const auto& x : p.retention) {
    std::string id = x.Subject();
    if (x.purpose) id += "/" + x.purpose->id;
    if (!x.evidence.empty()) id += "/" + x.evidence;
    if (x.minimum) id += "/" + x.minimum->id;
    s.by["retention"][id] = {{"period", x.period.ToString()}, {"from", x.from}, {"ground", x.ground}};
  }
  for (const auto& x : p.recipients) {
    s.by["recipients"][x.id] = {{"name", Str(x.name)},
                                {"bin", x.bin},
                                {"registration", x.registration},
                                {"country", x.country},
                                {"agreement", x.agreement.number + " " + FormatDate(x.agreement.signed_on) + " " +
                                                  Str(x.agreement.expires) + " " +
                                                  (x.agreement.nondisclosure_clause ? "clause" : "no clause")},
                                {"purposes", Str(x.purposes)},
                                {"categories", Str(x.categories)}};
  }
  for (const auto& x : p.sources) {
    s.by["sources"][x.id] = {{"name", Str(x.name)},
                             {"kind", x.kind == SourceKind::kPublic ? "public_source" : "third_party"},
                             {"bin", x.bin},
                             {"registration", x.registration},
                             {"country", x.country},
                             {"agreement", x.agreement ? x.agreement->number + " " + FormatDate(x.agreement->signed_on) +
                                                             " " + Str(x.agreement->expires)
                                                       : "-"},
                             {"purposes", Str(x.purposes)},
                             {"categories", Str(x.categories)}};
  }
  s.by["transfers"]["transfers"] = {{"adequate_countries", Str(p.transfers.adequate_countries)}};
  const AggregateRules& a = p.aggregates;
  s.by["aggregates"]["aggregates"] = {
      {"k", std::to_string(a.k)},
      {"l", std::to_string(a.l)},
      {"max_suppressed_percent", std::to_string(a.max_suppressed_percent)},
      {"epsilon_budget", a.epsilon_budget ? std::to_string(*a.epsilon_budget) : "-"}};
  const WithdrawalRules& w = p.withdrawal;
  std::string roles;
  for (ActorRole r : w.legal_hold_roles) roles += std::string(ActorRoleName(r)) + ",";
  s.by["withdrawal"]["withdrawal"] = {{"channels", Str(w.channels)},
                                      {"block_if_unfulfilled_obligation", std::to_string(w.block_if_unfulfilled_obligation)},
                                      {"block_if_legal_hold", std::to_string(w.block_if_legal_hold)},
                                      {"legal_hold_roles", roles},
                                      {"obligation_blocks", Str(w.obligation_blocks)},
                                      {"warning", Str(w.warning)}};
  for (const auto& x : p.rights) {
    auto d = p.right_deadlines.find(x.id);
    s.by["rights"][x.id] = {{"name", Str(x.name)},
                            {"deadline_working_days", d == p.right_deadlines.end() ? "-" : std::to_string(d->second)}};
  }
  for (const auto& x : p.security_measures) s.by["security_measures"][x.id] = {{"name", Str(x.name)}};
  return s;
}

// What a consent to `purpose` covers: the categories it may use, the
// recipients its data go to and what each of them receives.
std::set<std::string> Scope(const Policy& p, const std::string& purpose) {
  std::set<std::string> out;
  for (const auto& c : p.categories) {
    if (p.CategoryAllowsPurpose(c.id, purpose)) out.insert("category:" + c.id);
  }
  for (const auto& r : p.recipients) {
    if (std::none_of(r.purposes.begin(), r.purposes.end(), [&](const Ref& x) { return x.id == purpose; })) continue;
    out.insert("recipient:" + r.id);
    for (const auto& c : r.categories) out.insert("recipient:" + r.id + ":" + c.id);
  }
  return out;
}

}  // namespace

PolicyDiff DiffPolicies(const Policy& from, const Policy& to) {
  PolicyDiff diff;
  const Sections a = Read(from), b = Read(to);
  for (const char* section : {"edition", "controller", "texts", "channels", "contract_methods", "purposes", "categories",
                              "services", "retention", "recipients", "sources", "transfers", "aggregates", "withdrawal", "rights",
                              "security_measures"}) {
    static const Entries kNone;
    auto ea = a.by.find(section), eb = b.by.find(section);
    Compare(section, ea == a.by.end() ? kNone : ea->second, eb == b.by.end() ? kNone : eb->second, &diff.changes);
  }
  for (const auto& pu : to.purposes) {
    if (!from.FindPurpose(pu.id)) continue;
    const auto before = Scope(from, pu.id), after = Scope(to, pu.id);
    if (std::any_of(after.begin(), after.end(), [&](const std::string& x) { return !before.count(x); })) {
      diff.widened.push_back(pu.id);
    }
  }
  return diff;
}

}  // namespace qorgau::policy
