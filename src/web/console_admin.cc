// The staff console's other pages (web/pages.h): a subject's statement,
// filing an application, the audit pages, the policy's editions and the
// administration of actors, duties and keys. Each calls the engine with
// the signed-in actor as the caller, under the one permission model.
#include "web/pages.h"

#include <algorithm>
#include <span>
#include <tuple>

#include "api/api.h"
#include "core/clock.h"
#include "crypto/crypto.h"
#include "report/statement.h"
#include "rules/permissions.h"
#include "web/html.h"
#include "web/i18n.h"
#include "web/page_parts.h"

namespace qorgau::web {

using api::HttpResponse;

namespace {

// The channels an application comes through (rules/applications.h).
constexpr std::string_view kApplicationChannels[] = {"office_written", "app_support_chat", "e_document",
                                                     "personal_cabinet"};
constexpr std::string_view kRepresentatives[] = {"parent", "guardian", "attorney"};
constexpr std::string_view kProofs[] = {"birth_certificate", "guardianship_decision", "power_of_attorney"};
constexpr int kDocumentRows = 3;

std::string Options(std::span<const std::string_view> values, std::string_view selected, std::string_view prefix,
                    std::string_view lang, bool blank) {
  std::string m = blank ? "<option value=\"\">—</option>" : "";
  for (std::string_view v : values) {
    m += "<option value=\"" + std::string(v) + "\"" + (v == selected ? " selected" : "") + ">" +
         Esc(T(std::string(prefix) + std::string(v), lang)) + "</option>";
  }
  return m;
}

std::string Input(std::string_view id, std::string_view label, std::string_view value, std::string_view extra = {}) {
  return "<label for=\"" + std::string(id) + "\">" + Esc(label) + "</label><input id=\"" + std::string(id) +
         "\" name=\"" + std::string(id) + "\" value=\"" + Esc(value) + "\"" + std::string(extra) + ">";
}

}  // namespace

HttpResponse Pages::ConsoleStatement(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::int64_t id = IdOf(r.http.query);
  Frame frame = ConsoleFrame(r.lang, std::string(T("statement.title", r.lang)), "/console/subject", r.session);
  if (id == 0) return HtmlResponse(422, Page(frame, ErrorBox({ErrorCode::kInvalidArgument, "id", "name the subject"}, r.lang)));
  // Values in full only where a duty with the full view covers them, and
  // only when asked (rules/applications.h).
  auto st = inst_.engine().Statement({rules::SubjectKey::Id(id), r.lang, r.Query("full") == "1", std::nullopt}, *caller);
  if (!st) return HtmlResponse(PageStatus(st.error()), Page(frame, ErrorBox(st.error(), r.lang)));
  return DocumentResponse(report::StatementHtml(inst_.policy(), *st), st->reference + ".html",
                          r.Query("download") == "1", r.Query("print") == "1");
}

std::string Pages::NewApplicationForm(Request& r) {
  const std::string_view lang = r.lang;
  const bool post = r.http.method == "POST";
  auto field = [&](const std::string& name) { return post ? r.Field(name) : r.Query(name); };
  const policy::Policy& p = inst_.policy();
  std::vector<std::string_view> kinds;
  for (ApplicationKind k : AllApplicationKinds()) kinds.push_back(ApplicationKindName(k));
  std::string m = FormOpen("/console/application/new", r.session->csrf, "wide") +
                  Input("subject", T("dash.subject", lang), field("subject"), " inputmode=\"numeric\" required") +
                  "<label for=\"kind\">" + Esc(T("dash.kind", lang)) + "</label><select id=\"kind\" name=\"kind\" required>" +
                  Options(kinds, field("kind"), "kind.", lang, true) + "</select><label for=\"channel\">" +
                  Esc(T("me.channel", lang)) + "</label><select id=\"channel\" name=\"channel\" required>" +
                  Options(kApplicationChannels, field("channel"), "app_channel.", lang, false) + "</select>" +
                  Input("reference", T("new_app.reference", lang), field("reference"), " required maxlength=\"64\"") +
                  Input("received_at", T("new_app.received_at", lang), field("received_at"),
                        " placeholder=\"2026-12-01T09:00:00Z\" aria-describedby=\"received-hint\"") +
                  "<p id=\"received-hint\" class=\"hint\">" + Esc(T("new_app.received_hint", lang)) + "</p>";
  // A withdrawal names its purposes, a re-enabling its services.
  m += "<fieldset><legend>" + Esc(T("new_app.purposes", lang)) + "</legend>";
  for (const auto& pu : p.purposes) {
    if (pu.basis != policy::LegalBasis::kConsent) continue;
    m += "<label class=\"choice\"><input type=\"checkbox\" name=\"purpose_" + Esc(pu.id) + "\" value=\"1\"" +
         (r.Field("purpose_" + pu.id) == "1" ? " checked" : "") + "> " + Esc(policy::InLanguage(pu.name, lang)) +
         "</label>";
  }
  m += "</fieldset><fieldset><legend>" + Esc(T("new_app.services", lang)) + "</legend>";
  for (const auto& s : p.services) {
    m += "<label class=\"choice\"><input type=\"checkbox\" name=\"service_" + Esc(s.id) + "\" value=\"1\"" +
         (r.Field("service_" + s.id) == "1" ? " checked" : "") + "> " + Esc(policy::InLanguage(s.name, lang)) +
         "</label>";
  }
  m += "</fieldset>";
  // The documents: a reference and the SHA-256 of the file, which the page
  // computes in the browser when a file is chosen (the file stays there).
  m += "<fieldset><legend>" + Esc(T("app.documents", lang)) + "</legend>" + Hint("new_app.documents_hint", lang);
  for (int i = 1; i <= kDocumentRows; ++i) {
    const std::string n = std::to_string(i);
    m += "<div class=\"document\">" + Input("doc" + n + "_reference", std::string(T("new_app.doc_reference", lang)) + " " + n,
                                            r.Field("doc" + n + "_reference"), " maxlength=\"64\"") +
         Input("doc" + n + "_sha256", std::string(T("new_app.doc_sha256", lang)) + " " + n, r.Field("doc" + n + "_sha256"),
               " pattern=\"[0-9a-f]{64}\" maxlength=\"64\" class=\"digest\"") +
         "<label for=\"doc" + n + "_file\">" + Esc(T("new_app.doc_file", lang)) + " " + n +
         "</label><input id=\"doc" + n + "_file\" type=\"file\" data-digest-for=\"doc" + n + "_sha256\"></div>";
  }
  m += "</fieldset>";
  // A legal representative, when one acts (R-IV; rules/representation.h).
  m += "<fieldset><legend>" + Esc(T("new_app.representative", lang)) + "</legend><label for=\"rep_kind\">" +
       Esc(T("new_app.rep_kind", lang)) + "</label><select id=\"rep_kind\" name=\"rep_kind\">" +
       Options(kRepresentatives, r.Field("rep_kind"), "rep.", lang, true) + "</select>" +
       Input("rep_name", T("new_app.rep_name", lang), "", " autocomplete=\"off\"") +
       Input("rep_iin", T("subject.iin", lang), "", " autocomplete=\"off\" inputmode=\"numeric\"") +
       "<label for=\"rep_proof_kind\">" + Esc(T("new_app.rep_proof", lang)) +
       "</label><select id=\"rep_proof_kind\" name=\"rep_proof_kind\">" +
       Options(kProofs, r.Field("rep_proof_kind"), "proof.", lang, true) + "</select>" +
       Input("rep_proof_reference", T("new_app.rep_proof_reference", lang), "", " autocomplete=\"off\"") +
       Input("rep_valid_until", T("new_app.rep_valid_until", lang), r.Field("rep_valid_until"), " type=\"date\"") +
       "</fieldset><button type=\"submit\">" + Esc(T("new_app.file", lang)) + "</button></form>";
  return m;
}

HttpResponse Pages::ConsoleNewApplication(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  Frame frame = ConsoleFrame(lang, std::string(T("nav.new_application", lang)), "/console/application/new", r.session);
  frame.scripts.push_back("console.js");
  if (r.http.method != "POST") return HtmlResponse(200, Page(frame, NewApplicationForm(r)));
  auto refuse = [&](const Error& e) {
    return HtmlResponse(PageStatus(e), Page(frame, ErrorBox(e, lang) + NewApplicationForm(r)));
  };
  const std::string subject = r.Field("subject");
  if (subject.empty() || subject.size() > 18 || subject.find_first_not_of("0123456789") != std::string::npos) {
    return refuse({ErrorCode::kInvalidArgument, "subject", "must be a subject id (digits)"});
  }
  rules::ApplicationRequest req;
  req.subject = rules::SubjectKey::Id(std::stoll(subject));
  req.kind = r.Field("kind");
  req.channel = r.Field("channel");
  req.reference = r.Field("reference");
  if (const std::string at = r.Field("received_at"); !at.empty()) {
    auto parsed = ParseUtc(at, "received_at");
    if (!parsed) return refuse(parsed.error());
    req.received_at = *parsed;
  }
  const policy::Policy& p = inst_.policy();
  for (const auto& pu : p.purposes) {
    if (r.Field("purpose_" + pu.id) == "1") req.purposes.push_back(pu.id);
  }
  for (const auto& s : p.services) {
    if (r.Field("service_" + s.id) == "1") req.purposes.push_back(s.id);
  }
  for (int i = 1; i <= kDocumentRows; ++i) {
    const std::string n = std::to_string(i);
    rules::DocumentRef d{r.Field("doc" + n + "_reference"), r.Field("doc" + n + "_sha256")};
    if (d.reference.empty() && d.sha256.empty()) continue;
    req.documents.push_back(std::move(d));
  }
  if (const std::string kind = r.Field("rep_kind"); !kind.empty()) {
    req.representative = rules::Representative{kind,
                                               r.Field("rep_name"),
                                               r.Field("rep_iin"),
                                               r.Field("rep_proof_kind"),
                                               r.Field("rep_proof_reference"),
                                               r.Field("rep_valid_until")};
  }
  auto filed = inst_.engine().FileApplication(req, *caller);
  if (!filed) return refuse(filed.error());
  return Redirect("/console/application?id=" + std::to_string(filed->record.id));
}

namespace {

std::string TrailTable(const std::vector<rules::AccessEntry>& trail, std::string_view lang, bool with_subject) {
  if (trail.empty()) return "<p>" + Esc(T("audit.empty", lang)) + "</p>";
  std::string m = "<table class=\"trail\"><thead><tr><th scope=\"col\">" + Esc(T("audit.at", lang)) +
                  "</th><th scope=\"col\">" + Esc(T("staff.actor", lang)) + "</th>" +
                  (with_subject ? "<th scope=\"col\">" + Esc(T("dash.subject", lang)) + "</th>" : std::string()) +
                  "<th scope=\"col\">" + Esc(T("audit.what", lang)) + "</th><th scope=\"col\">" +
                  Esc(T("policy.purpose", lang)) + "</th><th scope=\"col\">" + Esc(T("audit.outcome", lang)) +
                  "</th></tr></thead><tbody>";
  for (const auto& a : trail) {
    std::string cats;
    for (const auto& c : a.categories) cats += (cats.empty() ? "" : ", ") + Esc(c);
    m += "<tr" + std::string(a.allowed ? "" : " class=\"denied\"") + "><td>" + Esc(a.at.substr(0, 19)) + "</td><td>" +
         Esc(a.actor) + "</td>" +
         (!with_subject    ? std::string()
          : a.subject == 0 ? "<td>—</td>"
                           : "<td><a href=\"/console/subject?id=" + std::to_string(a.subject) + "\">" +
                                 std::to_string(a.subject) + "</a></td>") +
         "<td>" + Esc(a.type) + " " + Esc(a.what) + (cats.empty() ? "" : " <code>" + cats + "</code>") + "</td><td>" +
         Esc(a.purpose) + "</td><td>" + Esc(T(a.allowed ? "audit.allowed" : "audit.denied", lang)) +
         (a.reason.empty() ? "" : " (" + Esc(a.reason) + ")") + "</td></tr>";
  }
  return m + "</tbody></table>";
}

}  // namespace

HttpResponse Pages::ConsoleAudit(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  rules::Engine& e = inst_.engine();
  Frame frame = ConsoleFrame(lang, std::string(T("nav.audit", lang)), "/console/audit", r.session);
  const std::string subject = r.Query("subject"), actor = r.Query("actor"), from = r.Query("from"),
                    to = r.Query("to");
  std::string m;
  // The ledger: verified on demand (the whole chain and the state check).
  m += "<section aria-labelledby=\"verify\"><h2 id=\"verify\">" + Esc(T("audit.verify_title", lang)) + "</h2>";
  // Its last result only to whom may run it.
  const bool may_verify = static_cast<bool>(rules::Authorize(inst_.policy(), *caller, rules::Action::kAuditVerify));
  if (may_verify) {
    std::lock_guard lock(verification_mu_);
    if (last_verification_) {
      const auto& v = *last_verification_;
      m += "<dl class=\"facts\" data-verified=\"" + std::string(v.report.ok ? "ok" : "broken") + "\"><dt>" +
           Esc(T("audit.last_verification", lang)) + "</dt><dd>" + Esc(FormatUtc(v.at).substr(0, 19)) + " UTC, " +
           Esc(v.actor) + "</dd><dt>" + Esc(T("audit.result", lang)) + "</dt><dd>" +
           (v.report.ok ? Esc(T("audit.intact", lang)) : "<strong>" + Esc(T("audit.broken", lang)) + "</strong> " +
                                                            std::to_string(v.report.broken_seq) + ": " +
                                                            Esc(v.report.reason)) +
           "</dd><dt>" + Esc(T("dash.events", lang)) + "</dt><dd>" + std::to_string(v.report.events) + "</dd><dt>" +
           Esc(T("audit.rows", lang)) + "</dt><dd>" + std::to_string(v.report.rows) + "</dd><dt>" +
           Esc(T("audit.head", lang)) + "</dt><dd><code>" + Esc(v.report.head_hash.substr(0, 16)) + "…</code></dd></dl>";
    } else {
      m += Hint("audit.not_verified", lang);
    }
  }
  m += FormOpen("/console/audit/verify", r.session->csrf) + "<button type=\"submit\" data-action=\"verify-ledger\">" +
       Esc(T("audit.verify", lang)) + "</button></form></section>";
  // The trail: a subject's, or an actor's, or everyone's in a time range.
  m += "<section aria-labelledby=\"trail\"><h2 id=\"trail\">" + Esc(T("audit.trail", lang)) + "</h2>"
       "<form method=\"get\" action=\"/console/audit\" class=\"range\">" +
       Input("subject", T("dash.subject", lang), subject, " inputmode=\"numeric\"") +
       Input("actor", T("staff.actor", lang), actor) + Input("from", T("dash.from", lang), from, " type=\"date\"") +
       Input("to", T("dash.to", lang), to, " type=\"date\"") + "<button type=\"submit\">" +
       Esc(T("dash.show", lang)) + "</button></form>" + Hint("audit.trail_hint", lang);
  int status = 200;
  if (!subject.empty() && (!actor.empty() || !from.empty() || !to.empty())) {
    status = 422;
    m += ErrorBox({ErrorCode::kInvalidArgument, "subject", "a subject's trail takes no other filter"}, lang);
  } else if (!subject.empty()) {
    auto trail = e.AccessTrail(*caller, rules::SubjectKey{rules::SubjectKey::Kind::kId, subject});
    if (!trail) {
      status = PageStatus(trail.error());
      m += ErrorBox(trail.error(), lang);
    } else {
      m += TrailTable(*trail, lang, false);
    }
  } else if (!actor.empty() || !from.empty() || !to.empty()) {
    rules::TrailQuery q;
    q.actor = actor;
    Result<void> ok;
    for (auto [text, at, name] : {std::tuple{&from, &q.from, "from"}, std::tuple{&to, &q.to, "to"}}) {
      if (text->empty() || !ok) continue;
      auto day = ParseDate(*text, name);
      if (!day) {
        ok = tl::unexpected(day.error());
        continue;
      }
      // `to` is the last day shown: the range ends at the next midnight.
      *at = StartOfDayUtc(*day) + (std::string_view(name) == "to" ? 86400000 : 0);
    }
    auto trail = ok ? e.AccessTrailBy(*caller, q) : Result<std::vector<rules::AccessEntry>>(tl::unexpected(ok.error()));
    if (!trail) {
      status = PageStatus(trail.error());
      m += ErrorBox(trail.error(), lang);
    } else {
      m += TrailTable(*trail, lang, true);
    }
  }
  m += "</section>";
  return HtmlResponse(status, Page(frame, m));
}

HttpResponse Pages::ConsoleVerify(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  auto report = inst_.engine().VerifyLedger(*caller);
  if (!report) {
    Frame frame = ConsoleFrame(r.lang, std::string(T("nav.audit", r.lang)), "/console/audit", r.session);
    return HtmlResponse(PageStatus(report.error()), Page(frame, ErrorBox(report.error(), r.lang)));
  }
  {
    std::lock_guard lock(verification_mu_);
    last_verification_ = LastVerification{caller->id(), inst_.engine().clock().Now(), *report};
  }
  return Redirect("/console/audit");
}

HttpResponse Pages::ConsolePolicy(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  Frame frame = ConsoleFrame(lang, std::string(T("nav.editions", lang)), "/console/policy", r.session);
  auto editions = inst_.engine().ListEditions();
  if (!editions) return HtmlResponse(PageStatus(editions.error()), Page(frame, ErrorBox(editions.error(), lang)));
  std::string m;
  // The newest first: what the staff work under now.
  for (auto it = editions->rbegin(); it != editions->rend(); ++it) {
    const auto& ed = *it;
    m += "<section class=\"edition\" data-edition=\"" + std::to_string(ed.record.number) + "\"><h2>" +
         Esc(T("edition.title", lang)) + " " + std::to_string(ed.record.number) +
         (ed.in_force ? " <span class=\"badge\">" + Esc(T("edition.in_force", lang)) + "</span>" : std::string()) +
         "</h2><dl class=\"facts\"><dt>" + Esc(T("edition.published", lang)) + "</dt><dd>" +
         Esc(FormatUtc(ed.record.published_at).substr(0, 16)) + " UTC</dd><dt>" + Esc(T("edition.from", lang)) +
         "</dt><dd>" + Esc(FormatUtc(ed.record.InForceFrom()).substr(0, 16)) + " UTC</dd>" +
         (ed.record.reason.empty() ? std::string()
                                   : "<dt>" + Esc(T("edition.reason", lang)) + "</dt><dd>" + Esc(ed.record.reason) + "</dd>") +
         "<dt>" + Esc(T("edition.hash", lang)) + "</dt><dd><code>" + crypto::ToHex(ed.record.hash).substr(0, 16) +
         "…</code></dd></dl>";
    m += ed.diff ? DiffTable(*ed.diff, *ed.policy, lang) : Hint("edition.first", lang);
    m += "</section>";
  }
  return HtmlResponse(200, Page(frame, m));
}

HttpResponse Pages::ConsoleAdmin(Request& r) {
  auto caller = StaffCaller(r);
  if (!caller) return Redirect("/console/sign-in");
  const std::string_view lang = r.lang;
  rules::Engine& e = inst_.engine();
  Frame frame = ConsoleFrame(lang, std::string(T("nav.admin", lang)), "/console/admin", r.session);
  std::string m;
  int status = 200;
  if (r.http.method == "POST") {
    const std::string action = r.Field("action"), actor = r.Field("actor");
    Result<void> done;
    if (action == "enrol") {
      // The token is shown once, here, to hand to the employee.
      auto enrolment = e.CreateEnrolment(actor, *caller);
      if (enrolment) {
        m += "<div class=\"done\" role=\"status\" data-enrolment><p>" + Esc(T("admin.token_for", lang)) + " <strong>" +
             Esc(actor) + "</strong> (" + Esc(T("admin.until", lang)) + " " +
             Esc(FormatUtc(enrolment->expires_at).substr(0, 16)) + " UTC):</p><p><code class=\"token\">" +
             Esc(enrolment->token) + "</code></p>" + Hint("admin.token_once", lang) + "</div>";
      } else {
        done = tl::unexpected(enrolment.error());
      }
    } else if (action == "disable") {
      done = e.DisableActor(actor, *caller);
      if (done) sessions_.RemoveActor(actor);
    } else if (action == "remove_duty") {
      done = e.RemoveDuty(actor, r.Field("purpose"), *caller);
    } else if (action == "revoke_key") {
      done = e.RevokeKey(actor, r.Field("key"), *caller);
    } else if (action == "grant_duty") {
      store::DutyRecord d{actor, r.Field("purpose"), {}, r.Field("full_view") == "1", 0};
      std::string cats = r.Field("categories");
      for (std::size_t start = 0; start <= cats.size();) {
        std::size_t comma = cats.find(',', start);
        if (comma == std::string::npos) comma = cats.size();
        std::string c = cats.substr(start, comma - start);
        c.erase(0, c.find_first_not_of(' '));
        c.erase(c.find_last_not_of(' ') + 1);
        if (!c.empty()) d.categories.push_back(c);
        start = comma + 1;
      }
      std::vector<std::string> names;
      for (unsigned bit = 1; bit <= kAllDutyActions; bit <<= 1) {
        const std::string name = DutyActionName(static_cast<DutyAction>(bit));
        if (r.Field("act_" + name) == "1") names.push_back(name);
      }
      std::string bad;
      if (names.empty()) {
        done = tl::unexpected(Error{ErrorCode::kInvalidArgument, "actions", "choose at least one action"});
      } else if (!ParseDutyActions(names, &d.actions, &bad)) {
        done = tl::unexpected(Error{ErrorCode::kInvalidArgument, "actions", "unknown action"});
      } else if (auto granted = e.GrantDuty(d, *caller); !granted) {
        done = tl::unexpected(granted.error());
      }
    } else {
      done = tl::unexpected(Error{ErrorCode::kInvalidArgument, "action", "unknown action"});
    }
    if (!done) {
      status = PageStatus(done.error());
      m += ErrorBox(done.error(), lang);
    } else if (action != "enrol") {
      return Redirect("/console/admin");
    }
  }
  auto actors = e.ListActors(*caller);
  if (!actors) {
    return HtmlResponse(PageStatus(actors.error()), Page(frame, m + ErrorBox(actors.error(), lang)));
  }
  const policy::Policy& p = inst_.policy();
  const UnixMillis now = e.clock().Now();
  const std::string csrf = r.session->csrf;
  auto hidden = [](std::string_view name, std::string_view value) {
    return "<input type=\"hidden\" name=\"" + std::string(name) + "\" value=\"" + Esc(value) + "\">";
  };
  for (const auto& a : *actors) {
    m += "<section class=\"actor\" data-actor=\"" + Esc(a.id) + "\" aria-labelledby=\"actor-" + Esc(a.id) +
         "\"><h2 id=\"actor-" + Esc(a.id) + "\">" + Esc(a.id) + " <span class=\"hint\">" + Esc(a.name) + " · " +
         Esc(T(std::string("role.") + store::ActorRoleName(a.role), lang)) + "</span>" +
         (a.disabled_at ? " <span class=\"badge overdue\">" + Esc(T("admin.disabled", lang)) + "</span>" : std::string()) +
         "</h2><dl class=\"facts\"><dt>" + Esc(T("admin.nda", lang)) + "</dt><dd>" +
         (a.nda_signed.empty() ? "—" : Esc(a.nda_signed)) + "</dd><dt>" + Esc(T("admin.liability", lang)) +
         "</dt><dd>" + (a.liability_acknowledged.empty() ? "—" : Esc(a.liability_acknowledged)) + "</dd></dl>";
    if (auto duties = e.ListDuties(a.id, *caller); duties && !duties->empty()) {
      m += "<table class=\"duties\"><caption>" + Esc(T("admin.duties", lang)) + "</caption><thead><tr><th scope=\"col\">" +
           Esc(T("policy.purpose", lang)) + "</th><th scope=\"col\">" + Esc(T("me.categories", lang)) +
           "</th><th scope=\"col\">" + Esc(T("admin.view", lang)) + "</th><th scope=\"col\">" +
           Esc(T("admin.actions", lang)) + "</th><th scope=\"col\"></th></tr></thead><tbody>";
      for (const auto& d : *duties) {
        std::string cats;
        for (const auto& c : d.categories) cats += (cats.empty() ? "" : ", ") + Esc(c);
        m += "<tr><td>" + Esc(d.purpose) + "</td><td><code>" + cats + "</code></td><td>" +
             Esc(T(d.full_view ? "admin.full" : "admin.masked", lang)) + "</td><td>" + Esc(DutyActionsText(d.actions)) +
             "</td><td>" + FormOpen("/console/admin", csrf) + hidden("action", "remove_duty") + hidden("actor", a.id) +
             hidden("purpose", d.purpose) + "<button type=\"submit\" class=\"danger small\">" +
             Esc(T("admin.remove", lang)) + "</button></form></td></tr>";
      }
      m += "</tbody></table>";
    } else if (!duties) {
      m += ErrorBox(duties.error(), lang);
    }
    if (auto keys = e.ListKeys(a.id, *caller); keys && !keys->empty()) {
      m += "<table class=\"keys\"><caption>" + Esc(T("admin.keys", lang)) + "</caption><tbody>";
      for (const auto& k : *keys) {
        const bool live = !k.revoked_at && (!k.expires_at || *k.expires_at > now);
        m += "<tr><td><code>" + Esc(k.id.substr(0, 12)) + "</code></td><td>" + Day(k.created_at) + "</td><td>" +
             Esc(T(live ? "admin.live" : "admin.revoked", lang)) + "</td><td>" +
             (live ? FormOpen("/console/admin", csrf) + hidden("action", "revoke_key") + hidden("actor", a.id) +
                         hidden("key", k.id) + "<button type=\"submit\" class=\"danger small\">" +
                         Esc(T("admin.revoke", lang)) + "</button></form>"
                   : std::string()) +
             "</td></tr>";
      }
      m += "</tbody></table>";
    }
    if (!a.disabled_at) {
      m += "<div class=\"row-actions\">";
      if (a.role != store::ActorRole::kSystem) {
        m += FormOpen("/console/admin", csrf) + hidden("action", "enrol") + hidden("actor", a.id) +
             "<button type=\"submit\" data-action=\"enrol\">" + Esc(T("admin.enrol", lang)) + "</button></form>";
      }
      m += FormOpen("/console/admin", csrf) + hidden("action", "disable") + hidden("actor", a.id) +
           "<button type=\"submit\" class=\"danger\">" + Esc(T("admin.disable", lang)) + "</button></form></div>";
      // A duty granted (or replaced, for a purpose it has).
      const std::string id = "d-" + a.id;
      m += "<details><summary>" + Esc(T("admin.grant", lang)) + "</summary>" + FormOpen("/console/admin", csrf, "wide") +
           hidden("action", "grant_duty") + hidden("actor", a.id) + "<label for=\"" + Esc(id) + "-purpose\">" +
           Esc(T("policy.purpose", lang)) + "</label><select id=\"" + Esc(id) + "-purpose\" name=\"purpose\">";
      for (const auto& pu : p.purposes) {
        m += "<option value=\"" + Esc(pu.id) + "\">" + Esc(policy::InLanguage(pu.name, lang)) + "</option>";
      }
      m += "</select><label for=\"" + Esc(id) + "-categories\">" + Esc(T("me.categories", lang)) + "</label><input id=\"" +
           Esc(id) + "-categories\" name=\"categories\" placeholder=\"user.contact.phone, user.identity.name\">" +
           "<label class=\"choice\"><input type=\"checkbox\" name=\"full_view\" value=\"1\"> " +
           Esc(T("admin.full", lang)) + "</label><fieldset><legend>" + Esc(T("admin.actions", lang)) + "</legend>";
      for (unsigned bit = 1; bit <= kAllDutyActions; bit <<= 1) {
        const std::string name = DutyActionName(static_cast<DutyAction>(bit));
        m += "<label class=\"choice\"><input type=\"checkbox\" name=\"act_" + name + "\" value=\"1\"> " + name +
             "</label>";
      }
      m += "</fieldset><button type=\"submit\">" + Esc(T("admin.grant", lang)) + "</button></form></details>";
    }
    m += "</section>";
  }
  return HtmlResponse(status, Page(frame, m));
}

}  // namespace qorgau::web
