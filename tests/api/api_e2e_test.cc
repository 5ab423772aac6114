// End-to-end tests of the HTTP service: the real server on a free loopback
// port, the real store, spoken to over real sockets.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <boost/json.hpp>
#include <set>
#include <thread>

#include "../test_util.h"
#include "api/api.h"
#include "api/server.h"
#include "app/instance.h"
#include "core/iin.h"
#include "demo/synthetic.h"
#include "../kantara_schema.h"
#include "api_fixture.h"
#include "http_client.h"

namespace qorgau::api {
namespace {

using testing::HttpCall;
using testing::HttpResult;

TEST_F(ApiTest, R_II_1_the_policy_is_public_in_the_language_asked) {
  for (const char* lang : {"kk", "ru", "en"}) {
    HttpResult r = Get(std::string("/v1/policy?lang=") + lang);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Parse(r).at("lang").as_string(), lang);
    EXPECT_EQ(Parse(r).at("purposes").as_array().size(), 11u);
  }
  EXPECT_NE(Get("/v1/policy?lang=en").body.find("fiscal reporting to state bodies"), std::string::npos);
  EXPECT_NE(Get("/v1/policy").body.find("маркетингтік әрекеттерді жүргізу"), std::string::npos);
  EXPECT_EQ(Get("/v1/policy?lang=de").status, 400);
}

TEST_F(ApiTest, EveryOtherRouteNeedsAKey) {
  EXPECT_EQ(Get("/v1/subjects/1/consents").status, 401);
  EXPECT_EQ(HttpCall(port_, "GET", "/v1/subjects/1/consents", "", "qk_" + std::string(64, '0')).status, 401);
  HttpResult r = HttpCall(port_, "GET", "/v1/subjects/1/consents", "", "", {{"Authorization", "Basic eDp5"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.headers["content-type"], "application/problem+json");
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/readyz").status, 200);
  EXPECT_EQ(Get("/v1/subjects/1/consents", "anna").status, 200);
}

TEST_F(ApiTest, R_VIII_1_a_read_names_its_purpose_and_is_masked_without_full_view) {
  EXPECT_EQ(Get("/v1/subjects/1", "anna").status, 400);
  HttpResult r = Get("/v1/subjects/1?purpose=contract_performance", "anna");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto s = demo::SyntheticSubjects().At(1);
  EXPECT_EQ(r.body.find(s.phone), std::string::npos);
  EXPECT_EQ(r.body.find(s.name), std::string::npos);
  EXPECT_NE(r.body.find(s.phone.substr(0, 5) + "*****"), std::string::npos);
  EXPECT_EQ(r.body.find("user.identity.iin"), std::string::npos) << "outside the duty";
  HttpResult full = Get("/v1/subjects/1?purpose=marketing&categories=user.contact.phone", "dana");
  ASSERT_EQ(full.status, 200) << full.body;
  EXPECT_NE(full.body.find(s.phone), std::string::npos);
  EXPECT_EQ(Parse(full).at("masked").as_bool(), false);
}

TEST_F(ApiTest, R_VIII_1_employee_without_the_duty_gets_403_and_the_attempt_is_in_the_access_trail) {
  HttpResult r = Get("/v1/subjects/1?purpose=marketing", "anna");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "no_duty");
  HttpResult cat = Get("/v1/subjects/1?purpose=contract_performance&categories=user.identity.iin", "anna");
  EXPECT_EQ(cat.status, 403);
  EXPECT_EQ(Code(cat), "category_not_in_duty");
  const auto trail = Trail(1);
  ASSERT_GE(trail.size(), 2u);
  EXPECT_EQ(trail[trail.size() - 2].actor, "anna");
  EXPECT_FALSE(trail[trail.size() - 2].allowed);
  EXPECT_EQ(trail[trail.size() - 2].reason, "no_duty");
  EXPECT_EQ(trail.back().reason, "category_not_in_duty");
  EXPECT_EQ(trail.back().categories, (std::vector<std::string>{"user.identity.iin"}));
}

TEST_F(ApiTest, R_II_3_employee_without_a_signed_nda_gets_403_and_is_recorded) {
  HttpResult r = Get("/v1/subjects/1?purpose=contract_performance", "bek");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "nda_not_signed");
  const auto trail = Trail(1);
  EXPECT_EQ(trail.back().actor, "bek");
  EXPECT_EQ(trail.back().reason, "nda_not_signed");
  // Nor may bek act on subjects at all.
  EXPECT_EQ(Post("/v1/subjects/2/consents", R"({"purpose":"marketing","channel":"website","evidence":"W-1"})", "bek").status, 403);
}

TEST_F(ApiTest, R_VIII_1_looking_a_subject_up_needs_a_duty_for_the_category_searched_and_is_recorded) {
  const auto s = demo::SyntheticSubjects().At(1);
  // anna's duty covers the phone, not the IIN.
  HttpResult by_phone = Post("/v1/subjects/search", R"({"phone":")" + s.phone + R"("})", "anna");
  ASSERT_EQ(by_phone.status, 200) << by_phone.body;
  EXPECT_EQ(Parse(by_phone).at("id").as_int64(), 1);
  HttpResult by_iin = Post("/v1/subjects/search", R"({"iin":")" + s.iin + R"("})", "anna");
  EXPECT_EQ(by_iin.status, 403);
  EXPECT_EQ(Code(by_iin), "no_duty");
  EXPECT_EQ(by_iin.body.find(s.iin), std::string::npos);
  const auto trail = Trail(1);
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().type, "access.lookup");
  EXPECT_EQ(trail.back().actor, "anna");
  EXPECT_TRUE(trail.back().allowed);
}

