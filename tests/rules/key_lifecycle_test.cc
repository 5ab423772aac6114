// The key lifecycle (R-VIII): a key revoked, an actor disabled, a duty
// removed take effect at once; keys expire; a person's key comes only
// through an enrolment token the person redeems, never from an
// administrator; and the ledger proves every step.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"

namespace qorgau::rules {
namespace {

class KeyLifecycle : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, qorgau::testing::KemPolicy(), clock_));
    inst_ = app::Instance::Open(data_, clock_).value();
    world_ = qorgau::testing::MakeAccessWorld(engine(), /*with_keys=*/true);
  }
  Engine& engine() { return inst_->engine(); }
  const Caller& admin() { return world_["admin"]; }
  bool Works(const std::string& who) { return engine().Authenticate(world_.keys.at(who)).has_value(); }

  qorgau::testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  qorgau::testing::AccessWorld world_;
};

TEST_F(KeyLifecycle, R_VIII_1_a_revoked_key_stops_at_once) {
  ASSERT_TRUE(Works("crm"));  // now cached
  const std::string id = crypto::ToHex(crypto::Sha256(world_.keys.at("crm"))).substr(0, 12);
  auto refused = engine().RevokeKey("crm", id, world_["dpo"]);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "admin_only");
  ASSERT_TRUE(engine().RevokeKey("crm", id, admin()));
  EXPECT_FALSE(Works("crm"));
  EXPECT_EQ(engine().Authenticate(world_.keys.at("crm")).error().reason, "key_revoked");
  EXPECT_EQ(engine().RevokeKey("crm", id, admin()).error().code, ErrorCode::kNotFound);
  auto nobody = engine().RevokeKey("nobody", id, admin());
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(nobody.error().field, "actor") << "an unknown actor is named as such, not as a missing key";
}

TEST_F(KeyLifecycle, R_VIII_1_a_disabled_actor_acts_no_more) {
  ASSERT_TRUE(Works("anna"));
  ASSERT_TRUE(engine().DisableActor("anna", admin()));
  EXPECT_FALSE(Works("anna"));
  EXPECT_EQ(engine().Authenticate(world_.keys.at("anna")).error().reason, "actor_disabled");
  auto as = engine().CallerFor("anna");
  ASSERT_FALSE(as);
  EXPECT_EQ(as.error().reason, "actor_disabled");
  EXPECT_FALSE(engine().CreateEnrolment("anna", admin()));
  EXPECT_EQ(engine().DisableActor("admin", admin()).error().reason, "role_not_allowed");
}

TEST_F(KeyLifecycle, R_VIII_1_a_disabled_actor_is_not_brought_back_by_an_update) {
  ASSERT_TRUE(engine().DisableActor("anna", admin()));
  const ActorInput again{"anna", store::ActorRole::kEmployee, "Anna", "2024-02-01", "2024-02-01", {}};
  auto put = engine().PutActor(again, admin());
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().reason, "actor_disabled");
  EXPECT_EQ(put.error().field, "id");
  EXPECT_FALSE(Works("anna"));
  // Nor given a duty.
  auto duty = engine().GrantDuty({"anna", "marketing", {"user.contact.phone"}, false,
                                  static_cast<DutyActions>(DutyAction::kRead)},
                                 admin());
  ASSERT_FALSE(duty);
  EXPECT_EQ(duty.error().reason, "actor_disabled");
  auto ok = engine().VerifyLedger(world_["dpo"]).value();
  EXPECT_TRUE(ok.ok) << ok.reason;
}

TEST_F(KeyLifecycle, R_II_3_an_nda_or_liability_warning_dated_in_the_future_is_refused) {
  // The clock stands at 2025-11-26 (Almaty).
  for (const auto& [nda, liability, field] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"2025-11-27", "2024-01-01", "nda_signed"}, {"2024-01-01", "2030-01-01", "liability_acknowledged"}}) {
    auto put = engine().PutActor({"eve", store::ActorRole::kEmployee, "Eve", nda, liability, {}}, admin());
    ASSERT_FALSE(put) << nda << " " << liability;
    EXPECT_EQ(put.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(put.error().field, field);
  }
  EXPECT_FALSE(engine().CallerFor("eve")) << "a refused actor was stored";
  EXPECT_TRUE(engine().PutActor({"eve", store::ActorRole::kEmployee, "Eve", "2025-11-26", "2025-11-26", {}}, admin()));
}

TEST_F(KeyLifecycle, R_VIII_1_a_removed_duty_is_gone_at_once) {
  auto anna = engine().Authenticate(world_.keys.at("anna")).value();
  ASSERT_TRUE(engine().ReadPersonalData(*anna, SubjectKey::Id(1), "contract_performance", {}));
  ASSERT_TRUE(engine().RemoveDuty("anna", "contract_performance", admin()));
  auto again = engine().Authenticate(world_.keys.at("anna")).value();
  auto read = engine().ReadPersonalData(*again, SubjectKey::Id(1), "contract_performance", {});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().reason, "no_duty");
  EXPECT_EQ(engine().RemoveDuty("anna", "contract_performance", admin()).error().code, ErrorCode::kNotFound);
}

