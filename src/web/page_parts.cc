// What the pages' files share (web/page_parts.h).
#include "web/page_parts.h"

#include "api/api.h"
#include "rules/withdrawals.h"
#include "web/i18n.h"

namespace qorgau::web {

std::string Day(UnixMillis t) { return FormatUtc(t).substr(0, 10); }

// A consent's channel by its name in `lang`: a channel of the policy, or
// the contract method it was given by joining (R-III.3; "form" and
// "application" are the short names of two).
std::string ChannelName(const policy::Policy& p, const std::string& id, std::string_view lang) {
  if (const policy::Channel* ch = p.FindChannel(id)) return Esc(policy::InLanguage(ch->name, lang));
  const std::string method = id == "form" ? "registration_form" : id == "application" ? "signed_application" : id;
  if (const policy::ContractMethod* cm = p.FindContractMethod(method)) return Esc(policy::InLanguage(cm->name, lang));
  return Esc(id);
}

// The privacy centre's frame: the navigation depends on who is signed in.
Frame PrivacyFrame(std::string_view lang, std::string title, std::string here, const std::optional<Session>& s) {
  Frame f{lang, "privacy", std::move(title), std::move(here), {}, {}, {}, {}};
  f.nav.emplace_back("nav.policy", "/privacy/");
  if (s && s->kind == SessionKind::kSubscriber) {
    f.nav.emplace_back("nav.me", "/privacy/me");
    f.csrf = s->csrf;
    f.sign_out = "/privacy/sign-out";
  } else {
    f.nav.emplace_back("nav.sign_in", "/privacy/sign-in");
  }
  return f;
}


Frame ConsoleFrame(std::string_view lang, std::string title, std::string here, const std::optional<Session>& s) {
  Frame f{lang, "console", std::move(title), std::move(here), {}, {}, {}, {}};
  if (s && s->kind == SessionKind::kStaff) {
    f.nav.emplace_back("nav.dashboard", "/console/");
    f.nav.emplace_back("nav.subject", "/console/subject");
    f.nav.emplace_back("nav.new_application", "/console/application/new");
    f.nav.emplace_back("nav.audit", "/console/audit");
    f.nav.emplace_back("nav.editions", "/console/policy");
    f.nav.emplace_back("nav.admin", "/console/admin");
    f.csrf = s->csrf;
    f.sign_out = "/console/sign-out";
  }
  return f;
}

// Working days from the end of `today` to the end of `due` (negative when
// `due` has passed), by the calendar loaded; 0 when it has none for a day.
int WorkingDaysBetween(const WorkingCalendar& cal, UnixMillis now, UnixMillis due) {
  using std::chrono::sys_days;
  const sys_days today{cal.LocalDate(now)};
  const sys_days last{cal.LocalDate(due)};
  const bool ahead = last >= today;
  sys_days from = ahead ? today : last, to = ahead ? last : today;
  int n = 0;
  for (sys_days d = from + std::chrono::days(1); d <= to && n < 1000; d += std::chrono::days(1)) {
    auto working = cal.IsWorkingDay(std::chrono::year_month_day(d));
    if (working && *working) ++n;
  }
  return ahead ? n : -n;
}



// The id in `?id=`, or 0.
std::int64_t IdOf(const std::map<std::string, std::string>& query) {
  auto it = query.find("id");
  if (it == query.end() || it->second.empty() || it->second.size() > 18) return 0;
  for (char ch : it->second) {
    if (ch < '0' || ch > '9') return 0;
  }
  return std::stoll(it->second);
}

std::string DiffTable(const policy::PolicyDiff& diff, const policy::Policy& to, std::string_view lang) {
  auto in = [&](const policy::Text& t) { return Esc(policy::InLanguage(t, lang)); };
  std::string m = "<table class=\"diff\"><caption>" + Esc(T("edition.changes", lang)) +
                  "</caption><thead><tr><th scope=\"col\">" + Esc(T("edition.section", lang)) +
                  "</th><th scope=\"col\">" + Esc(T("edition.entry", lang)) + "</th><th scope=\"col\">" +
                  Esc(T("edition.change", lang)) + "</th><th scope=\"col\">" + Esc(T("edition.reason", lang)) +
                  "</th></tr></thead><tbody>";
  for (const auto& c : diff.changes) {
    std::string name = Esc(c.id);
    if (c.section == "purposes") {
      if (const auto* x = to.FindPurpose(c.id)) name = in(x->name);
    } else if (c.section == "categories") {
      if (const auto* x = to.FindCategory(c.id)) name = in(x->name);
    } else if (c.section == "services") {
      if (const auto* x = to.FindService(c.id)) name = in(x->name);
    } else if (c.section == "channels") {
      if (const auto* x = to.FindChannel(c.id)) name = in(x->name);
    }
    std::string fields;
    for (const auto& f : c.fields) fields += (fields.empty() ? "" : ", ") + Esc(f);
    auto reason = to.edition.changes.find(c.Key());
    m += "<tr data-change=\"" + Esc(c.Key()) + "\"><td>" + Esc(T("section." + c.section, lang)) + "</td><td>" + name +
         "</td><td>" + Esc(T("change." + c.change, lang)) + (fields.empty() ? "" : ": <code>" + fields + "</code>") +
         "</td><td>" + (reason == to.edition.changes.end() ? "—" : Esc(reason->second)) + "</td></tr>";
  }
  m += "</tbody></table>";
  if (!diff.widened.empty()) {
    std::string names;
    for (const auto& id : diff.widened) {
      const auto* x = to.FindPurpose(id);
      names += (names.empty() ? "" : ", ") + (x ? in(x->name) : Esc(id));
    }
    m += "<p class=\"warning\" data-renewal>" + Esc(T("edition.renewal", lang)) + " " + names + "</p>";
  }
  return m;
}

std::string PlanLists(const rules::WithdrawalPlan& plan, const policy::Policy& p, std::string_view lang) {
  auto in = [&](const policy::Text& t) { return Esc(policy::InLanguage(t, lang)); };
  std::string m = "<h2>" + Esc(T("withdraw.ends", lang)) + "</h2><ul class=\"ends\">";
  for (const auto& id : plan.consents_end) {
    const policy::Purpose* pu = p.FindPurpose(id);
    m += "<li data-purpose=\"" + Esc(id) + "\">" + (pu ? in(pu->name) : Esc(id)) + "</li>";
  }
  m += "</ul><h2>" + Esc(T("withdraw.services_off", lang)) + "</h2>";
  if (plan.services_off.empty()) {
    m += "<p>" + Esc(T("withdraw.no_services", lang)) + "</p>";
  } else {
    m += "<ul class=\"services-off\">";
    for (const auto& id : plan.services_off) {
      const policy::Service* s = p.FindService(id);
      m += "<li data-service=\"" + Esc(id) + "\">" + (s ? in(s->name) : Esc(id)) + "</li>";
    }
    m += "</ul>";
  }
  if (!plan.destroyed.empty()) {
    m += "<h2>" + Esc(T("withdraw.destroyed", lang)) + "</h2><ul>";
    for (const auto& id : plan.destroyed) {
      const policy::Category* c = p.FindCategory(id);
      m += "<li>" + (c ? in(c->name) : Esc(id)) + "</li>";
    }
    m += "</ul>";
  }
  return m;
}

int PageStatus(const Error& e) {
  const int s = api::StatusFor(e);
  return s == 400 ? 422 : s;
}

std::string Hint(std::string_view key, std::string_view lang) {
  return "<p class=\"hint\">" + Esc(T(key, lang)) + "</p>";
}

}  // namespace qorgau::web
