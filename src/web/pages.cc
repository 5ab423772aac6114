// The web pages (web/pages.h): routing, sessions and the privacy centre.
#include "web/pages.h"

#include <algorithm>

#include "core/clock.h"
#include "core/phone.h"
#include "core/working_calendar.h"
#include "crypto/crypto.h"
#include "api/api.h"
#include "index/decision_index.h"
#include "web/assets.h"
#include "web/html.h"
#include "web/i18n.h"

namespace qorgau::web {

using api::HttpRequest;
using api::HttpResponse;

namespace {

constexpr std::string_view kSessionCookie = "qorgau_session";
constexpr std::string_view kLangCookie = "qorgau_lang";

// The value of cookie `name` in a Cookie header ("a=1; b=2").
std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const std::size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
  }
  return {};
}

std::string_view ContentTypeOf(std::string_view path) {
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".svg")) return "image/svg+xml";
  return "text/plain; charset=utf-8";
}

bool IsForm(std::string_view content_type) {
  const std::size_t semi = content_type.find(';');
  std::string_view type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type == "application/x-www-form-urlencoded";
}

// The pages and the methods they take.
struct PageRoute {
  std::string_view path;
  std::string_view method;
};
constexpr PageRoute kRoutes[] = {
    {"/", "GET"},
    {"/privacy/", "GET"},
    {"/privacy/policy", "GET"},
    {"/privacy/sign-in", "GET"},
    {"/privacy/sign-in", "POST"},
    {"/privacy/verify", "POST"},
    {"/privacy/me", "GET"},
    {"/privacy/withdraw", "POST"},
    {"/privacy/withdraw/confirm", "POST"},
    {"/privacy/sign-out", "POST"},
    {"/console", "GET"},
    {"/console/", "GET"},
    {"/console/sign-in", "GET"},
    {"/console/sign-in", "POST"},
    {"/console/enrol", "GET"},
    {"/console/enrol", "POST"},
    {"/console/sign-out", "POST"},
    {"/console/statistics.json", "GET"},
    {"/console/application", "GET"},
    {"/console/application", "POST"},
    {"/console/subject", "GET"},
    {"/console/subject", "POST"},
};

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

}  // namespace

// One request as the pages see it.
struct Pages::Request {
  const HttpRequest& http;
  std::string lang;
  std::map<std::string, std::string> form;  // a POST's fields
  std::string token;                        // the session cookie
  std::optional<Session> session;
  std::vector<std::string> set_cookies;

  std::string Field(const std::string& name) const {
    auto it = form.find(name);
    return it == form.end() ? std::string() : it->second;
  }
  std::string Cookie(std::string_view name, std::string_view value, std::chrono::seconds max_age,
                     bool secure) const {
    std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Strict";
    if (max_age.count() >= 0) c += "; Max-Age=" + std::to_string(max_age.count());
    if (secure) c += "; Secure";
    return c;
  }
};

Pages::Pages(app::Instance& instance, std::unique_ptr<SmsGateway> sms, PagesOptions options)
    : inst_(instance),
      sms_(std::move(sms)),
      options_(std::move(options)),
      sessions_(options_.sessions),
      codes_(options_.codes),
      limiter_(options_.sign_in, inst_.engine().clock()) {}

Pages::~Pages() = default;

bool Pages::Owns(std::string_view path) {
  return path == "/" || path == "/privacy" || path.starts_with("/privacy/") || path == "/console" ||
         path.starts_with("/console/") || path.starts_with("/assets/");
}

api::Admission Pages::Admit(HttpRequest& head) { return Check(head); }

