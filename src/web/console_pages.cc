// The staff console under /console/ (web/pages.h): signing in, the
// dashboard, applications and subjects.
#include "web/pages.h"

#include <algorithm>

#include "api/api.h"
#include "core/clock.h"
#include "core/phone.h"
#include "crypto/crypto.h"
#include "index/decision_index.h"
#include "ledger/canonical_json.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/page_parts.h"

namespace qorgau::web {

using api::HttpRequest;
using api::HttpResponse;

HttpResponse Pages::ConsoleSignIn(Request& r, std::string_view error, int status) {
  if (status == 200 && r.session && r.session->kind == SessionKind::kStaff) return Redirect("/console/");
  if (!EnsureSession(r)) return HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  std::string m;
  if (!error.empty()) m += ErrorText(error);
  m += FormOpen("/console/sign-in", r.session->csrf) + "<label for=\"actor\">" + Esc(T("staff.actor", r.lang)) +
       "</label><input id=\"actor\" name=\"actor\" autocomplete=\"username\" required value=\"" +
       Esc(r.Field("actor")) + "\"><label for=\"password\">" + Esc(T("staff.password", r.lang)) +
       "</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" "
       "required><button type=\"submit\">" + Esc(T("nav.sign_in", r.lang)) + "</button></form>";
  m += "<p><a href=\"/console/enrol\">" + Esc(T("staff.enrol", r.lang)) + "</a></p>";
  return HtmlResponse(status, Page(ConsoleFrame(r.lang, std::string(T("staff.sign_in", r.lang)), "/console/sign-in",
                                                std::nullopt),
                                   m));
}

HttpResponse Pages::ConsoleSignInPost(Request& r) {
  const std::string source = r.http.peer;
  if (const auto wait = limiter_.LockedFor(source); wait > 0) {
    HttpResponse out = ConsoleSignIn(r, T("error.too_many", r.lang), 429);
    out.headers.emplace_back("Retry-After", std::to_string(wait));
    return out;
  }
  const std::string actor = r.Field("actor");
  auto caller = inst_.engine().SignInWithPassword(actor, r.Field("password"));
  if (!caller) {
    if (caller.error().code != ErrorCode::kUnauthenticated) return ConsoleSignIn(r, T("error.internal", r.lang), 503);
    limiter_.CountFailure(source);
    return ConsoleSignIn(r, T("staff.bad_password", r.lang), 401);
  }
  auto set_at = inst_.engine().PasswordSetAt(actor);
  if (!set_at || !*set_at) return ConsoleSignIn(r, T("error.internal", r.lang), 503);
  sessions_.Remove(r.token);
  auto created = sessions_.Create(SessionKind::kStaff, actor, 0, **set_at);
  if (!created) return HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  r.set_cookies.push_back(r.Cookie(kSessionCookie, created->first, std::chrono::seconds(-1), options_.secure_cookies));
  return Redirect("/console/");
}

HttpResponse Pages::ConsoleEnrol(Request& r, std::string error_html, int status) {
  if (!EnsureSession(r)) return HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  std::string m = std::move(error_html);
  m += FormOpen("/console/enrol", r.session->csrf) + "<label for=\"token\">" + Esc(T("staff.enrol_token", r.lang)) +
       "</label><input id=\"token\" name=\"token\" autocomplete=\"off\" required><label for=\"password\">" +
       Esc(T("staff.password", r.lang)) +
       "</label><input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" "
       "minlength=\"12\" required aria-describedby=\"password-hint\"><p id=\"password-hint\" class=\"hint\">" +
       Esc(T("staff.password_hint", r.lang)) + "</p><label for=\"again\">" + Esc(T("staff.password_again", r.lang)) +
       "</label><input id=\"again\" name=\"again\" type=\"password\" autocomplete=\"new-password\" required>"
       "<button type=\"submit\">" + Esc(T("staff.enrol", r.lang)) + "</button></form>";
  return HtmlResponse(status, Page(ConsoleFrame(r.lang, std::string(T("staff.enrol", r.lang)), "/console/enrol",
                                                std::nullopt),
                                   m));
}

HttpResponse Pages::ConsoleEnrolPost(Request& r) {
  const std::string source = r.http.peer;
  if (const auto wait = limiter_.LockedFor(source); wait > 0) {
    HttpResponse out = ConsoleEnrol(r, ErrorText(T("error.too_many", r.lang)), 429);
    out.headers.emplace_back("Retry-After", std::to_string(wait));
    return out;
  }
  const std::string password = r.Field("password");
  if (password != r.Field("again")) return ConsoleEnrol(r, ErrorText(T("staff.passwords_differ", r.lang)), 422);
  auto set = inst_.engine().SetPasswordByEnrolment(r.Field("token"), password);
  if (!set) {
    if (set.error().code == ErrorCode::kUnauthenticated) limiter_.CountFailure(source);
    // The engine's refusal names the field (the token or the password).
    return ConsoleEnrol(r, ErrorBox(set.error(), r.lang), PageStatus(set.error()));
  }
  sessions_.RemoveActor(*set);
  std::string m = "<p class=\"done\" role=\"status\">" + Esc(T("staff.enrol_done", r.lang)) +
                  "</p><p><a href=\"/console/sign-in\">" + Esc(T("nav.sign_in", r.lang)) + "</a></p>";
  return HtmlResponse(200, Page(ConsoleFrame(r.lang, std::string(T("staff.enrol", r.lang)), "/console/enrol",
                                             std::nullopt),
                                m));
}

HttpResponse Pages::ConsoleDashboard(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const rules::Caller& c = *caller;
  rules::Engine& e = inst_.engine();
  const UnixMillis now = e.clock().Now();
  const std::string_view lang = r.lang;
  const std::string no_duty = "<p class=\"hint\">" + Esc(T("dash.no_duty", lang)) + "</p>";
  std::string m = "<p class=\"hint\">" + Esc(T("dash.signed_in_as", lang)) + " <strong>" + Esc(c.id()) +
                  "</strong></p>";

  // Open applications, the overdue first (LAW.md §5, §14).
  m += "<section aria-labelledby=\"apps\"><h2 id=\"apps\">" + Esc(T("dash.applications", lang)) + "</h2>";
  if (auto apps = e.DueApplications(c, std::nullopt); !apps) {
    m += apps.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(apps.error(), lang);
  } else if (apps->empty()) {
    m += "<p>" + Esc(T("dash.none", lang)) + "</p>";
  } else {
    std::stable_sort(apps->begin(), apps->end(), [](const auto& a, const auto& b) {
      if (a.overdue != b.overdue) return a.overdue;
      return a.record.due_at < b.record.due_at;
    });
    auto calendar = e.Calendar();
    m += "<table class=\"applications\"><thead><tr><th scope=\"col\">" + Esc(T("dash.id", lang)) +
         "</th><th scope=\"col\">" + Esc(T("dash.kind", lang)) + "</th><th scope=\"col\">" +
         Esc(T("dash.subject", lang)) + "</th><th scope=\"col\">" + Esc(T("dash.received", lang)) +
         "</th><th scope=\"col\">" + Esc(T("dash.due", lang)) + "</th><th scope=\"col\">" +
         Esc(T("dash.days_left", lang)) + "</th><th scope=\"col\">" + Esc(T("dash.status", lang)) +
         "</th></tr></thead><tbody>";
    for (const auto& a : *apps) {
      const auto& rec = a.record;
      std::string left = "—";
      if (calendar && *calendar) left = std::to_string(WorkingDaysBetween(**calendar, now, rec.due_at));
      m += "<tr data-application=\"" + std::to_string(rec.id) + "\"" + (a.overdue ? " class=\"overdue\"" : "") +
           "><td><a href=\"/console/application?id=" + std::to_string(rec.id) + "\">" + std::to_string(rec.id) +
           "</a></td><td>" + Esc(T(std::string("kind.") + ApplicationKindName(rec.kind), lang)) + "</td><td>" +
           std::to_string(rec.subject_id) + "</td><td>" + Day(rec.received_at) + "</td><td>" + Day(rec.due_at) +
           "</td><td>" + left + (a.overdue ? " <span class=\"badge overdue\">" + Esc(T("dash.overdue", lang)) + "</span>" : "") +
           "</td><td>" + Esc(T(std::string("state.") + ApplicationStateName(rec.state), lang)) + "</td></tr>";
    }
    m += "</tbody></table>";
  }
  m += "</section>";

  // The breach register and its notice deadlines (LAW.md §10).
  m += "<section aria-labelledby=\"breaches\"><h2 id=\"breaches\">" + Esc(T("dash.breaches", lang)) + "</h2>";
  if (auto breaches = e.ListBreaches(c); !breaches) {
    m += breaches.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(breaches.error(), lang);
  } else if (breaches->empty()) {
    m += "<p>" + Esc(T("dash.none", lang)) + "</p>";
  } else {
    m += "<table class=\"breaches\"><thead><tr><th scope=\"col\">" + Esc(T("dash.id", lang)) +
         "</th><th scope=\"col\">" + Esc(T("dash.detected", lang)) + "</th><th scope=\"col\">" +
         Esc(T("dash.notice_due", lang)) + "</th><th scope=\"col\">" + Esc(T("dash.status", lang)) +
         "</th></tr></thead><tbody>";
    for (const auto& b : *breaches) {
      const bool late = !b.notified_at && b.notify_due_at < now;
      m += "<tr data-breach=\"" + std::to_string(b.id) + "\"" + (late ? " class=\"overdue\"" : "") + "><td>" +
           std::to_string(b.id) + "</td><td>" + Esc(FormatUtc(b.detected_at).substr(0, 16)) + "</td><td>" +
           Esc(FormatUtc(b.notify_due_at).substr(0, 16)) + "</td><td>" +
           (b.notified_at ? Esc(T("dash.notified", lang)) + " " + Day(*b.notified_at)
                          : late ? "<span class=\"badge overdue\">" + Esc(T("dash.overdue", lang)) + "</span>" : "—") +
           "</td></tr>";
    }
    m += "</tbody></table>";
  }
  m += "</section>";

  // Destruction runs and their acts (R-VII.2).
  m += "<section aria-labelledby=\"retention\"><h2 id=\"retention\">" + Esc(T("dash.retention", lang)) + "</h2>";
  if (auto runs = e.RetentionRuns(c); !runs) {
    m += runs.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(runs.error(), lang);
  } else {
    m += "<dl class=\"facts\"><dt>" + Esc(T("dash.next_run", lang)) + "</dt><dd>" +
         (options_.retention_at.empty() ? Esc(T("dash.retention_off", lang))
                                        : Esc(T("dash.daily_at", lang)) + " " + Esc(options_.retention_at)) +
         "</dd><dt>" + Esc(T("dash.last_run", lang)) + "</dt><dd>";
    if (runs->empty()) {
      m += Esc(T("dash.runs_none", lang));
    } else {
      const auto& last = *std::max_element(runs->begin(), runs->end(),
                                           [](const auto& a, const auto& b) { return a.run < b.run; });
      m += Esc(T("dash.act", lang)) + " DA-" + std::to_string(last.run) + ", " + Esc(T("dash.as_of", lang)) + " " +
           Day(last.as_of) + "; " + Esc(T("dash.finished", lang)) + ": " +
           (last.finished_at ? Day(*last.finished_at) : Esc(T("dash.unfinished", lang)));
    }
    m += "</dd></dl>";
  }
  m += "</section>";
  m += StatisticsSection(r, c);
  Frame frame = ConsoleFrame(lang, std::string(T("dash.title", lang)), "/console/", r.session);
  frame.scripts.push_back("console.js");
  return HtmlResponse(200, Page(frame, m));
}

namespace {

// The range the request asks for (`from`, `to`), unset where not given.
Result<std::pair<std::optional<std::chrono::year_month_day>, std::optional<std::chrono::year_month_day>>> RangeOf(
    const std::map<std::string, std::string>& query) {
  std::pair<std::optional<std::chrono::year_month_day>, std::optional<std::chrono::year_month_day>> out;
  for (auto [name, day] : {std::pair{"from", &out.first}, std::pair{"to", &out.second}}) {
    auto it = query.find(name);
    if (it == query.end() || it->second.empty()) continue;
    auto parsed = ParseDate(it->second, name);
    if (!parsed) return tl::unexpected(parsed.error());
    *day = *parsed;
  }
  return out;
}

}  // namespace

std::string Pages::StatisticsSection(Request& r, const rules::Caller& c) {
  const std::string_view lang = r.lang;
  std::string m = "<section aria-labelledby=\"charts\"><h2 id=\"charts\">" + Esc(T("dash.charts", lang)) + "</h2>";
  auto range = RangeOf(r.http.query);
  if (!range) return m + ErrorBox(range.error(), lang) + "</section>";
  auto view = inst_.engine().ReadStatistics(c, range->first, range->second);
  if (!view) {
    return m + (view.error().code == ErrorCode::kPermissionDenied ? "<p class=\"hint\">" + Esc(T("dash.no_duty", lang)) + "</p>"
                                                                   : ErrorBox(view.error(), lang)) +
           "</section>";
  }
  const std::string from = FormatDate(view->from), to = FormatDate(view->to);
  m += "<form method=\"get\" action=\"/console/\" class=\"range\"><label for=\"from\">" + Esc(T("dash.from", lang)) +
       "</label><input id=\"from\" name=\"from\" type=\"date\" value=\"" + from + "\"><label for=\"to\">" +
       Esc(T("dash.to", lang)) + "</label><input id=\"to\" name=\"to\" type=\"date\" value=\"" + to +
       "\"><button type=\"submit\">" + Esc(T("dash.show", lang)) + "</button></form>";
  // The charts draw the same figures as GET /v1/statistics; the tables
  // below them say the totals in words, for screen readers and print.
  const std::string src = "/console/statistics.json?from=" + from + "&amp;to=" + to;
  std::string reasons = "{";
  std::int64_t granted = 0, withdrawn = 0;
  std::array<std::int64_t, 16> decisions{};
  for (const auto& d : view->days) {
    granted += d.granted;
    withdrawn += d.withdrawn;
    for (std::size_t i = 0; i < decisions.size(); ++i) decisions[i] += d.decisions[i];
  }
  std::string reason_rows;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    const std::string code(index::ReasonCode(static_cast<index::Reason>(i)));
    if (index::ReasonFromCode(code) != static_cast<index::Reason>(i)) continue;  // no such reason
    const std::string key = "reason." + code;
    if (reasons.size() > 1) reasons += ',';
    ledger::AppendCanonicalString(code, &reasons);  // JSON strings, escaped
    reasons += ':';
    ledger::AppendCanonicalString(T(key, lang), &reasons);
    if (decisions[i] != 0) {
      reason_rows += "<tr><td>" + Esc(T(key, lang)) + "</td><td>" + std::to_string(decisions[i]) + "</td></tr>";
    }
  }
  reasons += "}";
  m += "<div class=\"grid2\"><figure><figcaption>" + Esc(T("dash.consents_chart", lang)) +
       "</figcaption><div class=\"chart\" data-chart=\"consents\" data-src=\"" + src + "\" data-label-granted=\"" +
       Esc(T("dash.granted", lang)) + "\" data-label-withdrawn=\"" + Esc(T("dash.withdrawn", lang)) +
       "\"></div></figure><figure><figcaption>" + Esc(T("dash.decisions_chart", lang)) +
       "</figcaption><div class=\"chart\" data-chart=\"decisions\" data-src=\"" + src + "\" data-reasons=\"" +
       Esc(reasons) + "\"></div></figure></div>";
  m += "<table class=\"totals\"><caption>" + Esc(T("dash.totals", lang)) + " " + from + " – " + to +
       "</caption><thead><tr><th scope=\"col\"></th><th scope=\"col\">" + Esc(T("dash.count", lang)) +
       "</th></tr></thead><tbody><tr><td>" + Esc(T("dash.consents_chart", lang)) + ": " + Esc(T("dash.granted", lang)) +
       "</td><td data-total=\"granted\">" + std::to_string(granted) + "</td></tr><tr><td>" +
       Esc(T("dash.consents_chart", lang)) + ": " + Esc(T("dash.withdrawn", lang)) + "</td><td data-total=\"withdrawn\">" +
       std::to_string(withdrawn) + "</td></tr>" + reason_rows + "</tbody></table>";
  // The ledger's state.
  m += "<h2 id=\"ledger\">" + Esc(T("dash.ledger", lang)) + "</h2><dl class=\"facts\"><dt>" + Esc(T("dash.events", lang)) +
       "</dt><dd data-ledger=\"events\">" + std::to_string(view->events) + "</dd><dt>" + Esc(T("dash.tree_head", lang)) +
       "</dt><dd>" +
       (view->tree_head ? Esc(T("dash.size", lang)) + " " + std::to_string(view->tree_head->first) + ", " +
                              Esc(FormatUtc(view->tree_head->second).substr(0, 19)) + " UTC"
                        : std::string("—")) +
       "</dd></dl></section>";
  return m;
}