TEST_F(ApiTest, R_VIII_2_employee_not_warned_of_liability_gets_403) {
  HttpResult r = Get("/v1/subjects/1?purpose=contract_performance", "carl");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "liability_not_acknowledged");
}

TEST_F(ApiTest, R_III_1_a_read_needs_the_subjects_legal_basis_for_the_purpose) {
  // Subject 2 never consented to marketing: even a full-view duty is refused.
  HttpResult r = Get("/v1/subjects/2?purpose=marketing", "dana");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(Code(r), "no_consent");
  EXPECT_EQ(Trail(2).back().reason, "no_consent");
}

TEST_F(ApiTest, AdministratorsManageActorsAndOthersCannot) {
  EXPECT_EQ(Post("/v1/actors", R"({"id":"eve","role":"admin"})", "anna").status, 403);
  HttpResult made = Post("/v1/actors", R"({"id":"eve","role":"system","purposes":["contract_performance"]})", "admin");
  ASSERT_EQ(made.status, 201) << made.body;
  HttpResult duty = Post("/v1/actors/eve/duties", R"({"purpose":"contract_performance","categories":["user.contact.phone"]})", "admin");
  ASSERT_EQ(duty.status, 201) << duty.body;
  HttpResult key = Post("/v1/actors/eve/keys", "", "admin");
  ASSERT_EQ(key.status, 201) << key.body;
  const std::string eve = std::string(Parse(key).at("key").as_string());
  EXPECT_EQ(HttpCall(port_, "GET", "/v1/subjects/1?purpose=contract_performance", "", eve).status, 200);
  EXPECT_EQ(Get("/v1/actors", "admin").status, 200);
  EXPECT_EQ(Get("/v1/subjects/1?purpose=contract_performance", "admin").status, 403);
  // An administrator cannot obtain a key that acts as an employee.
  HttpResult person = Post("/v1/actors/anna/keys", "", "admin");
  EXPECT_EQ(person.status, 409);
  EXPECT_EQ(Code(person), "enrolment_required");
}

