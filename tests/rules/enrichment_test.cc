// Enrichment and profiling (R-X; rules/enrichment.h), under edition 2 of
// the KEM policy (marketing allows enrichment; public social-network
// accounts are a source) with two test suppliers under contract.
#include "rules/enrichment.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "policy/policy_loader.h"
#include "report/statement.h"

namespace qorgau::rules {
namespace {

using testing::Acts;

class EnrichmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicyWithPartners(dir_.path() / "p1"), clock_));
    Open();
    world_ = testing::MakeAccessWorld(engine(), /*with_keys=*/false);
    // Edition 2, in force now.
    const auto file = testing::KemPolicyWithPartners(dir_.path() / "p2", "kem-2");
    policy::LoadResult loaded = policy::LoadPolicyFile(file);
    ASSERT_TRUE(loaded.policy) << loaded.problems.front().ToString();
    PublishRequest req;
    req.policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
    req.files = loaded.files;
    req.main_file = file.filename().string();
    req.reason = "The legal review of edition 1";
    auto published = engine().PublishPolicy(req, world_["dpo"]);
    ASSERT_TRUE(published) << published.error().ToString();
    Open();
    // The system that builds offers: records for marketing.
    const auto console = world_["admin"];
    ASSERT_TRUE(engine().PutActor(
        {"profiler", ActorRole::kSystem, "Offers", "", "", {"marketing", "product_development"}}, console));
    ASSERT_TRUE(engine().GrantDuty({"profiler", "product_development", {"user.social.public_profile"}, false,
                                    Acts({DutyAction::kRecord})},
                                   console));
    ASSERT_TRUE(engine().GrantDuty({"profiler", "marketing",
                                    {"user.contact.phone", "user.social.public_profile", "user.telecom.usage",
                                     "user.derived.marketing_profile", "user.contact.email"},
                                    false, Acts({DutyAction::kRecord})},
                                   console));
    profiler_ = engine().CallerFor("profiler").value();
  }
  void Open() {
    inst_.reset();
    inst_ = app::Instance::Open(data_, clock_).value();
  }
  Engine& engine() { return inst_->engine(); }
  Result<EnrichmentOutcome> Enrich(store::SubjectId id, const std::string& source, const std::string& category,
                                   const std::string& purpose = "marketing") {
    return engine().EnrichData({SubjectKey::Id(id), category, "profile-" + source, source, purpose}, *profiler_);
  }
  Result<EnrichmentOutcome> Derive(store::SubjectId id, std::vector<std::string> inputs) {
    return engine().DeriveAttribute(
        {SubjectKey::Id(id), "user.derived.marketing_profile", "segment:night-owl", "marketing", std::move(inputs)},
        *profiler_);
  }
  std::set<std::string> Held(store::SubjectId id) {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    std::set<std::string> out;
    const auto held = txn->GetPersonalData(id).value();
    for (const auto& d : held) out.insert(d.category + "=" + d.provenance);
    return out;
  }
  void ExpectVerifies() {
    auto v = engine().VerifyLedger(world_["dpo"]);
    ASSERT_TRUE(v) << v.error().ToString();
    EXPECT_TRUE(v->ok) << v->reason;
  }
  static std::string Reason(const Result<EnrichmentOutcome>& r) { return r ? "(done)" : r.error().reason; }

  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
  std::shared_ptr<const Caller> profiler_;
};

