// The web pages' own rules, over the real server on loopback: sessions,
// CSRF, one-time codes, the headers of every page, and the privacy centre
// acting for the signed-in subscriber only. The journeys in a browser are
// tests/browser/pages_test.py.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <thread>

#include "../access_world.h"
#include "../api/http_client.h"
#include "../test_util.h"
#include "api/server.h"
#include "app/instance.h"
#include "demo/synthetic.h"
#include "ledger/ledger.h"
#include "crypto/password.h"
#include "index/decision_index.h"
#include "web/i18n.h"
#include "web/pages.h"

namespace qorgau::web {
namespace {

using testing::HttpCall;
using testing::HttpResult;

TEST(WebLabels, EveryLabelIsInKazakhRussianAndEnglishAndDiffersInEnglish) {
  std::set<std::string_view> keys;
  for (const Label& l : Labels()) {
    EXPECT_TRUE(keys.insert(l.key).second) << "twice: " << l.key;
    EXPECT_FALSE(l.kk.empty()) << l.key;
    EXPECT_FALSE(l.ru.empty()) << l.key;
    EXPECT_FALSE(l.en.empty()) << l.key;
    EXPECT_NE(l.kk, l.en) << "not translated: " << l.key;
    EXPECT_EQ(T(l.key, "ru"), l.ru);
  }
  EXPECT_EQ(T("no.such.label", "en"), "no.such.label");
  EXPECT_EQ(NormalLanguage("de"), "kk");
}

TEST(WebSessions, CsrfTokenIsTheSessionsOwnAndSessionsExpire) {
  SessionLimits limits;
  limits.anonymous_idle = std::chrono::seconds(0);
  Sessions sessions(limits);
  auto staff = sessions.Create(SessionKind::kStaff, "dpo", 0).value();
  auto other = sessions.Create(SessionKind::kStaff, "anna", 0).value();
  auto found = sessions.Find(staff.first);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->actor, "dpo");
  EXPECT_TRUE(Sessions::CsrfMatches(*found, staff.second.csrf));
  EXPECT_FALSE(Sessions::CsrfMatches(*found, other.second.csrf));
  EXPECT_FALSE(Sessions::CsrfMatches(*found, ""));
  // An anonymous session with no idle time is gone at once.
  auto anonymous = sessions.Create(SessionKind::kAnonymous, "", 0).value();
  EXPECT_FALSE(sessions.Find(anonymous.first));
  sessions.RemoveActor("dpo");
  EXPECT_FALSE(sessions.Find(staff.first));
  EXPECT_TRUE(sessions.Find(other.first));
  EXPECT_FALSE(sessions.Find("not-a-token"));
}

TEST(WebSessions, TheirNumberIsBoundedAndAnonymousVisitorsNeverPushOutTheSignedIn) {
  SessionLimits limits;
  limits.max_sessions = 2;
  limits.max_anonymous = 3;
  Sessions sessions(limits);
  auto dpo = sessions.Create(SessionKind::kStaff, "dpo", 0).value();
  auto subscriber = sessions.Create(SessionKind::kSubscriber, "", 7).value();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(sessions.Create(SessionKind::kAnonymous, "", 0));
  EXPECT_EQ(sessions.size(), 5u);
  EXPECT_TRUE(sessions.Find(dpo.first));
  EXPECT_TRUE(sessions.Find(subscriber.first));
  // A third sign-in makes room among the signed-in.
  auto anna = sessions.Create(SessionKind::kStaff, "anna", 0).value();
  EXPECT_TRUE(sessions.Find(anna.first));
  EXPECT_EQ(sessions.size(), 5u);
}

TEST(WebCodes, ACodeIsUsedOnceAndWrongTriesAreLimited) {
  OneTimeCodes codes;
  const std::string phone = "+77011234567";
  const std::string code = codes.Issue(phone).value();
  ASSERT_EQ(code.size(), 6u);
  EXPECT_TRUE(codes.Verify(phone, code));
  EXPECT_FALSE(codes.Verify(phone, code)) << "used up";
  const std::string again = codes.Issue(phone).value();
  const std::string wrong = again == "000000" ? "000001" : "000000";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(codes.Verify(phone, wrong));
  EXPECT_FALSE(codes.Verify(phone, again)) << "dropped after the last try";
  EXPECT_FALSE(codes.Verify("+77019999999", again));
}

TEST(WebCodes, IssuingIsRateLimitedPerNumberAndPerSource) {
  CodeLimits limits;
  limits.per_source_per_hour = 3;
  OneTimeCodes codes(limits);
  ASSERT_TRUE(codes.Admit("+77011111111", "a"));
  ASSERT_TRUE(codes.Issue("+77011111111"));
  // The last code is live and unused: a minute's wait.
  auto refused = codes.Admit("+77011111111", "b");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "rate_limited");
  EXPECT_EQ(refused.error().field, "phone");
  EXPECT_TRUE(codes.Admit("+77012222222", "a"));
  EXPECT_TRUE(codes.Admit("+77013333333", "a"));
  EXPECT_FALSE(codes.Admit("+77014444444", "a")) << "a fourth from one source within the hour";
  EXPECT_TRUE(codes.Admit("+77014444444", "c"));
}