TEST_F(ApiTest, ConsentWithdrawalAndReceiptThroughTheApi) {
  HttpResult g = Post("/v1/subjects/2/consents", R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-9"})", "crm");
  ASSERT_EQ(g.status, 201) << g.body;
  const std::int64_t seq = Parse(g).at("revision").as_int64();
  HttpResult receipt = Get("/v1/receipts/" + std::to_string(seq), "crm");
  ASSERT_EQ(receipt.status, 200);
  EXPECT_NE(receipt.body.find("\"action\":\"consent.granted\""), std::string::npos);
  HttpResult kantara = Get("/v1/receipts/" + std::to_string(seq) + "?format=kantara&lang=ru", "crm");
  ASSERT_EQ(kantara.status, 200) << kantara.body;
  EXPECT_EQ(testing::KantaraSchemaErrors(kantara.body), "");
  EXPECT_EQ(Parse(kantara).at("language").as_string(), "ru");
  EXPECT_EQ(Parse(Get("/v1/receipts/" + std::to_string(seq) + "?format=pdf", "crm")).at("field").as_string(), "format");
  EXPECT_EQ(Get("/v1/receipts/" + std::to_string(seq) + "?format=kantara", "anna").status, 403);

  ASSERT_TRUE(inst_->engine().OpenObligation({rules::SubjectKey::Id(1), store::ObligationKind::kDebt, "D-77", "100"}, *callers_.at("billing")));
  HttpResult blocked = Post("/v1/subjects/1/withdrawals/preview", R"({"channel":"app_support_chat"})", "crm");
  EXPECT_EQ(blocked.status, 409);
  EXPECT_EQ(Code(blocked), "withdrawal_blocked_by_obligation");
  EXPECT_NE(blocked.body.find("D-77"), std::string::npos);
  ASSERT_EQ(Post("/v1/obligations/D-77/close", "", "billing").status, 200);
  HttpResult preview = Post("/v1/subjects/1/withdrawals/preview", R"({"channel":"app_support_chat","services":["marketing_offers"]})", "crm");
  ASSERT_EQ(preview.status, 200) << preview.body;
  EXPECT_EQ(Parse(preview).at("services_off").as_array().size(), 1u);
  HttpResult done = Post("/v1/subjects/1/withdrawals", R"({"channel":"app_support_chat","evidence":"CHAT-5","services":["marketing_offers"]})", "crm");
  ASSERT_EQ(done.status, 200) << done.body;
  HttpResult check = Post("/v1/check", R"({"subject":1,"purpose":"marketing"})", "crm");
  EXPECT_EQ(Parse(check).at("reason").as_string(), "withdrawn");
}

TEST_F(ApiTest, IdempotentRetryIsRecordedOnce) {
  const std::string body = R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-1"})";
  HttpResult first = Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const std::int64_t after_first = Revision();
  HttpResult again = Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(again.headers["idempotent-replayed"], "true");
  EXPECT_EQ(Revision(), after_first);
  HttpResult other = Post("/v1/subjects/1/consents", R"({"purpose":"marketing","channel":"mobile_app","evidence":"APP-2"})", "crm", {{"Idempotency-Key", "k-1"}});
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(Code(other), "idempotency_key_reused");
  // Without the key, the same request is a second attempt: a conflict.
  EXPECT_EQ(Post("/v1/subjects/1/consents", body, "crm").status, 409);
}

// The record of a key is written in the change's own transaction: a
// process that stops after the commit and before the answer is stored
// (kill -9) leaves a pending record, and a retry is not made twice.
TEST_F(ApiTest, AnIdempotencyKeyIsDurableWithTheChangeItGuards) {
  const std::string body = R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-7"})";
  rules::IdempotencyClaim claim{"k-7",
                                inst_->keys().BlindIndex("idempotency", "POST /v1/subjects/1/consents\n" + body).value(),
                                clock_.Now() - 1000};
  auto caller = std::make_shared<rules::Caller>(*callers_.at("crm"));
  caller->idempotency = &claim;
  auto granted = inst_->engine().GrantConsent(
      {rules::SubjectKey::Id(1), "product_development", "mobile_app", "APP-7"}, *caller);
  ASSERT_TRUE(granted) << granted.error().ToString();
  ASSERT_TRUE(claim.recorded);
  EXPECT_EQ(claim.revision, granted->revision);
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    auto record = txn->GetIdempotency("crm", "k-7").value();
    ASSERT_TRUE(record);
    EXPECT_EQ(record->status, store::kIdempotencyPending);
    EXPECT_EQ(record->body, "{\"revision\":" + std::to_string(granted->revision) + "}");
  }
  const std::int64_t before = Revision();
  HttpResult retry = Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-7"}});
  EXPECT_EQ(retry.status, 409) << retry.body;
  EXPECT_EQ(Code(retry), "idempotency_answer_lost");
  EXPECT_EQ(Revision(), before);
}

