// The consent engine's rules (R-III, R-VI) on a real store: contracts,
// services, obligations, withdrawal, re-enabling, decisions and receipts.
// Each test would fail without the rule it is named after.
#include <gtest/gtest.h>
#include <boost/json.hpp>
#include <sqlite3.h>

#include <atomic>
#include <cctype>
#include <functional>
#include <thread>

#include "../test_util.h"
#include "app/instance.h"
#include "staff.h"
#include "demo/synthetic.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"
#include "ledger/audit.h"
#include "report/receipt.h"
#include "rules/engine.h"

namespace qorgau::rules {
namespace {

using index::Reason;
using store::ConsentState;
using store::ObligationKind;
using testing::TempDir;

class ConsentEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(app::Instance::Init(dir_.path() / "data", testing::KemPolicy(), clock_));
    Reopen();
  }
  void Reopen() {
    inst_.reset();
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

  // A subscriber with the base service and personalised offers (marketing
  // consent given by the SMS join).
  SubjectKey Subscriber(std::uint64_t index, bool offers = true) {
    const auto s = demo::SyntheticSubjects().At(index);
    auto id = engine().AddSubject({s.iin, s.phone, {}, "subject"}, Staff());
    EXPECT_TRUE(id) << id.error().ToString();
    const SubjectKey key = SubjectKey::Id(*id);
    auto base = engine().JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-1"}, Staff());
    EXPECT_TRUE(base) << base.error().ToString();
    if (offers) {
      auto add = engine().JoinContract({key, "sms", {"marketing_offers", "contests"}, "SMS-1"}, Staff());
      EXPECT_TRUE(add) << add.error().ToString();
    }
    return key;
  }
  index::Decision Check(const SubjectKey& key, const std::string& purpose,
                        std::vector<std::string> categories = {}) {
    auto d = engine().Check(Staff(), key, purpose, categories);
    EXPECT_TRUE(d) << d.error().ToString();
    return d.value_or(index::Decision{});
  }
  bool ServiceOn(const SubjectKey& key, const std::string& service) {
    const auto subs = engine().ListServices(Staff(), key).value();
    for (const auto& s : subs) {
      if (s.service == service) return s.active;
    }
    return false;
  }
  std::string LastEventBody() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    return txn->LastEvent().value()->body;
  }
  std::int64_t Revision() { return inst_->index().revision(); }

  TempDir dir_;
  FixedClock clock_{1764150000000};
  std::unique_ptr<app::Instance> inst_;
};

TEST_F(ConsentEngineTest, R_III_2_contract_is_joined_only_by_a_method_its_services_allow) {
  const auto s = demo::SyntheticSubjects().At(1);
  const SubjectId id = engine().AddSubject({s.iin, s.phone, {}, "subject"}, Staff()).value();
  // mobile_base is joined by form or signed application, not by SMS.
  auto sms = engine().JoinContract({SubjectKey::Id(id), "sms", {"mobile_base"}, "SMS-1"}, Staff());
  ASSERT_FALSE(sms);
  EXPECT_EQ(sms.error().reason, "method_not_allowed_for_service");
  EXPECT_FALSE(ServiceOn(SubjectKey::Id(id), "mobile_base"));
  auto form = engine().JoinContract({SubjectKey::Id(id), "application", {"mobile_base"}, "APP-1"}, Staff());
  ASSERT_TRUE(form) << form.error().ToString();
  EXPECT_TRUE(ServiceOn(SubjectKey::Id(id), "mobile_base"));
}

TEST_F(ConsentEngineTest, R_III_3_joining_a_contract_gives_consent_for_its_contract_purposes) {
  const auto s = demo::SyntheticSubjects().At(2);
  const SubjectKey key = SubjectKey::Id(engine().AddSubject({s.iin, s.phone, {}, "subject"}, Staff()).value());
  EXPECT_EQ(Check(key, "contract_performance").reason, Reason::kNoActiveContract);
  auto r = engine().JoinContract({key, "form", {"mobile_base"}, "FORM-9"}, Staff());
  ASSERT_TRUE(r);
  EXPECT_NE(std::find(r->contract_purposes.begin(), r->contract_purposes.end(), "debt_collection"),
            r->contract_purposes.end());
  const index::Decision d = Check(key, "contract_performance", {"user.contact.phone"});
  EXPECT_TRUE(d.allow);
  EXPECT_EQ(d.reason, Reason::kContractActive);
  EXPECT_EQ(d.basis, policy::LegalBasis::kContract);
  EXPECT_EQ(d.edition, 1);
  EXPECT_EQ(d.revision, r->revision);
  // Marketing is not a condition of the base contract.
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kNoConsent);
}