// The pages beside the API, as `qorgau serve` puts them, with the access
// world's subscribers and the privacy centre's actor.
class PagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicyWithPartners(dir_.path() / "policy"), clock_));
    inst_ = app::Instance::Open(data_, clock_).value();
    world_ = testing::MakeAccessWorld(inst_->engine(), /*with_keys=*/false);
    rules::Engine& e = inst_->engine();
    const auto& admin = world_["admin"];
    using A = DutyAction;
    ASSERT_TRUE(e.PutActor({"privacy-centre", ActorRole::kSystem, "Privacy centre", "", "",
                            {"contract_performance", "marketing", "product_development"}},
                           admin));
    ASSERT_TRUE(e.GrantDuty({"privacy-centre", "contract_performance", {"user.contact.phone"}, false,
                             testing::Acts({A::kRead, A::kApplications})},
                            admin));
    for (const char* p : {"marketing", "product_development"}) {
      ASSERT_TRUE(e.GrantDuty({"privacy-centre", p, {"user.contact.phone"}, false,
                               testing::Acts({A::kConsent, A::kWithdraw})},
                              admin));
    }
    sms_file_ = (dir_.path() / "sms.txt").string();
    PagesOptions o;
    o.secure_cookies = secure_;
    pages_ = std::make_unique<Pages>(*inst_, std::make_unique<FileSmsGateway>(sms_file_), o);
    api::ServerOptions so;
    so.port = 0;
    so.threads = 2;
    server_ = std::make_unique<api::Server>(so, [this](const api::HttpRequest& r) { return pages_->Handle(r); },
                                            [this](api::HttpRequest& h) { return pages_->Admit(h); });
    port_ = server_->Start().value();
  }
  void TearDown() override {
    server_.reset();
    pages_.reset();
    inst_.reset();
  }

  HttpResult Get(const std::string& target, const std::string& session = "") {
    std::map<std::string, std::string> h;
    if (!session.empty()) h["Cookie"] = "qorgau_session=" + session;
    return HttpCall(port_, "GET", target, "", "", h);
  }
  HttpResult PostForm(const std::string& target, const std::string& body, const std::string& session,
                      std::map<std::string, std::string> h = {}) {
    h["Cookie"] = "qorgau_session=" + session;
    if (!h.count("Content-Type")) h["Content-Type"] = "application/x-www-form-urlencoded";
    return HttpCall(port_, "POST", target, body, "", h);
  }
  static std::string SessionOf(const HttpResult& r) {
    auto it = r.headers.find("set-cookie");
    if (it == r.headers.end()) return "";
    std::smatch m;
    return std::regex_search(it->second, m, std::regex("qorgau_session=([0-9a-f]{64})")) ? m[1].str() : "";
  }
  static std::string CsrfOf(const std::string& html) {
    std::smatch m;
    return std::regex_search(html, m, std::regex("name=\"csrf\" value=\"([0-9a-f]{64})\"")) ? m[1].str() : "";
  }
  std::string LastCode() {
    std::ifstream in(sms_file_);
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return last.size() >= 6 ? last.substr(last.size() - 6) : "";
  }
  // Signs subject `i` of the access world in; returns the session.
  std::string SignIn(std::uint64_t i) {
    HttpResult form = Get("/privacy/sign-in?lang=en");
    std::string session = SessionOf(form);
    const std::string csrf = CsrfOf(form.body);
    const std::string phone = demo::SyntheticSubjects().At(i).phone;
    HttpResult sent = PostForm("/privacy/sign-in", "csrf=" + csrf + "&phone=%2B" + phone.substr(1), session);
    EXPECT_EQ(sent.status, 200) << sent.body;
    HttpResult in = PostForm("/privacy/verify", "csrf=" + csrf + "&phone=%2B" + phone.substr(1) + "&code=" + LastCode(),
                             session);
    EXPECT_EQ(in.status, 303) << in.body;
    EXPECT_EQ(in.headers["location"], "/privacy/me");
    std::string signed_in = SessionOf(in);
    EXPECT_NE(signed_in, session) << "a new session on sign-in (no fixation)";
    return signed_in;
  }
  // Gives `actor` a console password and signs in; returns the session.
  std::string SignInStaff(const std::string& actor) {
    rules::Engine& e = inst_->engine();
    const std::string token = e.CreateEnrolment(actor, world_["admin"], 3600 * 1000).value().token;
    EXPECT_TRUE(e.SetPasswordByEnrolment(token, actor + "-long-password"));
    HttpResult form = Get("/console/sign-in");
    HttpResult in = PostForm("/console/sign-in",
                             "csrf=" + CsrfOf(form.body) + "&actor=" + actor + "&password=" + actor + "-long-password",
                             SessionOf(form));
    EXPECT_EQ(in.status, 303) << in.body;
    return SessionOf(in);
  }
  std::int64_t Revision() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    return ledger::Revision(*txn).value();
  }

  bool secure_ = false;
  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
  std::string sms_file_;
  std::unique_ptr<Pages> pages_;
  std::unique_ptr<api::Server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(PagesTest, EveryPageHasAStrictContentSecurityPolicyAndNoInlineScript) {
  for (const char* path : {"/privacy/", "/privacy/policy", "/privacy/sign-in", "/privacy/nothing-here"}) {
    HttpResult r = Get(path);
    EXPECT_NE(r.status, 0) << path;
    const std::string csp = r.headers["content-security-policy"];
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << path;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << path;
    EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << path;
    EXPECT_EQ(r.headers["x-content-type-options"], "nosniff") << path;
    EXPECT_EQ(r.body.find("<script>"), std::string::npos) << path;
    EXPECT_EQ(r.body.find(" style="), std::string::npos) << path;
  }
  EXPECT_EQ(Get("/privacy/nothing-here").status, 404);
  HttpResult css = Get("/assets/qorgau.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.headers["content-type"], "text/css; charset=utf-8");
  EXPECT_EQ(Get("/assets/vendor/uplot-1.6.32/LICENSE").status, 200);
  EXPECT_EQ(Get("/assets/../CMakeLists.txt").status, 404);
}

TEST_F(PagesTest, SessionCookiesAreHttpOnlyAndSameSiteStrict) {
  HttpResult r = Get("/privacy/sign-in");
  const std::string cookie = r.headers["set-cookie"];
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos) << "plain HTTP here";
}

TEST_F(PagesTest, AFormPostedWithoutItsTokenOrFromAnotherSiteChangesNothing) {
  const std::string session = SignIn(1);
  HttpResult me = Get("/privacy/me", session);
  const std::string csrf = CsrfOf(me.body);
  ASSERT_FALSE(csrf.empty());
  const std::int64_t before = Revision();
  HttpResult no_token = PostForm("/privacy/withdraw/confirm", "purpose=marketing", session);
  EXPECT_EQ(no_token.status, 403);
  HttpResult cross = PostForm("/privacy/withdraw/confirm", "csrf=" + csrf + "&purpose=marketing", session,
                              {{"Sec-Fetch-Site", "cross-site"}});
  EXPECT_EQ(cross.status, 403);
  HttpResult json = PostForm("/privacy/withdraw/confirm", "{}", session, {{"Content-Type", "application/json"}});
  EXPECT_EQ(json.status, 415);
  EXPECT_EQ(Revision(), before) << "nothing recorded";
  EXPECT_EQ(HttpCall(port_, "GET", "/privacy/withdraw/confirm").status, 405);
}

