// The subscribers' privacy centre under /privacy/ (web/pages.h).
#include "web/pages.h"

#include <algorithm>

#include "api/api.h"
#include "core/clock.h"
#include "core/phone.h"
#include "crypto/crypto.h"
#include "index/decision_index.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/page_parts.h"
#include "report/statement.h"

namespace qorgau::web {

using api::HttpRequest;
using api::HttpResponse;

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
  std::string m = EditionSection(r, **caller);
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
  // Applications (R-IV.4, R-IV.5) and the statement (R-IV.4).
  m += "<h2 id=\"applications\">" + Esc(T("subject.applications", r.lang)) + "</h2>";
  std::string notice;
  if (auto apps = inst_.engine().ListApplications(**caller, key); !apps) {
    m += ErrorBox(apps.error(), r.lang);
  } else if (apps->empty()) {
    m += "<p>" + Esc(T("dash.none", r.lang)) + "</p>";
  } else {
    m += "<table class=\"applications\"><thead><tr><th scope=\"col\">" + Esc(T("dash.kind", r.lang)) +
         "</th><th scope=\"col\">" + Esc(T("dash.received", r.lang)) + "</th><th scope=\"col\">" +
         Esc(T("dash.due", r.lang)) + "</th><th scope=\"col\">" + Esc(T("dash.status", r.lang)) +
         "</th></tr></thead><tbody>";
    const std::string filed = r.Query("filed");
    for (const auto& a : *apps) {
      if (filed == std::to_string(a.record.id)) {
        notice = "<p class=\"done\" role=\"status\" data-filed=\"" + filed + "\">" + Esc(T("apply.done", r.lang)) + " " +
                 Esc(a.record.reference) + ". " + Esc(T("dash.due", r.lang)) + ": " + Day(a.record.due_at) + ".</p>";
      }
      m += "<tr data-application=\"" + std::to_string(a.record.id) + "\"><td>" +
           Esc(T(std::string("kind.") + ApplicationKindName(a.record.kind), r.lang)) + "</td><td>" +
           Day(a.record.received_at) + "</td><td>" + Day(a.record.due_at) + "</td><td>" +
           Esc(T(std::string("state.") + ApplicationStateName(a.record.state), r.lang)) + "</td></tr>";
    }
    m += "</tbody></table>";
  }
  m += "<p><a href=\"/privacy/apply\">" + Esc(T("apply.title", r.lang)) + "</a></p>";
  m += "<h2>" + Esc(T("statement.title", r.lang)) + "</h2>" + Hint("statement.about", r.lang) +
       "<p class=\"links\"><a href=\"/privacy/statement\">" + Esc(T("statement.open", r.lang)) +
       "</a> · <a href=\"/privacy/statement?print=1\">" + Esc(T("statement.print", r.lang)) +
       "</a> · <a href=\"/privacy/statement?download=1\">" + Esc(T("statement.download", r.lang)) + "</a></p>";
  m += "<h2>" + Esc(T("me.other", r.lang)) + "</h2><p class=\"hint\">" + Esc(T("me.other_note", r.lang)) + "</p><ul>";
  for (const auto& pu : p.purposes) {
    if (pu.basis == policy::LegalBasis::kConsent) continue;
    m += "<li>" + in(pu.name) + " (" + Esc(T("basis." + std::string(policy::LegalBasisName(pu.basis)), r.lang)) +
         ")</li>";
  }
  m += "</ul>";
  return HtmlResponse(200, Page(frame, notice + m));
}


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

namespace {

// The privacy centre's reference for what a subscriber does there: the
// evidence of an acceptance, the registration of an application.
Result<std::string> CabinetReference() {
  auto random = crypto::RandomBytes(8);
  if (!random) return tl::unexpected(random.error());
  return "PC-" + crypto::ToHex(*random);
}

// The kinds of application a subscriber files here; a withdrawal has its
// own page (the preview first), and re-enabling a service is asked of the
// office, where the service is chosen.
constexpr std::string_view kCabinetKinds[] = {"information", "rectification", "blocking", "destruction", "objection"};

}  // namespace

// The edition in force, whether the subscriber accepted it, and what
// changed from the one before with the reasons (R-XI.1, R-XI.2).
std::string Pages::EditionSection(Request& r, const rules::Caller& caller) {
  const std::string_view lang = r.lang;
  const policy::Policy& p = inst_.policy();
  std::string m = "<section aria-labelledby=\"edition\" class=\"edition\"><h2 id=\"edition\">" +
                  Esc(T("edition.title", lang)) + " " + std::to_string(p.edition.number) + "</h2>";
  auto accepted = inst_.engine().EditionAcceptance(caller, rules::SubjectKey::Id(r.session->subject));
  if (!accepted) return m + ErrorBox(accepted.error(), lang) + "</section>";
  // Without an edition before it, nothing changed: the policy in force is
  // not "new" to anybody.
  bool changed = false;
  if (auto editions = inst_.engine().ListEditions(); editions) {
    for (const auto& e : *editions) {
      if (e.record.number == p.edition.number && e.diff) {
        m += DiffTable(*e.diff, *e.policy, lang);
        changed = true;
      }
    }
  }
  if (*accepted) {
    m += "<p class=\"done\" data-accepted=\"" + Esc((*accepted)->how) + "\">" + Esc(T("edition.accepted", lang)) + " " +
         Day((*accepted)->at) + " (" + Esc(T("edition.how_" + (*accepted)->how, lang)) + ")</p>";
  } else {
    m += Hint(changed ? "edition.not_accepted" : "edition.not_accepted_first", lang) +
         FormOpen("/privacy/accept", r.session->csrf) +
         "<button type=\"submit\" data-action=\"accept\">" + Esc(T("edition.accept", lang)) + " " +
         std::to_string(p.edition.number) + "</button></form>";
  }
  return m + "</section>";
}

