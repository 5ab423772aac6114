// Keys over HTTP: revoking a key, disabling an actor and removing a duty
// take effect on the very next request; keys expire; a person's key comes
// only through an enrolment token, redeemed without an API key; and failed
// authentications are counted in /metrics and locked out per source
// address (api/auth_limiter.h). A real server on loopback, wired as
// `qorgau serve` wires it (the admission step first), with the data
// directory's fixed clock moved by hand: no test waits or times anything.
#include <gtest/gtest.h>

#include "api/auth_limiter.h"
#include "api_fixture.h"
#include "crypto/crypto.h"
#include "ledger/tree_head.h"

namespace qorgau::api {
namespace {

using testing::HttpCallFrom;

constexpr std::string_view kCheck = R"({"subject":1,"purpose":"marketing"})";
const std::string kWrongKey = "qk_" + std::string(64, '0');
constexpr std::int64_t kLockoutSeconds = 30;

class AuthTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    server_.reset();
    ApiLimits limits;
    limits.auth.max_failures = 3;
    limits.auth.window = std::chrono::seconds(60);
    limits.auth.lockout = std::chrono::seconds(kLockoutSeconds);
    api_ = std::make_unique<Api>(*inst_, metrics_, "", limits);
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(
        o, [this](const HttpRequest& r) { return api_->Handle(r); },
        [this](HttpRequest& head) { return api_->Admit(head); });
    port_ = server_->Start().value();
  }

  HttpResult CheckAs(const std::string& key, const std::string& from = "127.0.0.1") {
    return HttpCallFrom(from, port_, "POST", "/v1/check", std::string(kCheck), key);
  }
  HttpResult Redeem(const std::string& token, const std::string& from = "127.0.0.1",
                    const std::map<std::string, std::string>& headers = {}) {
    return HttpCallFrom(from, port_, "POST", "/v1/enrolments/redeem", R"({"token":")" + token + R"("})", "",
                        headers);
  }
  std::string Token(const std::string& actor) {
    HttpResult r = Post("/v1/actors/" + actor + "/enrolments", "{}", "admin");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Parse(r).at("token").as_string());
  }
  std::string MetricsBody() { return Get("/metrics").body; }
  static std::string Failures(std::string_view reason, int n) {
    return "qorgau_auth_failures_total{reason=\"" + std::string(reason) + "\"} " + std::to_string(n) + "\n";
  }
  std::string Field(const HttpResult& r) {
    json::value v = Parse(r);
    return v.is_object() && v.as_object().contains("field") ? std::string(v.at("field").as_string()) : "";
  }
};

// --- The lifecycle, effective at once ---

TEST_F(AuthTest, R_VIII_1_a_revoked_key_is_refused_on_the_very_next_request) {
  ASSERT_EQ(CheckAs(keys_["crm"]).status, 200);  // and now cached
  const std::string id = crypto::ToHex(crypto::Sha256(keys_["crm"]));
  HttpResult listed = Get("/v1/actors/crm/keys", "admin");
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_NE(listed.body.find(id), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find(keys_["crm"]), std::string::npos) << "a key is never shown again";

  HttpResult revoked = Post("/v1/actors/crm/keys/" + id.substr(0, 12) + "/revoke", "", "admin");
  ASSERT_EQ(revoked.status, 200) << revoked.body;
  HttpResult next = CheckAs(keys_["crm"]);
  EXPECT_EQ(next.status, 401) << next.body;
  EXPECT_EQ(Code(next), "unauthenticated");
  EXPECT_NE(MetricsBody().find(Failures("revoked", 1)), std::string::npos);
  EXPECT_NE(Get("/v1/actors/crm/keys", "admin").body.find("\"revoked_at\":\"20"), std::string::npos);

  // Twice, a prefix too short, another actor's key: each says which field.
  HttpResult again = Post("/v1/actors/crm/keys/" + id.substr(0, 12) + "/revoke", "", "admin");
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(Field(again), "key");
  HttpResult short_id = Post("/v1/actors/crm/keys/abc/revoke", "", "admin");
  EXPECT_EQ(short_id.status, 400) << short_id.body;
  EXPECT_EQ(Field(short_id), "key");
  const std::string billing = crypto::ToHex(crypto::Sha256(keys_["billing"])).substr(0, 12);
  EXPECT_EQ(Post("/v1/actors/crm/keys/" + billing + "/revoke", "", "admin").status, 404);
  EXPECT_EQ(CheckAs(keys_["billing"]).status, 403) << "billing's key still works (for its own purposes)";
}