TEST_F(PagesTest, R_VI_1_the_privacy_centre_acts_for_the_signed_in_subscriber_only) {
  const std::string session = SignIn(1);
  HttpResult me = Get("/privacy/me", session);
  ASSERT_EQ(me.status, 200) << me.body;
  const std::string csrf = CsrfOf(me.body);
  // The preview shows the policy's warning (R-VI.1) and changes nothing.
  const std::int64_t before = Revision();
  HttpResult preview = PostForm("/privacy/withdraw?lang=en", "csrf=" + csrf + "&purpose=marketing", session);
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_NE(preview.body.find("Withdrawing consent may end some or all services"), std::string::npos);
  EXPECT_NE(preview.body.find("data-service=\"marketing_offers\""), std::string::npos);
  // A subject named in the form is not looked at: the session's subject is
  // the one withdrawn for.
  HttpResult done = PostForm("/privacy/withdraw/confirm", "csrf=" + csrf + "&purpose=marketing&subject=2", session);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_GT(Revision(), before);
  auto consents1 = inst_->engine().ListConsents(world_["crm"], rules::SubjectKey::Id(1)).value();
  auto consents2 = inst_->engine().ListConsents(world_["crm"], rules::SubjectKey::Id(2)).value();
  auto state = [](const std::vector<store::ConsentRecord>& list, const std::string& purpose) {
    for (const auto& c : list) {
      if (c.purpose == purpose) return c.state;
    }
    return ConsentState::kGranted;
  };
  EXPECT_EQ(state(consents1, "marketing"), ConsentState::kWithdrawn);
  for (const auto& c : consents1) {
    if (c.purpose == "marketing") {
      EXPECT_EQ(c.channel, "personal_cabinet");
    }
  }
  // Subject 2 never consented to marketing through the pages.
  for (const auto& c : consents2) EXPECT_NE(c.channel, "personal_cabinet");
  // Signing out ends the session.
  HttpResult out = PostForm("/privacy/sign-out", "csrf=" + csrf, session);
  EXPECT_EQ(out.status, 303);
  EXPECT_EQ(Get("/privacy/me", session).headers["location"], "/privacy/sign-in");
}

TEST_F(PagesTest, R_VIII_1_what_the_subscriber_sees_is_a_recorded_read) {
  const std::string session = SignIn(1);
  auto trail = [&] { return inst_->engine().AccessTrail(world_["dpo"], rules::SubjectKey::Id(1)).value().size(); };
  const std::size_t before = trail();
  ASSERT_EQ(Get("/privacy/me", session).status, 200);
  EXPECT_GT(trail(), before);
}

TEST_F(PagesTest, R_VI_3_a_withdrawal_is_refused_while_a_debt_is_open) {
  rules::Engine& e = inst_->engine();
  ASSERT_TRUE(e.OpenObligation({rules::SubjectKey::Id(1), store::ObligationKind::kDebt, "DEBT-9", "100"},
                               world_["billing"]));
  const std::string session = SignIn(1);
  const std::string csrf = CsrfOf(Get("/privacy/me", session).body);
  const std::int64_t before = Revision();
  HttpResult refused = PostForm("/privacy/withdraw/confirm?lang=en", "csrf=" + csrf + "&purpose=marketing", session);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("data-reason=\"withdrawal_blocked_by_obligation\""), std::string::npos);
  EXPECT_NE(refused.body.find("unfulfilled obligation"), std::string::npos);
  EXPECT_EQ(Revision(), before);
}

TEST_F(PagesTest, AWrongCodeIsCountedAndANumberThatIsNoSubscribersGetsTheSameAnswer) {
  HttpResult form = Get("/privacy/sign-in?lang=en");
  const std::string session = SessionOf(form);
  const std::string csrf = CsrfOf(form.body);
  HttpResult unknown = PostForm("/privacy/sign-in?lang=en", "csrf=" + csrf + "&phone=%2B77019990001", session);
  EXPECT_EQ(unknown.status, 200);
  EXPECT_NE(unknown.body.find("If the number is a subscriber"), std::string::npos);
  std::ifstream sms(sms_file_);
  EXPECT_FALSE(sms.good()) << "no SMS to a number that is no subscriber's";
  HttpResult bad = PostForm("/privacy/sign-in", "csrf=" + csrf + "&phone=12", session);
  EXPECT_EQ(bad.status, 422);
  HttpResult wrong = PostForm("/privacy/verify", "csrf=" + csrf + "&phone=%2B77019990001&code=123456", session);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_TRUE(SessionOf(wrong).empty());
}

// Staff passwords (crypto/password.h, rules/access.h).
TEST_F(PagesTest, R_VIII_1_a_console_password_is_set_only_by_whoever_holds_the_enrolment_token) {
  rules::Engine& e = inst_->engine();
  const auto& admin = world_["admin"];
  const std::string token = e.CreateEnrolment("anna", admin, 3600 * 1000).value().token;
  // A bad password costs nothing: the token still works afterwards.
  auto short_one = e.SetPasswordByEnrolment(token, "too-short");
  ASSERT_FALSE(short_one);
  EXPECT_EQ(short_one.error().field, "password");
  EXPECT_EQ(short_one.error().code, ErrorCode::kInvalidArgument);
  ASSERT_EQ(e.SetPasswordByEnrolment(token, "anna's long password").value(), "anna");
  auto again = e.SetPasswordByEnrolment(token, "someone else's password");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "enrolment_invalid");
  EXPECT_TRUE(e.SignInWithPassword("anna", "anna's long password"));
  for (auto [actor, password] : {std::pair{"anna", "anna's long passworD"}, std::pair{"nobody", "anna's long password"},
                                 std::pair{"dpo", "anna's long password"}}) {
    auto refused = e.SignInWithPassword(actor, password);
    ASSERT_FALSE(refused) << actor;
    EXPECT_EQ(refused.error().reason, "unauthenticated") << actor;
  }
  // A system signs in with its key, never with a password.
  const std::string crm_token = e.CreateEnrolment("crm", admin, 3600 * 1000).value().token;
  auto system = e.SetPasswordByEnrolment(crm_token, "a system's password");
  ASSERT_FALSE(system);
  EXPECT_EQ(system.error().reason, "role_not_allowed");
  // The ledger proves the password's row; a row no event set is found.
  auto report = e.VerifyLedger(world_["dpo"]).value();
  EXPECT_TRUE(report.ok) << report.reason;
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->PutPassword({"dpo", crypto::HashPassword("a forged password").value(), 1}));
    ASSERT_TRUE(txn->Commit());
  }
  report = e.VerifyLedger(world_["dpo"]).value();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("passwords (dpo)"), std::string::npos) << report.reason;
}

