// docs/access.md, row by row, over HTTP: each action once by a caller the
// matrix allows (2xx) and once by one it refuses (403 with the stable code;
// 401 for a credential that is not accepted), on a fresh data directory
// each. The same rows run through the CLI in tests/e2e/access_cli_test.cc.
#include <gtest/gtest.h>

#include "api_fixture.h"
#include "core/vocabulary.h"
#include "crypto/crypto.h"
#include "rules/permissions.h"

#include <boost/json.hpp>
#include <set>
#include <sstream>

namespace qorgau::api {
namespace {

using testing::HttpCall;
using testing::HttpResult;

struct Call {
  std::string who;  // empty: no API key
  std::string method;
  std::string path;  // "{name}" in the path and body: a value the setup made
  std::string body;
};

using Vars = std::map<std::string, std::string>;

struct Row {
  std::string action;  // the row of docs/access.md
  Call allowed;
  int allowed_status;
  Call refused;
  std::string refused_code;
  // Run first, as the named callers of the world, on the engine; may set
  // the values the calls name.
  std::function<void(rules::Engine&, const testing::AccessWorld&, Vars&)> setup = {};
  int refused_status = 403;
};

// A key's id as `revoke` takes it: a prefix of the key's SHA-256.
std::string KeyIdOf(const std::string& key) { return crypto::ToHex(crypto::Sha256(key)).substr(0, 16); }

std::string SubjectBody(std::uint64_t index) {
  const auto s = demo::SyntheticSubjects().At(index);
  return R"({"iin":")" + s.iin + R"(","phone":")" + s.phone + R"("})";
}

std::string Csv(const std::string& ref) {
  return "action,iin,kind,ref,amount\nopen," + demo::SyntheticSubjects().At(1).iin + ",debt," + ref +
         ",100\n";
}

// crm, as the system that builds offers: a duty that records for marketing.
void GrantCrmRecord(rules::Engine& e, const testing::AccessWorld& w, Vars&) {
  auto r = e.GrantDuty({"crm", "marketing",
                        {"user.contact.phone", "user.social.public_profile", "user.derived.marketing_profile"}, false,
                        testing::Acts({DutyAction::kRecord})},
                       w["admin"]);
  ASSERT_TRUE(r) << r.error().ToString();
}

void OpenDebt(rules::Engine& e, const testing::AccessWorld& w, const std::string& ref, Vars&) {
  auto r = e.OpenObligation({rules::SubjectKey::Id(1), ObligationKind::kDebt, ref, "100"}, w["billing"]);
  ASSERT_TRUE(r) << r.error().ToString();
}

// A calendar year's file as the body of POST /v1/calendars.
std::string CalendarBody() {
  return boost::json::serialize(boost::json::object{
      {"content", testing::ReadFile(testing::SourceDir() / "calendars/kz/2026.yaml")}});
}

// An application of subject 1 received by the office, as {app}; moved on to
// identity_verified when `verified`.
void FileApplication(rules::Engine& e, const testing::AccessWorld& w, Vars& v, bool verified) {
  rules::ApplicationRequest r;
  r.subject = rules::SubjectKey::Id(1);
  r.kind = "information";
  r.channel = "office_written";
  r.reference = "REG-7";
  auto filed = e.FileApplication(r, w["olga"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  v["app"] = std::to_string(filed->record.id);
  if (verified) ASSERT_TRUE(e.AdvanceApplication(filed->record.id, "identity_verified", w["olga"]));
}
void Filed(rules::Engine& e, const testing::AccessWorld& w, Vars& v) { FileApplication(e, w, v, false); }
// A blocking application of a new subject, verified, as {app}; the subject
// blocked on it when `block`.
void Blocking(rules::Engine& e, const testing::AccessWorld& w, Vars& v, bool block) {
  const auto s = demo::SyntheticSubjects().At(40);
  auto who = e.AddSubject({s.iin, s.phone, {}, "subject"}, w["onboarding"]);
  ASSERT_TRUE(who) << who.error().ToString();
  rules::ApplicationRequest r{rules::SubjectKey::Id(*who), "blocking", "e_document", "ED-1", {}, {}, {}, {}};
  auto filed = e.FileApplication(r, w["olga"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  v["app"] = std::to_string(filed->record.id);
  ASSERT_TRUE(e.AdvanceApplication(filed->record.id, "identity_verified", w["olga"]));
  if (block) ASSERT_TRUE(e.BlockSubject(filed->record.id, w["olga"]));
}
void Verified(rules::Engine& e, const testing::AccessWorld& w, Vars& v) { FileApplication(e, w, v, true); }

const std::vector<Row>& Rows() {
  static const std::vector<Row> rows = {
      {"application.file",
       {"olga", "POST", "/v1/requests", R"({"subject":1,"kind":"information","channel":"office_written","reference":"REG-1"})"},
       201,
       {"anna", "POST", "/v1/requests", R"({"subject":1,"kind":"information","channel":"office_written","reference":"REG-1"})"},
       "no_duty"},
      {"applications.read", {"olga", "GET", "/v1/requests/{app}", ""}, 200,
       {"anna", "GET", "/v1/requests/{app}", ""}, "no_duty", Filed},
      {"applications.read (subject)", {"dpo", "GET", "/v1/subjects/1/requests", ""}, 200,
       {"idle", "GET", "/v1/subjects/1/requests", ""}, "no_duty", Filed},
      {"applications.read (due)", {"olga", "GET", "/v1/requests?due_before=2030-01-01", ""}, 200,
       {"crm", "GET", "/v1/requests?due_before=2030-01-01", ""}, "no_duty", Filed},
      {"application.handle", {"olga", "POST", "/v1/requests/{app}/advance", R"({"to":"identity_verified"})"}, 200,
       {"crm", "POST", "/v1/requests/{app}/advance", R"({"to":"identity_verified"})"}, "no_duty", Filed},
      {"application.handle (documents)",
       {"olga", "POST", "/v1/requests/{app}/documents",
        R"({"reference":"SCAN-1","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})"},
       200,
       {"anna", "POST", "/v1/requests/{app}/documents",
        R"({"reference":"SCAN-1","sha256":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})"},
       "no_duty", Filed},
      {"application.handle (answer)", {"dpo", "POST", "/v1/requests/{app}/answer", R"({"reference":"OUT-1"})"}, 200,
       {"anna", "POST", "/v1/requests/{app}/answer", R"({"reference":"OUT-1"})"}, "no_duty", Verified},
      {"application.handle (refuse)", {"olga", "POST", "/v1/requests/{app}/refuse", R"({"reason":"duplicate"})"},
       200, {"billing", "POST", "/v1/requests/{app}/refuse", R"({"reason":"duplicate"})"}, "no_duty", Filed},
      {"application.handle (block)", {"olga", "POST", "/v1/requests/{app}/block", ""}, 200,
       {"anna", "POST", "/v1/requests/{app}/block", ""}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) { Blocking(e, w, v, false); }},
      {"application.handle (unblock)",
       {"olga", "POST", "/v1/requests/{app}/unblock", R"({"reason":"breach_not_confirmed"})"}, 200,
       {"crm", "POST", "/v1/requests/{app}/unblock", R"({"reason":"breach_not_confirmed"})"}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) { Blocking(e, w, v, true); }},
      {"statement.read", {"olga", "GET", "/v1/subjects/1/statement?lang=ru&format=html", ""}, 200,
       {"anna", "GET", "/v1/subjects/1/statement?lang=ru", ""}, "no_duty"},
      {"breach.record",
       {"dpo", "POST", "/v1/breaches", R"({"how":"siem_alert","categories":["user.contact.phone"],"measures":["access_revoked"],"subjects":[1]})"},
       201,
       {"olga", "POST", "/v1/breaches", R"({"how":"siem_alert","categories":["user.contact.phone"],"measures":["access_revoked"],"subjects":[1]})"},
       "dpo_only"},
      {"breaches.read", {"dpo", "GET", "/v1/breaches", ""}, 200, {"olga", "GET", "/v1/breaches", ""}, "dpo_only"},
      {"retention.plan", {"dpo", "GET", "/v1/retention/plan?as_of=2030-01-01", ""}, 200,
       {"olga", "GET", "/v1/retention/plan", ""}, "dpo_only"},
      {"retention.run", {"dpo", "POST", "/v1/retention/runs", "{}"}, 200,
       {"olga", "POST", "/v1/retention/runs", "{}"}, "dpo_only"},
      {"retention.acts", {"dpo", "GET", "/v1/retention/acts", ""}, 200,
       {"anna", "GET", "/v1/retention/acts", ""}, "dpo_only"},
      {"transfer.make",
       {"sales", "POST", "/v1/transfers",
        R"({"recipient":"partner_bank_kz","purpose":"convergent_services","categories":["user.identity.name"],"subjects":[1]})"},
       201,
       {"dana", "POST", "/v1/transfers",
        R"({"recipient":"partner_bank_kz","purpose":"convergent_services","categories":["user.identity.name"],"subjects":[1]})"},
       "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars&) {
         auto g = e.GrantConsent({rules::SubjectKey::Id(1), "convergent_services", "mobile_app", "APP-9"}, w["sales"]);
         ASSERT_TRUE(g) << g.error().ToString();
       }},
      {"transfers.read", {"dpo", "GET", "/v1/transfers", ""}, 200, {"anna", "GET", "/v1/transfers", ""}, "no_duty"},
      {"aggregate.release",
       {"dpo", "POST", "/v1/aggregates", R"({"purpose":"contract_performance","by":["service:marketing_offers"]})"},
       201,
       {"idle", "POST", "/v1/aggregates", R"({"purpose":"contract_performance","by":["service:marketing_offers"]})"},
       "no_duty"},
      {"aggregates.read", {"dpo", "GET", "/v1/aggregates", ""}, 200, {"anna", "GET", "/v1/aggregates", ""},
       "dpo_only"},
      {"policy.accept",
       {"crm", "POST", "/v1/subjects/1/acceptances", R"({"channel":"mobile_app","evidence":"APP-ACC-1"})"}, 201,
       {"idle", "POST", "/v1/subjects/1/acceptances", R"({"channel":"mobile_app","evidence":"APP-ACC-1"})"},
       "no_duty"},
      {"statistics.read", {"dpo", "GET", "/v1/statistics?from=2025-01-01&to=2025-12-31", ""}, 200,
       {"anna", "GET", "/v1/statistics", ""}, "admin_only"},
      {"outbox.read", {"admin", "GET", "/v1/outbox?pending=true", ""}, 200, {"anna", "GET", "/v1/outbox", ""},
       "admin_only"},
      {"transfers.read (one)", {"sales", "GET", "/v1/transfers/{transfer}", ""}, 200,
       {"olga", "GET", "/v1/transfers/{transfer}", ""}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) {
         ASSERT_TRUE(e.GrantConsent({rules::SubjectKey::Id(1), "convergent_services", "mobile_app", "APP-9"},
                                    w["sales"]));
         std::ostringstream out;
         auto t = e.Transfer({"partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}}, w["sales"], out);
         ASSERT_TRUE(t) << t.error().ToString();
         v["transfer"] = std::to_string(t->record.id);
       }},
      // Subject 1's second contract (SMS-1) holds the personalised offers,
      // whose purpose crm withdraws for; anna switches nothing off.
      {"contract.end", {"crm", "POST", "/v1/subjects/1/contracts/2/end", R"({"evidence":"NOTICE-1"})"}, 200,
       {"anna", "POST", "/v1/subjects/1/contracts/2/end", R"({"evidence":"NOTICE-1"})"}, "no_duty"},
      {"calendar.import", {"admin", "POST", "/v1/calendars", CalendarBody()}, 201,
       {"olga", "POST", "/v1/calendars", CalendarBody()}, "admin_only"},
      {"subject.add", {"onboarding", "POST", "/v1/subjects", SubjectBody(30)}, 201,
       {"crm", "POST", "/v1/subjects", SubjectBody(31)}, "no_duty"},
      {"subject.lookup",
       {"anna", "POST", "/v1/subjects/search", R"({"phone":")" + demo::SyntheticSubjects().At(1).phone + R"("})"},
       200,
       {"anna", "POST", "/v1/subjects/search", R"({"iin":")" + demo::SyntheticSubjects().At(1).iin + R"("})"},
       "no_duty"},
      // Edition 1 names no source and no purpose that allows enrichment: the
      // caller with the duty passes the permission, and the policy refuses
      // (422: no such source). tests/rules/enrichment_test.cc runs edition 2.
      {"data.enrich",
       {"crm", "POST", "/v1/subjects/1/enrichments",
        R"({"category":"user.social.public_profile","value":"x","source":"public_social_accounts","purpose":"marketing"})"},
       422,
       {"anna", "POST", "/v1/subjects/1/enrichments",
        R"({"category":"user.social.public_profile","value":"x","source":"public_social_accounts","purpose":"marketing"})"},
       "no_duty", GrantCrmRecord},
      {"profile.derive",
       {"crm", "POST", "/v1/subjects/1/derived",
        R"({"category":"user.derived.marketing_profile","value":"s","purpose":"marketing","inputs":["user.contact.phone"]})"},
       409,
       {"anna", "POST", "/v1/subjects/1/derived",
        R"({"category":"user.derived.marketing_profile","value":"s","purpose":"marketing","inputs":["user.contact.phone"]})"},
       "no_duty", GrantCrmRecord},
      {"data.record",
       {"onboarding", "POST", "/v1/subjects/1/data", R"({"category":"user.contact.address","value":"Almaty"})"},
       201,
       {"anna", "POST", "/v1/subjects/1/data", R"({"category":"user.contact.address","value":"Almaty"})"},
       "no_duty"},
      {"data.read", {"anna", "GET", "/v1/subjects/1?purpose=contract_performance", ""}, 200,
       {"anna", "GET", "/v1/subjects/1?purpose=marketing", ""}, "no_duty"},
      {"contract.join",
       {"onboarding", "POST", "/v1/subjects/2/contracts",
        R"({"method":"sms","services":["marketing_offers"],"evidence":"SMS-2"})"},
       201,
       {"crm", "POST", "/v1/subjects/2/contracts",
        R"({"method":"sms","services":["contests"],"evidence":"SMS-3"})"},
       "purpose_not_allowed_for_caller"},
      {"service.enable",
       {"crm", "POST", "/v1/subjects/2/services/marketing_offers/enable",
        R"({"channel":"mobile_app","evidence":"APP-1"})"},
       200,
       {"anna", "POST", "/v1/subjects/2/services/marketing_offers/enable",
        R"({"channel":"mobile_app","evidence":"APP-1"})"},
       "no_duty"},
      {"service.disable", {"crm", "POST", "/v1/subjects/1/services/marketing_offers/disable", "{}"}, 200,
       {"anna", "POST", "/v1/subjects/1/services/marketing_offers/disable", "{}"}, "no_duty"},
      {"services.read", {"anna", "GET", "/v1/subjects/1/services", ""}, 200,
       {"idle", "GET", "/v1/subjects/1/services", ""}, "no_duty"},
      {"consent.grant",
       {"crm", "POST", "/v1/subjects/2/consents",
        R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-2"})"},
       201,
       {"anna", "POST", "/v1/subjects/2/consents",
        R"({"purpose":"product_development","channel":"mobile_app","evidence":"APP-2"})"},
       "no_duty"},
      {"consent.withdraw",
       {"crm", "POST", "/v1/subjects/1/withdrawals",
        R"({"channel":"app_support_chat","evidence":"CHAT-1","services":["marketing_offers"]})"},
       200,
       {"anna", "POST", "/v1/subjects/1/withdrawals",
        R"({"channel":"app_support_chat","evidence":"CHAT-1","services":["marketing_offers"]})"},
       "no_duty"},
      {"withdrawal.preview",
       {"crm", "POST", "/v1/subjects/1/withdrawals/preview",
        R"({"channel":"app_support_chat","services":["marketing_offers"]})"},
       200,
       {"anna", "POST", "/v1/subjects/1/withdrawals/preview",
        R"({"channel":"app_support_chat","services":["marketing_offers"]})"},
       "no_duty"},
      {"consents.read", {"anna", "GET", "/v1/subjects/1/consents", ""}, 200,
       {"idle", "GET", "/v1/subjects/1/consents", ""}, "no_duty"},
      {"obligation.open",
       {"billing", "POST", "/v1/obligations", R"({"subject":1,"kind":"debt","ref":"D-1","amount":"100"})"},
       201,
       {"billing", "POST", "/v1/obligations", R"({"subject":1,"kind":"legal_hold","ref":"H-1"})"},
       "legal_hold_role_required"},
      {"obligation.close", {"billing", "POST", "/v1/obligations/D-2/close", ""}, 200,
       {"anna", "POST", "/v1/obligations/D-2/close", ""}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) { OpenDebt(e, w, "D-2", v); }},
      {"obligation.import", {"billing", "POST", "/v1/obligations/import", Csv("D-3")}, 200,
       {"crm", "POST", "/v1/obligations/import", Csv("D-4")}, "no_duty"},
      {"obligations.read", {"billing", "GET", "/v1/subjects/1/obligations", ""}, 200,
       {"anna", "GET", "/v1/subjects/1/obligations", ""}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) { OpenDebt(e, w, "D-5", v); }},
      {"check", {"crm", "POST", "/v1/check", R"({"subject":1,"purpose":"marketing"})"}, 200,
       {"crm", "POST", "/v1/check", R"({"subject":1,"purpose":"debt_collection"})"},
       "purpose_not_allowed_for_caller"},
      {"check (batch)", {"crm", "POST", "/v1/check/batch", R"({"subjects":[1,2],"purpose":"marketing"})"}, 200,
       {"anna", "POST", "/v1/check/batch", R"({"subjects":[1,2],"purpose":"marketing"})"}, "no_duty"},
      {"audience", {"crm", "POST", "/v1/audience", R"({"purpose":"marketing"})"}, 200,
       {"anna", "POST", "/v1/audience", R"({"purpose":"marketing"})"}, "no_duty"},
      {"receipt.read", {"crm", "GET", "/v1/receipts/{seq}", ""}, 200,
       {"anna", "GET", "/v1/receipts/{seq}", ""}, "no_duty",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) {
         auto g = e.GrantConsent({rules::SubjectKey::Id(2), "product_development", "mobile_app", "APP-7"},
                                 w["crm"]);
         ASSERT_TRUE(g) << g.error().ToString();
         v["seq"] = std::to_string(g->revision);
       }},
      {"access_trail.read", {"dpo", "GET", "/v1/audit/access?subject=1", ""}, 200,
       {"anna", "GET", "/v1/audit/access?subject=1", ""}, "dpo_only"},
      {"audit.verify", {"admin", "GET", "/v1/audit/verify", ""}, 200,
       {"anna", "GET", "/v1/audit/verify", ""}, "admin_only"},
      {"audit.checkpoint", {"dpo", "GET", "/v1/audit/checkpoint", ""}, 200,
       {"anna", "GET", "/v1/audit/checkpoint", ""}, "admin_only"},
      {"audit.checkpoint (consistency)", {"admin", "GET", "/v1/audit/consistency?from=1", ""}, 200,
       {"anna", "GET", "/v1/audit/consistency?from=1", ""}, "admin_only"},
      {"actors.manage", {"admin", "POST", "/v1/actors", R"({"id":"eve","role":"employee"})"}, 201,
       {"dpo", "POST", "/v1/actors", R"({"id":"eve","role":"employee"})"}, "admin_only"},
      {"actors.manage (duty)",
       {"admin", "POST", "/v1/actors/dana/duties",
        R"({"purpose":"marketing","categories":["user.contact.phone"]})"},
       201,
       {"dpo", "POST", "/v1/actors/dana/duties",
        R"({"purpose":"marketing","categories":["user.contact.phone"]})"},
       "admin_only"},
      {"actors.manage (duty remove)", {"admin", "DELETE", "/v1/actors/anna/duties/contract_performance", ""},
       200, {"anna", "DELETE", "/v1/actors/anna/duties/contract_performance", ""}, "admin_only"},
      {"actors.manage (disable)", {"admin", "POST", "/v1/actors/bek/disable", ""}, 200,
       {"crm", "POST", "/v1/actors/bek/disable", ""}, "admin_only"},
      {"actors.manage (key)", {"admin", "POST", "/v1/actors/billing/keys", R"({"expires":"2030-01-31"})"},
       201, {"dpo", "POST", "/v1/actors/billing/keys", R"({"expires":"2030-01-31"})"}, "admin_only"},
      {"actors.manage (revoke)", {"admin", "POST", "/v1/actors/crm/keys/{crm_key}/revoke", ""}, 200,
       {"dpo", "POST", "/v1/actors/crm/keys/{crm_key}/revoke", ""}, "admin_only",
       [](rules::Engine&, const testing::AccessWorld& w, Vars& v) { v["crm_key"] = KeyIdOf(w.keys.at("crm")); }},
      {"actors.manage (enrol)", {"admin", "POST", "/v1/actors/anna/enrolments", R"({"valid_hours":24})"},
       201, {"dpo", "POST", "/v1/actors/anna/enrolments", R"({"valid_hours":24})"}, "admin_only"},
      {"key.redeem", {"", "POST", "/v1/enrolments/redeem", R"({"token":"{fresh}"})"}, 201,
       {"", "POST", "/v1/enrolments/redeem", R"({"token":"{used}"})"}, "enrolment_invalid",
       [](rules::Engine& e, const testing::AccessWorld& w, Vars& v) {
         v["used"] = e.CreateEnrolment("anna", w["admin"]).value().token;
         ASSERT_TRUE(e.RedeemEnrolment(v["used"]));
         v["fresh"] = e.CreateEnrolment("anna", w["admin"]).value().token;
       },
       401},
      {"actors.read", {"admin", "GET", "/v1/actors", ""}, 200, {"dpo", "GET", "/v1/actors", ""},
       "admin_only"},
      {"actors.read (keys)", {"admin", "GET", "/v1/actors/crm/keys", ""}, 200,
       {"dpo", "GET", "/v1/actors/crm/keys", ""}, "admin_only"},
      {"actors.read (duties)", {"admin", "GET", "/v1/actors/crm/duties", ""}, 200,
       {"dpo", "GET", "/v1/actors/crm/duties", ""}, "admin_only"},
      {"access_trail.read (by actor)", {"dpo", "GET", "/v1/audit/access?actor=anna", ""}, 200,
       {"anna", "GET", "/v1/audit/access?actor=anna", ""}, "dpo_only"},
      {"consents.read (acceptance)", {"anna", "GET", "/v1/subjects/1/acceptances", ""}, 200,
       {"idle", "GET", "/v1/subjects/1/acceptances", ""}, "no_duty"},
  };
  return rows;
}

