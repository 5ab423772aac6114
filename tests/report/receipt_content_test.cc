// What a consent record and its receipt carry (Art. 8 of the law, LAW.md
// §3): the operator and its BIN, the subject by reference, the purposes,
// the data, the term of the consent, transfers, public sources, the channel
// and the evidence; and its Kantara Consent Receipt v1.1 form, valid
// against the published schema (issue 9, part 7).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "../access_world.h"
#include "../kantara_schema.h"
#include "../test_util.h"
#include "app/instance.h"
#include "report/receipt.h"

namespace qorgau::rules {
namespace {

class ReceiptContent : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, qorgau::testing::KemPolicy(), clock_));
    inst_ = app::Instance::Open(data_, clock_).value();
    world_ = qorgau::testing::MakeAccessWorld(engine(), /*with_keys=*/false);
  }
  Engine& engine() { return inst_->engine(); }
  // The stored receipt of a change, by the id its receipt names.
  std::string Stored(const std::string& receipt) {
    const std::string id(boost::json::parse(receipt).at("receipt_id").as_string());
    return engine().Receipt(world_["dpo"], std::stoll(id.substr(8))).value();
  }

  qorgau::testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
  qorgau::testing::AccessWorld world_;
};

TEST_F(ReceiptContent, LAW_3_a_consent_receipt_carries_what_article_8_requires) {
  auto granted = engine().GrantConsent({SubjectKey::Id(2), "marketing", "call_centre", "CALL-REC-7"}, world_["crm"]);
  ASSERT_TRUE(granted) << granted.error().ToString();
  const auto r = boost::json::parse(granted->receipt).as_object();
  const auto& controller = r.at("controller").as_object();
  EXPECT_EQ(controller.at("name").at("kk").as_string(), "«КАЗЕВРОМОБАЙЛ» жауапкершілігі шектеулі серіктестігі");
  // Edition 1 of the KEM policy states no BIN: none is made up.
  EXPECT_FALSE(controller.contains("bin"));
  EXPECT_EQ(r.at("subject").at("id").as_int64(), 2);
  EXPECT_EQ(r.at("purposes").as_array().at(0).at("id").as_string(), "marketing");
  EXPECT_FALSE(r.at("categories").as_array().empty());
  EXPECT_EQ(r.at("term").at("until").as_string(), "purposes_achieved_or_withdrawn");
  EXPECT_FALSE(r.at("term").at("text").at("ru").as_string().empty());
  EXPECT_TRUE(r.contains("third_party_transfer"));
  EXPECT_TRUE(r.contains("cross_border_transfer"));
  EXPECT_FALSE(r.at("public_sources").as_bool());
  EXPECT_EQ(r.at("channel").as_string(), "call_centre");
  EXPECT_EQ(r.at("evidence").as_string(), "CALL-REC-7");
}

TEST_F(ReceiptContent, LAW_3_a_policy_that_states_its_BIN_puts_it_on_every_receipt) {
  auto policy = std::make_shared<policy::Policy>(engine().policy());
  policy->controller.bin = "040340005741";
  report::ReceiptWriter writer(policy);
  report::ReceiptInput in;
  in.subject = 1;
  in.action = "consent.granted";
  in.purposes = {"marketing"};
  in.channel = "website";
  in.evidence = "W-1";
  in.at = 1764150000000;
  in.event_seq = 9;
  const auto content = writer.Content(in);
  ASSERT_TRUE(content) << content.error().ToString();
  EXPECT_EQ(boost::json::parse(*content).at("controller").at("bin").as_string(), "040340005741");
}