TEST_F(PagesTest, R_VIII_1_the_console_signs_staff_in_by_password_and_shows_only_their_duties) {
  rules::Engine& e = inst_->engine();
  const auto& admin = world_["admin"];
  for (const char* actor : {"dpo", "anna"}) {
    const std::string token = e.CreateEnrolment(actor, admin, 3600 * 1000).value().token;
    ASSERT_TRUE(e.SetPasswordByEnrolment(token, std::string(actor) + "-long-password"));
  }
  auto sign_in = [&](const std::string& actor, const std::string& password) {
    HttpResult form = Get("/console/sign-in");
    const std::string session = SessionOf(form);
    return PostForm("/console/sign-in?lang=en",
                    "csrf=" + CsrfOf(form.body) + "&actor=" + actor + "&password=" + password, session);
  };
  HttpResult wrong = sign_in("dpo", "not-the-password");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("The user or the password is wrong"), std::string::npos);
  EXPECT_TRUE(SessionOf(wrong).empty());
  EXPECT_EQ(Get("/console/").headers["location"], "/console/sign-in");

  HttpResult dpo = sign_in("dpo", "dpo-long-password");
  ASSERT_EQ(dpo.status, 303) << dpo.body;
  const std::string dpo_session = SessionOf(dpo);
  HttpResult dash = Get("/console/?lang=en", dpo_session);
  ASSERT_EQ(dash.status, 200);
  EXPECT_NE(dash.body.find("Open applications"), std::string::npos);
  EXPECT_NE(dash.body.find("<h2 id=\"breaches\">"), std::string::npos);
  EXPECT_EQ(dash.body.find("not part of your duties"), std::string::npos) << "the officer's duties cover it all";

  // An employee without the duty sees that the section is not theirs.
  HttpResult anna = sign_in("anna", "anna-long-password");
  ASSERT_EQ(anna.status, 303);
  const std::string anna_session = SessionOf(anna);
  HttpResult anna_dash = Get("/console/?lang=en", anna_session);
  ASSERT_EQ(anna_dash.status, 200);
  EXPECT_NE(anna_dash.body.find("not part of your duties"), std::string::npos);
  EXPECT_EQ(anna_dash.body.find("<table class=\"breaches\">"), std::string::npos);

  // Disabling the actor ends the session at once.
  ASSERT_TRUE(e.DisableActor("anna", admin));
  EXPECT_EQ(Get("/console/", anna_session).headers["location"], "/console/sign-in");
  EXPECT_EQ(Get("/console/", anna_session).headers["location"], "/console/sign-in");
}

TEST_F(PagesTest, R_VIII_1_a_password_is_set_on_the_enrol_page_with_the_token) {
  const std::string token = inst_->engine().CreateEnrolment("dpo", world_["admin"], 3600 * 1000).value().token;
  HttpResult form = Get("/console/enrol");
  const std::string session = SessionOf(form);
  const std::string csrf = CsrfOf(form.body);
  HttpResult differ = PostForm("/console/enrol?lang=en", "csrf=" + csrf + "&token=" + token +
                                                             "&password=first-long-password&again=other-long-password",
                               session);
  EXPECT_EQ(differ.status, 422);
  EXPECT_NE(differ.body.find("The passwords differ"), std::string::npos);
  HttpResult set = PostForm("/console/enrol?lang=en", "csrf=" + csrf + "&token=" + token +
                                                          "&password=first-long-password&again=first-long-password",
                            session);
  EXPECT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(inst_->engine().SignInWithPassword("dpo", "first-long-password"));
  HttpResult reused = PostForm("/console/enrol?lang=en", "csrf=" + csrf + "&token=" + token +
                                                             "&password=second-long-password&again=second-long-password",
                               session);
  EXPECT_EQ(reused.status, 401);
  EXPECT_NE(reused.body.find("token"), std::string::npos);
}

