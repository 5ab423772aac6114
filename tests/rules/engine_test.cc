// The rules of the policy on subjects and consents, through the engine on a
// real SQLite store with real keys. Test names cite the requirement.
#include "rules/engine.h"

#include <gtest/gtest.h>

#include "../test_util.h"
#include "app/instance.h"
#include "staff.h"
#include "demo/synthetic.h"

namespace qorgau::rules {
namespace {

using store::ConsentState;
using testing::TempDir;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(app::Instance::Init(dir_.path() / "data", testing::KemPolicy(), clock_));
    auto inst = app::Instance::Open(dir_.path() / "data", clock_);
    ASSERT_TRUE(inst) << inst.error().ToString();
    inst_ = std::move(*inst);
  }
  Engine& engine() { return inst_->engine(); }
  // An actor allowed everything a person may do (the data protection
  // officer's role, every duty): these tests are about the other rules.
  const Caller& Staff() {
    if (!staff_) staff_ = testing::MakeActor(engine(), "staff", ActorRole::kDpo);
    return *staff_;
  }
  std::shared_ptr<const Caller> staff_;

  SubjectId Add(std::uint64_t index) {
    const auto s = demo::SyntheticSubjects().At(index);
    SubjectInput in{s.iin, s.phone, {{"user.identity.name", s.name}}, "subject"};
    auto id = engine().AddSubject(in, Staff());
    EXPECT_TRUE(id) << id.error().ToString();
    return id.value_or(0);
  }
  std::int64_t Revision() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    return ledger::Revision(*txn).value();
  }
  std::optional<store::ConsentRecord> Consent(SubjectId id, const std::string& purpose) {
    const auto consents = engine().ListConsents(Staff(), SubjectKey::Id(id)).value();
    for (const auto& c : consents) {
      if (c.purpose == purpose) return c;
    }
    return std::nullopt;
  }

  TempDir dir_;
  FixedClock clock_{1764150000000};  // 2025-11-26T09:40:00Z
  std::unique_ptr<app::Instance> inst_;
};

TEST_F(EngineTest, SubjectIsFoundByIinAndPhoneAndShownMasked) {
  const SubjectId id = Add(1);
  const auto s = demo::SyntheticSubjects().At(1);
  // legal_duties rests on law: readable without a contract.
  auto by_iin = engine().ReadPersonalData(Staff(), SubjectKey::Iin(s.iin), "legal_duties", {});
  ASSERT_TRUE(by_iin) << by_iin.error().ToString();
  EXPECT_EQ(by_iin->id, id);
  // The phone in another spelling finds the same subject.
  const std::string spelled = "8 " + s.phone.substr(2, 3) + " " + s.phone.substr(5);
  EXPECT_EQ(engine().LookupSubject(Staff(), SubjectKey::Phone(spelled)).value(), id);
  for (const auto& d : by_iin->data) {
    EXPECT_NE(d.value, s.iin);
    EXPECT_NE(d.value, s.phone);
    EXPECT_NE(d.value, s.name);
    if (d.category == "user.identity.iin") {
      EXPECT_EQ(d.value, s.iin.substr(0, 4) + "******" + s.iin.substr(10));
    }
  }
  auto full_staff = testing::MakeActor(engine(), "full", ActorRole::kEmployee, kAllDutyActions, true);
  auto full = engine().ReadPersonalData(*full_staff, SubjectKey::Id(id), "legal_duties", {}).value();
  bool saw_iin = false;
  for (const auto& d : full.data) saw_iin = saw_iin || d.value == s.iin;
  EXPECT_TRUE(saw_iin);
}