TEST_F(ApiTest, ConcurrentRequestsWithOneIdempotencyKeyChangeStateOnce) {
  const std::string body = R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-8"})";
  std::vector<HttpResult> results(6);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      results[i] = Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-8"}});
    });
  }
  for (auto& t : threads) t.join();
  int made = 0;
  std::string answer;
  for (auto& r : results) {
    if (r.status == 201 && r.headers["idempotent-replayed"].empty()) {
      ++made;
      answer = r.body;
    } else if (r.status == 409) {
      EXPECT_EQ(Code(r), "idempotency_key_in_use") << r.body;
      EXPECT_EQ(r.headers["retry-after"], "1");
    } else {
      EXPECT_EQ(r.status, 201) << r.body;
    }
  }
  EXPECT_EQ(made, 1);
  for (auto& r : results) {
    if (r.status == 201) {
      EXPECT_EQ(r.body, answer);
    }
  }
}

TEST_F(ApiTest, AnIdempotencyKeyIsForgottenAfterADay) {
  const std::string body = R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-9"})";
  ASSERT_EQ(Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-9"}}).status, 201);
  clock_.Advance(23LL * 3600 * 1000);
  EXPECT_EQ(Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-9"}}).status, 201);
  clock_.Advance(2LL * 3600 * 1000);
  // A new request now: consent is already granted, and that is the answer.
  HttpResult later = Post("/v1/subjects/1/consents", body, "crm", {{"Idempotency-Key", "k-9"}});
  EXPECT_EQ(later.status, 409) << later.body;
  EXPECT_TRUE(later.headers["idempotent-replayed"].empty());
}

TEST_F(ApiTest, ErrorsAreProblemDetailsWithStableCodesAndChangeNothing) {
  const std::int64_t before = Revision();
  const auto s = demo::SyntheticSubjects().At(9);
  std::string bad = s.iin;
  bad.back() = static_cast<char>('0' + (bad.back() - '0' + 1) % 10);
  HttpResult iin = Post("/v1/subjects", R"({"iin":")" + bad + R"(","phone":")" + s.phone + R"("})", "onboarding");
  EXPECT_EQ(iin.status, 400);
  EXPECT_EQ(Parse(iin).at("field").as_string(), "iin");
  EXPECT_EQ(iin.body.find(bad), std::string::npos);
  HttpResult phone = Post("/v1/subjects", R"({"iin":")" + s.iin + R"(","phone":"+49 30 1234567"})", "onboarding");
  EXPECT_EQ(phone.status, 400);
  EXPECT_EQ(Parse(phone).at("field").as_string(), "phone");
  HttpResult purpose = Post("/v1/subjects/1/consents", R"({"purpose":"astrology","channel":"website","evidence":"W"})", "crm");
  EXPECT_EQ(purpose.status, 422);
  HttpResult category = Post("/v1/check", R"({"subject":1,"purpose":"marketing","categories":["user.shoe_size"]})", "crm");
  EXPECT_EQ(category.status, 422);
  EXPECT_EQ(Parse(category).at("field").as_string(), "categories");
  // A purpose the policy does not have is the request's mistake (422), not
  // a missing permission (403), for a system and an employee alike.
  for (const std::string who : {"crm", "dpo"}) {
    HttpResult check = Post("/v1/check", R"({"subject":1,"purpose":"astrology"})", who);
    EXPECT_EQ(check.status, 422) << who << " " << check.body;
    EXPECT_EQ(Parse(check).at("field").as_string(), "purpose");
    HttpResult batch = Post("/v1/check/batch", R"({"subjects":[1],"purpose":"astrology"})", who);
    EXPECT_EQ(batch.status, 422) << who << " " << batch.body;
  }
  HttpResult audience = Post("/v1/audience", R"({"purpose":"astrology"})", "crm");
  EXPECT_EQ(audience.status, 422) << audience.body;
  EXPECT_EQ(Parse(audience).at("field").as_string(), "purpose");
  HttpResult conflict = Post("/v1/subjects/1/consents", R"({"purpose":"fiscal_reporting","channel":"website","evidence":"W"})", "crm");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Code(conflict), "basis_is_law");
  EXPECT_EQ(Post("/v1/subjects/1/consents", "{not json", "crm").status, 400);
  EXPECT_EQ(Post("/v1/subjects/1/consents", std::string(40, '[') + std::string(40, ']'), "crm").status, 400);
  EXPECT_EQ(Post("/v1/subjects/1/consents", R"({"purpose":")" + std::string(2000, 'a') + R"("})", "crm").status, 400);
  HttpResult big = Post("/v1/subjects/1/consents", R"({"x":")" + std::string((1 << 20) + 10, 'a') + R"("})", "crm");
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Code(big), "payload_too_large");
  EXPECT_EQ(Parse(big).at("field").as_string(), "body");
  EXPECT_EQ(Get("/v1/nothing", "crm").status, 404);
  EXPECT_EQ(Get("/v1/subjects/999/consents", "anna").status, 404);
  EXPECT_EQ(HttpCall(port_, "DELETE", "/v1/policy").status, 405);
  EXPECT_EQ(Revision(), before);
}