// gtest names a failing row by its action, not its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.action; }

// Every action of the permission model is a row of docs/access.md and of
// this matrix (the public reads and the CLI-only ones excepted here).
TEST(AccessMd, EveryActionHasItsRowAndItsTest) {
  const std::string doc = testing::ReadFile(testing::SourceDir() / "docs/access.md");
  std::set<std::string> tested;
  for (const Row& r : Rows()) tested.insert(r.action.substr(0, r.action.find(' ')));
  for (int a = 0; a <= static_cast<int>(rules::Action::kStatisticsRead); ++a) {
    const std::string name(rules::ActionName(static_cast<rules::Action>(a)));
    EXPECT_NE(doc.find("`" + name + "`"), std::string::npos) << name << " has no row in docs/access.md";
    const bool http = name != "keys.rotate_master" && name != "keys.rotate_signing" && name != "calendars.read" &&
                      name != "store.backup" && name != "store.restore" &&
                      name != "policy.publish" && name != "webhooks.manage" && name != "outbox.deliver";
    if (http) EXPECT_TRUE(tested.count(name)) << name << " has no case in this matrix";
  }
  // And every route that takes a credential is named, method and path, in
  // some row.
  for (const auto& r : Api::Routes()) {
    if (r.credential == Credential::kNone) continue;
    EXPECT_NE(doc.find(r.method + " " + r.pattern), std::string::npos)
        << r.method << " " << r.pattern << " is in no row of docs/access.md";
  }
}