api::Admission Pages::Check(const HttpRequest& head) const {
  api::Admission a;
  if (head.path.starts_with("/assets/")) {
    if (head.method != "GET" && head.method != "HEAD") {
      a.answer = api::ProblemResponse(405, "Method not allowed", "method_not_allowed", "use GET");
      a.answer->headers.emplace_back("Allow", "GET");
    }
    return a;
  }
  bool path_known = false, method_known = false;
  for (const auto& r : kRoutes) {
    if (r.path != head.path) continue;
    path_known = true;
    method_known = method_known || r.method == head.method || (head.method == "HEAD" && r.method == "GET");
  }
  if (!path_known) return a;  // Handle answers 404 with a page
  if (!method_known) {
    a.answer = api::ProblemResponse(405, "Method not allowed", "method_not_allowed", "this page does not take " + head.method);
    return a;
  }
  // Argon2id (a password checked or set), a ledger read or write per
  // page: off the I/O threads, so that no page holds up the API.
  const bool form_page = head.method == "GET" && (head.path.ends_with("sign-in") || head.path == "/console/enrol");
  a.heavy = head.path != "/privacy/" && head.path != "/privacy/policy" && head.method != "HEAD" && !form_page;
  if (head.method == "POST") {
    // A form another site posts is refused before it is read; the CSRF
    // token is checked in Handle (SameSite=Strict keeps the cookie away
    // from such posts as well).
    if (head.sec_fetch_site == "cross-site") {
      a.answer = HtmlResponse(403, ErrorText("cross-site form post refused"));
      return a;
    }
    if (!IsForm(head.content_type)) {
      a.answer = api::ProblemResponse(415, "Unsupported media type", "unsupported_media_type",
                                      "a form must be application/x-www-form-urlencoded", "content-type");
    }
  }
  return a;
}

HttpResponse Pages::Handle(const HttpRequest& http) {
  if (auto admitted = Check(http); admitted.answer) return std::move(*admitted.answer);
  if (http.path.starts_with("/assets/")) return Asset(std::string_view(http.path).substr(8));
  Request r{http, {}, {}, {}, {}, {}};
  // The language: the query's (remembered in a cookie), else the cookie's.
  const std::string cookie_lang = CookieValue(http.cookie, kLangCookie);
  if (auto it = http.query.find("lang"); it != http.query.end()) {
    r.lang = NormalLanguage(it->second);
    if (r.lang != cookie_lang) {
      r.set_cookies.push_back(r.Cookie(kLangCookie, r.lang, std::chrono::seconds(365 * 86400), options_.secure_cookies));
    }
  } else {
    r.lang = NormalLanguage(cookie_lang);
  }
  r.token = CookieValue(http.cookie, kSessionCookie);
  if (!r.token.empty()) r.session = sessions_.Find(r.token);
  if (http.method == "POST") {
    auto form = api::ParseQuery(http.body);
    if (!form) return HtmlResponse(400, ErrorBox(form.error(), r.lang));
    r.form = std::move(*form);
    if (!r.session || !Sessions::CsrfMatches(*r.session, r.Field("csrf"))) {
      const bool console = http.path.starts_with("/console");
      return HtmlResponse(403, Page({r.lang, console ? "console" : "privacy", std::string(T("error.title", r.lang)),
                                     console ? "/console/" : "/privacy/", {}, {}, {}, {}},
                                    ErrorText(T("form.csrf", r.lang))));
    }
  }
  HttpResponse out;
  try {
    out = Route(r);
  } catch (const std::exception&) {
    std::fputs("{\"event\":\"page_exception\"}\n", stderr);
    out = HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  }
  for (auto& c : r.set_cookies) out.headers.emplace_back("Set-Cookie", std::move(c));
  return out;
}

HttpResponse Pages::Asset(std::string_view path) {
  const EmbeddedAsset* a = FindAsset(path);
  if (!a) return HtmlResponse(404, ErrorText("no such file"));
  HttpResponse r = HtmlResponse(200, std::string(reinterpret_cast<const char*>(a->data), a->size));
  r.content_type = ContentTypeOf(path);
  // Embedded in the binary: they change only with it.
  for (auto& [name, value] : r.headers) {
    if (name == "Cache-Control") value = "public, max-age=3600";
  }
  return r;
}