TEST_F(ApiTest, BatchCheckAndAudience) {
  std::string ids = "[";
  for (int i = 1; i <= 10001; ++i) ids += std::to_string(i) + (i < 10001 ? "," : "]");
  HttpResult too_many = Post("/v1/check/batch", R"({"purpose":"marketing","subjects":)" + ids + "}", "crm");
  EXPECT_EQ(too_many.status, 413);
  EXPECT_EQ(Code(too_many), "payload_too_large");
  EXPECT_EQ(Parse(too_many).at("field").as_string(), "subjects");
  HttpResult batch = Post("/v1/check/batch", R"({"purpose":"marketing","subjects":[1,2,3]})", "crm");
  ASSERT_EQ(batch.status, 200) << batch.body;
  const json::value parsed = Parse(batch);
  const auto& d = parsed.at("decisions").as_array();
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].at("reason").as_string(), "consent_in_force");
  EXPECT_EQ(d[1].at("reason").as_string(), "no_consent");
  EXPECT_EQ(d[2].at("reason").as_string(), "unknown_subject");
  HttpResult audience = Post("/v1/audience", R"({"purpose":"marketing","exclude_obligations":true})", "crm");
  ASSERT_EQ(audience.status, 200) << audience.body;
  EXPECT_EQ(Parse(audience).at("count").as_int64(), 1);
  // A system acts only for its purposes.
  EXPECT_EQ(Post("/v1/check", R"({"subject":1,"purpose":"debt_collection"})", "crm").status, 403);
}

TEST_F(ApiTest, MetricsCountRequestsDecisionsAndTheLedgerHeight) {
  ASSERT_EQ(Post("/v1/check", R"({"subject":1,"purpose":"marketing"})", "crm").status, 200);
  HttpResult m = Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("qorgau_http_requests_total{route=\"POST /v1/check\",status=\"200\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("qorgau_decisions_total{reason=\"consent_in_force\"} 1"), std::string::npos);
  EXPECT_NE(m.body.find("qorgau_ledger_height "), std::string::npos);
  EXPECT_NE(m.body.find("qorgau_http_request_duration_seconds_bucket"), std::string::npos);
  // The check's decision waits for the log's next write (every 20 ms): 0 or 1.
  EXPECT_TRUE(m.body.find("\nqorgau_decision_log_pending 0\n") != std::string::npos ||
              m.body.find("\nqorgau_decision_log_pending 1\n") != std::string::npos)
      << m.body;
}