TEST_F(ConsentEngineTest, R_III_3_joining_an_additional_service_records_its_consent) {
  const SubjectKey key = Subscriber(3);
  const auto consents = engine().ListConsents(Staff(), key).value();
  bool marketing = false;
  for (const auto& c : consents) {
    if (c.purpose == "marketing") {
      marketing = c.state == ConsentState::kGranted && c.channel == "sms" && c.evidence == "SMS-1";
    }
  }
  EXPECT_TRUE(marketing);
  EXPECT_EQ(Check(key, "marketing", {"user.contact.phone"}).reason, Reason::kConsentInForce);
}

TEST_F(ConsentEngineTest, DecisionsCarryStableReasons) {
  const SubjectKey key = Subscriber(4);
  EXPECT_EQ(Check(key, "fiscal_reporting").reason, Reason::kLaw);
  EXPECT_EQ(Check(key, "product_development").reason, Reason::kNoConsent);
  // IIN is not a category marketing may use (R-IV.2).
  const index::Decision d = Check(key, "marketing", {"user.identity.iin"});
  EXPECT_FALSE(d.allow);
  EXPECT_EQ(d.reason, Reason::kCategoryNotAllowed);
  EXPECT_EQ(index::ReasonCode(d.reason), "category_not_allowed_for_purpose");
  ASSERT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-1", {}, {"marketing"}, false}, Staff()));
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kWithdrawn);
  EXPECT_FALSE(engine().Check(Staff(), key, "astrology", {}));
  EXPECT_FALSE(engine().Check(Staff(), key, "marketing", {"user.shoe_size"}));
}

TEST_F(ConsentEngineTest, R_VI_1_preview_warns_that_services_may_end_and_changes_nothing) {
  const SubjectKey key = Subscriber(5);
  const std::int64_t before = Revision();
  auto plan = engine().Withdraw({key, "app_support_chat", "", {}, {}, true}, Staff());
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_TRUE(plan->preview);
  EXPECT_NE(policy::InLanguage(plan->warning, "kk").find("тоқтатуға әкелуі мүмкін"), std::string::npos);
  EXPECT_EQ(plan->consents_end, (std::vector<std::string>{"contests_campaigns", "marketing"}));
  EXPECT_EQ(plan->services_off, (std::vector<std::string>{"marketing_offers", "contests"}));
  // Nothing changed: the one event is the record of the read (docs/access.md).
  EXPECT_EQ(Revision(), before + 1);
  EXPECT_NE(LastEventBody().find("\"type\":\"access.read\""), std::string::npos);
  EXPECT_TRUE(ServiceOn(key, "marketing_offers"));
  EXPECT_TRUE(Check(key, "marketing").allow);
}

TEST_F(ConsentEngineTest, R_VI_1_confirming_does_exactly_what_the_preview_said) {
  const SubjectKey key = Subscriber(6);
  auto preview = engine().Withdraw({key, "app_support_chat", "", {}, {}, true}, Staff()).value();
  auto done = engine().Withdraw({key, "app_support_chat", "CHAT-2", {}, {}, false}, Staff());
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->consents_end, preview.consents_end);
  EXPECT_EQ(done->services_off, preview.services_off);
  EXPECT_FALSE(ServiceOn(key, "marketing_offers"));
  EXPECT_FALSE(ServiceOn(key, "contests"));
  EXPECT_TRUE(ServiceOn(key, "mobile_base"));  // nothing more
  EXPECT_TRUE(Check(key, "contract_performance").allow);
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kWithdrawn);
}

TEST_F(ConsentEngineTest, R_VI_2_withdrawal_is_taken_from_the_app_support_chat_only_among_listed_channels) {
  const SubjectKey key = Subscriber(7);
  auto web = engine().Withdraw({key, "website", "WEB-1", {}, {}, false}, Staff());
  ASSERT_FALSE(web);
  EXPECT_EQ(web.error().reason, "channel_not_accepted");
  EXPECT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-3", {}, {}, false}, Staff()));
}

TEST_F(ConsentEngineTest, R_VI_3_withdrawal_refused_while_debt_open) {
  const SubjectKey key = Subscriber(8);
  ASSERT_TRUE(engine().OpenObligation({key, ObligationKind::kDebt, "DEBT-2026-17", "12500.50"}, Staff()));
  std::int64_t before = Revision();
  for (bool preview : {true, false}) {
    auto r = engine().Withdraw({key, "app_support_chat", "CHAT-4", {}, {}, preview}, Staff());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().reason, "withdrawal_blocked_by_obligation");
    EXPECT_NE(r.error().message.find("DEBT-2026-17"), std::string::npos);
    EXPECT_NE(r.error().message.find("R-VI.3"), std::string::npos);
  }
  // The single-purpose path obeys the same rule.
  EXPECT_FALSE(engine().WithdrawConsent({key, "marketing", "app_support_chat", "CHAT-5"}, Staff()));
  // Nothing changed; the refused preview's read is recorded (docs/access.md).
  EXPECT_EQ(Revision(), before + 1);
  EXPECT_TRUE(Check(key, "marketing").allow);
  ASSERT_TRUE(engine().CloseObligation("DEBT-2026-17", Staff()));
  EXPECT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-6", {}, {}, false}, Staff()));
}