TEST_F(EnrichmentTest, R_X_1_data_from_a_public_source_record_the_source_and_purpose_and_show_in_the_statement) {
  auto r = Enrich(1, "public_social_accounts", "user.social.public_profile");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->record.kind, "enriched");
  EXPECT_EQ(r->record.source, "public_social_accounts");
  EXPECT_EQ(r->record.purpose, "marketing");
  EXPECT_TRUE(r->record.agreement.empty());
  EXPECT_TRUE(Held(1).count("user.social.public_profile=public_source"));
  // The statement shows it under its source, for its purpose.
  auto st = engine().Statement({SubjectKey::Id(1), "en"}, world_["dpo"]);
  ASSERT_TRUE(st) << st.error().ToString();
  const auto json = boost::json::parse(report::StatementJson(engine().policy(), *st));
  bool shown = false;
  for (const auto& d : json.at("data").as_array()) {
    if (d.at("category").as_string() != "user.social.public_profile") continue;
    const auto& e = d.at("enrichment").as_object();
    EXPECT_EQ(e.at("source").as_string(), "public_social_accounts");
    EXPECT_EQ(e.at("source_name").as_string(), "Public social-network accounts");
    EXPECT_EQ(e.at("purpose").as_string(), "marketing");
    EXPECT_EQ(d.at("source").as_string(), "public_source");
    shown = true;
  }
  EXPECT_TRUE(shown);
  EXPECT_NE(report::StatementHtml(engine().policy(), *st).find("Public social-network accounts"), std::string::npos);
  ExpectVerifies();
}

TEST_F(EnrichmentTest, R_X_1_a_third_party_supplies_data_only_under_its_agreement_in_force_and_as_it_says) {
  auto ok = Enrich(1, "data_bureau", "user.telecom.usage");
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->record.agreement, "SUP-2025-001");
  EXPECT_TRUE(Held(1).count("user.telecom.usage=third_party"));
  EXPECT_EQ(Reason(Enrich(1, "expired_bureau", "user.social.public_profile")), "agreement_not_in_force");
  EXPECT_EQ(Reason(Enrich(1, "data_bureau", "user.contact.email")), "category_not_from_source");
  auto unknown = Enrich(1, "rumour_mill", "user.social.public_profile");
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().field, "source");
  ExpectVerifies();
}

TEST_F(EnrichmentTest, R_X_2_enrichment_only_for_a_purpose_that_allows_it_and_by_a_duty_that_records) {
  // Product development does not build offers (R-X.2).
  EXPECT_EQ(Reason(Enrich(1, "public_social_accounts", "user.social.public_profile", "product_development")),
            "enrichment_not_allowed");
  // A caller without a duty that records for marketing.
  auto by_crm = engine().EnrichData(
      {SubjectKey::Id(1), "user.social.public_profile", "x", "public_social_accounts", "marketing"}, world_["crm"]);
  ASSERT_FALSE(by_crm);
  EXPECT_EQ(by_crm.error().reason, "no_duty");
  // An identifier is never enriched.
  EXPECT_EQ(Reason(Enrich(1, "public_social_accounts", "user.contact.phone")), "identity_category");
  EXPECT_TRUE(Held(1).count("user.social.public_profile=public_source") == 0);
}

TEST_F(EnrichmentTest, R_X_2_enrichment_is_refused_when_the_subjects_legal_basis_does_not_hold) {
  // Subject 2 never consented to marketing.
  const auto before = Held(2);
  auto r = Enrich(2, "public_social_accounts", "user.social.public_profile");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition) << r.error().ToString();
  EXPECT_EQ(r.error().reason, "no_consent");
  EXPECT_EQ(Held(2), before);
  EXPECT_EQ(Reason(Derive(2, {"user.contact.phone"})), r.error().reason);
}