HttpResponse Pages::Route(Request& r) {
  const std::string& p = r.http.path;
  const bool post = r.http.method == "POST";
  if (p == "/" || p == "/privacy") return Redirect("/privacy/");
  if (p == "/privacy/") return PrivacyHome(r);
  if (p == "/privacy/policy") return PrivacyPolicyText(r);
  if (p == "/privacy/sign-in") return post ? PrivacySendCode(r) : PrivacySignIn(r);
  if (p == "/privacy/verify") return PrivacyVerify(r);
  if (p == "/privacy/me") return PrivacyMe(r);
  if (p == "/privacy/withdraw") return PrivacyWithdrawPreview(r);
  if (p == "/privacy/withdraw/confirm") return PrivacyWithdrawConfirm(r);
  if (p == "/privacy/sign-out") return SignOut(r, "/privacy/");
  if (p == "/console" || p == "/console/") return ConsoleDashboard(r);
  if (p == "/console/sign-in") return post ? ConsoleSignInPost(r) : ConsoleSignIn(r);
  if (p == "/console/enrol") return post ? ConsoleEnrolPost(r) : ConsoleEnrol(r);
  if (p == "/console/sign-out") return SignOut(r, "/console/sign-in");
  if (p == "/console/statistics.json") return ConsoleStatistics(r);
  if (p == "/console/application") return ConsoleApplication(r);
  if (p == "/console/subject") return ConsoleSubject(r);
  const bool console = p.starts_with("/console");
  return HtmlResponse(404, Page({r.lang, console ? "console" : "privacy", std::string(T("error.title", r.lang)),
                                 console ? "/console/" : "/privacy/", {}, {}, {}, {}},
                                ErrorText(T("error.not_found", r.lang))));
}

namespace {

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

}  // namespace

HttpResponse Pages::PrivacyHome(Request& r) {
  const policy::Policy& p = inst_.policy();
  auto in = [&](const policy::Text& t) { return Esc(policy::InLanguage(t, r.lang)); };
  std::string m;
  m += "<p>" + Esc(T("privacy.intro", r.lang)) + "</p>";
  m += "<dl class=\"facts\"><dt>" + Esc(T("policy.controller", r.lang)) + "</dt><dd>" + in(p.controller.name) +
       "<br>" + in(p.controller.address) + "</dd><dt>" + Esc(T("policy.edition", r.lang)) + "</dt><dd>" +
       std::to_string(p.edition.number) + "</dd></dl>";
  m += "<h2>" + Esc(T("policy.purposes", r.lang)) + "</h2><table><thead><tr><th scope=\"col\">" +
       Esc(T("policy.number", r.lang)) + "</th><th scope=\"col\">" + Esc(T("policy.purpose", r.lang)) +
       "</th><th scope=\"col\">" + Esc(T("policy.basis", r.lang)) + "</th></tr></thead><tbody>";
  for (const auto& pu : p.purposes) {
    m += "<tr><td>" + std::to_string(pu.number) + "</td><td>" + in(pu.name) + "</td><td>" +
         Esc(T("basis." + std::string(policy::LegalBasisName(pu.basis)), r.lang)) + "</td></tr>";
  }
  m += "</tbody></table>";
  m += "<p><a href=\"/privacy/policy\">" + Esc(T("policy.full_text", r.lang)) + "</a></p>";
  return HtmlResponse(200, Page(PrivacyFrame(r.lang, std::string(T("privacy.title", r.lang)), "/privacy/", r.session), m));
}

HttpResponse Pages::PrivacyPolicyText(Request& r) {
  const auto& texts = inst_.policy().edition.texts;
  std::string m;
  auto it = texts.find(r.lang);
  if (it == texts.end()) {
    m += "<p class=\"note\">" + Esc(T("policy.text_missing", r.lang)) + "</p>";
    it = texts.find("kk");
  }
  if (it != texts.end()) {
    // Paragraphs as the text has them (blank lines); no markup is taken from it.
    m += "<article class=\"policy-text\"" + std::string(it->first != r.lang ? " lang=\"kk\"" : "") + ">";
    std::string_view text = it->second;
    while (!text.empty()) {
      std::size_t end = text.find("\n\n");
      std::string_view para = text.substr(0, end);
      text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 2);
      while (!para.empty() && (para.front() == '\n' || para.front() == ' ')) para.remove_prefix(1);
      if (para.empty()) continue;
      std::string_view body = para;
      while (!body.empty() && body.front() == '#') body.remove_prefix(1);
      if (body.size() != para.size()) {
        while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
        m += "<h2>" + Esc(body) + "</h2>";
      } else {
        m += "<p>" + Esc(para) + "</p>";
      }
    }
    m += "</article>";
  }
  return HtmlResponse(200, Page(PrivacyFrame(r.lang, std::string(T("policy.full_text", r.lang)), "/privacy/policy",
                                             r.session),
                                m));
}