HttpResponse Pages::ConsoleStatistics(Request& r) {
  HttpResponse out;
  out.content_type = "application/json";
  out.headers = {{"Cache-Control", "no-store"}, {"X-Content-Type-Options", "nosniff"}};
  auto caller = StaffCaller(r);
  if (!caller) {
    out.status = 401;
    out.body = R"({"code":"unauthenticated"})";
    return out;
  }
  auto range = RangeOf(r.http.query);
  auto view = range ? inst_.engine().ReadStatistics(*caller, range->first, range->second)
                    : Result<rules::StatisticsView>(tl::unexpected(range.error()));
  if (!view) return api::Problem(view.error());
  out.body = rules::StatisticsJson(*view);
  return out;
}


// The staff member's caller, or none when not signed in (or disabled since).
std::shared_ptr<const rules::Caller> Pages::StaffCaller(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kStaff) return nullptr;
  // Disabled since, or its password set again since (a reset, perhaps by
  // another process: `key redeem --password-stdin`): the session ends.
  auto caller = inst_.engine().CallerFor(r.session->actor);
  auto set_at = inst_.engine().PasswordSetAt(r.session->actor);
  if (!caller || !set_at || !*set_at || **set_at != r.session->credential_at) {
    sessions_.Remove(r.token);
    return nullptr;
  }
  return *caller;
}