TEST_F(AuthTest, R_VIII_1_a_disabled_actor_is_refused_on_the_very_next_request) {
  const std::string read = "/v1/subjects/1?purpose=contract_performance";
  ASSERT_EQ(Get(read, "anna").status, 200);
  HttpResult disabled = Post("/v1/actors/anna/disable", "", "admin");
  ASSERT_EQ(disabled.status, 200) << disabled.body;
  EXPECT_EQ(Parse(disabled).at("disabled").as_bool(), true);
  HttpResult next = Get(read, "anna");
  EXPECT_EQ(next.status, 401) << next.body;
  EXPECT_EQ(Code(next), "unauthenticated");
  EXPECT_NE(MetricsBody().find(Failures("disabled", 1)), std::string::npos);

  EXPECT_EQ(Post("/v1/actors/anna/disable", "", "admin").status, 409);
  EXPECT_EQ(Code(Post("/v1/actors/admin/disable", "", "admin")), "role_not_allowed");
  HttpResult unknown = Post("/v1/actors/nobody/disable", "", "admin");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Field(unknown), "actor");
  // A disabled actor gets no enrolment either.
  EXPECT_EQ(Code(Post("/v1/actors/anna/enrolments", "{}", "admin")), "actor_disabled");
  // Nor comes back by an update, and the listing says it is disabled.
  HttpResult readd = Post("/v1/actors",
                          R"({"id":"anna","role":"employee","nda_signed":"2024-02-01",)"
                          R"("liability_acknowledged":"2024-02-01"})",
                          "admin");
  EXPECT_EQ(readd.status, 409) << readd.body;
  EXPECT_EQ(Code(readd), "actor_disabled");
  EXPECT_EQ(Get(read, "anna").status, 401);
  HttpResult listed = Get("/v1/actors", "admin");
  ASSERT_EQ(listed.status, 200) << listed.body;
  int seen = 0;
  const boost::json::value actors = Parse(listed);
  for (const auto& a : actors.at("actors").as_array()) {
    const auto& o = a.as_object();
    if (o.at("id").as_string() == "anna") {
      ++seen;
      EXPECT_TRUE(o.at("disabled_at").is_string());
    } else if (o.at("id").as_string() == "admin") {
      EXPECT_TRUE(o.at("disabled_at").is_null());
    }
  }
  EXPECT_EQ(seen, 1);
}

TEST_F(AuthTest, R_VIII_1_a_removed_duty_is_refused_on_the_very_next_request) {
  const std::string read = "/v1/subjects/1?purpose=contract_performance";
  ASSERT_EQ(Get(read, "anna").status, 200);
  HttpResult removed = HttpCall(port_, "DELETE", "/v1/actors/anna/duties/contract_performance", "",
                                keys_["admin"]);
  ASSERT_EQ(removed.status, 200) << removed.body;
  HttpResult next = Get(read, "anna");
  EXPECT_EQ(next.status, 403) << next.body;
  EXPECT_EQ(Code(next), "no_duty");

  HttpResult again = HttpCall(port_, "DELETE", "/v1/actors/anna/duties/contract_performance", "",
                              keys_["admin"]);
  EXPECT_EQ(again.status, 404) << again.body;
  EXPECT_EQ(Code(again), "duty_not_found");
  HttpResult no_purpose = HttpCall(port_, "DELETE", "/v1/actors/anna/duties/astrology", "", keys_["admin"]);
  EXPECT_EQ(no_purpose.status, 422) << no_purpose.body;
  EXPECT_EQ(Field(no_purpose), "purpose");
  HttpResult no_actor = HttpCall(port_, "DELETE", "/v1/actors/nobody/duties/marketing", "", keys_["admin"]);
  EXPECT_EQ(no_actor.status, 404) << no_actor.body;
  EXPECT_EQ(Field(no_actor), "actor");
}

