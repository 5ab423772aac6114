// The web pages qorgau serves beside its API (docs/console.md): the
// subscribers' privacy centre under /privacy/ and the staff console under
// /console/, with their static assets under /assets/.
//
// Server-rendered HTML, in Kazakh, Russian or English (the `lang` query
// parameter switches, a cookie remembers); no inline script or style, so
// the Content-Security-Policy allows only the server's own files. Every
// action of a page is an engine command with a caller, under the one
// permission model (rules/permissions.h), exactly as the API's route for
// it: a refusal of the engine is the page's refusal, shown in words.
// - Staff sign in with their actor id and a password (Argon2id) that they
//   set themselves by redeeming an enrolment token (/console/enrol); the
//   session's caller is the actor.
// - Subscribers sign in with their phone number and a one-time code sent by
//   SMS (web/one_time_codes.h). The engine's caller is the privacy centre's
//   system actor (PagesOptions::privacy_actor), and the page binds every
//   command to the signed-in subscriber: they see and change only their own
//   consents, through the `personal_cabinet` channel.
// - Forms are posted with the session's CSRF token; a post the browser marks
//   as cross-site is refused before it is looked at; cookies are HttpOnly
//   and SameSite=Strict, and Secure under TLS.
// Thread safety: Admit and Handle may be called from many threads at once.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "api/auth_limiter.h"
#include "api/http.h"
#include "app/instance.h"
#include "ledger/ledger.h"
#include "web/one_time_codes.h"
#include "web/sessions.h"

namespace qorgau::web {

struct PagesOptions {
  // Under TLS: cookies are Secure.
  bool secure_cookies = false;
  // The system actor that acts for subscribers signed in to the privacy
  // centre; when it does not exist, the centre shows the policy only.
  std::string privacy_actor = "privacy-centre";
  SessionLimits sessions;
  CodeLimits codes;
  api::AuthLimits sign_in;  // failed passwords and codes per source
  // The daily destruction run of `serve` (local time), for the dashboard;
  // empty: off.
  std::string retention_at;
};

class Pages {
 public:
  // `sms`: where one-time codes go; null: subscribers cannot sign in.
  Pages(app::Instance& instance, std::unique_ptr<SmsGateway> sms, PagesOptions options = {});
  ~Pages();

  // Whether `path` is a page or an asset (else it is the API's).
  static bool Owns(std::string_view path);
  // The head step: a method the path does not take, a form that is not
  // url-encoded or a cross-site post is answered at once.
  api::Admission Admit(api::HttpRequest& head);
  api::HttpResponse Handle(const api::HttpRequest& request);

  Sessions& sessions() { return sessions_; }

 private:
  struct Request;
  api::Admission Check(const api::HttpRequest& head) const;
  api::HttpResponse Route(Request& r);
  api::HttpResponse Asset(std::string_view path);

  // The privacy centre.
  api::HttpResponse PrivacyHome(Request& r);
  api::HttpResponse PrivacyPolicyText(Request& r);
  api::HttpResponse PrivacySignIn(Request& r);
  api::HttpResponse PrivacySendCode(Request& r);
  api::HttpResponse PrivacyVerify(Request& r);
  api::HttpResponse PrivacyMe(Request& r);
  api::HttpResponse PrivacyWithdrawPreview(Request& r);
  api::HttpResponse PrivacyWithdrawConfirm(Request& r);
  // The edition in force: what changed, and the subscriber's acceptance (R-XI.2).
  std::string EditionSection(Request& r, const rules::Caller& caller);
  api::HttpResponse PrivacyAccept(Request& r);
  // The subscriber's statement (R-IV.4): opened, printed or downloaded.
  api::HttpResponse PrivacyStatement(Request& r);
  // Filing an application through the personal cabinet.
  api::HttpResponse PrivacyApply(Request& r);
  std::string ApplyForm(Request& r);
  api::HttpResponse SignOut(Request& r, std::string_view home);
  // A session for a form's CSRF token: the request's, or a new anonymous one.
  Result<void> EnsureSession(Request& r);

  // The staff console.
  api::HttpResponse ConsoleSignIn(Request& r, std::string_view error = {}, int status = 200);
  api::HttpResponse ConsoleSignInPost(Request& r);
  // error_html: an ErrorText or ErrorBox shown above the form.
  api::HttpResponse ConsoleEnrol(Request& r, std::string error_html = {}, int status = 200);
  api::HttpResponse ConsoleEnrolPost(Request& r);
  api::HttpResponse ConsoleDashboard(Request& r);
  // The dashboard's charts and the ledger's state (statistics.read).
  std::string StatisticsSection(Request& r, const rules::Caller& caller);
  api::HttpResponse ConsoleStatistics(Request& r);
  // An application with its deadline, moved through its states and answered.
  api::HttpResponse ConsoleApplication(Request& r);
  // A subject found by IIN or phone: values for a purpose the viewer
  // chooses, masked or full by duty; consents, services, obligations,
  // applications as the viewer's duties allow.
  api::HttpResponse ConsoleSubject(Request& r);
  std::string SubjectLookupForm(Request& r);
  std::shared_ptr<const rules::Caller> StaffCaller(Request& r);
  // The statement of a subject (statement.read), opened, printed or downloaded.
  api::HttpResponse ConsoleStatement(Request& r);
  // Filing an application for a subject, with its documents.
  api::HttpResponse ConsoleNewApplication(Request& r);
  std::string NewApplicationForm(Request& r);
  // The access trail by subject, actor or time; `audit verify` on demand.
  api::HttpResponse ConsoleAudit(Request& r);
  api::HttpResponse ConsoleVerify(Request& r);
  // The policy's editions with their differences and reasons.
  api::HttpResponse ConsolePolicy(Request& r);
  // Actors, duties, keys and enrolment tokens (administrators).
  api::HttpResponse ConsoleAdmin(Request& r);

  // The last `audit verify` run from the console: who, when, what it found.
  struct LastVerification {
    std::string actor;
    UnixMillis at = 0;
    ledger::VerifyReport report;
  };
  std::mutex verification_mu_;
  std::optional<LastVerification> last_verification_;

  app::Instance& inst_;
  std::unique_ptr<SmsGateway> sms_;
  PagesOptions options_;
  Sessions sessions_;
  OneTimeCodes codes_;
  api::AuthLimiter limiter_;
};

}  // namespace qorgau::web