TEST_F(ConsentEngineTest, R_VI_3_withdrawal_refused_while_legal_hold_open) {
  const SubjectKey key = Subscriber(9);
  ASSERT_TRUE(engine().OpenObligation({key, ObligationKind::kLegalHold, "COURT-7", ""}, Staff()));
  auto r = engine().Withdraw({key, "app_support_chat", "CHAT-7", {}, {}, false}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "withdrawal_blocked_by_legal_hold");
  EXPECT_NE(r.error().message.find("COURT-7"), std::string::npos);
}

TEST_F(ConsentEngineTest, R_VI_3_law_and_contract_purposes_are_not_withdrawable_and_the_answer_says_so) {
  const SubjectKey key = Subscriber(10);
  auto plan = engine().Withdraw({key, "app_support_chat", "", {}, {}, true}, Staff()).value();
  bool law = false, contract = false;
  for (const auto& n : plan.not_withdrawable) {
    if (n.purpose == "fiscal_reporting") law = n.why.find("rests on law") != std::string::npos;
    if (n.purpose == "contract_performance") contract = n.why.find("R-III.3") != std::string::npos;
  }
  EXPECT_TRUE(law);
  EXPECT_TRUE(contract);
  auto direct = engine().Withdraw({key, "app_support_chat", "C-1", {}, {"fiscal_reporting"}, false}, Staff());
  ASSERT_FALSE(direct);
  EXPECT_EQ(direct.error().reason, "basis_is_law");
}

TEST_F(ConsentEngineTest, R_VI_4_withdrawal_for_one_additional_service_switches_off_only_the_services_tied_to_its_data) {
  const SubjectKey key = Subscriber(11);
  auto plan = engine().Withdraw({key, "app_support_chat", "CHAT-8", {"marketing_offers"}, {}, false}, Staff());
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->consents_end, (std::vector<std::string>{"marketing"}));
  EXPECT_EQ(plan->services_off, (std::vector<std::string>{"marketing_offers"}));
  EXPECT_FALSE(ServiceOn(key, "marketing_offers"));
  EXPECT_TRUE(ServiceOn(key, "contests"));
  EXPECT_TRUE(Check(key, "contests_campaigns").allow);
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kWithdrawn);
}

TEST_F(ConsentEngineTest, R_VI_4_base_service_data_are_not_withdrawable_by_consent) {
  const SubjectKey key = Subscriber(12);
  auto r = engine().Withdraw({key, "app_support_chat", "CHAT-9", {"mobile_base"}, {}, false}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "service_not_additional");
  EXPECT_TRUE(ServiceOn(key, "mobile_base"));
}

TEST_F(ConsentEngineTest, R_VI_5_reenabling_needs_a_written_application_and_a_new_consent) {
  const SubjectKey key = Subscriber(13);
  ASSERT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-10", {"marketing_offers"}, {}, false}, Staff()));
  auto bare = engine().EnableService({key, "marketing_offers", "", "", ""}, Staff());
  ASSERT_FALSE(bare);
  EXPECT_EQ(bare.error().reason, "written_application_required");
  EXPECT_FALSE(ServiceOn(key, "marketing_offers"));
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kWithdrawn);

  auto ok = engine().EnableService({key, "marketing_offers", "APP-2026-301", "", ""}, Staff());
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_EQ(ok->consents_granted, (std::vector<std::string>{"marketing"}));
  EXPECT_FALSE(ok->receipt.empty());
  EXPECT_TRUE(ServiceOn(key, "marketing_offers"));
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kConsentInForce);
  const auto consents = engine().ListConsents(Staff(), key).value();
  for (const auto& c : consents) {
    if (c.purpose == "marketing") {
      EXPECT_EQ(c.channel, "office_written");
      EXPECT_EQ(c.evidence, "APP-2026-301");
    }
  }
}

TEST_F(ConsentEngineTest, R_VI_5_joining_again_does_not_bypass_the_reenabling_rule) {
  const SubjectKey key = Subscriber(15);
  ASSERT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-15", {"marketing_offers"}, {}, false}, Staff()));
  auto again = engine().JoinContract({key, "sms", {"marketing_offers"}, "SMS-15"}, Staff());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().reason, "reenable_required");
  EXPECT_FALSE(ServiceOn(key, "marketing_offers"));
  EXPECT_EQ(Check(key, "marketing").reason, Reason::kWithdrawn);
}