TEST_F(PagesTest, R_VIII_1_statistics_count_consents_and_decisions_per_local_day_for_the_officer) {
  rules::Engine& e = inst_->engine();
  const auto& dpo = world_["dpo"];
  auto totals = [&] {
    auto v = e.ReadStatistics(dpo, std::nullopt, std::nullopt).value();
    std::array<std::int64_t, 3> t{};
    for (const auto& d : v.days) {
      t[0] += d.granted;
      t[1] += d.withdrawn;
      t[2] += d.decisions[static_cast<int>(index::Reason::kWithdrawn)];
    }
    return std::make_pair(t, v);
  };
  const auto [before, view] = totals();
  EXPECT_EQ(view.days.size(), 365u) << "a year by default";
  EXPECT_EQ(FormatDate(view.to), "2025-11-26") << "today in Almaty";
  EXPECT_GT(before[0], 0) << "the world's contracts gave consents by joining";
  ASSERT_TRUE(e.GrantConsent({rules::SubjectKey::Id(2), "product_development", "mobile_app", "APP-1"}, world_["crm"]));
  ASSERT_TRUE(e.WithdrawConsent({rules::SubjectKey::Id(1), "marketing", "app_support_chat", "CHAT-1"}, world_["crm"]));
  auto decision = e.Check(world_["crm"], rules::SubjectKey::Id(1), "marketing", {});
  ASSERT_TRUE(decision);
  EXPECT_FALSE(decision->allow);
  for (int i = 0; i < 200 && e.decisions_pending() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(e.decisions_pending(), 0u);
  // The decision log is sealed by its own writer: wait for the event.
  std::array<std::int64_t, 3> after{};
  for (int i = 0; i < 300; ++i) {
    after = totals().first;
    if (after[2] > before[2]) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(after[0], before[0] + 1);
  EXPECT_EQ(after[1], before[1] + 1);
  EXPECT_EQ(after[2], before[2] + 1);
  // The range is checked, naming the field; only the officer and the
  // administrators read it.
  auto backwards = e.ReadStatistics(dpo, std::chrono::year_month_day(std::chrono::year(2025) / 3 / 1),
                                    std::chrono::year_month_day(std::chrono::year(2025) / 2 / 1));
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().field, "to");
  auto anna = e.ReadStatistics(world_["anna"], std::nullopt, std::nullopt);
  ASSERT_FALSE(anna);
  EXPECT_EQ(anna.error().reason, "admin_only");
  EXPECT_TRUE(e.ReadStatistics(world_["admin"], std::nullopt, std::nullopt));
  // The dashboard says the same totals in words beside its charts.
  const std::string token = e.CreateEnrolment("dpo", world_["admin"], 3600 * 1000).value().token;
  ASSERT_TRUE(e.SetPasswordByEnrolment(token, "dpo-long-password"));
  HttpResult form = Get("/console/sign-in");
  HttpResult in = PostForm("/console/sign-in", "csrf=" + CsrfOf(form.body) + "&actor=dpo&password=dpo-long-password",
                           SessionOf(form));
  const std::string session = SessionOf(in);
  HttpResult dash = Get("/console/?lang=en", session);
  EXPECT_NE(dash.body.find("data-total=\"granted\">" + std::to_string(after[0]) + "<"), std::string::npos);
  EXPECT_NE(dash.body.find("<script type=\"module\" src=\"/assets/console.js\">"), std::string::npos);
  HttpResult data = Get("/console/statistics.json?from=2025-11-01&to=2025-11-26", session);
  EXPECT_EQ(data.status, 200);
  EXPECT_NE(data.body.find("\"withdrawn\":1"), std::string::npos) << data.body.substr(0, 400);
  EXPECT_EQ(Get("/console/statistics.json").status, 401);
  EXPECT_EQ(Get("/console/statistics.json?from=2025-13-01", session).status, 400);
}

TEST_F(PagesTest, R_IV_4_the_officer_answers_an_information_application_on_its_page) {
  rules::Engine& e = inst_->engine();
  auto filed = e.FileApplication({rules::SubjectKey::Id(1), "information", "office_written", "REG-1", {}, {}, {}, {}},
                                 world_["dpo"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  const std::string id = std::to_string(filed->record.id);
  const std::string session = SignInStaff("dpo");
  HttpResult page = Get("/console/application?lang=en&id=" + id, session);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("class=\"deadline"), std::string::npos);
  const std::string csrf = CsrfOf(page.body);
  // Each step is the engine's, and so is each refusal.
  HttpResult unknown = PostForm("/console/application?lang=en", "csrf=" + csrf + "&id=" + id + "&action=nothing", session);
  EXPECT_EQ(unknown.status, 422);
  EXPECT_NE(unknown.body.find("<code>action</code>"), std::string::npos);
  HttpResult verify = PostForm("/console/application",
                               "csrf=" + csrf + "&id=" + id + "&action=advance&to=identity_verified", session);
  EXPECT_EQ(verify.status, 303) << verify.body;
  HttpResult answer = PostForm("/console/application", "csrf=" + csrf + "&id=" + id + "&action=answer_statement", session);
  EXPECT_EQ(answer.status, 303) << answer.body;
  auto after = e.GetApplication(filed->record.id, world_["dpo"]).value();
  EXPECT_EQ(after.record.state, ApplicationState::kAnswered);
  EXPECT_EQ(after.record.outcome.rfind("ST-1-", 0), 0u) << after.record.outcome;
  // Someone whose duties cover no applications sees none.
  const std::string anna = SignInStaff("anna");
  HttpResult refused = Get("/console/application?id=" + id, anna);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("data-reason=\"no_duty\""), std::string::npos);
}

TEST_F(PagesTest, R_VIII_1_the_subject_page_shows_values_by_duty_and_records_each_view) {
  const std::string phone = demo::SyntheticSubjects().At(1).phone;
  const std::string anna = SignInStaff("anna");
  auto trail = [&] { return inst_->engine().AccessTrail(world_["dpo"], rules::SubjectKey::Id(1)).value().size(); };
  const std::size_t before = trail();
  HttpResult masked = Get("/console/subject?lang=en&id=1&purpose=contract_performance", anna);
  ASSERT_EQ(masked.status, 200) << masked.body;
  EXPECT_NE(masked.body.find("data-category=\"user.contact.phone\""), std::string::npos);
  EXPECT_EQ(masked.body.find(phone), std::string::npos) << "masked";
  EXPECT_EQ(masked.body.find("data-category=\"user.identity.iin\""), std::string::npos);
  EXPECT_GT(trail(), before) << "each view is a recorded read";
  // Anna's duties cover no IIN: a lookup by it is refused, and recorded.
  HttpResult lookup = PostForm("/console/subject?lang=en",
                               "csrf=" + CsrfOf(masked.body) + "&by=iin&value=" + demo::SyntheticSubjects().At(1).iin, anna);
  EXPECT_EQ(lookup.status, 403);
  EXPECT_NE(lookup.body.find("data-reason=\"no_duty\""), std::string::npos);
  // Dana's duty is marketing, phone and e-mail in full.
  const std::string dana = SignInStaff("dana");
  HttpResult full = Get("/console/subject?lang=en&id=1&purpose=marketing", dana);
  ASSERT_EQ(full.status, 200);
  EXPECT_NE(full.body.find(phone), std::string::npos) << "full view";
  HttpResult not_hers = Get("/console/subject?lang=en&id=1&purpose=contract_performance", dana);
  EXPECT_NE(not_hers.body.find("data-reason=\"no_duty\""), std::string::npos);
}

TEST_F(PagesTest, AskingForCodesTellsNobodyWhetherANumberIsASubscribers) {
  auto ask_twice = [&](const std::string& phone) {
    HttpResult form = Get("/privacy/sign-in");
    const std::string session = SessionOf(form);
    const std::string body = "csrf=" + CsrfOf(form.body) + "&phone=%2B" + phone.substr(1);
    const int first = PostForm("/privacy/sign-in", body, session).status;
    const int second = PostForm("/privacy/sign-in", body, session).status;
    return std::make_pair(first, second);
  };
  const auto subscriber = ask_twice(demo::SyntheticSubjects().At(2).phone);
  const auto nobody = ask_twice("+77019990002");
  EXPECT_EQ(subscriber, std::make_pair(200, 429));
  EXPECT_EQ(nobody, subscriber);
}

TEST_F(PagesTest, R_VIII_1_a_password_set_again_ends_the_sessions_signed_in_with_the_old_one) {
  const std::string session = SignInStaff("dpo");
  ASSERT_EQ(Get("/console/", session).status, 200);
  // Set again through the engine, as `key redeem --password-stdin` in
  // another process would: the server's sessions are not told, yet end.
  clock_.Advance(1000);
  rules::Engine& e = inst_->engine();
  const std::string token = e.CreateEnrolment("dpo", world_["admin"], 3600 * 1000).value().token;
  ASSERT_TRUE(e.SetPasswordByEnrolment(token, "a brand new password"));
  HttpResult after = Get("/console/", session);
  EXPECT_EQ(after.status, 303);
  EXPECT_EQ(after.headers["location"], "/console/sign-in");
}

TEST_F(PagesTest, PasswordsAndPagesThatTouchTheLedgerRunOffTheIoThreads) {
  auto heavy = [&](const std::string& method, const std::string& path) {
    api::HttpRequest head;
    head.method = method;
    head.path = path;
    head.content_type = "application/x-www-form-urlencoded";
    return pages_->Admit(head).heavy;
  };
  EXPECT_TRUE(heavy("POST", "/console/sign-in"));
  EXPECT_TRUE(heavy("POST", "/console/enrol"));
  EXPECT_TRUE(heavy("GET", "/console/"));
  EXPECT_TRUE(heavy("GET", "/console/statistics.json"));
  EXPECT_TRUE(heavy("GET", "/privacy/me"));
  EXPECT_FALSE(heavy("GET", "/privacy/"));
  EXPECT_FALSE(heavy("GET", "/console/sign-in"));
  EXPECT_FALSE(heavy("GET", "/assets/qorgau.css"));
}

TEST_F(PagesTest, R_XI_2_a_subscriber_accepts_the_edition_in_force_once) {
  const std::string session = SignIn(1);
  HttpResult me = Get("/privacy/me?lang=en", session);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_NE(me.body.find("action=\"/privacy/accept\""), std::string::npos);
  EXPECT_EQ(me.body.find("data-accepted="), std::string::npos);
  // Edition 1 has no edition before it: nothing is "new" in it.
  EXPECT_NE(me.body.find("This is the personal data protection policy in force"), std::string::npos) << me.body;
  EXPECT_EQ(me.body.find("A new edition"), std::string::npos);
  // A subject's applications, answered ones too, are not headed "open".
  EXPECT_NE(me.body.find(">Applications</h2>"), std::string::npos);
  EXPECT_EQ(me.body.find("Open applications"), std::string::npos);
  const std::string csrf = CsrfOf(me.body);
  const std::int64_t before = Revision();
  HttpResult accepted = PostForm("/privacy/accept", "csrf=" + csrf + "&subject=2", session);
  EXPECT_EQ(accepted.status, 303) << accepted.body;
  EXPECT_GT(Revision(), before);
  rules::Engine& e = inst_->engine();
  auto privacy = e.CallerFor("privacy-centre").value();
  auto mine = e.EditionAcceptance(*privacy, rules::SubjectKey::Id(1)).value();
  ASSERT_TRUE(mine);
  EXPECT_EQ(mine->how, "explicit");
  EXPECT_EQ(mine->channel, "personal_cabinet");
  EXPECT_FALSE(e.EditionAcceptance(*privacy, rules::SubjectKey::Id(2)).value()) << "the session's subject only";
  EXPECT_NE(Get("/privacy/me", session).body.find("data-accepted=\"explicit\""), std::string::npos);
  // Once: a second acceptance is refused and changes nothing.
  const std::int64_t after = Revision();
  HttpResult again = PostForm("/privacy/accept", "csrf=" + csrf, session);
  EXPECT_EQ(again.status, 409);
  EXPECT_NE(again.body.find("<code>edition</code>"), std::string::npos);
  EXPECT_EQ(Revision(), after);
}

TEST_F(PagesTest, R_IV_4_a_subscriber_files_an_application_and_reads_their_statement) {
  const std::string session = SignIn(1);
  const std::string csrf = CsrfOf(Get("/privacy/me", session).body);
  const std::int64_t before = Revision();
  HttpResult bad = PostForm("/privacy/apply?lang=en", "csrf=" + csrf + "&kind=withdrawal", session);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("<code>kind</code>"), std::string::npos);
  EXPECT_EQ(Revision(), before);
  HttpResult filed = PostForm("/privacy/apply?lang=en", "csrf=" + csrf + "&kind=information&subject=2", session);
  ASSERT_EQ(filed.status, 303) << filed.body;
  rules::Engine& e = inst_->engine();
  auto apps = e.ListApplications(world_["dpo"], rules::SubjectKey::Id(1)).value();
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0].record.kind, ApplicationKind::kInformation);
  EXPECT_EQ(apps[0].record.channel, "personal_cabinet");
  EXPECT_TRUE(e.ListApplications(world_["dpo"], rules::SubjectKey::Id(2)).value().empty());
  const std::string id = std::to_string(apps[0].record.id);
  // Filed, the subscriber's page says so; reloading it files nothing again.
  EXPECT_EQ(filed.headers["location"], "/privacy/me?filed=" + id);
  const std::int64_t filed_at = Revision();
  HttpResult me = Get("/privacy/me?filed=" + id, session);
  EXPECT_NE(me.body.find("data-filed=\"" + id + "\""), std::string::npos);
  EXPECT_NE(me.body.find("data-application=\"" + id), std::string::npos);
  EXPECT_EQ(e.ListApplications(world_["dpo"], rules::SubjectKey::Id(1)).value().size(), 1u);
  EXPECT_GE(Revision(), filed_at);
  // The privacy centre files applications; it never handles one.
  auto privacy = e.CallerFor("privacy-centre").value();
  auto handled = e.AdvanceApplication(apps[0].record.id, "identity_verified", *privacy);
  ASSERT_FALSE(handled);
  EXPECT_EQ(handled.error().reason, "role_not_allowed");
  // The statement: the subscriber's own, masked, a recorded read; opened
  // as a page with no script, or downloaded.
  auto trail = [&] { return e.AccessTrail(world_["dpo"], rules::SubjectKey::Id(1)).value().size(); };
  const std::size_t reads = trail();
  HttpResult st = Get("/privacy/statement?lang=en", session);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_NE(st.body.find("ST-1-"), std::string::npos);
  EXPECT_EQ(st.body.find(demo::SyntheticSubjects().At(1).phone), std::string::npos) << "masked";
  const std::string csp = st.headers["content-security-policy"];
  EXPECT_EQ(csp.find("script-src"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_GT(trail(), reads);
  HttpResult download = Get("/privacy/statement?download=1", session);
  EXPECT_EQ(download.headers["content-disposition"].rfind("attachment; filename=\"ST-1-", 0), 0u);
  HttpResult print = Get("/privacy/statement?print=1", session);
  EXPECT_NE(print.body.find("/assets/print.js"), std::string::npos);
  EXPECT_NE(print.headers["content-security-policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(Get("/privacy/statement").headers["location"], "/privacy/sign-in");
}

TEST_F(PagesTest, R_IV_4_an_employee_files_an_application_with_its_documents_on_the_console) {
  const std::string dpo = SignInStaff("dpo");
  HttpResult form = Get("/console/application/new?lang=en&subject=1", dpo);
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_NE(form.body.find("data-digest-for=\"doc1_sha256\""), std::string::npos);
  const std::string csrf = CsrfOf(form.body);
  const std::string base = "csrf=" + csrf + "&subject=1&kind=rectification&channel=office_written&reference=OFF-1";
  const std::int64_t before = Revision();
  HttpResult bad = PostForm("/console/application/new?lang=en", base + "&doc1_reference=SCAN-1&doc1_sha256=abc", dpo);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("<code>documents[0].sha256</code>"), std::string::npos);
  EXPECT_NE(bad.body.find("value=\"SCAN-1\""), std::string::npos) << "the form keeps what was typed";
  EXPECT_EQ(Revision(), before);
  const std::string digest(64, 'b');
  HttpResult filed = PostForm("/console/application/new", base + "&doc1_reference=SCAN-1&doc1_sha256=" + digest, dpo);
  ASSERT_EQ(filed.status, 303) << filed.body;
  const std::string location = filed.headers["location"];
  ASSERT_EQ(location.rfind("/console/application?id=", 0), 0u) << location;
  auto app = inst_->engine().GetApplication(std::stoll(location.substr(24)), world_["dpo"]).value();
  EXPECT_EQ(app.record.kind, ApplicationKind::kRectification);
  ASSERT_EQ(app.documents.size(), 1u);
  EXPECT_EQ(app.documents[0].sha256, digest);
  EXPECT_NE(Get(location, dpo).body.find("SCAN-1"), std::string::npos);
  // Whoever has no duty for applications files none.
  const std::string anna = SignInStaff("anna");
  HttpResult refused = PostForm("/console/application/new", "csrf=" + CsrfOf(Get("/console/", anna).body) +
                                                               "&subject=1&kind=information&channel=office_written&reference=OFF-2",
                                anna);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("data-reason=\"no_duty\""), std::string::npos);
}

TEST_F(PagesTest, R_IV_4_the_subject_page_opens_prints_and_downloads_the_statement) {
  const std::string dpo = SignInStaff("dpo");
  HttpResult subject = Get("/console/subject?id=1", dpo);
  EXPECT_NE(subject.body.find("/console/statement?id=1&amp;download=1"), std::string::npos);
  HttpResult st = Get("/console/statement?id=1&lang=ru", dpo);
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_NE(st.body.find("lang=\"ru\""), std::string::npos);
  EXPECT_EQ(Get("/console/statement?id=1&download=1", dpo).headers["content-disposition"].rfind("attachment", 0), 0u);
  const std::string anna = SignInStaff("anna");
  HttpResult refused = Get("/console/statement?id=1", anna);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("data-reason=\"no_duty\""), std::string::npos);
}