TEST_F(EngineTest, BadIinIsRefusedAndChangesNothing) {
  Add(1);
  const std::int64_t before = Revision();
  auto s = demo::SyntheticSubjects().At(2);
  s.iin.back() = static_cast<char>('0' + (s.iin.back() - '0' + 1) % 10);
  auto r = engine().AddSubject({s.iin, s.phone, {}, "subject"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "iin");
  EXPECT_EQ(r.error().message, "check digit does not match");
  EXPECT_EQ(Revision(), before);
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  EXPECT_EQ(txn->ListSubjects(0, 100)->size(), 1u);
}

TEST_F(EngineTest, DuplicateIinIsRefusedAndChangesNothing) {
  Add(1);
  const std::int64_t before = Revision();
  auto s = demo::SyntheticSubjects().At(1);
  auto r = engine().AddSubject({s.iin, demo::SyntheticSubjects().At(2).phone, {}, "subject"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(Revision(), before);
}

TEST_F(EngineTest, R_IV_2_unknown_data_category_is_refused) {
  Staff();
  const std::int64_t before = Revision();
  auto s = demo::SyntheticSubjects().At(3);
  auto r = engine().AddSubject({s.iin, s.phone, {{"user.shoe_size", "42"}}, "subject"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "data");
  EXPECT_NE(r.error().message.find("user.shoe_size"), std::string::npos);
  EXPECT_EQ(Revision(), before);
}

TEST_F(EngineTest, R_X_1_provenance_is_recorded_and_checked) {
  auto s = demo::SyntheticSubjects().At(4);
  auto bad = engine().AddSubject({s.iin, s.phone, {}, "rumour"}, Staff());
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "provenance");
  auto id = engine().AddSubject({s.iin, s.phone, {}, "third_party"}, Staff());
  ASSERT_TRUE(id);
  const auto view = engine().ReadPersonalData(Staff(), SubjectKey::Id(*id), "legal_duties", {}).value();
  for (const auto& d : view.data) {
    EXPECT_EQ(d.provenance, "third_party");
  }
}

TEST_F(EngineTest, R_III_4_consent_records_channel_and_evidence) {
  const SubjectId id = Add(1);
  auto r = engine().GrantConsent({SubjectKey::Id(id), "marketing", "call_centre", "CALL-REC-77"},
                                 Staff());
  ASSERT_TRUE(r) << r.error().ToString();
  auto c = Consent(id, "marketing");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->state, ConsentState::kGranted);
  EXPECT_EQ(c->channel, "call_centre");
  EXPECT_EQ(c->evidence, "CALL-REC-77");
  EXPECT_EQ(c->edition, 1);
  EXPECT_EQ(c->changed_at, clock_.Now());
  // The consent's event, then the receipt's: the revision after the change.
  EXPECT_EQ(c->event_seq + 1, r->revision);
  // The event carries the same, and the chain verifies.
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  std::string body;
  ASSERT_TRUE(txn->ScanEvents(c->event_seq, [&](const store::EventRecord& e) {
    body = e.body;
    return false;
  }));
  EXPECT_NE(body.find("\"type\":\"consent.granted\""), std::string::npos);
  EXPECT_NE(body.find("\"channel\":\"call_centre\""), std::string::npos);
  EXPECT_NE(body.find("\"evidence\":\"CALL-REC-77\""), std::string::npos);
  EXPECT_NE(body.find("\"actor\":\"staff\""), std::string::npos);
  txn.reset();
  EXPECT_TRUE(engine().VerifyLedger(Staff())->ok);
}

TEST_F(EngineTest, R_III_4_consent_through_an_undeclared_channel_is_refused) {
  const SubjectId id = Add(1);
  auto r = engine().GrantConsent({SubjectKey::Id(id), "marketing", "carrier_pigeon", "X-1"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "channel");
  EXPECT_FALSE(Consent(id, "marketing"));
}

TEST_F(EngineTest, R_III_4_evidence_is_required_and_is_a_reference_not_personal_data) {
  const SubjectId id = Add(1);
  const auto s = demo::SyntheticSubjects().At(1);
  EXPECT_EQ(engine().GrantConsent({SubjectKey::Id(id), "marketing", "website", ""}, Staff())
                .error().field, "evidence");
  auto leaked = engine().GrantConsent({SubjectKey::Id(id), "marketing", "website", "IIN-" + s.iin}, Staff());
  ASSERT_FALSE(leaked);
  EXPECT_NE(leaked.error().message.find("not personal data"), std::string::npos);
  EXPECT_EQ(leaked.error().ToString().find(s.iin), std::string::npos);
  EXPECT_FALSE(Consent(id, "marketing"));
}

TEST_F(EngineTest, R_III_1_consent_is_recorded_only_for_purposes_that_rest_on_consent) {
  const SubjectId id = Add(1);
  auto law = engine().GrantConsent({SubjectKey::Id(id), "fiscal_reporting", "website", "W-1"}, Staff());
  ASSERT_FALSE(law);
  EXPECT_NE(law.error().message.find("rests on law"), std::string::npos);
  auto contract = engine().GrantConsent({SubjectKey::Id(id), "contract_performance", "website", "W-1"}, Staff());
  ASSERT_FALSE(contract);
  EXPECT_NE(contract.error().message.find("R-III.3"), std::string::npos);
  auto unknown = engine().GrantConsent({SubjectKey::Id(id), "astrology", "website", "W-1"}, Staff());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
}

TEST_F(EngineTest, GrantingTwiceIsAConflict) {
  const SubjectId id = Add(1);
  ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(id), "marketing", "website", "W-1"}, Staff()));
  auto again = engine().GrantConsent({SubjectKey::Id(id), "marketing", "website", "W-2"}, Staff());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(EngineTest, R_VI_2_withdrawal_is_taken_from_the_app_support_chat) {
  const SubjectId id = Add(1);
  ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(id), "marketing", "mobile_app", "A-1"}, Staff()));
  clock_.Advance(60000);
  auto r = engine().WithdrawConsent({SubjectKey::Id(id), "marketing", "app_support_chat", "CHAT-9"},
                                    Staff());
  ASSERT_TRUE(r) << r.error().ToString();
  auto c = Consent(id, "marketing");
  EXPECT_EQ(c->state, ConsentState::kWithdrawn);
  EXPECT_EQ(c->channel, "app_support_chat");
  EXPECT_EQ(c->changed_at, clock_.Now());
  EXPECT_TRUE(engine().VerifyLedger(Staff())->ok);
}