TEST_F(AuthTest, AKeyWithAnExpiryWorksUntilItsLastDayEnds) {
  // The fixture's clock stands at 2025-11-26T09:40Z.
  HttpResult created = Post("/v1/actors/billing/keys", R"({"expires":"2025-11-27"})", "admin");
  ASSERT_EQ(created.status, 201) << created.body;
  const json::value answer = Parse(created);
  const json::object& o = answer.as_object();
  EXPECT_EQ(o.at("expires_at").as_string(), "2025-11-28T00:00:00.000Z");
  const std::string key(o.at("key").as_string());
  EXPECT_EQ(o.at("key_id").as_string(), crypto::ToHex(crypto::Sha256(key)));
  EXPECT_EQ(HttpCall(port_, "GET", "/v1/subjects/1/obligations", "", key).status, 200);
  clock_.Advance(2LL * 24 * 3600 * 1000);
  HttpResult expired = HttpCall(port_, "GET", "/v1/subjects/1/obligations", "", key);
  EXPECT_EQ(expired.status, 401) << expired.body;
  EXPECT_EQ(Code(expired), "unauthenticated");
  EXPECT_NE(MetricsBody().find(Failures("expired", 1)), std::string::npos);

  for (const char* bad : {R"({"expires":"2025-13-01"})", R"({"expires":"2025-11-01"})", R"({"expires":7})"}) {
    HttpResult r = Post("/v1/actors/billing/keys", bad, "admin");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_EQ(Field(r), "expires") << bad;
  }
}

// --- Enrolment ---

TEST_F(AuthTest, R_VIII_1_an_employees_key_comes_only_through_an_enrolment_the_employee_redeems) {
  HttpResult direct = Post("/v1/actors/anna/keys", "", "admin");
  EXPECT_EQ(direct.status, 409) << direct.body;
  EXPECT_EQ(Code(direct), "enrolment_required");

  HttpResult enrolled = Post("/v1/actors/anna/enrolments", R"({"valid_hours":24})", "admin");
  ASSERT_EQ(enrolled.status, 201) << enrolled.body;
  const std::string token(Parse(enrolled).at("token").as_string());
  EXPECT_TRUE(token.starts_with("qe_"));
  EXPECT_EQ(Parse(enrolled).at("expires_at").as_string(), FormatUtc(clock_.Now() + 24LL * 3600 * 1000));

  // No API key: the token is the credential.
  HttpResult redeemed = Redeem(token);
  ASSERT_EQ(redeemed.status, 201) << redeemed.body;
  EXPECT_EQ(Parse(redeemed).at("actor").as_string(), "anna");
  const std::string key(Parse(redeemed).at("key").as_string());
  EXPECT_EQ(HttpCall(port_, "GET", "/v1/subjects/1?purpose=contract_performance", "", key).status, 200);

  // Once only; the answer names the field and counts as a failed authentication.
  HttpResult used = Redeem(token);
  EXPECT_EQ(used.status, 401) << used.body;
  EXPECT_EQ(Code(used), "enrolment_invalid");
  EXPECT_EQ(Field(used), "token");
  EXPECT_NE(MetricsBody().find(Failures("bad_enrolment_token", 1)), std::string::npos);
  // Expired.
  const std::string late = Token("anna");
  clock_.Advance(73LL * 3600 * 1000);
  EXPECT_EQ(Code(Redeem(late)), "enrolment_invalid");

  HttpResult missing = HttpCall(port_, "POST", "/v1/enrolments/redeem", "{}");
  EXPECT_EQ(missing.status, 400) << missing.body;
  EXPECT_EQ(Field(missing), "token");
  HttpResult hours = Post("/v1/actors/anna/enrolments", R"({"valid_hours":200})", "admin");
  EXPECT_EQ(hours.status, 400);
  EXPECT_EQ(Field(hours), "valid_hours");
}

TEST_F(AuthTest, SecretsAreNeverReplayedForAnIdempotencyKey) {
  const std::map<std::string, std::string> retry = {{"Idempotency-Key", "enrol-1"}};
  HttpResult first = Post("/v1/actors/anna/enrolments", "{}", "admin", retry);
  HttpResult second = Post("/v1/actors/anna/enrolments", "{}", "admin", retry);
  ASSERT_EQ(first.status, 201);
  ASSERT_EQ(second.status, 201);
  EXPECT_NE(first.body, second.body) << "a token is not stored to be replayed";
  EXPECT_EQ(second.headers.count("idempotent-replayed"), 0u);
  const std::string token(Parse(first).at("token").as_string());
  EXPECT_EQ(Redeem(token, "127.0.0.1", {{"Idempotency-Key", "redeem-1"}}).status, 201);
  EXPECT_EQ(Redeem(token, "127.0.0.1", {{"Idempotency-Key", "redeem-1"}}).status, 401);
}

TEST_F(AuthTest, TheLatestCheckpointIsServedAsTheCliWritesIt) {
  HttpResult served = Get("/v1/audit/checkpoint", "dpo");
  ASSERT_EQ(served.status, 200) << served.body;
  auto head = ledger::ParseTreeHeadJson(served.body);
  ASSERT_TRUE(head) << head.error().ToString();
  auto cli = app::LatestCheckpoint(data_, "dpo");
  ASSERT_TRUE(cli) << cli.error().ToString();
  EXPECT_EQ(served.body, ledger::TreeHeadJson(*cli));
  EXPECT_EQ(head->size, Revision());
}