TEST_F(PagesTest, R_VIII_1_the_audit_page_shows_the_trail_by_subject_actor_and_date_to_the_officer_only) {
  const std::string anna = SignInStaff("anna");
  ASSERT_EQ(Get("/console/subject?id=1&purpose=contract_performance", anna).status, 200);
  const std::string dpo = SignInStaff("dpo");
  HttpResult by_actor = Get("/console/audit?lang=en&actor=anna", dpo);
  ASSERT_EQ(by_actor.status, 200) << by_actor.body;
  EXPECT_NE(by_actor.body.find("<a href=\"/console/subject?id=1\">1</a>"), std::string::npos);
  HttpResult by_subject = Get("/console/audit?subject=1", dpo);
  EXPECT_NE(by_subject.body.find("<td>anna</td>"), std::string::npos);
  // A range that ends before the reads shows none of them.
  HttpResult before = Get("/console/audit?lang=en&actor=anna&to=2020-01-01", dpo);
  EXPECT_EQ(before.body.find("<td>anna</td>"), std::string::npos);
  EXPECT_NE(before.body.find("Nothing recorded."), std::string::npos);
  HttpResult unknown = Get("/console/audit?actor=nobody", dpo);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("<code>actor</code>"), std::string::npos);
  HttpResult bad_day = Get("/console/audit?from=2026-13-01", dpo);
  EXPECT_EQ(bad_day.status, 422);
  // The trail is the officer's alone.
  HttpResult refused = Get("/console/audit?actor=anna", anna);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("data-reason=\"dpo_only\""), std::string::npos);
  // `audit verify` on demand, its result kept for the page.
  HttpResult page = Get("/console/audit", dpo);
  EXPECT_EQ(page.body.find("data-verified="), std::string::npos);
  HttpResult verified = PostForm("/console/audit/verify", "csrf=" + CsrfOf(page.body), dpo);
  EXPECT_EQ(verified.status, 303) << verified.body;
  EXPECT_NE(Get("/console/audit", dpo).body.find("data-verified=\"ok\""), std::string::npos);
  HttpResult anna_verifies = PostForm("/console/audit/verify", "csrf=" + CsrfOf(Get("/console/", anna).body), anna);
  EXPECT_EQ(anna_verifies.status, 403);
  EXPECT_EQ(Get("/console/audit", anna).body.find("data-verified="), std::string::npos) << "not hers to see";
  HttpResult both = Get("/console/audit?subject=1&actor=anna", dpo);
  EXPECT_EQ(both.status, 422);
  EXPECT_NE(both.body.find("<code>subject</code>"), std::string::npos);
}