HttpResponse Pages::ConsoleApplication(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  rules::Engine& e = inst_.engine();
  const std::int64_t id = IdOf(r.http.method == "POST" ? r.form : r.http.query);
  const std::string here = "/console/application?id=" + std::to_string(id);
  Frame frame = ConsoleFrame(lang, std::string(T("app.title", lang)) + " " + std::to_string(id), here, r.session);
  std::string m;
  int status = 200;
  // The actions: each an engine command, its refusal the page's.
  if (r.http.method == "POST") {
    const std::string action = r.Field("action");
    Result<rules::ApplicationView> done = tl::unexpected(Error{ErrorCode::kInvalidArgument, "action", "unknown action"});
    if (action == "advance") {
      done = e.AdvanceApplication(id, r.Field("to"), *caller);
    } else if (action == "answer_statement") {
      auto view = e.GetApplication(id, *caller);
      if (!view) {
        done = tl::unexpected(view.error());
      } else {
        auto st = e.Statement({rules::SubjectKey::Id(view->record.subject_id), std::string(lang), false, id}, *caller);
        done = st ? e.AnswerApplication(id, st->reference, *caller) : Result<rules::ApplicationView>(tl::unexpected(st.error()));
      }
    } else if (action == "withdraw") {
      // Carried out as the application says (its channel, reference and
      // purposes); the withdrawal answers it, or a rule of R-VI refuses it.
      auto view = e.GetApplication(id, *caller);
      if (!view) {
        done = tl::unexpected(view.error());
      } else {
        rules::WithdrawalRequest req{rules::SubjectKey::Id(view->record.subject_id), "", "", {}, {}, false, id};
        auto plan = e.Withdraw(req, *caller);
        done = plan ? e.GetApplication(id, *caller) : Result<rules::ApplicationView>(tl::unexpected(plan.error()));
      }
    } else if (action == "answer") {
      done = e.AnswerApplication(id, r.Field("reference"), *caller);
    } else if (action == "refuse") {
      done = e.RefuseApplication(id, r.Field("reason"), *caller);
    }
    if (done) return Redirect(here);
    status = done.error().code == ErrorCode::kPermissionDenied ? 403
             : done.error().code == ErrorCode::kInvalidArgument ? 422
                                                                  : 409;
    m += ErrorBox(done.error(), lang);
  }
  auto view = e.GetApplication(id, *caller);
  if (!view) {
    const int s = view.error().code == ErrorCode::kPermissionDenied ? 403
                  : view.error().code == ErrorCode::kNotFound      ? 404
                                                                   : 409;
    return HtmlResponse(s, Page(frame, m + ErrorBox(view.error(), lang)));
  }
  const auto& a = view->record;
  const UnixMillis now = e.clock().Now();
  const bool open = !a.closed_at;
  std::string left = "—";
  if (auto calendar = e.Calendar(); calendar && *calendar) left = std::to_string(WorkingDaysBetween(**calendar, now, a.due_at));
  // The deadline first, always visible.
  m += "<div class=\"deadline" + std::string(view->overdue ? " overdue" : "") + "\" role=\"status\"><strong>" +
       Esc(T("dash.due", lang)) + ": " + Day(a.due_at) + "</strong>" +
       (open ? " · " + Esc(T("dash.days_left", lang)) + ": " + left : std::string()) +
       (view->overdue ? " <span class=\"badge overdue\">" + Esc(T("dash.overdue", lang)) + "</span>" : "") + "</div>";
  m += "<dl class=\"facts\"><dt>" + Esc(T("dash.kind", lang)) + "</dt><dd>" +
       Esc(T(std::string("kind.") + ApplicationKindName(a.kind), lang)) + "</dd><dt>" + Esc(T("dash.subject", lang)) +
       "</dt><dd><a href=\"/console/subject?id=" + std::to_string(a.subject_id) + "\">" + std::to_string(a.subject_id) +
       "</a></dd><dt>" + Esc(T("dash.status", lang)) + "</dt><dd data-state=\"" + ApplicationStateName(a.state) + "\">" +
       Esc(T(std::string("state.") + ApplicationStateName(a.state), lang)) + "</dd><dt>" + Esc(T("dash.received", lang)) +
       "</dt><dd>" + Day(a.received_at) + " (" + Esc(a.channel) + ", " + Esc(a.reference) + ")</dd>";
  if (!a.handler.empty()) m += "<dt>" + Esc(T("app.handler", lang)) + "</dt><dd>" + Esc(a.handler) + "</dd>";
  if (a.closed_at) {
    m += "<dt>" + Esc(T("app.outcome", lang)) + "</dt><dd>" + Day(*a.closed_at) + ": " + Esc(a.outcome) + "</dd>";
  }
  m += "</dl>";
  if (!view->documents.empty()) {
    m += "<h2>" + Esc(T("app.documents", lang)) + "</h2><ul>";
    for (const auto& d : view->documents) m += "<li>" + Esc(d.reference) + " <code>" + Esc(d.sha256.substr(0, 16)) + "…</code></li>";
    m += "</ul>";
  }
  if (open) {
    const std::string hidden = "<input type=\"hidden\" name=\"id\" value=\"" + std::to_string(id) + "\">";
    m += "<h2>" + Esc(T("app.actions", lang)) + "</h2><div class=\"actions\">";
    if (a.state == ApplicationState::kReceived) {
      m += FormOpen("/console/application", r.session->csrf) + hidden +
           "<input type=\"hidden\" name=\"action\" value=\"advance\"><input type=\"hidden\" name=\"to\" "
           "value=\"identity_verified\"><button type=\"submit\" data-action=\"verify\">" +
           Esc(T("app.verify", lang)) + "</button></form>";
    } else if (a.kind == ApplicationKind::kWithdrawal) {
      // The preview first (R-VI.1, R-VI.4): what the withdrawal would end,
      // or the rule that refuses it (R-VI.3).
      rules::WithdrawalRequest req{rules::SubjectKey::Id(a.subject_id), "", "", {}, {}, true, id};
      auto plan = e.Withdraw(req, *caller);
      if (!plan) {
        m += "<div class=\"preview\"><h3>" + Esc(T("withdraw.refused", lang)) + "</h3>" + ErrorBox(plan.error(), lang) +
             "</div>";
      } else {
        m += "<div class=\"warning\" role=\"note\"><h3>" + Esc(T("withdraw.warning", lang)) + "</h3><p>" +
             Esc(policy::InLanguage(plan->warning, lang)) + "</p></div>" + PlanLists(*plan, inst_.policy(), lang);
      }
      m += FormOpen("/console/application", r.session->csrf) + hidden +
           "<input type=\"hidden\" name=\"action\" value=\"withdraw\"><button type=\"submit\" class=\"danger\" "
           "data-action=\"withdraw\">" + Esc(T("app.carry_out_withdrawal", lang)) + "</button></form>";
    } else if (a.kind == ApplicationKind::kInformation) {
      m += FormOpen("/console/application", r.session->csrf) + hidden +
           "<input type=\"hidden\" name=\"action\" value=\"answer_statement\"><button type=\"submit\" "
           "data-action=\"answer-statement\">" + Esc(T("app.answer_statement", lang)) + "</button></form>";
    } else {
      m += FormOpen("/console/application", r.session->csrf) + hidden +
           "<input type=\"hidden\" name=\"action\" value=\"answer\"><label for=\"reference\">" +
           Esc(T("app.answer_reference", lang)) + "</label><input id=\"reference\" name=\"reference\" required>"
           "<button type=\"submit\" data-action=\"answer\">" + Esc(T("app.answer", lang)) + "</button></form>";
    }
    m += FormOpen("/console/application", r.session->csrf) + hidden +
         "<input type=\"hidden\" name=\"action\" value=\"refuse\"><label for=\"reason\">" + Esc(T("app.refuse_reason", lang)) +
         "</label><input id=\"reason\" name=\"reason\" required><button type=\"submit\" class=\"danger\" "
         "data-action=\"refuse\">" + Esc(T("app.refuse", lang)) + "</button></form></div>";
  }
  return HtmlResponse(status, Page(frame, m));
}

