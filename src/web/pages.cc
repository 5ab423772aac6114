// The web pages (web/pages.h): admission, routing, sessions and assets;
// the pages themselves are in privacy_pages.cc and console_*.cc.
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
#include "web/page_parts.h"

namespace qorgau::web {

using api::HttpRequest;
using api::HttpResponse;

namespace {


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
    {"/privacy/accept", "POST"},
    {"/privacy/statement", "GET"},
    {"/privacy/apply", "GET"},
    {"/privacy/apply", "POST"},
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
    {"/console/statement", "GET"},
    {"/console/application/new", "GET"},
    {"/console/application/new", "POST"},
    {"/console/audit", "GET"},
    {"/console/audit/verify", "POST"},
    {"/console/policy", "GET"},
    {"/console/admin", "GET"},
    {"/console/admin", "POST"},
};


}  // namespace

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
  if (p == "/privacy/accept") return PrivacyAccept(r);
  if (p == "/privacy/statement") return PrivacyStatement(r);
  if (p == "/privacy/apply") return PrivacyApply(r);
  if (p == "/console" || p == "/console/") return ConsoleDashboard(r);
  if (p == "/console/sign-in") return post ? ConsoleSignInPost(r) : ConsoleSignIn(r);
  if (p == "/console/enrol") return post ? ConsoleEnrolPost(r) : ConsoleEnrol(r);
  if (p == "/console/sign-out") return SignOut(r, "/console/sign-in");
  if (p == "/console/statistics.json") return ConsoleStatistics(r);
  if (p == "/console/application") return ConsoleApplication(r);
  if (p == "/console/subject") return ConsoleSubject(r);
  if (p == "/console/statement") return ConsoleStatement(r);
  if (p == "/console/application/new") return ConsoleNewApplication(r);
  if (p == "/console/audit") return ConsoleAudit(r);
  if (p == "/console/audit/verify") return ConsoleVerify(r);
  if (p == "/console/policy") return ConsolePolicy(r);
  if (p == "/console/admin") return ConsoleAdmin(r);
  const bool console = p.starts_with("/console");
  return HtmlResponse(404, Page({r.lang, console ? "console" : "privacy", std::string(T("error.title", r.lang)),
                                 console ? "/console/" : "/privacy/", {}, {}, {}, {}},
                                ErrorText(T("error.not_found", r.lang))));
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

const EmbeddedAsset* FindAsset(std::string_view path) {
  for (std::size_t i = 0; i < kAssetCount; ++i) {
    if (path == kAssets[i].path) return &kAssets[i];
  }
  return nullptr;
}

}  // namespace qorgau::web