TEST_F(ConsentEngineTest, R_IV_2_registration_takes_only_what_the_base_contract_needs) {
  const auto s = demo::SyntheticSubjects().At(16);
  auto r = engine().AddSubject({s.iin, s.phone, {{"user.derived.marketing_profile", "segment-a"}}, "subject"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "category_not_needed");
  EXPECT_TRUE(engine().AddSubject({s.iin, s.phone, {{"user.contact.email", s.email}}, "subject"}, Staff()));
}

TEST_F(ConsentEngineTest, R_VI_5_contests_need_only_a_new_consent_as_the_policy_says) {
  const SubjectKey key = Subscriber(14);
  ASSERT_TRUE(engine().Withdraw({key, "app_support_chat", "CHAT-11", {"contests"}, {}, false}, Staff()));
  auto none = engine().EnableService({key, "contests", "", "", ""}, Staff());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, "new_consent_required");
  EXPECT_TRUE(engine().EnableService({key, "contests", "", "mobile_app", "APP-MSG-5"}, Staff()));
}

TEST_F(ConsentEngineTest, R_IV_2_a_category_no_service_of_the_subjects_contracts_needs_is_refused) {
  const SubjectKey key = Subscriber(60, /*offers=*/false);
  // The base contract does not need the marketing profile...
  auto refused = engine().PutData(key, "user.derived.marketing_profile", "segment-a", "derived", Staff());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "category_not_needed");
  // ...the personalised offers do (R-X.2: profiling for the policy's purposes).
  ASSERT_TRUE(engine().JoinContract({key, "sms", {"marketing_offers"}, "SMS-60"}, Staff()));
  ASSERT_TRUE(engine().PutData(key, "user.derived.marketing_profile", "segment-a", "derived", Staff()));
  EXPECT_TRUE(engine().PutData(key, "user.contact.address", "Almaty", "subject", Staff()));
  // The IIN is recorded at registration: changing it is a rectification.
  auto iin = engine().PutData(key, "user.identity.iin", demo::SyntheticSubjects().At(901).iin, "subject", Staff());
  ASSERT_FALSE(iin);
  EXPECT_EQ(iin.error().reason, "rectification_application_required");
  const auto view =
      engine().ReadPersonalData(Staff(), key, "marketing", {"user.derived.marketing_profile"}).value();
  bool profile = false;
  for (const auto& d : view.data) {
    profile = profile || (d.category == "user.derived.marketing_profile" && d.provenance == "derived");
  }
  EXPECT_TRUE(profile);
}

TEST_F(ConsentEngineTest, DecisionLogIsSealedByTheLedgerAndAnAlteredRowIsReported) {
  const SubjectKey key = Subscriber(70);
  const SubjectId id = engine().LookupSubject(Staff(), key).value();
  Caller crm{{"crm", store::ActorRole::kSystem, "", "", "", {"marketing"}, 0}, {}};
  const index::Decision d = Check(key, "marketing");
  ASSERT_TRUE(engine().RecordDecisions(crm, "marketing", {}, std::span<const SubjectId>(&id, 1),
                                       std::span<const index::Decision>(&d, 1), /*bulk=*/false));
  const auto trail = engine().AccessTrail(Staff(), key).value();
  ASSERT_FALSE(trail.empty());
  EXPECT_EQ(trail.back().type, "decision.made");
  EXPECT_EQ(trail.back().actor, "crm");
  EXPECT_EQ(trail.back().reason, "consent_in_force");
  EXPECT_TRUE(engine().VerifyLedger(Staff())->ok);
  inst_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "data/qorgau.db").c_str(), &db), SQLITE_OK);
  // consent_in_force (0) turned into no_consent (3).
  ASSERT_EQ(sqlite3_exec(db, "UPDATE decision_requests SET reasons = x'03'", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_GE(sqlite3_changes(db), 1);
  sqlite3_close(db);
  Reopen();
  auto report = engine().VerifyLedger(Staff()).value();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("decision log"), std::string::npos);
}

