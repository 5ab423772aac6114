// Policy editions (R-0.1, R-XI; rules/editions.h): publishing edition 2 of
// the KEM policy with its difference and reasons, the outbox, renewal of
// consents where a purpose widened, acceptance by continued use, an edition
// that waits for its day; and what edition 2 corrects (R-VI.3's scope,
// debt collection while a debt is open, purpose 1's whole text).
#include "rules/editions.h"

#include <gtest/gtest.h>

#include <chrono>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "policy/policy_loader.h"

namespace qorgau::rules {
namespace {

constexpr UnixMillis kDay = 86'400'000;

class EditionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicy(), clock_));
    Open();
    world_ = testing::MakeAccessWorld(engine(), /*with_keys=*/false);
  }
  void Open() {
    inst_.reset();
    auto inst = app::Instance::Open(data_, clock_);
    ASSERT_TRUE(inst) << inst.error().ToString();
    inst_ = std::move(*inst);
  }
  Engine& engine() { return inst_->engine(); }
  static PublishRequest Request(const std::filesystem::path& file, std::optional<UnixMillis> at = std::nullopt) {
    policy::LoadResult loaded = policy::LoadPolicyFile(file);
    EXPECT_TRUE(loaded.policy) << (loaded.problems.empty() ? "" : loaded.problems.front().ToString());
    PublishRequest req;
    if (!loaded.policy) return req;
    req.policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
    req.files = loaded.files;
    req.main_file = file.filename().string();
    req.effective_at = at;
    req.reason = "The legal review of edition 1";
    return req;
  }
  static std::filesystem::path Edition2() { return testing::SourceDir() / "policies/kem-2/policy.yaml"; }
  // Edition 1 as edition 2, with `edit` applied and `changes` as its reasons.
  std::filesystem::path Variant(const std::string& from, const std::string& to, const std::string& changes) {
    const auto path = testing::CopyKemPolicy(dir_.path() / "variant");
    std::string text = testing::ReplaceOnce(testing::ReadFile(path), "edition:\n  number: 1", "edition:\n  number: 2");
    text = testing::ReplaceOnce(text, from, to);
    text = testing::ReplaceOnce(text, "    en: texts/en.md\n", "    en: texts/en.md\n  changes:\n" + changes);
    testing::WriteFile(path, text);
    return path;
  }
  Result<index::Decision> Check(store::SubjectId id, const std::string& purpose, const Caller& caller) {
    return engine().Check(caller, SubjectKey::Id(id), purpose, {});
  }
  void ExpectVerifies() {
    auto v = engine().VerifyLedger(world_["dpo"]);
    ASSERT_TRUE(v) << v.error().ToString();
    EXPECT_TRUE(v->ok) << v->reason;
  }

  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
};

TEST_F(EditionsTest, R_XI_1_edition_2_is_published_with_its_diff_and_reasons_and_told_through_the_outbox) {
  auto r = engine().PublishPolicy(Request(Edition2()), world_["dpo"]);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->edition, 2);
  auto has = [&](const std::string& key, const std::string& kind) {
    return std::any_of(r->diff.changes.begin(), r->diff.changes.end(),
                       [&](const policy::PolicyChange& c) { return c.Key() == key && c.change == kind; });
  };
  EXPECT_TRUE(has("purposes/contract_performance", "changed"));
  EXPECT_TRUE(has("purposes/fraud_protection", "changed"));
  EXPECT_TRUE(has("services/partner_services", "changed"));
  EXPECT_TRUE(has("categories/user.device.sim_iccid", "added"));
  EXPECT_TRUE(has("categories/user.social.public_profile", "changed"));
  EXPECT_TRUE(has("texts/ru", "changed"));
  EXPECT_FALSE(has("texts/kk", "changed"));  // the approved Kazakh text is the same
  const auto json = PolicyDiffJson(r->diff, *Request(Edition2()).policy);
  EXPECT_EQ(json.find("\"reason\":null"), std::string::npos) << "every change has its reason";
  // Both subscribers of the access world are told.
  EXPECT_EQ(r->notified, 2);
  const auto outbox = engine().Outbox(true, world_["dpo"]).value();
  ASSERT_EQ(outbox.size(), 2u);
  EXPECT_EQ(outbox[0].kind, "policy.published");
  EXPECT_EQ(outbox[0].event_seq, outbox[1].event_seq);

  // The next process opens edition 2, in force; purpose 1 in the seed's
  // whole Kazakh wording (compared whole, not as a substring).
  Open();
  EXPECT_EQ(inst_->policy().edition.number, 2);
  EXPECT_EQ(policy::InLanguage(inst_->policy().FindPurpose("contract_performance")->name, "kk"),
            "клиентпен өз қызметтерін көрсету, КЕМ серіктестері мен КЕМ өкілдерінің қызметтерін ұсыну туралы "
            "шарттардың талаптарын орындау, оның ішінде КЕМ үшінші тұлғалар мен компания үшінші тұлғаларға "
            "көрсететін қызметтер");
  const auto editions = engine().ListEditions().value();
  ASSERT_EQ(editions.size(), 2u);
  EXPECT_FALSE(editions[0].in_force);
  EXPECT_TRUE(editions[1].in_force);
  ASSERT_TRUE(editions[1].diff.has_value());
  EXPECT_EQ(editions[1].record.reason, "The legal review of edition 1");
  ExpectVerifies();
}