TEST_F(ApiTest, OpenApiDescribesEveryRouteAndNothingElse) {
  const YAML::Node doc = YAML::LoadFile((testing::SourceDir() / "docs/openapi.yaml").string());
  std::set<std::string> described;
  std::set<std::string> paths;
  for (const auto& path : doc["paths"]) {
    // A path written twice is a YAML duplicate key: strict tools refuse
    // the file, lenient ones keep only one of the two.
    EXPECT_TRUE(paths.insert(path.first.as<std::string>()).second)
        << "path described twice: " << path.first.as<std::string>();
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      if (method == "parameters") continue;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      described.insert(method + " " + path.first.as<std::string>());
    }
  }
  std::set<std::string> routes;
  for (const auto& r : Api::Routes()) routes.insert(r.method + " " + r.pattern);
  for (const auto& r : routes) EXPECT_TRUE(described.count(r)) << "not described: " << r;
  for (const auto& d : described) EXPECT_TRUE(routes.count(d)) << "described but not served: " << d;
  HttpResult served = Get("/openapi.yaml");
  EXPECT_EQ(served.status, 200);
  EXPECT_EQ(served.body, testing::ReadFile(testing::SourceDir() / "docs/openapi.yaml"));
}

TEST_F(ApiTest, GracefulShutdownLosesNoAcknowledgedWrite) {
  // Writers keep granting and withdrawing while the server stops; every
  // change that was answered 2xx must be in the store.
  std::atomic<bool> go{true};
  std::vector<std::thread> writers;
  std::mutex mu;
  std::vector<std::int64_t> acknowledged;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; go; ++i) {
        const std::string body = R"({"iin":")" + demo::SyntheticSubjects().At(1000 + t * 10000 + i).iin +
                                 R"(","phone":")" + demo::SyntheticSubjects().At(1000 + t * 10000 + i).phone + R"("})";
        HttpResult r = Post("/v1/subjects", body, "onboarding");
        if (r.status == 201) {
          std::lock_guard<std::mutex> lock(mu);
          acknowledged.push_back(Parse(r).at("id").as_int64());
        } else if (r.status == 0) {
          break;  // the server is gone
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  server_->Stop();
  go = false;
  // Wait closes the connections Stop left unanswered (accepted, request not
  // yet read): a writer blocked on one returns only then.
  server_->Wait();
  for (auto& w : writers) w.join();
  ASSERT_FALSE(acknowledged.empty());
  // Reopen from disk: every acknowledged subject is there.
  api_.reset();
  server_.reset();
  inst_.reset();
  auto reopened = app::Instance::Open(data_, clock_).value();
  for (std::int64_t id : acknowledged) {
    EXPECT_TRUE(reopened->engine().LookupSubject(*callers_.at("dpo"), rules::SubjectKey::Id(id))) << id;
  }
  EXPECT_TRUE(reopened->engine().VerifyLedger(*callers_.at("dpo"))->ok);
}

}  // namespace
}  // namespace qorgau::api