class AccessMatrix : public ApiTest, public ::testing::WithParamInterface<Row> {
 protected:
  HttpResult Do(const Call& c) {
    auto fill = [&](std::string text) {
      for (const auto& [name, value] : vars_) {
        const std::string placeholder = "{" + name + "}";
        for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder)) {
          text.replace(at, placeholder.size(), value);
        }
      }
      return text;
    };
    const std::string path = fill(c.path);
    return HttpCall(port_, c.method, path, fill(c.body), c.who.empty() ? "" : keys_.at(c.who),
                    c.method == "POST" && path.find("/import") != std::string::npos
                        ? std::map<std::string, std::string>{{"Content-Type", "text/csv"}}
                        : std::map<std::string, std::string>{});
  }
  Vars vars_;
};

TEST_P(AccessMatrix, AllowedAndRefusedAsDocumented) {
  const Row& row = GetParam();
  rules::Engine& e = inst_->engine();
  if (row.setup) row.setup(e, world_, vars_);
  // Refused first: a refusal changes nothing, so the allowed call after it
  // meets the same state.
  const std::int64_t before = Revision();
  HttpResult refused = Do(row.refused);
  EXPECT_EQ(refused.status, row.refused_status) << row.action << ": " << refused.body;
  EXPECT_EQ(Code(refused), row.refused_code) << row.action << ": " << refused.body;
  // Nothing but the access trail may have moved.
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  ASSERT_TRUE(txn->ScanEvents(before + 1, [&](const store::EventRecord& ev) {
    EXPECT_NE(ev.body.find("\"type\":\"access."), std::string::npos) << row.action << ": " << ev.body;
    return true;
  }));
  txn.reset();
  HttpResult allowed = Do(row.allowed);
  EXPECT_EQ(allowed.status, row.allowed_status) << row.action << ": " << allowed.body;
}