TEST_F(PagesTest, R_XI_1_the_policy_page_lists_the_editions) {
  const std::string anna = SignInStaff("anna");
  HttpResult page = Get("/console/policy?lang=en", anna);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("data-edition=\"1\""), std::string::npos);
  EXPECT_NE(page.body.find("The first edition"), std::string::npos);
  EXPECT_NE(page.body.find(">in force<"), std::string::npos);
}

TEST_F(PagesTest, R_VIII_1_administration_is_the_administrators_and_shows_an_enrolment_token_once) {
  const std::string dpo = SignInStaff("dpo");
  HttpResult refused = Get("/console/admin", dpo);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find("data-reason=\"admin_only\""), std::string::npos);
  const std::string admin = SignInStaff("admin");
  HttpResult page = Get("/console/admin?lang=en", admin);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("data-actor=\"anna\""), std::string::npos);
  const std::string csrf = CsrfOf(page.body);
  // An enrolment token, shown on the answer, sets the employee's password.
  HttpResult enrol = PostForm("/console/admin", "csrf=" + csrf + "&action=enrol&actor=dana", admin);
  ASSERT_EQ(enrol.status, 200) << enrol.body;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(enrol.body, m, std::regex("(qe_[0-9a-f]{64})")));
  rules::Engine& e = inst_->engine();
  EXPECT_EQ(e.SetPasswordByEnrolment(m[1].str(), "dana's own password").value(), "dana");
  // A duty granted and removed; a bad category changes nothing.
  const std::int64_t before = Revision();
  HttpResult bad = PostForm("/console/admin", "csrf=" + csrf +
                                                  "&action=grant_duty&actor=anna&purpose=marketing&categories=user.nope&act_read=1",
                            admin);
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(bad.body.find("<code>categories</code>"), std::string::npos);
  EXPECT_EQ(Revision(), before);
  HttpResult granted = PostForm("/console/admin", "csrf=" + csrf +
                                                      "&action=grant_duty&actor=anna&purpose=marketing&categories=user.contact.phone&act_read=1",
                                admin);
  EXPECT_EQ(granted.status, 303) << granted.body;
  auto duties = e.ListDuties("anna", world_["admin"]).value();
  EXPECT_TRUE(std::any_of(duties.begin(), duties.end(), [](const auto& d) { return d.purpose == "marketing"; }));
  HttpResult removed = PostForm("/console/admin", "csrf=" + csrf + "&action=remove_duty&actor=anna&purpose=marketing", admin);
  EXPECT_EQ(removed.status, 303);
  duties = e.ListDuties("anna", world_["admin"]).value();
  EXPECT_FALSE(std::any_of(duties.begin(), duties.end(), [](const auto& d) { return d.purpose == "marketing"; }));
  // Disabling an actor ends their sessions at once.
  const std::string anna = SignInStaff("anna");
  ASSERT_EQ(Get("/console/", anna).status, 200);
  HttpResult disabled = PostForm("/console/admin", "csrf=" + csrf + "&action=disable&actor=anna", admin);
  EXPECT_EQ(disabled.status, 303);
  EXPECT_EQ(Get("/console/", anna).headers["location"], "/console/sign-in");
}