namespace qorgau::api {
namespace {

// An information application over HTTP (R-IV.4, LAW.md §5): filed at the
// office on Wednesday 26 November 2025, due at the end of Monday 1
// December in Almaty; listed by due_before, counted open and then overdue
// in /metrics.
TEST_F(ApiTest, R_IV_4_applications_fall_due_over_http_and_in_the_metrics) {
  HttpResult filed = Post("/v1/requests",
                          R"({"subject":1,"kind":"information","channel":"office_written","reference":"REG-11",)"
                          R"("documents":[{"reference":"SCAN-11","sha256":")" + std::string(64, 'f') + R"("}]})",
                          "olga");
  ASSERT_EQ(filed.status, 201) << filed.body;
  const auto app = boost::json::parse(filed.body).as_object();
  EXPECT_EQ(app.at("due_date").as_string(), "2025-12-01");
  EXPECT_EQ(app.at("due_at").as_string(), "2025-12-01T18:59:59.999Z");
  EXPECT_EQ(app.at("time_zone").as_string(), "Asia/Almaty");
  EXPECT_EQ(app.at("working_days").as_int64(), 3);
  const std::string id = std::to_string(app.at("id").as_int64());

  HttpResult due = Get("/v1/requests?due_before=2025-12-02", "olga");
  ASSERT_EQ(due.status, 200) << due.body;
  EXPECT_EQ(boost::json::parse(due.body).at("applications").as_array().size(), 1u);
  due = Get("/v1/requests?due_before=2025-12-01", "olga");
  EXPECT_EQ(boost::json::parse(due.body).at("applications").as_array().size(), 0u);
  EXPECT_EQ(Get("/v1/requests?due_before=tomorrow", "olga").status, 400);

  HttpResult m = Get("/metrics");
  EXPECT_NE(m.body.find("qorgau_applications_open{kind=\"information\"} 1\n"), std::string::npos) << m.body;
  EXPECT_NE(m.body.find("qorgau_applications_overdue{kind=\"information\"} 0\n"), std::string::npos);
  clock_.Set(ParseUtc("2025-12-01T19:00:00Z", "t").value());  // Tuesday 2 December in Almaty
  m = Get("/metrics");
  EXPECT_NE(m.body.find("qorgau_applications_overdue{kind=\"information\"} 1\n"), std::string::npos) << m.body;
  HttpResult one = Get("/v1/requests/" + id, "olga");
  EXPECT_TRUE(boost::json::parse(one.body).at("overdue").as_bool()) << one.body;

  // Answered after the identity check, it is neither open nor late.
  EXPECT_EQ(Code(Post("/v1/requests/" + id + "/answer", R"({"reference":"OUT-11"})", "olga")),
            "identity_not_verified");
  ASSERT_EQ(Post("/v1/requests/" + id + "/advance", R"({"to":"identity_verified"})", "olga").status, 200);
  HttpResult answered = Post("/v1/requests/" + id + "/answer", R"({"reference":"OUT-11"})", "olga");
  ASSERT_EQ(answered.status, 200) << answered.body;
  EXPECT_EQ(boost::json::parse(answered.body).at("answer_reference").as_string(), "OUT-11");
  m = Get("/metrics");
  EXPECT_NE(m.body.find("qorgau_applications_open{kind=\"information\"} 0\n"), std::string::npos);
  EXPECT_EQ(Code(Post("/v1/requests", R"({"subject":1,"kind":"gossip","channel":"office_written","reference":"R"})",
                      "olga")),
            "invalid_argument");
}

// A withdrawal application carried out over HTTP (R-VI, LAW.md §5): the
// withdrawal takes the application's channel, reference and purposes and
// answers it; a re-enabling application switches the service back on.
TEST_F(ApiTest, R_VI_withdrawal_and_reenabling_applications_are_carried_out_over_http) {
  store::DutyRecord duty{"olga", "marketing", {"user.contact.phone"}, false,
                         static_cast<DutyActions>(static_cast<int>(DutyAction::kConsent) |
                                                  static_cast<int>(DutyAction::kWithdraw))};
  ASSERT_TRUE(inst_->engine().GrantDuty(duty, *testing::Console(inst_->engine())));
  auto file = [&](const std::string& kind, const std::string& reference, const std::string& what) {
    HttpResult filed = Post("/v1/requests",
                            R"({"subject":1,"kind":")" + kind + R"(","channel":"office_written","reference":")" +
                                reference + R"(","purposes":[")" + what + R"("]})",
                            "olga");
    EXPECT_EQ(filed.status, 201) << filed.body;
    const std::string id = std::to_string(boost::json::parse(filed.body).at("id").as_int64());
    EXPECT_EQ(Post("/v1/requests/" + id + "/advance", R"({"to":"identity_verified"})", "olga").status, 200);
    return id;
  };
  const std::string w = file("withdrawal", "REG-W-21", "marketing");
  HttpResult bad = Post("/v1/subjects/1/withdrawals", R"({"application":"first"})", "olga");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Parse(bad).at("field").as_string(), "application");
  EXPECT_EQ(Code(Post("/v1/requests/" + w + "/answer", R"({"reference":"OUT-21"})", "olga")),
            "answered_by_carrying_out");
  HttpResult done = Post("/v1/subjects/1/withdrawals", R"({"application":)" + w + "}", "olga");
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(boost::json::parse(done.body).at("services_off").as_array().at(0).as_string(), "marketing_offers");
  HttpResult app = Get("/v1/requests/" + w, "olga");
  EXPECT_EQ(boost::json::parse(app.body).at("state").as_string(), "answered") << app.body;
  EXPECT_EQ(boost::json::parse(app.body).at("answer_reference").as_string().subview(0, 8), "receipt-");

  const std::string r = file("reenabling", "REG-R-21", "marketing_offers");
  HttpResult on = Post("/v1/subjects/1/services/marketing_offers/enable", R"({"application_id":)" + r + "}", "olga");
  ASSERT_EQ(on.status, 200) << on.body;
  EXPECT_TRUE(boost::json::parse(on.body).at("active").as_bool());
  app = Get("/v1/requests/" + r, "olga");
  EXPECT_EQ(boost::json::parse(app.body).at("state").as_string(), "answered") << app.body;
}