TEST_F(EditionsTest, R_XI_1_a_change_without_its_reason_or_a_stale_number_is_refused) {
  const std::string reasons = "    - change: categories/user.contact.address\n      reason: \"Marketing by post.\"\n";
  auto missing = engine().PublishPolicy(
      Request(Variant("    purposes: [contract_performance, convergent_services, debt_collection, legal_duties]",
                      "    purposes: [contract_performance, convergent_services, debt_collection, legal_duties, marketing]",
                      "    - change: purposes/marketing\n      reason: \"Nothing changed there.\"\n")),
      world_["dpo"]);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().reason, "change_without_reason");
  EXPECT_NE(missing.error().message.find("categories/user.contact.address"), std::string::npos);
  auto by_anna = engine().PublishPolicy(Request(Edition2()), world_["anna"]);
  ASSERT_FALSE(by_anna);
  EXPECT_EQ(by_anna.error().reason, "dpo_only");
  auto past = engine().PublishPolicy(Request(Edition2(), clock_.Now() - kDay), world_["dpo"]);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error().field, "effective_at");
  EXPECT_EQ(engine().ListEditions().value().size(), 1u);
  ASSERT_TRUE(engine().PublishPolicy(Request(Edition2()), world_["dpo"]));
  // Listed at once by the same process (the loaded editions are kept, the
  // new one added to them), with its difference, not in force before a restart.
  const auto listed = engine().ListEditions().value();
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_TRUE(listed[0].in_force);
  EXPECT_FALSE(listed[1].in_force);
  EXPECT_TRUE(listed[1].diff.has_value());
  auto again = engine().PublishPolicy(Request(Edition2()), world_["dpo"]);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().field, "edition.number");
}

// R-XI.2: a consent given under edition 1 no longer covers a purpose that
// edition 2 widened; consenting again restores it.
TEST_F(EditionsTest, R_XI_2_a_widened_purpose_needs_its_consent_again) {
  ASSERT_EQ(Check(1, "marketing", world_["crm"])->reason, index::Reason::kConsentInForce);
  auto r = engine().PublishPolicy(
      Request(Variant("    purposes: [contract_performance, convergent_services, debt_collection, legal_duties]",
                      "    purposes: [contract_performance, convergent_services, debt_collection, legal_duties, marketing]",
                      "    - change: categories/user.contact.address\n      reason: \"Offers by post.\"\n")),
      world_["dpo"]);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_NE(std::find(r->diff.widened.begin(), r->diff.widened.end(), "marketing"), r->diff.widened.end());
  Open();
  auto d = Check(1, "marketing", world_["crm"]);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_FALSE(d->allow);
  EXPECT_EQ(d->reason, index::Reason::kConsentRenewalRequired);
  EXPECT_EQ(index::ReasonCode(d->reason), "consent_renewal_required");
  // An employee's read of the purpose's data is refused the same way.
  auto read = engine().ReadPersonalData(world_["dana"], SubjectKey::Id(1), "marketing", {"user.contact.phone"});
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().reason, "consent_renewal_required");
  // Contract purposes are not consents given apart: unchanged.
  EXPECT_TRUE(Check(1, "contract_performance", world_["onboarding"])->allow);
  auto again = engine().GrantConsent({SubjectKey::Id(1), "marketing", "mobile_app", "APP-RENEW-1"}, world_["crm"]);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(Check(1, "marketing", world_["crm"])->reason, index::Reason::kConsentInForce);
  ExpectVerifies();
}

