// Keys over HTTP: revoking a key, disabling an actor and removing a duty
// take effect on the very next request; keys expire; a person's key comes
// only through an enrolment token, redeemed without an API key. A real
// server on loopback, wired as `qorgau serve` wires it (the admission step
// first), with the data directory's fixed clock moved by hand: no test
// waits or times anything.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "crypto/crypto.h"
#include "ledger/tree_head.h"

namespace qorgau::api {
namespace {

constexpr std::string_view kCheck = R"({"subject":1,"purpose":"marketing"})";

class AuthTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    server_.reset();
    api_ = std::make_unique<Api>(*inst_, metrics_, "");
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    server_ = std::make_unique<Server>(
        o, [this](const HttpRequest& r) { return api_->Handle(r); },
        [this](HttpRequest& head) { return api_->Admit(head); });
    port_ = server_->Start().value();
  }

  HttpResult CheckAs(const std::string& key) {
    return HttpCall(port_, "POST", "/v1/check", std::string(kCheck), key);
  }
  HttpResult Redeem(const std::string& token, const std::map<std::string, std::string>& headers = {}) {
    return HttpCall(port_, "POST", "/v1/enrolments/redeem", R"({"token":")" + token + R"("})", "", headers);
  }
  std::string Token(const std::string& actor) {
    HttpResult r = Post("/v1/actors/" + actor + "/enrolments", "{}", "admin");
    EXPECT_EQ(r.status, 201) << r.body;
    return std::string(Parse(r).at("token").as_string());
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

  EXPECT_EQ(Post("/v1/actors/anna/disable", "", "admin").status, 409);
  EXPECT_EQ(Code(Post("/v1/actors/admin/disable", "", "admin")), "role_not_allowed");
  HttpResult unknown = Post("/v1/actors/nobody/disable", "", "admin");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Field(unknown), "actor");
  // A disabled actor gets no enrolment either.
  EXPECT_EQ(Code(Post("/v1/actors/anna/enrolments", "{}", "admin")), "actor_disabled");
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

  // Once only; the answer names the field.
  HttpResult used = Redeem(token);
  EXPECT_EQ(used.status, 401) << used.body;
  EXPECT_EQ(Code(used), "enrolment_invalid");
  EXPECT_EQ(Field(used), "token");
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
  EXPECT_EQ(Redeem(token, {{"Idempotency-Key", "redeem-1"}}).status, 201);
  EXPECT_EQ(Redeem(token, {{"Idempotency-Key", "redeem-1"}}).status, 401);
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

}  // namespace
}  // namespace qorgau::api