// LAW.md §12 over HTTP: a minor's consent comes with its representative.
TEST_F(ApiTest, LAW_12_a_minors_consent_over_http_needs_a_legal_representative) {
  using namespace std::chrono;
  const std::string iin = Iin::Make(year{2012} / 1 / 15, Sex::kFemale, 40).value().digits();
  auto minor = inst_->engine().AddSubject({iin, demo::SyntheticSubjects().At(70).phone, {}, "subject"},
                                          *callers_.at("onboarding"));
  ASSERT_TRUE(minor) << minor.error().ToString();
  const std::string path = "/v1/subjects/" + std::to_string(*minor) + "/contracts";
  const std::string body = R"({"method":"sms","services":["marketing_offers"],"evidence":"SMS-70")";
  EXPECT_EQ(Code(Post(path, body + "}", "onboarding")), "representative_required");
  HttpResult bad = Post(path, body + R"(,"representative":"mother"})", "onboarding");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Parse(bad).at("field").as_string(), "representative");
  const auto parent = demo::SyntheticSubjects().At(71);
  HttpResult joined = Post(path,
                           body + R"(,"representative":{"kind":"guardian","name":")" + parent.name + R"(","iin":")" +
                               parent.iin + R"(","proof_kind":"guardianship_decision","proof_reference":"GD-70"}})",
                           "onboarding");
  ASSERT_EQ(joined.status, 201) << joined.body;
  EXPECT_EQ(joined.body.find(parent.iin), std::string::npos);
}

// R-IX.2 over HTTP: a sum names a category of value type number; each
// refusal names its field and records nothing.
TEST_F(ApiTest, R_IX_2_an_aggregate_sum_is_refused_naming_its_field) {
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  for (const Case& c : {Case{R"({"purpose":"contract_performance","by":["sex"],"sum":"user.identity.name"})", 400, "sum"},
                        Case{R"({"purpose":"contract_performance","by":["sex"],"sum":"user.no_such"})", 422, "sum"},
                        Case{R"({"purpose":"contract_performance","by":["sex"],"sum":7})", 400, "sum"}}) {
    const auto before = Revision();
    HttpResult r = Post("/v1/aggregates", c.body, "dpo");
    EXPECT_EQ(r.status, c.status) << c.body << " " << r.body;
    const json::value problem = Parse(r);
    ASSERT_TRUE(problem.is_object()) << r.body;
    ASSERT_TRUE(problem.as_object().contains("field")) << r.body;
    EXPECT_EQ(std::string(problem.at("field").as_string()), c.field) << r.body;
    EXPECT_EQ(Revision(), before);
  }
}

}  // namespace
}  // namespace qorgau::api