TEST_F(ConsentEngineTest, ABatchCheckIsOneRecordAndEachSubjectsTrailShowsItsOwnDecision) {
  const SubjectKey a = Subscriber(71), b = Subscriber(72);
  const SubjectId ids[] = {engine().LookupSubject(Staff(), a).value(),
                           engine().LookupSubject(Staff(), b).value(), 999999};
  ASSERT_TRUE(engine().Withdraw({b, "app_support_chat", "CHAT-9", {}, {"marketing"}, false}, Staff()));
  Caller crm{{"crm", store::ActorRole::kSystem, "", "", "", {"marketing"}, 0}, {}};
  index::Decision out[3];
  ASSERT_TRUE(engine().CheckMany(crm, ids, "marketing", {}, out));
  auto last_decision = [&](const SubjectKey& key) {
    const auto trail = engine().AccessTrail(Staff(), key).value();
    std::vector<AccessEntry> made;
    for (const auto& e : trail) {
      if (e.type == "decision.made") made.push_back(e);
    }
    return made;
  };
  const auto of_a = last_decision(a), of_b = last_decision(b);
  ASSERT_EQ(of_a.size(), 1u);
  ASSERT_EQ(of_b.size(), 1u);
  EXPECT_EQ(of_a[0].reason, "consent_in_force");
  EXPECT_TRUE(of_a[0].allowed);
  EXPECT_EQ(of_b[0].reason, "withdrawn");
  EXPECT_FALSE(of_b[0].allowed);
  inst_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "data/qorgau.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), sum(length(reasons)) FROM decision_requests",
                               -1, &st, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 1);  // the three decisions are one record
  EXPECT_EQ(sqlite3_column_int(st, 1), 3);
  sqlite3_finalize(st);
  sqlite3_close(db);
  Reopen();
  EXPECT_TRUE(engine().VerifyLedger(Staff())->ok);
}