TEST_F(EnrichmentTest, R_X_2_a_derived_attribute_records_its_inputs_and_purpose) {
  ASSERT_TRUE(Enrich(1, "public_social_accounts", "user.social.public_profile"));
  auto r = Derive(1, {"user.contact.phone", "user.social.public_profile"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->record.kind, "derived");
  EXPECT_EQ(r->record.inputs, (std::vector<std::string>{"user.contact.phone", "user.social.public_profile"}));
  EXPECT_TRUE(Held(1).count("user.derived.marketing_profile=derived"));
  // Only from what the subject's data hold.
  EXPECT_EQ(Reason(Derive(1, {"user.telecom.usage"})), "input_not_held");
  auto bad = Derive(1, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "inputs");
  // Under this edition a derived value goes through DeriveAttribute only.
  auto put = engine().PutData(SubjectKey::Id(1), "user.derived.marketing_profile", "segment:x", "derived", *profiler_);
  ASSERT_FALSE(put);
  EXPECT_EQ(put.error().reason, "enrichment_required");
  ExpectVerifies();
}

TEST_F(EnrichmentTest, R_X_2_an_objection_to_profiling_destroys_the_derived_attributes_and_stops_profiling) {
  ASSERT_TRUE(Enrich(1, "public_social_accounts", "user.social.public_profile"));
  ASSERT_TRUE(Derive(1, {"user.contact.phone"}));
  ApplicationRequest objection;
  objection.subject = SubjectKey::Id(1);
  objection.kind = "objection";
  objection.channel = "office_written";
  objection.reference = "REG-OBJ-1";
  auto filed = engine().FileApplication(objection, world_["olga"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  ASSERT_TRUE(engine().AdvanceApplication(filed->record.id, "identity_verified", world_["olga"]));
  // Nothing is destroyed before the objection is answered.
  EXPECT_TRUE(Held(1).count("user.derived.marketing_profile=derived"));
  auto answered = engine().AnswerApplication(filed->record.id, "OUT-OBJ-1", world_["olga"]);
  ASSERT_TRUE(answered) << answered.error().ToString();
  EXPECT_FALSE(Held(1).count("user.derived.marketing_profile=derived"));
  // Data from a source are not derived: they stay, kept by their own rule.
  EXPECT_TRUE(Held(1).count("user.social.public_profile=public_source"));
  EXPECT_EQ(Reason(Derive(1, {"user.contact.phone"})), "profiling_objected");
  EXPECT_EQ(Reason(Enrich(1, "public_social_accounts", "user.social.public_profile")), "profiling_objected");
  // The statement says what was destroyed and why.
  auto st = engine().Statement({SubjectKey::Id(1), "en"}, world_["dpo"]);
  ASSERT_TRUE(st);
  EXPECT_NE(report::StatementJson(engine().policy(), *st).find("the subject objected to profiling"), std::string::npos);
  ExpectVerifies();
}

TEST_F(EnrichmentTest, R_X_2_withdrawing_the_consent_a_profile_rests_on_destroys_it) {
  ASSERT_TRUE(Derive(1, {"user.contact.phone"}));
  WithdrawalRequest w;
  w.subject = SubjectKey::Id(1);
  w.channel = "personal_cabinet";
  w.evidence = "PC-W-1";
  w.purposes = {"marketing"};
  auto done = engine().Withdraw(w, world_["crm"]);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_FALSE(Held(1).count("user.derived.marketing_profile=derived"));
  ExpectVerifies();
}

TEST_F(EnrichmentTest, R_IV_5_a_value_the_subject_gave_is_not_replaced_by_one_from_a_source) {
  auto put = engine().PutData(SubjectKey::Id(1), "user.social.public_profile", "given-by-subject", "subject", *profiler_);
  ASSERT_TRUE(put) << put.error().ToString();
  EXPECT_EQ(Reason(Enrich(1, "public_social_accounts", "user.social.public_profile")), "recorded_by_subject");
  EXPECT_TRUE(Held(1).count("user.social.public_profile=subject"));
}

TEST_F(EnrichmentTest, R_X_audit_verify_replays_where_enriched_data_came_from) {
  ASSERT_TRUE(Enrich(1, "data_bureau", "user.telecom.usage"));
  ExpectVerifies();
  inst_.reset();
  testing::ExecSql(data_ / "qorgau.db", "UPDATE enrichments SET agreement = 'SUP-FORGED'");
  Open();
  auto v = engine().VerifyLedger(world_["dpo"]).value();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.reason.find("enrichments (subject 1, user.telecom.usage): differs"), std::string::npos) << v.reason;
}

}  // namespace
}  // namespace qorgau::rules