TEST_F(EngineTest, R_VI_2_withdrawal_through_a_channel_the_policy_does_not_list_is_refused) {
  const SubjectId id = Add(1);
  ASSERT_TRUE(engine().GrantConsent({SubjectKey::Id(id), "marketing", "mobile_app", "A-1"}, Staff()));
  auto r = engine().WithdrawConsent({SubjectKey::Id(id), "marketing", "website", "W-1"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("R-VI.2"), std::string::npos);
  EXPECT_EQ(Consent(id, "marketing")->state, ConsentState::kGranted);
}

TEST_F(EngineTest, R_VI_3_law_purposes_are_not_withdrawable_and_the_answer_says_so) {
  const SubjectId id = Add(1);
  auto r = engine().WithdrawConsent({SubjectKey::Id(id), "legal_duties", "app_support_chat", "C-1"},
                                    Staff());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("neither needed nor withdrawable"), std::string::npos);
}

TEST_F(EngineTest, WithdrawingWithoutAConsentInForceIsRefused) {
  const SubjectId id = Add(1);
  auto r = engine().WithdrawConsent({SubjectKey::Id(id), "marketing", "app_support_chat", "C-1"},
                                    Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(EngineTest, UnknownSubjectIsNotFound) {
  auto r = engine().ReadPersonalData(Staff(), SubjectKey::Id(999), "legal_duties", {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST_F(EngineTest, R_VIII_3_database_files_hold_no_plain_personal_data) {
  std::vector<demo::SyntheticSubject> people;
  for (std::uint64_t i = 0; i < 20; ++i) {
    people.push_back(demo::SyntheticSubjects().At(i));
    Add(i);
  }
  inst_.reset();  // close, so everything is in the files
  std::string raw;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path() / "data")) {
    raw += testing::ReadFile(entry.path());
  }
  ASSERT_GT(raw.size(), 4096u);
  for (const auto& p : people) {
    EXPECT_EQ(raw.find(p.iin), std::string::npos);
    EXPECT_EQ(raw.find(p.phone), std::string::npos);
    EXPECT_EQ(raw.find(p.phone.substr(1)), std::string::npos);
    EXPECT_EQ(raw.find(p.name), std::string::npos);
  }
}

TEST_F(EngineTest, WrongMasterKeyCannotOpenTheDatabase) {
  inst_.reset();
  testing::WriteFile(dir_.path() / "data.master.key", std::string(64, 'a') + "\n");
  auto inst = app::Instance::Open(dir_.path() / "data", clock_);
  ASSERT_FALSE(inst);
  EXPECT_EQ(inst.error().field, "master_key");
}

}  // namespace
}  // namespace qorgau::rules