TEST_F(ConsentEngineTest, DecisionRowsOfTheFirstFormatStillVerifyAndShowInTheTrail) {
  const SubjectKey key = Subscriber(73);
  const SubjectId id = engine().LookupSubject(Staff(), key).value();
  inst_.reset();
  // Rows as a qorgau before the decision log's second format wrote them.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "data/qorgau.db").c_str(), &db), SQLITE_OK);
  const std::string insert =
      "INSERT INTO decision_log (id, at, actor, subject_id, purpose, categories, reason, revision) VALUES "
      "(1, 1764150000000, 'crm', " + std::to_string(id) + ", 'marketing', '', 'no_consent', 4), "
      "(2, 1764150000000, 'crm', 5, 'marketing', '', 'consent_in_force', 4)";
  ASSERT_EQ(sqlite3_exec(db, insert.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  const std::vector<store::DecisionRecord> rows = {
      {1, 1764150000000, "crm", id, "marketing", "", "no_consent", 4},
      {2, 1764150000000, "crm", 5, "marketing", "", "consent_in_force", 4}};
  ASSERT_TRUE(inst_->writer().Submit([&](store::Transaction& txn) -> Result<store::GroupCommitter::OnCommit> {
    ledger::EventDraft ev{"decisions.recorded", std::nullopt, "system", {}};
    ev.data["first"] = 1;
    ev.data["last"] = 2;
    ev.data["count"] = 2;
    ev.data["digest_hash"] = ledger::DecisionDigest(rows);
    QORGAU_TRY(ledger::Append(txn, 1764150000000, ev));
    return store::GroupCommitter::OnCommit{};
  }));
  auto report = engine().VerifyLedger(Staff()).value();
  EXPECT_TRUE(report.ok) << report.reason;
  const auto trail = engine().AccessTrail(Staff(), key).value();
  ASSERT_FALSE(trail.empty());
  const auto it = std::find_if(trail.begin(), trail.end(),
                               [](const AccessEntry& e) { return e.type == "decision.made"; });
  ASSERT_NE(it, trail.end());
  EXPECT_EQ(it->reason, "no_consent");
  EXPECT_FALSE(it->allowed);
  // And a first-format row altered is still caught.
  inst_.reset();
  ASSERT_EQ(sqlite3_open((dir_.path() / "data/qorgau.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE decision_log SET reason = 'consent_in_force' WHERE id = 1", nullptr,
                         nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  Reopen();
  report = engine().VerifyLedger(Staff()).value();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("decision log rows 1-2"), std::string::npos) << report.reason;
}

TEST_F(ConsentEngineTest, ServicesNeedAContract) {
  const auto s = demo::SyntheticSubjects().At(15);
  const SubjectKey key = SubjectKey::Id(engine().AddSubject({s.iin, s.phone, {}, "subject"}, Staff()).value());
  auto r = engine().EnableService({key, "contests", "", "mobile_app", "M-1"}, Staff());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "no_active_contract");
}

TEST_F(ConsentEngineTest, ObligationAmountsAndReferencesAreValidated) {
  const SubjectKey key = Subscriber(16, false);
  EXPECT_EQ(engine().OpenObligation({key, ObligationKind::kDebt, "D-1", ""}, Staff()).error().field, "amount");
  EXPECT_EQ(engine().OpenObligation({key, ObligationKind::kDebt, "D-1", "12,5"}, Staff()).error().field, "amount");
  EXPECT_EQ(engine().OpenObligation({key, ObligationKind::kDebt, "D 1", "10"}, Staff()).error().field, "ref");
  auto ok = engine().OpenObligation({key, ObligationKind::kDebt, "D-1", "12500.5"}, Staff());
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->amount_minor, 1250050);
  EXPECT_EQ(engine().OpenObligation({key, ObligationKind::kDebt, "D-1", "1"}, Staff()).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(engine().CloseObligation("NOPE", Staff()).error().code, ErrorCode::kNotFound);
}

TEST_F(ConsentEngineTest, ObligationImportReportsEveryBadLineAndImportsNothing) {
  Subscriber(17, false);
  const auto a = demo::SyntheticSubjects().At(17);
  std::string bad_iin = demo::SyntheticSubjects().At(18).iin;
  bad_iin.back() = static_cast<char>('0' + (bad_iin.back() - '0' + 1) % 10);
  const std::string csv = "action,iin,kind,ref,amount\n"
                          "open," + a.iin + ",debt,B-1,100\n"
                          "open," + bad_iin + ",debt,B-2,100\n"
                          "open," + a.iin + ",loan,B-3,100\n"
                          "close," + a.iin + ",debt,B-1,\n";
  auto r = engine().ImportObligations(csv, Staff());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->problems.size(), 3u);
  EXPECT_EQ(r->problems[0], "line 3: iin: check digit does not match");
  EXPECT_EQ(r->problems[1], "line 4: kind: must be debt, instalment or legal_hold");
  EXPECT_EQ(r->problems[2], "line 5: ref: appears twice in the file");
  for (const auto& p : r->problems) EXPECT_EQ(p.find(bad_iin), std::string::npos);
  EXPECT_TRUE(engine().ListObligations(Staff(), SubjectKey::Iin(a.iin))->empty());
}

TEST_F(ConsentEngineTest, ObligationImportOfAnUnknownSubjectImportsNothing) {
  Subscriber(19, false);
  const auto a = demo::SyntheticSubjects().At(19);
  const auto stranger = demo::SyntheticSubjects().At(20);
  const std::string csv = "action,iin,kind,ref,amount\n"
                          "open," + a.iin + ",debt,C-1,100\n"
                          "open," + stranger.iin + ",instalment,C-2,250.75\n";
  auto r = engine().ImportObligations(csv, Staff());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->problems.size(), 1u);
  EXPECT_NE(r->problems[0].find("line 3: iin: no subject with this IIN"), std::string::npos)
      << r->problems[0];
  EXPECT_TRUE(engine().ListObligations(Staff(), SubjectKey::Iin(a.iin))->empty());
}

TEST_F(ConsentEngineTest, ObligationImportOpensAndCloses) {
  const SubjectKey key = Subscriber(21);
  const auto a = demo::SyntheticSubjects().At(21);
  ASSERT_TRUE(engine().ImportObligations("action,iin,kind,ref,amount\nopen," + a.iin + ",debt,E-1,\"1,000\"\n", Staff())
                  ->problems.size() == 1);  // "1,000" is not an amount
  auto r = engine().ImportObligations("action,iin,kind,ref,amount\r\nopen," + a.iin + ",debt,E-1,1000\r\n", Staff());
  ASSERT_TRUE(r && r->problems.empty()) << (r ? r->problems[0] : r.error().ToString());
  EXPECT_EQ(r->opened, 1u);
  EXPECT_FALSE(engine().Withdraw({key, "app_support_chat", "", {}, {}, true}, Staff()));
  r = engine().ImportObligations("action,iin,kind,ref,amount\nclose," + a.iin + ",debt,E-1,\n", Staff());
  ASSERT_TRUE(r && r->problems.empty());
  EXPECT_EQ(r->closed, 1u);
  EXPECT_TRUE(engine().Withdraw({key, "app_support_chat", "", {}, {}, true}, Staff()));
}

TEST_F(ConsentEngineTest, AudienceExcludesObligationsAndFiltersAList) {
  std::vector<SubjectKey> keys;
  for (std::uint64_t i = 30; i < 36; ++i) keys.push_back(Subscriber(i, i % 2 == 0));
  // Offers joined by 30, 32, 34; 32 owes money.
  ASSERT_TRUE(engine().OpenObligation({keys[2], ObligationKind::kDebt, "A-1", "5"}, Staff()));
  auto all = engine().SelectAudience(Staff(), "marketing", false, nullptr).value();
  EXPECT_EQ(all.count, 3u);
  auto clean = engine().SelectAudience(Staff(), "marketing", true, nullptr).value();
  EXPECT_EQ(clean.count, 2u);
  const std::vector<SubjectId> among = {engine().LookupSubject(Staff(), keys[0]).value(),
                                        engine().LookupSubject(Staff(), keys[1]).value()};
  auto some = engine().SelectAudience(Staff(), "marketing", true, &among).value();
  EXPECT_EQ(some.Ids(), (std::vector<SubjectId>{among[0]}));
}

TEST_F(ConsentEngineTest, ConsentReceiptVerifiesOfflineAndATamperedOneDoesNot) {
  const SubjectKey key = Subscriber(40);
  auto r = engine().Withdraw({key, "app_support_chat", "CHAT-12", {"marketing_offers"}, {}, false}, Staff());
  ASSERT_TRUE(r);
  const std::string receipt = r->receipt;
  EXPECT_NE(receipt.find("\"postal_index\":\"A15C9K0\""), std::string::npos);
  EXPECT_NE(receipt.find("\"action\":\"consent.withdrawn\""), std::string::npos);
  EXPECT_NE(receipt.find("\"services_switched_off\":[\"marketing_offers\"]"), std::string::npos);
  auto verifier = crypto::Verifier::FromPem(testing::ReadFile(dir_.path() / "data/receipt.pub")).value();
  EXPECT_TRUE(report::VerifyReceipt(receipt, verifier).ok);
  std::string tampered = receipt;
  tampered[tampered.find("CHAT-12") + 5] = '3';
  const report::ReceiptCheck bad = report::VerifyReceipt(tampered, verifier);
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.reason.find("digest the ledger recorded"), std::string::npos) << bad.reason;
  auto other = crypto::Signer::Generate().value();
  EXPECT_FALSE(report::VerifyReceipt(receipt, crypto::Verifier::FromPem(other.PublicPem().value()).value()).ok);
  // Asked for again, it is the same content, proved to a later tree head.
  const std::string again = engine().Receipt(Staff(), r->revision).value();
  EXPECT_TRUE(report::VerifyReceipt(again, verifier).ok);
  auto content = [](const std::string& text) {
    boost::json::value v = boost::json::parse(text);
    v.as_object().erase("proof");
    return boost::json::serialize(v);
  };
  EXPECT_EQ(content(again), content(receipt));
}