TEST_F(EditionsTest, R_XI_2_continued_use_and_explicit_acceptance_are_recorded_once) {
  ASSERT_TRUE(engine().PublishPolicy(Request(Edition2()), world_["dpo"]));
  Open();
  // The first change that processes subject 2's data accepts edition 2.
  ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(2), "product_development", "mobile_app", "APP-21"}, world_["crm"]));
  ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(2), "marketing", "mobile_app", "APP-22"}, world_["onboarding"]));
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  const auto two = txn->GetAcceptance(2, 2).value();
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->how, "continued_use");
  EXPECT_EQ(two->channel, "consent.granted");
  EXPECT_FALSE(txn->GetAcceptance(1, 2).value().has_value());
  txn.reset();
  // Subject 1 accepts in the app.
  auto explicit_ = engine().AcceptEdition(SubjectKey::Id(1), "mobile_app", "APP-ACCEPT-1", world_["crm"]);
  ASSERT_TRUE(explicit_) << explicit_.error().ToString();
  EXPECT_EQ(explicit_->how, "explicit");
  auto twice = engine().AcceptEdition(SubjectKey::Id(1), "mobile_app", "APP-ACCEPT-2", world_["crm"]);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, ErrorCode::kAlreadyExists);
  auto idle = engine().AcceptEdition(SubjectKey::Id(2), "mobile_app", "APP-ACCEPT-3", world_["idle"]);
  ASSERT_FALSE(idle);
  EXPECT_EQ(idle.error().reason, "no_duty");
  ExpectVerifies();
}

TEST_F(EditionsTest, R_XI_1_an_edition_for_a_later_day_waits_for_it) {
  ASSERT_TRUE(engine().PublishPolicy(Request(Edition2(), clock_.Now() + 10 * kDay), world_["dpo"]));
  Open();
  EXPECT_EQ(inst_->policy().edition.number, 1);
  clock_.Advance(11 * kDay);
  Open();
  EXPECT_EQ(inst_->policy().edition.number, 2);
}

// Edition 2's corrections that the engine carries out.
TEST_F(EditionsTest, R_VI_3_in_edition_2_a_debt_keeps_only_the_convergent_consent_and_debt_collection_outlives_services) {
  ASSERT_TRUE(engine().PublishPolicy(Request(Edition2()), world_["dpo"]));
  Open();
  ASSERT_TRUE(engine().OpenObligation({SubjectKey::Id(1), store::ObligationKind::kDebt, "D-E2", "100"}, world_["billing"]));
  // Marketing can be withdrawn with a debt open; the scope is convergent_services.
  auto w = engine().Withdraw({SubjectKey::Id(1), "app_support_chat", "CHAT-E2", {"marketing_offers"}, {}, false},
                             world_["crm"]);
  ASSERT_TRUE(w) << w.error().ToString();
  // Debt collection: subject 2's contract ends, its debt stays open.
  Caller ender = world_["onboarding"];
  for (auto& d : ender.duties) d.actions |= static_cast<DutyActions>(DutyAction::kWithdraw);
  // Edition 2 rests fraud protection on the contract: ending it is that purpose's matter too.
  ender.actor.purposes.push_back("fraud_protection");
  ender.duties.push_back({"onboarding", "fraud_protection", {"user.contact.phone"}, false,
                          static_cast<DutyActions>(DutyAction::kWithdraw)});
  ASSERT_TRUE(engine().OpenObligation({SubjectKey::Id(2), store::ObligationKind::kDebt, "D-E3", "100"}, world_["billing"]));
  auto ended = engine().EndContract({SubjectKey::Id(2), 3, "END-3"}, ender);
  ASSERT_TRUE(ended) << ended.error().ToString();
  auto d = Check(2, "debt_collection", world_["onboarding"]);
  ASSERT_TRUE(d) << d.error().ToString();
  EXPECT_TRUE(d->allow);
  EXPECT_EQ(index::ReasonCode(d->reason), "obligation_open");
  EXPECT_FALSE(Check(2, "contract_performance", world_["onboarding"])->allow);
  // The employee's read follows the same rule as the check.
  ASSERT_TRUE(engine().CloseObligation("D-E3", world_["billing"]));
  EXPECT_FALSE(Check(2, "debt_collection", world_["onboarding"])->allow);
  // A legal hold is not a debt: it collects nothing.
  ASSERT_TRUE(engine().OpenObligation({SubjectKey::Id(2), store::ObligationKind::kLegalHold, "H-E4", ""}, world_["dpo"]));
  EXPECT_FALSE(Check(2, "debt_collection", world_["onboarding"])->allow);
  ExpectVerifies();
}

}  // namespace
}  // namespace qorgau::rules