namespace {

std::string PhoneForm(std::string_view lang, std::string_view csrf, std::string_view error) {
  std::string m;
  if (!error.empty()) m += ErrorText(error);
  m += FormOpen("/privacy/sign-in", csrf) + "<label for=\"phone\">" + Esc(T("sign_in.phone", lang)) +
       "</label><input id=\"phone\" name=\"phone\" type=\"tel\" autocomplete=\"tel\" required "
       "aria-describedby=\"phone-hint\"><p id=\"phone-hint\" class=\"hint\">" +
       Esc(T("sign_in.phone_hint", lang)) + "</p><button type=\"submit\">" + Esc(T("sign_in.send", lang)) +
       "</button></form>";
  return m;
}

std::string CodeForm(std::string_view lang, std::string_view csrf, std::string_view phone, std::string_view error) {
  std::string m;
  if (!error.empty()) {
    m += ErrorText(error);
  } else {
    m += "<p class=\"note\" role=\"status\">" + Esc(T("sign_in.sent", lang)) + "</p>";
  }
  m += FormOpen("/privacy/verify", csrf) + "<input type=\"hidden\" name=\"phone\" value=\"" + Esc(phone) +
       "\"><label for=\"code\">" + Esc(T("sign_in.code", lang)) +
       "</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" "
       "pattern=\"[0-9]{6}\" maxlength=\"6\" required><button type=\"submit\">" + Esc(T("sign_in.verify", lang)) +
       "</button></form>";
  return m;
}

}  // namespace

HttpResponse Pages::PrivacySignIn(Request& r) {
  if (r.session && r.session->kind == SessionKind::kSubscriber) return Redirect("/privacy/me");
  if (!EnsureSession(r)) return HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  std::string m = sms_ ? PhoneForm(r.lang, r.session->csrf, "") : ErrorText(T("sign_in.unavailable", r.lang));
  return HtmlResponse(200, Page(PrivacyFrame(r.lang, std::string(T("sign_in.title", r.lang)), "/privacy/sign-in",
                                             std::nullopt),
                                m));
}

HttpResponse Pages::PrivacySendCode(Request& r) {
  const Frame frame = PrivacyFrame(r.lang, std::string(T("sign_in.title", r.lang)), "/privacy/sign-in", std::nullopt);
  if (!sms_) return HtmlResponse(503, Page(frame, ErrorText(T("sign_in.unavailable", r.lang))));
  auto phone = Phone::Parse(r.Field("phone"));
  if (!phone) return HtmlResponse(422, Page(frame, PhoneForm(r.lang, r.session->csrf, T("sign_in.bad_phone", r.lang))));
  if (auto admitted = codes_.Admit(phone->e164(), api::AuthLimiter::SourceOf(r.http.peer)); !admitted) {
    HttpResponse out = HtmlResponse(429, Page(frame, PhoneForm(r.lang, r.session->csrf, T("error.too_many", r.lang))));
    out.headers.emplace_back("Retry-After", "60");
    return out;
  }
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorText(T("sign_in.unavailable", r.lang))));
  // The lookup is the privacy centre's, recorded in the trail like any.
  // Whatever it finds, the answer is the same: a live code (sent only to
  // a subscriber's number), the same page, the same status, so that the
  // form tells nobody who is a subscriber (web/one_time_codes.h).
  auto subject = inst_.engine().LookupSubject(**caller, rules::SubjectKey::Phone(phone->e164()));
  if (!subject && subject.error().code != ErrorCode::kNotFound) {
    return HtmlResponse(503, Page(frame, ErrorText(T("error.internal", r.lang))));
  }
  auto code = codes_.Issue(phone->e164());
  if (!code) return HtmlResponse(500, Page(frame, ErrorText(T("error.internal", r.lang))));
  if (subject) {
    if (auto sent = sms_->Send(phone->e164(), std::string(T("sms.code", r.lang)) + " " + *code); !sent) {
      // Told to the operator, not to whoever asked: the answer stays the same.
      std::fputs("{\"event\":\"sms_failed\",\"gateway\":\"error\"}\n", stderr);
    }
  }
  std::fill(code->begin(), code->end(), '0');
  return HtmlResponse(200, Page(frame, CodeForm(r.lang, r.session->csrf, phone->e164(), "")));
}