// --- Failed authentications ---

TEST_F(AuthTest, AnAddressThatFailsTooOftenIsLockedOutOthersAreNot) {
  const std::string token = Token("anna");
  for (int i = 0; i < 3; ++i) {
    HttpResult r = CheckAs(kWrongKey);
    ASSERT_EQ(r.status, 401) << i << ": " << r.body;
  }
  // Locked out: even a good key is refused, before it is looked at, so a
  // guesser cannot tell a right guess from a wrong one.
  HttpResult locked = CheckAs(keys_["crm"]);
  EXPECT_EQ(locked.status, 429) << locked.body;
  EXPECT_EQ(Code(locked), "too_many_failed_authentications");
  EXPECT_EQ(locked.headers["retry-after"], std::to_string(kLockoutSeconds));
  EXPECT_EQ(Redeem(token).status, 429) << "redeeming a token takes a credential too";
  // Public routes stay open to it.
  EXPECT_EQ(HttpCallFrom("127.0.0.1", port_, "GET", "/healthz").status, 200);
  EXPECT_EQ(HttpCallFrom("127.0.0.1", port_, "GET", "/v1/policy").status, 200);
  // Another address is not affected, right or wrong.
  EXPECT_EQ(CheckAs(keys_["crm"], "127.0.0.2").status, 200);
  EXPECT_EQ(CheckAs(kWrongKey, "127.0.0.2").status, 401);

  const std::string m = MetricsBody();
  EXPECT_NE(m.find(Failures("unknown_key", 4)), std::string::npos) << m;
  EXPECT_NE(m.find("qorgau_auth_lockouts_total 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("qorgau_http_requests_total{route=\"POST /v1/check\",status=\"429\"} 1\n"),
            std::string::npos)
      << m;

  // The lockout ends; the count starts afresh.
  clock_.Advance(kLockoutSeconds * 1000 - 1000);
  EXPECT_EQ(CheckAs(keys_["crm"]).headers["retry-after"], "1");
  clock_.Advance(1000);
  EXPECT_EQ(CheckAs(keys_["crm"]).status, 200);
  EXPECT_EQ(CheckAs(kWrongKey).status, 401);
}

TEST_F(AuthTest, BadEnrolmentTokensCountTowardsTheLockout) {
  const std::string good = Token("anna");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Redeem("qe_" + std::string(64, 'a')).status, 401);
  EXPECT_EQ(Redeem(good).status, 429);
  // Refused unread, the token is still good, from elsewhere.
  EXPECT_EQ(Redeem(good, "127.0.0.2").status, 201);
  EXPECT_NE(MetricsBody().find(Failures("bad_enrolment_token", 3)), std::string::npos);
}

TEST_F(AuthTest, RequestsWithoutAnyCredentialAreCountedButLockNobodyOut) {
  for (int i = 0; i < 5; ++i) EXPECT_EQ(HttpCall(port_, "POST", "/v1/check", std::string(kCheck)).status, 401);
  EXPECT_EQ(CheckAs(keys_["crm"]).status, 200);
  const std::string m = MetricsBody();
  EXPECT_NE(m.find(Failures("missing", 5)), std::string::npos) << m;
  EXPECT_NE(m.find("qorgau_auth_lockouts_total 0\n"), std::string::npos) << m;
}

TEST_F(ApiTest, TheLockoutHoldsForTheApiAloneToo) {
  // Handle without Admit (a caller with no head step), default limits.
  HttpRequest bad;
  bad.method = "POST";
  bad.path = "/v1/check";
  bad.authorization = "Bearer " + kWrongKey;
  bad.content_type = "application/json";
  bad.body = std::string(kCheck);
  bad.peer = "192.0.2.7";
  for (int i = 0; i < AuthLimits{}.max_failures; ++i) ASSERT_EQ(api_->Handle(bad).status, 401) << i;
  HttpRequest good = bad;
  good.authorization = "Bearer " + keys_["crm"];
  HttpResponse locked = api_->Handle(good);
  EXPECT_EQ(locked.status, 429);
  good.peer = "192.0.2.8";
  EXPECT_EQ(api_->Handle(good).status, 200);
}

// --- The limiter itself ---