HttpResponse Pages::ConsoleSubject(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  rules::Engine& e = inst_.engine();
  Frame frame = ConsoleFrame(lang, std::string(T("subject.title", lang)), "/console/subject", r.session);
  // A lookup by IIN or phone comes as a form post, so that the value is in
  // no address, history or log; it is a recorded lookup.
  if (r.http.method == "POST") {
    const std::string by = r.Field("by");
    const std::string value = r.Field("value");
    auto key = by == "iin" ? rules::SubjectKey::Iin(value) : rules::SubjectKey::Phone(value);
    auto found = e.LookupSubject(*caller, key);
    if (!found) {
      const int s = found.error().code == ErrorCode::kPermissionDenied ? 403
                    : found.error().code == ErrorCode::kNotFound      ? 404
                                                                     : 422;
      return HtmlResponse(s, Page(frame, ErrorBox(found.error(), lang) + SubjectLookupForm(r)));
    }
    return Redirect("/console/subject?id=" + std::to_string(*found));
  }
  const std::int64_t id = IdOf(r.http.query);
  if (id == 0) return HtmlResponse(200, Page(frame, SubjectLookupForm(r)));
  frame.title += " " + std::to_string(id);
  frame.here = "/console/subject?id=" + std::to_string(id);
  const auto key = rules::SubjectKey::Id(id);
  const policy::Policy& p = inst_.policy();
  auto in = [&](const policy::Text& t) { return Esc(policy::InLanguage(t, lang)); };
  const std::string no_duty = "<p class=\"hint\">" + Esc(T("dash.no_duty", lang)) + "</p>";
  std::string m;
  // The values: for a purpose the viewer chooses, masked or full by the
  // duty; each view is a recorded read with that purpose.
  std::string purpose;
  if (auto it = r.http.query.find("purpose"); it != r.http.query.end()) purpose = it->second;
  m += "<section aria-labelledby=\"values\"><h2 id=\"values\">" + Esc(T("subject.values", lang)) + "</h2>"
       "<form method=\"get\" action=\"/console/subject\" class=\"range\"><input type=\"hidden\" name=\"id\" value=\"" +
       std::to_string(id) + "\"><label for=\"purpose\">" + Esc(T("subject.purpose", lang)) +
       "</label><select id=\"purpose\" name=\"purpose\">";
  for (const auto& d : caller->duties) {
    const policy::Purpose* pu = p.FindPurpose(d.purpose);
    m += "<option value=\"" + Esc(d.purpose) + "\"" + (d.purpose == purpose ? " selected" : "") + ">" +
         (pu ? in(pu->name) : Esc(d.purpose)) + "</option>";
  }
  m += "</select><button type=\"submit\">" + Esc(T("dash.show", lang)) + "</button></form>";
  if (!purpose.empty()) {
    auto values = e.ReadPersonalData(*caller, key, purpose, {});
    if (!values) {
      m += ErrorBox(values.error(), lang);
    } else {
      m += "<p class=\"hint\">" + Esc(T(values->masked ? "subject.masked" : "subject.full", lang)) +
           "</p><table class=\"values\"><tbody>";
      for (const auto& v : values->data) {
        const policy::Category* c = p.FindCategory(v.category);
        m += "<tr data-category=\"" + Esc(v.category) + "\"><th scope=\"row\">" + (c ? in(c->name) : Esc(v.category)) +
             "</th><td>" + Esc(v.value) + "</td></tr>";
      }
      m += "</tbody></table>";
    }
  } else if (caller->duties.empty()) {
    m += no_duty;
  }
  m += "</section>";
  // Consents and services: only the purposes the viewer's duties cover.
  m += "<section aria-labelledby=\"consents\"><h2 id=\"consents\">" + Esc(T("subject.consents", lang)) + "</h2>";
  if (auto consents = e.ListConsents(*caller, key); !consents) {
    m += consents.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(consents.error(), lang);
  } else {
    m += "<table class=\"consents\"><thead><tr><th scope=\"col\">" + Esc(T("policy.purpose", lang)) +
         "</th><th scope=\"col\">" + Esc(T("me.state", lang)) + "</th><th scope=\"col\">" + Esc(T("me.channel", lang)) +
         "</th><th scope=\"col\">" + Esc(T("subject.evidence", lang)) + "</th><th scope=\"col\">" +
         Esc(T("me.since", lang)) + "</th></tr></thead><tbody>";
    for (const auto& c : *consents) {
      const policy::Purpose* pu = p.FindPurpose(c.purpose);
      m += "<tr><td>" + (pu ? in(pu->name) : Esc(c.purpose)) + "</td><td>" +
           Esc(T(c.state == ConsentState::kGranted ? "me.granted" : "me.withdrawn", lang)) + "</td><td>" +
           ChannelName(p, c.channel, lang) + "</td><td>" + Esc(c.evidence) + "</td><td>" + Day(c.changed_at) +
           "</td></tr>";
    }
    m += "</tbody></table>";
  }
  m += "</section><section aria-labelledby=\"services\"><h2 id=\"services\">" + Esc(T("me.services", lang)) + "</h2>";
  if (auto services = e.ListServices(*caller, key); !services) {
    m += services.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(services.error(), lang);
  } else {
    m += "<ul>";
    for (const auto& s : *services) {
      const policy::Service* ps = p.FindService(s.service);
      m += "<li>" + (ps ? in(ps->name) : Esc(s.service)) + ": " + Esc(T(s.active ? "me.active" : "me.inactive", lang)) +
           "</li>";
    }
    m += "</ul>";
  }
  m += "</section><section aria-labelledby=\"obligations\"><h2 id=\"obligations\">" + Esc(T("subject.obligations", lang)) +
       "</h2>";
  if (auto obligations = e.ListObligations(*caller, key); !obligations) {
    m += obligations.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(obligations.error(), lang);
  } else if (obligations->empty()) {
    m += "<p>" + Esc(T("dash.none", lang)) + "</p>";
  } else {
    m += "<ul>";
    for (const auto& o : *obligations) {
      m += "<li>" + Esc(o.ref) + " (" + Esc(store::ObligationKindName(o.kind)) + ")" +
           (o.closed_at ? "" : " · " + Esc(T("subject.open", lang))) + "</li>";
    }
    m += "</ul>";
  }
  m += "</section><section aria-labelledby=\"applications\"><h2 id=\"applications\">" + Esc(T("subject.applications", lang)) +
       "</h2>";
  m += "<p class=\"links\"><a href=\"/console/application/new?subject=" + std::to_string(id) + "\">" +
       Esc(T("subject.file_application", lang)) + "</a></p>";
  if (auto apps = e.ListApplications(*caller, key); !apps) {
    m += apps.error().code == ErrorCode::kPermissionDenied ? no_duty : ErrorBox(apps.error(), lang);
  } else if (apps->empty()) {
    m += "<p>" + Esc(T("dash.none", lang)) + "</p>";
  } else {
    m += "<ul>";
    for (const auto& a : *apps) {
      m += "<li><a href=\"/console/application?id=" + std::to_string(a.record.id) + "\">" + std::to_string(a.record.id) +
           "</a> " + Esc(T(std::string("kind.") + ApplicationKindName(a.record.kind), lang)) + ", " +
           Esc(T(std::string("state.") + ApplicationStateName(a.record.state), lang)) + "</li>";
    }
    m += "</ul>";
  }
  m += "</section>";
  // The statement (R-IV.4): opened, printed or downloaded; each a recorded read.
  const std::string st = "/console/statement?id=" + std::to_string(id);
  m += "<section aria-labelledby=\"statement\"><h2 id=\"statement\">" + Esc(T("statement.title", lang)) +
       "</h2><p class=\"links\"><a href=\"" + st + "\" data-statement=\"open\">" + Esc(T("statement.open", lang)) +
       "</a> · <a href=\"" + st + "&amp;print=1\">" + Esc(T("statement.print", lang)) + "</a> · <a href=\"" + st +
       "&amp;download=1\" data-statement=\"download\">" + Esc(T("statement.download", lang)) + "</a> · <a href=\"" + st +
       "&amp;full=1\">" + Esc(T("statement.full", lang)) + "</a></p></section>";
  return HtmlResponse(200, Page(frame, m));
}

std::string Pages::SubjectLookupForm(Request& r) {
  const std::string_view lang = r.lang;
  return FormOpen("/console/subject", r.session->csrf, "range") + "<label for=\"by\">" + Esc(T("subject.by", lang)) +
         "</label><select id=\"by\" name=\"by\"><option value=\"phone\">" + Esc(T("sign_in.phone", lang)) +
         "</option><option value=\"iin\">" + Esc(T("subject.iin", lang)) + "</option></select><label for=\"value\">" +
         Esc(T("subject.value", lang)) + "</label><input id=\"value\" name=\"value\" autocomplete=\"off\" required>"
         "<button type=\"submit\">" + Esc(T("subject.find", lang)) + "</button></form>";
}

}  // namespace qorgau::web