HttpResponse Pages::PrivacyVerify(Request& r) {
  const Frame frame = PrivacyFrame(r.lang, std::string(T("sign_in.title", r.lang)), "/privacy/sign-in", std::nullopt);
  const std::string source = r.http.peer;
  if (const auto wait = limiter_.LockedFor(source); wait > 0) {
    HttpResponse out = HtmlResponse(429, Page(frame, ErrorText(T("error.too_many", r.lang))));
    out.headers.emplace_back("Retry-After", std::to_string(wait));
    return out;
  }
  auto phone = Phone::Parse(r.Field("phone"));
  if (!phone) return HtmlResponse(422, Page(frame, PhoneForm(r.lang, r.session->csrf, T("sign_in.bad_phone", r.lang))));
  if (!codes_.Verify(phone->e164(), r.Field("code"))) {
    limiter_.CountFailure(source);
    return HtmlResponse(401, Page(frame, CodeForm(r.lang, r.session->csrf, phone->e164(), T("sign_in.bad_code", r.lang))));
  }
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorText(T("sign_in.unavailable", r.lang))));
  auto subject = inst_.engine().LookupSubject(**caller, rules::SubjectKey::Phone(phone->e164()));
  if (!subject) return HtmlResponse(401, Page(frame, CodeForm(r.lang, r.session->csrf, phone->e164(), T("sign_in.bad_code", r.lang))));
  // A new session for the subscriber; the anonymous one ends.
  sessions_.Remove(r.token);
  auto created = sessions_.Create(SessionKind::kSubscriber, "", *subject);
  if (!created) return HtmlResponse(500, Page(frame, ErrorText(T("error.internal", r.lang))));
  r.set_cookies.push_back(r.Cookie(kSessionCookie, created->first, std::chrono::seconds(-1), options_.secure_cookies));
  return Redirect("/privacy/me");
}

Result<void> Pages::EnsureSession(Request& r) {
  if (r.session) return {};
  auto created = sessions_.Create(SessionKind::kAnonymous, "", 0);
  if (!created) return tl::unexpected(created.error());
  r.set_cookies.push_back(r.Cookie(kSessionCookie, created->first, std::chrono::seconds(-1), options_.secure_cookies));
  r.token = created->first;
  r.session = created->second;
  return {};
}

HttpResponse Pages::SignOut(Request& r, std::string_view home) {
  sessions_.Remove(r.token);
  r.set_cookies.push_back(r.Cookie(kSessionCookie, "", std::chrono::seconds(0), options_.secure_cookies));
  return Redirect(std::string(home));
}

namespace {

std::string StateLabel(const store::ConsentRecord* c) {
  if (!c) return "me.none";
  return c->state == ConsentState::kGranted ? "me.granted" : "me.withdrawn";
}

}  // namespace