HttpResponse Pages::PrivacyAccept(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const Frame frame = PrivacyFrame(r.lang, std::string(T("edition.title", r.lang)), "/privacy/me", r.session);
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), r.lang)));
  auto evidence = CabinetReference();
  if (!evidence) return HtmlResponse(500, Page(frame, ErrorText(T("error.internal", r.lang))));
  auto done = inst_.engine().AcceptEdition(rules::SubjectKey::Id(r.session->subject), "personal_cabinet", *evidence,
                                           **caller);
  if (!done) {
    return HtmlResponse(PageStatus(done.error()), Page(frame, ErrorBox(done.error(), r.lang) + "<p><a href=\"/privacy/me\">" +
                                                                  Esc(T("nav.me", r.lang)) + "</a></p>"));
  }
  return Redirect("/privacy/me");
}

// The subscriber's information statement (R-IV.4): values masked, as the
// privacy centre's duties show them; a recorded read like any other.
HttpResponse Pages::PrivacyStatement(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const Frame frame = PrivacyFrame(r.lang, std::string(T("statement.title", r.lang)), "/privacy/me", r.session);
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), r.lang)));
  auto st = inst_.engine().Statement({rules::SubjectKey::Id(r.session->subject), r.lang, false, std::nullopt}, **caller);
  if (!st) return HtmlResponse(PageStatus(st.error()), Page(frame, ErrorBox(st.error(), r.lang)));
  return DocumentResponse(report::StatementHtml(inst_.policy(), *st), st->reference + ".html",
                          r.Query("download") == "1", r.Query("print") == "1");
}

std::string Pages::ApplyForm(Request& r) {
  const std::string_view lang = r.lang;
  std::string m = FormOpen("/privacy/apply", r.session->csrf) + "<fieldset><legend>" + Esc(T("apply.kind", lang)) +
                  "</legend>";
  for (std::string_view kind : kCabinetKinds) {
    const std::string k(kind);
    m += "<label class=\"choice\"><input type=\"radio\" name=\"kind\" value=\"" + k + "\" required" +
         (r.Field("kind") == k ? " checked" : "") + "> " + Esc(T("kind." + k, lang)) + "<span class=\"hint\"> — " +
         Esc(T("apply.about_" + k, lang)) + "</span></label>";
  }
  m += "</fieldset><p class=\"hint\">" + Esc(T("apply.note", lang)) + "</p><button type=\"submit\">" +
       Esc(T("apply.file", lang)) + "</button></form>";
  return m;
}

HttpResponse Pages::PrivacyApply(Request& r) {
  if (!r.session || r.session->kind != SessionKind::kSubscriber) return Redirect("/privacy/sign-in");
  const std::string_view lang = r.lang;
  const Frame frame = PrivacyFrame(lang, std::string(T("apply.title", lang)), "/privacy/apply", r.session);
  if (r.http.method != "POST") return HtmlResponse(200, Page(frame, ApplyForm(r)));
  auto caller = inst_.engine().CallerFor(options_.privacy_actor);
  if (!caller) return HtmlResponse(503, Page(frame, ErrorBox(caller.error(), lang)));
  const std::string kind = r.Field("kind");
  if (std::find(std::begin(kCabinetKinds), std::end(kCabinetKinds), kind) == std::end(kCabinetKinds)) {
    return HtmlResponse(422, Page(frame, ErrorBox(Error{ErrorCode::kInvalidArgument, "kind", "choose a kind of application"}, lang) +
                                             ApplyForm(r)));
  }
  auto reference = CabinetReference();
  if (!reference) return HtmlResponse(500, Page(frame, ErrorText(T("error.internal", lang))));
  rules::ApplicationRequest req;
  req.subject = rules::SubjectKey::Id(r.session->subject);
  req.kind = kind;
  req.channel = "personal_cabinet";
  req.reference = *reference;
  auto filed = inst_.engine().FileApplication(req, **caller);
  if (!filed) return HtmlResponse(PageStatus(filed.error()), Page(frame, ErrorBox(filed.error(), lang) + ApplyForm(r)));
  // Back to the subscriber's page, which says it was registered: a reload
  // there files nothing again.
  return Redirect("/privacy/me?filed=" + std::to_string(filed->record.id));
}

}  // namespace qorgau::web