TEST_F(ConsentEngineTest, AReceiptProvesItsEventIsInTheSignedLedgerAndAnyChangedByteFails) {
  const SubjectKey key = Subscriber(41);
  auto r = engine().GrantConsent({key, "product_development", "mobile_app", "APP-41"}, Staff());
  ASSERT_TRUE(r) << r.error().ToString();
  const std::string receipt = r->receipt;
  ASSERT_NE(receipt.find("\"version\":\"qorgau-receipt/2\""), std::string::npos);
  ASSERT_NE(receipt.find("\"type\":\"receipt.issued\""), std::string::npos);
  auto verifier = crypto::Verifier::FromPem(testing::ReadFile(dir_.path() / "data/receipt.pub")).value();
  ASSERT_TRUE(report::VerifyReceipt(receipt, verifier).ok) << report::VerifyReceipt(receipt, verifier).reason;
  // Every byte of the file matters: content, leaf, path, tree head.
  int failed = 0, tried = 0;
  for (size_t i = 0; i + 1 < receipt.size(); i += 7) {
    std::string changed = receipt;
    changed[i] = changed[i] == 'a' ? 'b' : 'a';
    if (changed == receipt) continue;
    ++tried;
    failed += report::VerifyReceipt(changed, verifier).ok ? 0 : 1;
  }
  EXPECT_EQ(failed, tried);
  // The proof is to a head the operator signed: a proof to an unsigned root fails.
  const size_t at = receipt.find("\"root\":\"") + 8;
  std::string root = receipt;
  root[at] = root[at] == '0' ? '1' : '0';
  EXPECT_NE(report::VerifyReceipt(root, verifier).reason.find("signature"), std::string::npos);
}