HttpResponse Pages::PrivacyMe(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const Frame frame = PrivacyFrame(r.lang, std::string(T("me.title", r.lang)), "/privacy/me", r.session);
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), r.lang)));
  const auto key = rules::SubjectKey::Id(r.session->subject);
  auto consents = inst_.engine().ListConsents(**caller, key);
  if (!consents) return HtmlResponse(403, Page(frame, ErrorBox(consents.error(), r.lang)));
  auto services = inst_.engine().ListServices(**caller, key);
  if (!services) return HtmlResponse(403, Page(frame, ErrorBox(services.error(), r.lang)));
  const policy::Policy& p = inst_.policy();
  auto in = [&](const policy::Text& t) { return Esc(policy::InLanguage(t, r.lang)); };
  std::string m;
  m += "<h2>" + Esc(T("me.consents", r.lang)) + "</h2><div class=\"cards\">";
  for (const auto& pu : p.purposes) {
    if (pu.basis != policy::LegalBasis::kConsent) continue;
    const store::ConsentRecord* c = nullptr;
    for (const auto& rec : *consents) {
      if (rec.purpose == pu.id) c = &rec;
    }
    m += "<section class=\"card\" aria-labelledby=\"p-" + Esc(pu.id) + "\" data-purpose=\"" + Esc(pu.id) +
         "\"><h3 id=\"p-" + Esc(pu.id) + "\">" + in(pu.name) + "</h3><dl><dt>" + Esc(T("me.state", r.lang)) +
         "</dt><dd class=\"state state-" + std::string(StateLabel(c).substr(3)) + "\">" +
         Esc(T(StateLabel(c), r.lang)) + "</dd>";
    if (c) {
      m += "<dt>" + Esc(T("me.since", r.lang)) + "</dt><dd>" + Day(c->changed_at) + "</dd><dt>" +
           Esc(T("me.channel", r.lang)) + "</dt><dd>" + ChannelName(p, c->channel, r.lang) + "</dd>";
    }
    std::string cats, servs;
    for (const auto& cat : p.categories) {
      if (std::any_of(cat.purposes.begin(), cat.purposes.end(), [&](const auto& ref) { return ref.id == pu.id; })) {
        cats += "<li>" + in(cat.name) + "</li>";
      }
    }
    for (const auto& s : p.services) {
      if (std::any_of(s.purposes.begin(), s.purposes.end(), [&](const auto& ref) { return ref.id == pu.id; })) {
        servs += "<li>" + in(s.name) + "</li>";
      }
    }
    m += "<dt>" + Esc(T("me.categories", r.lang)) + "</dt><dd><ul>" + cats + "</ul></dd>";
    if (!servs.empty()) m += "<dt>" + Esc(T("me.services", r.lang)) + "</dt><dd><ul>" + servs + "</ul></dd>";
    m += "</dl>";
    if (c && c->state == ConsentState::kGranted) {
      m += FormOpen("/privacy/withdraw", r.session->csrf) + "<input type=\"hidden\" name=\"purpose\" value=\"" +
           Esc(pu.id) + "\"><button type=\"submit\" class=\"danger\">" + Esc(T("me.withdraw", r.lang)) +
           "</button></form>";
    }
    m += "</section>";
  }
  m += "</div>";
  m += "<h2>" + Esc(T("me.services", r.lang)) + "</h2><table><thead><tr><th scope=\"col\">" +
       Esc(T("me.service", r.lang)) + "</th><th scope=\"col\">" + Esc(T("me.state", r.lang)) +
       "</th></tr></thead><tbody>";
  for (const auto& s : *services) {
    const policy::Service* ps = p.FindService(s.service);
    m += "<tr data-service=\"" + Esc(s.service) + "\"><td>" + (ps ? in(ps->name) : Esc(s.service)) + "</td><td>" +
         Esc(T(s.active ? "me.active" : "me.inactive", r.lang)) + "</td></tr>";
  }
  m += "</tbody></table>";
  m += "<h2>" + Esc(T("me.other", r.lang)) + "</h2><p class=\"hint\">" + Esc(T("me.other_note", r.lang)) + "</p><ul>";
  for (const auto& pu : p.purposes) {
    if (pu.basis == policy::LegalBasis::kConsent) continue;
    m += "<li>" + in(pu.name) + " (" + Esc(T("basis." + std::string(policy::LegalBasisName(pu.basis)), r.lang)) +
         ")</li>";
  }
  m += "</ul>";
  return HtmlResponse(200, Page(frame, m));
}

namespace {

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

}  // namespace

HttpResponse Pages::PrivacyWithdrawPreview(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const Frame frame = PrivacyFrame(r.lang, std::string(T("withdraw.title", r.lang)), "/privacy/me", r.session);
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), r.lang)));
  const std::string purpose = r.Field("purpose");
  rules::WithdrawalRequest req{rules::SubjectKey::Id(r.session->subject), "personal_cabinet", "", {}, {purpose}, true};
  auto plan = inst_.engine().Withdraw(req, **caller);
  const std::string back = "<p><a href=\"/privacy/me\">" + Esc(T("withdraw.cancel", r.lang)) + "</a></p>";
  if (!plan) {
    const int status = plan.error().code == ErrorCode::kPermissionDenied ? 403 : 409;
    return HtmlResponse(status, Page(frame, "<h2>" + Esc(T("withdraw.refused", r.lang)) + "</h2>" +
                                                ErrorBox(plan.error(), r.lang) + back));
  }
  const policy::Policy& p = inst_.policy();
  std::string m = "<div class=\"warning\" role=\"note\"><h2>" + Esc(T("withdraw.warning", r.lang)) + "</h2><p>" +
                  Esc(policy::InLanguage(plan->warning, r.lang)) + "</p></div>";
  m += PlanLists(*plan, p, r.lang);
  m += FormOpen("/privacy/withdraw/confirm", r.session->csrf) + "<input type=\"hidden\" name=\"purpose\" value=\"" +
       Esc(purpose) + "\"><button type=\"submit\" class=\"danger\">" + Esc(T("withdraw.confirm", r.lang)) +
       "</button></form>" + back;
  return HtmlResponse(200, Page(frame, m));
}