TEST_F(ReceiptContent, R_III_3_a_consent_by_joining_has_the_method_as_channel_and_the_form_as_evidence) {
  const SubjectKey two = SubjectKey::Id(2);
  const std::int64_t before = inst_->index().revision();
  // No reference of the form, application or SMS: refused, never made up.
  auto none = engine().JoinContract({two, "sms", {"marketing_offers"}, ""}, world_["onboarding"]);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().field, "evidence");
  EXPECT_EQ(inst_->index().revision(), before);
  auto joined = engine().JoinContract({two, "sms", {"marketing_offers"}, "SMS-2026-11-26-4411"}, world_["onboarding"]);
  ASSERT_TRUE(joined) << joined.error().ToString();
  const auto r = boost::json::parse(joined->receipt).as_object();
  EXPECT_EQ(r.at("channel").as_string(), "sms");
  EXPECT_EQ(r.at("evidence").as_string(), "SMS-2026-11-26-4411");
  const auto consents = engine().ListConsents(world_["crm"], two).value();
  bool found = false;
  for (const auto& c : consents) {
    if (c.purpose != "marketing") continue;
    found = true;
    EXPECT_EQ(c.channel, "sms");
    EXPECT_EQ(c.evidence, "SMS-2026-11-26-4411");
  }
  EXPECT_TRUE(found);
}

TEST_F(ReceiptContent, LAW_3_the_kantara_form_is_valid_against_the_published_schema) {
  const auto subject = demo::SyntheticSubjects().At(2);
  auto granted = engine().GrantConsent({SubjectKey::Id(2), "marketing", "call_centre", "CALL-REC-8"}, world_["crm"]);
  ASSERT_TRUE(granted) << granted.error().ToString();
  const std::string stored = Stored(granted->receipt);
  for (const char* lang : {"kk", "ru", "en"}) {
    auto kantara = report::KantaraReceipt(engine().policy(), stored, lang);
    ASSERT_TRUE(kantara) << kantara.error().ToString();
    EXPECT_EQ(qorgau::testing::KantaraSchemaErrors(*kantara), "") << *kantara;
    const auto k = boost::json::parse(*kantara).as_object();
    EXPECT_EQ(k.at("version").as_string(), "KI-CR-v1.1.0");
    EXPECT_EQ(k.at("language").as_string(), lang);
    // The principal is a reference, never the subject's IIN or phone.
    EXPECT_EQ(k.at("piiPrincipalId").as_string(), "subject-2");
    EXPECT_EQ(kantara->find(subject.iin), std::string::npos);
    EXPECT_EQ(kantara->find(subject.phone.substr(1)), std::string::npos);
    EXPECT_EQ(k.at("consentTimestamp").as_int64(), 1764150000);
    const auto& purpose = k.at("services").at(0).at("purposes").at(0).as_object();
    EXPECT_EQ(purpose.at("consentType").as_string(), "EXPLICIT");
    EXPECT_EQ(purpose.at("purposeCategory").at(0).as_string(), "marketing");
    EXPECT_FALSE(purpose.at("termination").as_string().empty());
  }
  // The validator does reject what the schema forbids.
  auto k = boost::json::parse(*report::KantaraReceipt(engine().policy(), stored, "en")).as_object();
  k.erase("piiPrincipalId");
  EXPECT_NE(qorgau::testing::KantaraSchemaErrors(boost::json::serialize(k)), "");
  k = boost::json::parse(*report::KantaraReceipt(engine().policy(), stored, "en")).as_object();
  k["services"].as_array()[0].as_object()["purposes"].as_array()[0].as_object()["thirdPartyDisclosure"] = true;
  k["services"].as_array()[0].as_object()["purposes"].as_array()[0].as_object().erase("thirdPartyName");
  EXPECT_NE(qorgau::testing::KantaraSchemaErrors(boost::json::serialize(k)), "");
  // A receipt of a contract: contract-basis purposes by joining.
  auto joined = engine().JoinContract({SubjectKey::Id(2), "sms", {"marketing_offers"}, "SMS-9"}, world_["onboarding"]);
  ASSERT_TRUE(joined) << joined.error().ToString();
  auto contract = report::KantaraReceipt(engine().policy(), Stored(joined->receipt), "ru");
  ASSERT_TRUE(contract) << contract.error().ToString();
  EXPECT_EQ(qorgau::testing::KantaraSchemaErrors(*contract), "") << *contract;
  EXPECT_NE(contract->find("SMS-9"), std::string::npos);
  EXPECT_EQ(report::KantaraReceipt(engine().policy(), stored, "de").error().field, "lang");
}

}  // namespace
}  // namespace qorgau::rules