TEST_F(KeyLifecycle, KeysExpire) {
  const UnixMillis day = 24LL * 3600 * 1000;
  auto key = engine().CreateApiKey("billing", admin(), clock_.Now() + day);
  ASSERT_TRUE(key) << key.error().ToString();
  EXPECT_TRUE(engine().Authenticate(*key));
  clock_.Advance(day);
  EXPECT_EQ(engine().Authenticate(*key).error().reason, "key_expired");
  EXPECT_EQ(engine().CreateApiKey("billing", admin(), clock_.Now() - 1).error().field, "expires");
}

TEST_F(KeyLifecycle, R_VIII_1_an_administrator_cannot_obtain_a_key_that_acts_as_an_employee) {
  auto direct = engine().CreateApiKey("anna", admin());
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().reason, "enrolment_required");
  const std::string token = engine().CreateEnrolment("anna", admin()).value().token;
  auto redeemed = engine().RedeemEnrolment(token);
  ASSERT_TRUE(redeemed) << redeemed.error().ToString();
  EXPECT_EQ(redeemed->first, "anna");
  EXPECT_EQ(engine().Authenticate(redeemed->second).value()->id(), "anna");
  // Once only, and not after it expires.
  EXPECT_EQ(engine().RedeemEnrolment(token).error().reason, "enrolment_invalid");
  const std::string late = engine().CreateEnrolment("anna", admin(), 3600 * 1000).value().token;
  clock_.Advance(3600 * 1000);
  EXPECT_EQ(engine().RedeemEnrolment(late).error().reason, "enrolment_invalid");
  EXPECT_EQ(engine().RedeemEnrolment("qe_" + std::string(64, '0')).error().reason, "enrolment_invalid");
  EXPECT_EQ(engine().CreateEnrolment("anna", admin(), 3600 * 1000).value().expires_at,
            clock_.Now() + 3600 * 1000);
  // Not a key, or no such key: one reason for both.
  EXPECT_EQ(engine().Authenticate("qk_" + std::string(64, '0')).error().reason, "unauthenticated");
  EXPECT_EQ(engine().Authenticate("not a key").error().reason, "unauthenticated");
}

TEST_F(KeyLifecycle, AnAdministratorSeesKeysByIdNeverTheKeys) {
  const std::string crm_id = crypto::ToHex(crypto::Sha256(world_.keys.at("crm")));
  const UnixMillis day = 24LL * 3600 * 1000;
  ASSERT_TRUE(engine().CreateApiKey("crm", admin(), clock_.Now() + day));
  ASSERT_TRUE(engine().RevokeKey("crm", crm_id.substr(0, 8), admin()));
  auto keys = engine().ListKeys("crm", admin());
  ASSERT_TRUE(keys) << keys.error().ToString();
  ASSERT_EQ(keys->size(), 2u);
  const KeyInfo& revoked = (*keys)[0].id == crm_id ? (*keys)[0] : (*keys)[1];
  const KeyInfo& fresh = (*keys)[0].id == crm_id ? (*keys)[1] : (*keys)[0];
  EXPECT_EQ(revoked.id, crm_id);
  EXPECT_TRUE(revoked.revoked_at);
  EXPECT_FALSE(fresh.revoked_at);
  EXPECT_EQ(fresh.expires_at, clock_.Now() + day);
  EXPECT_EQ(engine().ListKeys("crm", world_["dpo"]).error().reason, "admin_only");
  EXPECT_EQ(engine().ListKeys("nobody", admin()).error().code, ErrorCode::kNotFound);
}

TEST_F(KeyLifecycle, TheLatestCheckpointIsTheLatestSignedTreeHead) {
  auto head = engine().LatestCheckpoint(world_["dpo"]);
  ASSERT_TRUE(head) << head.error().ToString();
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  EXPECT_EQ(head->size, ledger::Revision(*txn).value());
  EXPECT_EQ(engine().LatestCheckpoint(world_["anna"]).error().reason, "admin_only");
}

TEST_F(KeyLifecycle, TheLedgerProvesTheLifecycleAndAnUndoneRevocationIsFound) {
  const std::string id = crypto::ToHex(crypto::Sha256(world_.keys.at("crm"))).substr(0, 12);
  ASSERT_TRUE(engine().RevokeKey("crm", id, admin()));
  ASSERT_TRUE(engine().DisableActor("bek", admin()));
  ASSERT_TRUE(engine().RemoveDuty("dana", "marketing", admin()));
  ASSERT_TRUE(engine().CreateEnrolment("carl", admin()));
  auto ok = engine().VerifyLedger(world_["dpo"]).value();
  ASSERT_TRUE(ok.ok) << ok.reason;
  inst_.reset();
  int n = 0;
  for (const auto& [sql, found] : std::vector<std::pair<std::string, std::string>>{
           {"UPDATE api_keys SET revoked_at = NULL", "live, the ledger says revoked"},
           {"UPDATE actors SET disabled_at = NULL WHERE id = 'bek'", "actors (bek)"},
           {"UPDATE enrolments SET expires_at = expires_at + 1", "enrolments ("}}) {
    const auto copy = dir_.path() / ("copy-" + std::to_string(++n));
    std::filesystem::copy(data_, copy, std::filesystem::copy_options::recursive);
    std::filesystem::copy_file(data_.string() + ".master.key", copy.string() + ".master.key");
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((copy / "qorgau.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto report = app::AuditDataDirectory(copy, app::AuditRequest{"dpo", {}, {}});
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_FALSE(report->ok) << sql;
    EXPECT_NE(report->reason.find(found), std::string::npos) << report->reason;
  }
}

}  // namespace
}  // namespace qorgau::rules