HttpResponse Pages::PrivacyWithdrawConfirm(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const Frame frame = PrivacyFrame(r.lang, std::string(T("withdraw.title", r.lang)), "/privacy/me", r.session);
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), r.lang)));
  // The evidence of a withdrawal in the personal cabinet: a reference to
  // the signed-in session's request, no value of the subscriber's.
  auto random = crypto::RandomBytes(8);
  if (!random) return HtmlResponse(500, Page(frame, ErrorText(T("error.internal", r.lang))));
  const std::string purpose = r.Field("purpose");
  rules::WithdrawalRequest req{rules::SubjectKey::Id(r.session->subject), "personal_cabinet",
                               "PC-" + crypto::ToHex(*random), {}, {purpose}, false};
  auto plan = inst_.engine().Withdraw(req, **caller);
  const std::string back = "<p><a href=\"/privacy/me\">" + Esc(T("nav.me", r.lang)) + "</a></p>";
  if (!plan) {
    const int status = plan.error().code == ErrorCode::kPermissionDenied ? 403 : 409;
    return HtmlResponse(status, Page(frame, "<h2>" + Esc(T("withdraw.refused", r.lang)) + "</h2>" +
                                                ErrorBox(plan.error(), r.lang) + back));
  }
  std::string m = "<p class=\"done\" role=\"status\">" + Esc(T("withdraw.done", r.lang)) + "</p>";
  m += PlanLists(*plan, inst_.policy(), r.lang) + back;
  return HtmlResponse(200, Page(frame, m));
}

// The staff console.

namespace {

Frame ConsoleFrame(std::string_view lang, std::string title, std::string here, const std::optional<Session>& s) {
  Frame f{lang, "console", std::move(title), std::move(here), {}, {}, {}, {}};
  if (s && s->kind == SessionKind::kStaff) {
    f.nav.emplace_back("nav.dashboard", "/console/");
    f.nav.emplace_back("nav.subject", "/console/subject");
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

}  // namespace

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

HttpResponse Pages::ConsoleEnrol(Request& r, std::string_view error, int status) {
  if (!EnsureSession(r)) return HtmlResponse(500, ErrorText(T("error.internal", r.lang)));
  std::string m;
  if (!error.empty()) m += ErrorText(error);
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
    HttpResponse out = ConsoleEnrol(r, T("error.too_many", r.lang), 429);
    out.headers.emplace_back("Retry-After", std::to_string(wait));
    return out;
  }
  const std::string password = r.Field("password");
  if (password != r.Field("again")) return ConsoleEnrol(r, T("staff.passwords_differ", r.lang), 422);
  auto set = inst_.engine().SetPasswordByEnrolment(r.Field("token"), password);
  if (!set) {
    if (set.error().code == ErrorCode::kUnauthenticated) limiter_.CountFailure(source);
    const ErrorCode code = set.error().code;
    const int status = code == ErrorCode::kInvalidArgument    ? 422
                       : code == ErrorCode::kUnauthenticated  ? 401
                       : code == ErrorCode::kPermissionDenied ? 403
                       : code == ErrorCode::kNotFound         ? 404
                                                              : 503;
    std::string m = ErrorBox(set.error(), r.lang);
    HttpResponse out = ConsoleEnrol(r, {}, status);
    // The engine's refusal names the field (the token or the password).
    const std::size_t at = out.body.find("<form");
    if (at != std::string::npos) out.body.insert(at, m);
    return out;
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
    reasons += std::string(reasons.size() > 1 ? "," : "") + "\"" + code + "\":\"" + std::string(T(key, lang)) + "\"";
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


namespace {

// The id in `?id=`, or 0.
std::int64_t IdOf(const std::map<std::string, std::string>& query) {
  auto it = query.find("id");
  if (it == query.end() || it->second.empty() || it->second.size() > 18) return 0;
  for (char ch : it->second) {
    if (ch < '0' || ch > '9') return 0;
  }
  return std::stoll(it->second);
}

}  // namespace

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
  m += "</section><section aria-labelledby=\"applications\"><h2 id=\"applications\">" + Esc(T("dash.applications", lang)) +
       "</h2>";
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

const EmbeddedAsset* FindAsset(std::string_view path) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (path == kAssets[i].path) return &kAssets[i];
  }
  return nullptr;
}

}  // namespace qorgau::web