INSTANTIATE_TEST_SUITE_P(DocsAccessMd, AccessMatrix, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           std::string name = info.param.action;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

// The rules before every row: the role, the NDA (R-II.3) and the liability
// warning (R-VIII.2) hold for writes as for reads.
TEST_F(ApiTest, R_VIII_2_writes_need_the_nda_and_the_liability_warning_too) {
  const std::string grant =
      R"({"purpose":"marketing","channel":"website","evidence":"W-1"})";
  HttpResult no_nda = Post("/v1/subjects/2/consents", grant, "bek");
  EXPECT_EQ(no_nda.status, 403);
  EXPECT_EQ(Code(no_nda), "nda_not_signed");
  HttpResult no_warning = Post("/v1/subjects/2/consents", grant, "carl");
  EXPECT_EQ(no_warning.status, 403);
  EXPECT_EQ(Code(no_warning), "liability_not_acknowledged");
  HttpResult admin = Post("/v1/subjects/2/consents", grant, "admin");
  EXPECT_EQ(admin.status, 403);
  EXPECT_EQ(Code(admin), "role_not_allowed");
}

TEST_F(ApiTest, R_VI_3_legal_holds_are_opened_and_closed_only_by_the_role_the_policy_names) {
  const std::string hold = R"({"subject":1,"kind":"legal_hold","ref":"HOLD-1"})";
  EXPECT_EQ(Code(Post("/v1/obligations", hold, "billing")), "legal_hold_role_required");
  ASSERT_EQ(Post("/v1/obligations", hold, "dpo").status, 201);
  EXPECT_EQ(Code(Post("/v1/obligations/HOLD-1/close", "", "billing")), "legal_hold_role_required");
  // Billing sees the debts it handles, not the legal hold.
  HttpResult seen = Get("/v1/subjects/1/obligations", "billing");
  ASSERT_EQ(seen.status, 200) << seen.body;
  EXPECT_EQ(seen.body.find("HOLD-1"), std::string::npos);
  EXPECT_NE(Get("/v1/subjects/1/obligations", "dpo").body.find("HOLD-1"), std::string::npos);
  EXPECT_EQ(Post("/v1/obligations/HOLD-1/close", "", "dpo").status, 200);
}

TEST_F(ApiTest, R_VIII_1_a_system_cannot_consent_through_a_contract_for_a_purpose_it_does_not_act_for) {
  // crm may not grant contests_campaigns directly...
  HttpResult direct = Post("/v1/subjects/2/consents",
                           R"({"purpose":"contests_campaigns","channel":"website","evidence":"W-2"})", "crm");
  EXPECT_EQ(Code(direct), "purpose_not_allowed_for_caller");
  // ...nor through joining the contests service, which gives that consent.
  HttpResult joined = Post("/v1/subjects/2/contracts",
                           R"({"method":"sms","services":["contests"],"evidence":"SMS-9"})", "crm");
  EXPECT_EQ(Code(joined), "purpose_not_allowed_for_caller");
  HttpResult check = Post("/v1/check", R"({"subject":2,"purpose":"marketing"})", "crm");
  EXPECT_EQ(Parse(check).at("reason").as_string(), "no_consent");
}

TEST_F(ApiTest, R_VIII_1_listings_show_only_the_purposes_the_callers_duties_cover) {
  HttpResult consents = Get("/v1/subjects/1/consents", "anna");
  ASSERT_EQ(consents.status, 200) << consents.body;
  // Subject 1's marketing consent is not anna's business (contract_performance).
  EXPECT_EQ(consents.body.find("\"marketing\""), std::string::npos) << consents.body;
  HttpResult mine = Get("/v1/subjects/1/consents", "crm");
  EXPECT_NE(mine.body.find("\"marketing\""), std::string::npos) << mine.body;
  HttpResult services = Get("/v1/subjects/1/services", "anna");
  EXPECT_EQ(services.body.find("marketing_offers"), std::string::npos) << services.body;
  EXPECT_NE(services.body.find("mobile_base"), std::string::npos) << services.body;
  // Each listing is in the trail.
  const auto trail = Trail(1);
  ASSERT_GE(trail.size(), 3u);
  EXPECT_EQ(trail[trail.size() - 1].what, "services");
  EXPECT_EQ(trail[trail.size() - 2].what, "consents");
  EXPECT_EQ(trail[trail.size() - 2].actor, "crm");
}

TEST_F(ApiTest, R_VIII_1_an_import_that_names_unknown_iins_is_refused_without_a_lookup_right) {
  const std::string csv = "action,iin,kind,ref,amount\nopen," + demo::SyntheticSubjects().At(77).iin +
                          ",debt,D-9,100\n";
  // crm cannot look subjects up by IIN: it learns nothing of who is a subscriber.
  HttpResult refused = HttpCall(port_, "POST", "/v1/obligations/import", csv, keys_.at("crm"),
                                {{"Content-Type", "text/csv"}});
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body.find("line 2"), std::string::npos) << refused.body;
  // billing may, and its failed lookup is in the ledger.
  const std::int64_t before = Revision();
  HttpResult named = HttpCall(port_, "POST", "/v1/obligations/import", csv, keys_.at("billing"),
                              {{"Content-Type", "text/csv"}});
  EXPECT_EQ(named.status, 400);
  EXPECT_NE(named.body.find("line 2"), std::string::npos) << named.body;
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  bool recorded = false;
  ASSERT_TRUE(txn->ScanEvents(before + 1, [&](const store::EventRecord& ev) {
    recorded = recorded || ev.body.find("\"type\":\"access.lookup\"") != std::string::npos;
    return true;
  }));
  EXPECT_TRUE(recorded);
}

}  // namespace
}  // namespace qorgau::api