// Caught by the round-trip property of the receipt_verify fuzz target: the
// checks read the parts they need, so a receipt with an upper-case hex digit
// in its proof, or a member added to the proof, the tree head or a format-1
// signature, still verified.
TEST_F(ConsentEngineTest, AReceiptIsValidOnlyExactlyAsIssued) {
  auto r = engine().GrantConsent({Subscriber(42), "product_development", "mobile_app", "APP-42"},
                                 Staff());
  ASSERT_TRUE(r) << r.error().ToString();
  auto verifier =
      crypto::Verifier::FromPem(testing::ReadFile(dir_.path() / "data/receipt.pub")).value();
  ASSERT_TRUE(report::VerifyReceipt(r->receipt, verifier).ok);
  auto altered = [&](const std::function<void(boost::json::object&)>& change) {
    boost::json::value v = boost::json::parse(r->receipt);
    change(v.as_object());
    return ledger::CanonicalJson(v).value() + "\n";
  };
  auto proof = [](boost::json::object& o) -> boost::json::object& {
    return o["proof"].as_object();
  };
  const std::string upper_root = altered([&](boost::json::object& o) {
    auto& head = proof(o)["tree_head"].as_object();
    std::string root(head["root"].as_string());
    for (char& c : root) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    head["root"] = root;
  });
  const std::string extra_in_proof =
      altered([&](boost::json::object& o) { proof(o)["note"] = "x"; });
  const std::string extra_in_head =
      altered([&](boost::json::object& o) { proof(o)["tree_head"].as_object()["note"] = "x"; });
  for (const std::string& changed : {upper_root, extra_in_proof, extra_in_head}) {
    ASSERT_NE(changed, r->receipt);
    const report::ReceiptCheck c = report::VerifyReceipt(changed, verifier);
    EXPECT_FALSE(c.ok);
    EXPECT_NE(c.reason.find("not as issued"), std::string::npos) << c.reason;
  }

  // Format 1: the signature covers everything but itself, so it has exactly
  // its three members.
  auto signer =
      crypto::Signer::FromPem(testing::ReadFile(dir_.path() / "data/receipt.key")).value();
  boost::json::object v1 = boost::json::parse(r->receipt).as_object();
  v1.erase("proof");
  v1["version"] = report::kReceiptFormatV1;
  const std::string body = ledger::CanonicalJson(v1).value();
  v1["signature"] = boost::json::object{{"alg", "Ed25519"},
                                        {"key_id", signer.KeyId()},
                                        {"value", crypto::Base64Encode(signer.Sign(body).value())}};
  ASSERT_TRUE(report::VerifyReceipt(ledger::CanonicalJson(v1).value() + "\n", verifier).ok);
  v1["signature"].as_object()["note"] = "x";
  const report::ReceiptCheck c =
      report::VerifyReceipt(ledger::CanonicalJson(v1).value() + "\n", verifier);
  EXPECT_FALSE(c.ok);
  EXPECT_NE(c.reason.find("members other than"), std::string::npos) << c.reason;
}

TEST_F(ConsentEngineTest, IndexSurvivesRestartAndEqualsARebuildFromTheStore) {
  const SubjectKey a = Subscriber(50);
  const SubjectKey b = Subscriber(51);
  ASSERT_TRUE(engine().OpenObligation({b, ObligationKind::kDebt, "R-1", "7"}, Staff()));
  ASSERT_TRUE(engine().Withdraw({a, "app_support_chat", "CH-1", {"contests"}, {}, false}, Staff()));
  const auto audience = engine().SelectAudience(Staff(), "marketing", true, nullptr)->Ids();
  std::vector<index::Decision> before;
  for (const auto& k : {a, b}) {
    for (const auto& p : engine().policy().purposes) before.push_back(Check(k, p.id));
  }
  Reopen();
  size_t n = 0;
  for (const auto& k : {a, b}) {
    for (const auto& p : engine().policy().purposes) {
      const index::Decision d = Check(k, p.id);
      EXPECT_EQ(d.reason, before[n].reason) << p.id;
      // Later: the decision log's sealing events came in between.
      EXPECT_GE(d.revision, before[n].revision);
      ++n;
    }
  }
  EXPECT_EQ(engine().SelectAudience(Staff(), "marketing", true, nullptr)->Ids(), audience);
}

TEST_F(ConsentEngineTest, ConcurrentWritersAreAllRecordedTheLedgerVerifiesAndTheIndexEqualsARebuild) {
  constexpr int kThreads = 8;
  constexpr int kSubjects = 4;
  constexpr int kRounds = 6;
  std::vector<std::vector<SubjectKey>> keys(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kSubjects; ++i) keys[t].push_back(Subscriber(100 + t * kSubjects + i));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        for (const auto& k : keys[t]) {
          auto r = round % 2 == 0
                       ? engine().WithdrawConsent({k, "marketing", "app_support_chat", "W-" + std::to_string(round)}, Staff())
                       : engine().GrantConsent({k, "marketing", "mobile_app", "G-" + std::to_string(round)}, Staff());
          if (!r) ++failures;
          // A conflicting command in between fails alone.
          if (engine().GrantConsent({k, "fiscal_reporting", "mobile_app", "X-1"}, Staff())) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_TRUE(engine().VerifyLedger(Staff())->ok);
  // kRounds is even: every subject ends with marketing granted again.
  auto rebuilt = index::DecisionIndex::Load(inst_->store(), std::make_shared<policy::Policy>(engine().policy())).value();
  EXPECT_EQ(rebuilt->revision(), inst_->index().revision());
  for (int p = 0; p < static_cast<int>(engine().policy().purposes.size()); ++p) {
    EXPECT_EQ(rebuilt->Select(p, false).Ids(), inst_->index().Select(p, false).Ids()) << p;
  }
  EXPECT_EQ(inst_->index().Select(inst_->index().PurposeOrdinal("marketing"), false).count,
            static_cast<std::uint64_t>(kThreads * kSubjects));
  EXPECT_LT(inst_->writer().batches(), 2u * kThreads * kSubjects * kRounds + 200u);
}

}  // namespace
}  // namespace qorgau::rules