TEST_F(PagesTest, R_VIII_1_the_trail_by_actor_is_filtered_in_the_engine) {
  rules::Engine& e = inst_->engine();
  ASSERT_TRUE(e.ListConsents(world_["anna"], rules::SubjectKey::Id(1)));
  ASSERT_TRUE(e.ListConsents(world_["dana"], rules::SubjectKey::Id(2)));
  rules::TrailQuery q;
  q.actor = "anna";
  auto trail = e.AccessTrailBy(world_["dpo"], q).value();
  ASSERT_FALSE(trail.empty());
  for (const auto& a : trail) EXPECT_EQ(a.actor, "anna");
  EXPECT_EQ(trail.front().subject, 1);
  q.actor = "";
  q.from = clock_.Now() + 1;
  EXPECT_TRUE(e.AccessTrailBy(world_["dpo"], q).value().empty());
  q.from = std::nullopt;
  q.to = clock_.Now() + 1;
  q.limit = 1;
  EXPECT_EQ(e.AccessTrailBy(world_["dpo"], q).value().size(), 1u);
  q.limit = 0;
  EXPECT_EQ(e.AccessTrailBy(world_["dpo"], q).error().field, "limit");
  rules::TrailQuery annas;
  annas.actor = "anna";
  EXPECT_EQ(e.AccessTrailBy(world_["anna"], annas).error().reason, "dpo_only");
}

TEST_F(PagesTest, R_VI_3_a_withdrawal_application_is_previewed_then_carried_out_or_refused_on_its_page) {
  rules::Engine& e = inst_->engine();
  ASSERT_TRUE(e.GrantDuty({"olga", "marketing", {"user.contact.phone"}, false, testing::Acts({DutyAction::kWithdraw})},
                          world_["admin"]));
  ASSERT_TRUE(e.OpenObligation({rules::SubjectKey::Id(2), store::ObligationKind::kDebt, "DEBT-7", "100"},
                               world_["billing"]));
  auto file = [&](store::SubjectId subject, const std::string& reference) {
    auto filed = e.FileApplication(
        {rules::SubjectKey::Id(subject), "withdrawal", "office_written", reference, {}, {}, {}, {"marketing"}},
        world_["dpo"]);
    EXPECT_TRUE(filed) << filed.error().ToString();
    EXPECT_TRUE(e.AdvanceApplication(filed->record.id, "identity_verified", world_["dpo"]));
    return std::to_string(filed->record.id);
  };
  const std::string ok = file(1, "REG-W-1"), indebted = file(2, "REG-W-2");
  const std::string olga = SignInStaff("olga");
  // The preview first: the warning and what stops; nothing changes.
  HttpResult page = Get("/console/application?lang=en&id=" + ok, olga);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_NE(page.body.find("Withdrawing consent may end some or all services"), std::string::npos);
  EXPECT_NE(page.body.find("data-service=\"marketing_offers\""), std::string::npos);
  EXPECT_NE(page.body.find("data-action=\"withdraw\""), std::string::npos);
  auto consents = [&](store::SubjectId id) { return e.ListConsents(world_["crm"], rules::SubjectKey::Id(id)).value(); };
  for (const auto& c : consents(1)) {
    if (c.purpose == "marketing") EXPECT_EQ(c.state, ConsentState::kGranted);
  }
  // Carried out: the consent ends and the withdrawal answers the application.
  HttpResult done = PostForm("/console/application", "csrf=" + CsrfOf(page.body) + "&id=" + ok + "&action=withdraw", olga);
  EXPECT_EQ(done.status, 303) << done.body;
  EXPECT_EQ(e.GetApplication(std::stoll(ok), world_["dpo"]).value().record.state, ApplicationState::kAnswered);
  for (const auto& c : consents(1)) {
    if (c.purpose == "marketing") EXPECT_EQ(c.state, ConsentState::kWithdrawn);
  }
  // With a debt open, the preview says why it cannot be done (R-VI.3), and
  // carrying it out refuses the application on that rule.
  HttpResult blocked = Get("/console/application?lang=en&id=" + indebted, olga);
  EXPECT_NE(blocked.body.find("data-reason=\"withdrawal_blocked_by_obligation\""), std::string::npos);
  HttpResult refused =
      PostForm("/console/application", "csrf=" + CsrfOf(blocked.body) + "&id=" + indebted + "&action=withdraw", olga);
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("data-reason=\"withdrawal_blocked_by_obligation\""), std::string::npos);
  EXPECT_EQ(e.GetApplication(std::stoll(indebted), world_["dpo"]).value().record.state, ApplicationState::kRefused);
  for (const auto& c : consents(2)) {
    if (c.purpose == "marketing") EXPECT_EQ(c.state, ConsentState::kGranted);
  }
}

}  // namespace
}  // namespace qorgau::web