TEST(AuthLimiter, FailuresCountWithinTheWindowOnly) {
  FixedClock clock(1000000);
  AuthLimiter limiter({3, std::chrono::seconds(10), std::chrono::seconds(20), 100}, clock);
  EXPECT_FALSE(limiter.CountFailure("198.51.100.1"));
  EXPECT_FALSE(limiter.CountFailure("198.51.100.1"));
  clock.Advance(10000);  // the window has passed: the count starts again
  EXPECT_FALSE(limiter.CountFailure("198.51.100.1"));
  EXPECT_FALSE(limiter.CountFailure("198.51.100.1"));
  EXPECT_EQ(limiter.LockedFor("198.51.100.1"), 0);
  EXPECT_TRUE(limiter.CountFailure("198.51.100.1"));
  EXPECT_EQ(limiter.LockedFor("198.51.100.1"), 20);
  clock.Advance(19001);
  EXPECT_EQ(limiter.LockedFor("198.51.100.1"), 1);
  clock.Advance(999);
  EXPECT_EQ(limiter.LockedFor("198.51.100.1"), 0);
  EXPECT_EQ(limiter.LockedFor("198.51.100.2"), 0);
}

TEST(AuthLimiter, AnIpv6HostIsItsSlash64AndAMappedIpv4AddressIsIpv4) {
  using L = AuthLimiter;
  EXPECT_EQ(L::SourceOf("2001:db8:1:2::1"), L::SourceOf("2001:db8:1:2:ffff::9"));
  EXPECT_NE(L::SourceOf("2001:db8:1:2::1"), L::SourceOf("2001:db8:1:3::1"));
  EXPECT_EQ(L::SourceOf("::ffff:192.0.2.1"), L::SourceOf("192.0.2.1"));
  EXPECT_NE(L::SourceOf("192.0.2.1"), L::SourceOf("192.0.2.2"));
  EXPECT_EQ(L::SourceOf(""), "");
  EXPECT_NE(L::SourceOf("not an address"), L::SourceOf(""));
}

TEST(AuthLimiter, MemoryIsBoundedAndALockoutOutlivesMereFailures) {
  FixedClock clock(1000000);
  AuthLimiter limiter({2, std::chrono::seconds(60), std::chrono::seconds(60), 4}, clock);
  limiter.CountFailure("203.0.113.1");
  EXPECT_TRUE(limiter.CountFailure("203.0.113.1"));
  for (int i = 2; i < 50; ++i) {
    clock.Advance(1);
    limiter.CountFailure("203.0.113." + std::to_string(i));
    EXPECT_LE(limiter.sources(), 4u);
  }
  EXPECT_GT(limiter.LockedFor("203.0.113.1"), 0) << "evicted before sources that only failed";
  // Sources whose window and lockout have passed make room first.
  clock.Advance(120000);
  limiter.CountFailure("198.51.100.9");
  EXPECT_EQ(limiter.sources(), 1u);
}

TEST(AuthLimitsSetup, ServeTakesTheLimitsFromFlagsAndTheConfigFile) {
  ::qorgau::testing::TempDir dir;
  const std::string data = (dir.path() / "data").string();
  ASSERT_EQ(::qorgau::testing::RunQorgau({"--data", data, "init", "--policy",
                                          ::qorgau::testing::KemPolicy().string()})
                .exit_code,
            0);
  // Accepted (the run stops later, at the address: plain HTTP off loopback).
  auto flags = ::qorgau::testing::RunQorgau({"--data", data, "serve", "--listen", "0.0.0.0:0",
                                             "--auth-max-failures", "5", "--auth-window", "30",
                                             "--auth-lockout", "120"});
  EXPECT_EQ(flags.exit_code, 1);
  EXPECT_NE(flags.err.find("--insecure"), std::string::npos) << flags.err;
  auto zero = ::qorgau::testing::RunQorgau({"--data", data, "serve", "--auth-max-failures", "0"});
  EXPECT_NE(zero.exit_code, 0);
  EXPECT_NE(zero.err.find("auth-max-failures"), std::string::npos) << zero.err;
  const std::string config = (dir.path() / "qorgau.toml").string();
  ::qorgau::testing::WriteFile(config, "data = \"" + data + "\"\n[serve]\nauth-lockout = 0\n");
  auto configured = ::qorgau::testing::RunQorgau({"--config", config, "serve"});
  EXPECT_NE(configured.exit_code, 0);
  EXPECT_NE(configured.err.find("auth-lockout"), std::string::npos) << configured.err;
}

}  // namespace
}  // namespace qorgau::api
