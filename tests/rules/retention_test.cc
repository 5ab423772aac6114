// The retention plan (R-VII, rules/retention.h) as a pure function of the
// KEM policy and one subject's records: each start event, the longest
// applicable period, and what an open obligation or legal hold keeps.
#include "rules/retention.h"

#include <gtest/gtest.h>

#include <chrono>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "policy/policy_loader.h"
#include "report/retention_act.h"
#include "report/statement.h"

#include <boost/json.hpp>
#include <set>

namespace qorgau::rules {
namespace {

using store::ConsentState;

UnixMillis Day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days{year{y} / month{m} / day{d}}.time_since_epoch()).count();
}

const policy::Policy& Kem() {
  static const policy::Policy* p = [] {
    auto r = policy::LoadPolicyFile(testing::KemPolicy());
    if (!r.policy) std::abort();
    return new policy::Policy(*r.policy);
  }();
  return *p;
}

// A subscriber who joined on 2024-01-10 (mobile_base, simply_app) and gave
// name, phone and email then.
RetentionFacts Subscriber() {
  RetentionFacts f;
  f.subject = 7;
  f.created_at = Day(2024, 1, 10);
  for (const char* c : {"user.identity.name", "user.contact.phone", "user.contact.email"}) {
    f.values.push_back({c, Day(2024, 1, 10)});
  }
  f.contracts.push_back({1, 7, "registration_form", "FORM-1", Day(2024, 1, 10), 10});
  f.services.push_back({7, "mobile_base", true, 1, Day(2024, 1, 10), 11});
  f.services.push_back({7, "simply_app", true, 1, Day(2024, 1, 10), 12});
  return f;
}

void EndRelationship(RetentionFacts* f, UnixMillis at) {
  for (auto& c : f->contracts) c.ended_at = at;
  for (auto& s : f->services) {
    s.active = false;
    s.changed_at = at;
  }
}

const RetentionItem& Item(const std::vector<RetentionItem>& items, std::string_view what, std::string_view key = "") {
  for (const auto& i : items) {
    if (i.what == what && i.key == key) return i;
  }
  ADD_FAILURE() << "no plan item for " << what << " " << key;
  static const RetentionItem none;
  return none;
}

TEST(RetentionPlan, R_VII_1_relationship_end_clock_waits_while_a_contract_is_in_force) {
  RetentionFacts f = Subscriber();
  auto items = PlanRetention(Kem(), f, Day(2040, 1, 1));
  EXPECT_EQ(Item(items, "user.contact.phone").status, RetentionStatus::kWaiting);
  EXPECT_EQ(Item(items, "record:contracts", "1").status, RetentionStatus::kWaiting);

  EndRelationship(&f, Day(2026, 3, 10));
  items = PlanRetention(Kem(), f, Day(2026, 12, 1));
  // email: 6 months after the end; phone: the 2-year statutory minimum.
  const RetentionItem& email = Item(items, "user.contact.email");
  EXPECT_EQ(email.status, RetentionStatus::kDue);
  EXPECT_EQ(*email.due_at, Day(2026, 9, 10));
  const RetentionItem& phone = Item(items, "user.contact.phone");
  EXPECT_EQ(phone.status, RetentionStatus::kRunning);
  EXPECT_EQ(*phone.due_at, Day(2028, 3, 10));
  EXPECT_EQ(phone.rule->minimum->id, "subscriber_service_info");
  EXPECT_EQ(*phone.started_at, Day(2026, 3, 10));
}

TEST(RetentionPlan, R_VII_1_a_subject_without_a_contract_is_related_through_consents) {
  RetentionFacts f;
  f.subject = 9;
  f.created_at = Day(2025, 5, 1);
  f.values.push_back({"user.contact.email", Day(2025, 5, 1)});
  f.consents.push_back({9, "marketing", ConsentState::kGranted, 1, "website", "WEB-1", Day(2025, 5, 1), 3});
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2030, 1, 1)), "user.contact.email").status, RetentionStatus::kWaiting);
  f.consents[0].state = ConsentState::kWithdrawn;
  f.consents[0].changed_at = Day(2025, 7, 1);
  const auto items = PlanRetention(Kem(), f, Day(2026, 1, 2));
  EXPECT_EQ(Item(items, "user.contact.email").status, RetentionStatus::kDue);
  EXPECT_EQ(*Item(items, "user.contact.email").due_at, Day(2026, 1, 1));
}

TEST(RetentionPlan, R_VII_1_tax_period_counts_from_the_end_of_the_year_the_relationship_ended) {
  RetentionFacts f = Subscriber();
  f.values.push_back({"user.financial.billing", Day(2026, 2, 1)});
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2040, 1, 1)), "user.financial.billing").status,
            RetentionStatus::kWaiting);
  EndRelationship(&f, Day(2026, 3, 10));
  const auto items = PlanRetention(Kem(), f, Day(2031, 12, 31));
  const RetentionItem& billing = Item(items, "user.financial.billing");
  EXPECT_EQ(*billing.started_at, Day(2027, 1, 1));
  EXPECT_EQ(*billing.due_at, Day(2032, 1, 1));
  EXPECT_EQ(billing.status, RetentionStatus::kRunning);
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2032, 1, 1)), "user.financial.billing").status, RetentionStatus::kDue);
}

TEST(RetentionPlan, R_VII_1_collection_clock_runs_from_the_value_recorded) {
  RetentionFacts f = Subscriber();
  f.values.push_back({"user.telecom.location", Day(2025, 6, 30)});
  const auto items = PlanRetention(Kem(), f, Day(2027, 6, 30));
  EXPECT_EQ(Item(items, "user.telecom.location").status, RetentionStatus::kDue);
  EXPECT_EQ(*Item(items, "user.telecom.location").due_at, Day(2027, 6, 30));
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2027, 6, 29)), "user.telecom.location").status,
            RetentionStatus::kRunning);
}

// R-VI.4: the marketing profile only the offers and contests need goes at
// once when the last of them is switched off.
TEST(RetentionPlan, R_VI_4_data_only_switched_off_services_needed_fall_due_at_their_end) {
  RetentionFacts f = Subscriber();
  f.values.push_back({"user.derived.marketing_profile", Day(2025, 1, 1)});
  f.services.push_back({7, "marketing_offers", true, 2, Day(2024, 2, 1), 20});
  f.services.push_back({7, "contests", true, 2, Day(2024, 2, 1), 21});
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2026, 1, 1)), "user.derived.marketing_profile").status,
            RetentionStatus::kWaiting);
  f.services[2].active = false;
  f.services[2].changed_at = Day(2025, 11, 1);
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2026, 1, 1)), "user.derived.marketing_profile").status,
            RetentionStatus::kWaiting)
      << "contests still needs it";
  f.services[3].active = false;
  f.services[3].changed_at = Day(2025, 12, 1);
  const auto items = PlanRetention(Kem(), f, Day(2025, 12, 1));
  EXPECT_EQ(Item(items, "user.derived.marketing_profile").status, RetentionStatus::kDue);
  EXPECT_EQ(*Item(items, "user.derived.marketing_profile").due_at, Day(2025, 12, 1));
  // The phone the base services still need is not touched.
  EXPECT_EQ(Item(items, "user.contact.phone").status, RetentionStatus::kWaiting);
}

// A call recording that proves an oral consent is kept while that consent
// lasts and three years after: longer than the one year of quality review.
TEST(RetentionPlan, R_VII_1_the_longest_applicable_period_wins) {
  RetentionFacts f = Subscriber();
  f.values.push_back({"user.support.call_records", Day(2025, 1, 15)});
  // A consent given in writing: only the year of quality review applies.
  f.consents.push_back({7, "marketing", ConsentState::kWithdrawn, 1, "website", "W-1", Day(2025, 3, 1), 30});
  auto items = PlanRetention(Kem(), f, Day(2026, 1, 15));
  EXPECT_EQ(Item(items, "user.support.call_records").status, RetentionStatus::kDue);
  EXPECT_EQ(Item(items, "user.support.call_records").rule->from, "collection");

  // Given orally, through the call centre: kept while it is in force...
  f.consents.push_back({7, "convergent_services", ConsentState::kGranted, 1, "call_centre", "CALL-1",
                        Day(2025, 1, 15), 31});
  items = PlanRetention(Kem(), f, Day(2026, 1, 15));
  EXPECT_EQ(Item(items, "user.support.call_records").status, RetentionStatus::kWaiting);
  EXPECT_EQ(Item(items, "user.support.call_records").rule->from, "consent_end");
  // ...and for the civil limitation period after its withdrawal.
  f.consents[1].state = ConsentState::kWithdrawn;
  f.consents[1].changed_at = Day(2025, 6, 1);
  items = PlanRetention(Kem(), f, Day(2026, 1, 15));
  const RetentionItem& rec = Item(items, "user.support.call_records");
  EXPECT_EQ(rec.status, RetentionStatus::kRunning);
  EXPECT_EQ(*rec.due_at, Day(2028, 6, 1));
  EXPECT_EQ(rec.rule->minimum->id, "civil_limitation");
}

// A rule for a purpose applies only to subjects whose data serve it: the
// AML minimum (made longer here) for the partner bank's services.
TEST(RetentionPlan, R_VII_1_a_purpose_rule_applies_only_to_subjects_whose_data_serve_it) {
  testing::TempDir dir;
  const auto file = testing::CopyKemPolicy(dir.path());
  testing::WriteFile(file, testing::ReplaceOnce(testing::ReadFile(file),
                                                "    period: 5y\n    from: relationship_end\n    minimum: aml_kyc",
                                                "    period: 7y\n    from: relationship_end\n    minimum: aml_kyc"));
  auto loaded = policy::LoadPolicyFile(file);
  ASSERT_TRUE(loaded.policy) << loaded.problems.front().ToString();
  RetentionFacts f = Subscriber();
  EndRelationship(&f, Day(2026, 3, 10));
  EXPECT_EQ(*Item(PlanRetention(*loaded.policy, f, Day(2027, 1, 1)), "user.identity.name").due_at, Day(2031, 3, 10));
  f.consents.push_back({7, "convergent_services", ConsentState::kWithdrawn, 1, "website", "W-2", Day(2025, 1, 1), 40});
  const auto items = PlanRetention(*loaded.policy, f, Day(2027, 1, 1));
  EXPECT_EQ(*Item(items, "user.identity.name").due_at, Day(2033, 3, 10));
  EXPECT_EQ(Item(items, "user.identity.name").rule->minimum->id, "aml_kyc");
}

TEST(RetentionPlan, R_VII_1_a_legal_hold_keeps_exactly_what_it_covers) {
  RetentionFacts f = Subscriber();
  EndRelationship(&f, Day(2022, 1, 10));
  // Past every period: name (5y) is not, phone (2y) and email (6m) are.
  f.obligations.push_back({"HOLD-1", 7, store::ObligationKind::kLegalHold, std::nullopt, Day(2023, 1, 1), std::nullopt, 50,
                           {"user.contact.email"}});
  const auto items = PlanRetention(Kem(), f, Day(2026, 12, 1));
  const RetentionItem& email = Item(items, "user.contact.email");
  EXPECT_EQ(email.status, RetentionStatus::kHeld);
  EXPECT_EQ(email.held_by, std::vector<std::string>{"HOLD-1"});
  EXPECT_EQ(Item(items, "user.contact.phone").status, RetentionStatus::kDue);
  EXPECT_EQ(Item(items, "record:contracts", "1").status, RetentionStatus::kDue) << "the hold names no record";
  EXPECT_EQ(Item(items, "user.identity.name").status, RetentionStatus::kRunning);

  // Closed, it keeps nothing more.
  f.obligations[0].closed_at = Day(2026, 6, 1);
  EXPECT_EQ(Item(PlanRetention(Kem(), f, Day(2026, 12, 1)), "user.contact.email").status, RetentionStatus::kDue);
}

TEST(RetentionPlan, R_VII_1_an_open_debt_that_names_no_category_keeps_everything) {
  RetentionFacts f = Subscriber();
  EndRelationship(&f, Day(2022, 1, 10));
  f.obligations.push_back({"DEBT-1", 7, store::ObligationKind::kDebt, 150000, Day(2021, 12, 1), std::nullopt, 51, {}});
  const auto items = PlanRetention(Kem(), f, Day(2026, 12, 1));
  for (const char* what : {"user.contact.email", "user.contact.phone", "record:contracts"}) {
    const RetentionItem& i = Item(items, what, std::string_view(what) == "record:contracts" ? "1" : "");
    EXPECT_EQ(i.status, RetentionStatus::kHeld) << what;
    EXPECT_EQ(i.held_by, std::vector<std::string>{"DEBT-1"}) << what;
  }
  EXPECT_EQ(Item(items, "record:obligations", "DEBT-1").status, RetentionStatus::kWaiting);
}

TEST(RetentionPlan, R_VII_1_records_count_from_their_own_events) {
  RetentionFacts f = Subscriber();
  store::ApplicationRecord open, answered;
  open.id = 100;
  answered.id = 101;
  answered.closed_at = Day(2023, 2, 1);
  f.applications = {open, answered};
  f.obligations.push_back({"DEBT-2", 7, store::ObligationKind::kDebt, 100, Day(2020, 1, 1), Day(2021, 1, 1), 52, {}});
  f.consents.push_back({7, "marketing", ConsentState::kWithdrawn, 1, "website", "W-3", Day(2023, 1, 1), 53});
  const auto items = PlanRetention(Kem(), f, Day(2026, 2, 1));
  EXPECT_EQ(Item(items, "record:applications", "100").status, RetentionStatus::kWaiting);
  EXPECT_EQ(Item(items, "record:applications", "101").status, RetentionStatus::kDue);  // 3y after the answer
  EXPECT_EQ(*Item(items, "record:obligations", "DEBT-2").due_at, Day(2026, 1, 1));       // 5y after closing
  EXPECT_EQ(Item(items, "record:obligations", "DEBT-2").status, RetentionStatus::kDue);
  EXPECT_EQ(*Item(items, "record:consents", "marketing").due_at, Day(2026, 1, 1));       // 3y after withdrawal
}

// The engine: a contract's end is an event that starts the relationship's
// clock, and the plan over the store sees it.
class RetentionEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(app::Instance::Init(dir_.path() / "data", testing::KemPolicy(), clock_));
    inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
    world_ = testing::MakeAccessWorld(engine(), /*with_keys=*/false);
  }
  Engine& engine() { return inst_->engine(); }
  // onboarding, allowed to switch services off too (contract.end).
  Caller Ender() {
    Caller ops = world_["onboarding"];
    for (auto& d : ops.duties) d.actions |= static_cast<DutyActions>(DutyAction::kWithdraw);
    return ops;
  }
  // crm, also recording the marketing profile (a derived category).
  Caller Profiler() {
    store::DutyRecord profiling{"crm", "marketing", {"user.contact.phone", "user.derived.marketing_profile"}, true,
                                kAllDutyActions};
    EXPECT_TRUE(engine().GrantDuty(profiling, *testing::Console(engine())));
    return *engine().CallerFor("crm").value();
  }
  bool Holds(store::SubjectId subject, std::string_view category) {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    const auto values = txn->GetPersonalData(subject).value();
    return std::any_of(values.begin(), values.end(), [&](const auto& v) { return v.category == category; });
  }
  void ExpectLedgerVerifies() {
    auto verified = engine().VerifyLedger(world_["dpo"]);
    ASSERT_TRUE(verified) << verified.error().ToString();
    EXPECT_TRUE(verified->ok) << verified->reason;
  }
  const RetentionPlan::Line* LineOf(const RetentionPlan& plan, std::string_view what, RetentionStatus status) {
    for (const auto& l : plan.lines) {
      if (l.what == what && l.status == status) return &l;
    }
    return nullptr;
  }

  testing::TempDir dir_;
  FixedClock clock_{Day(2026, 3, 10)};
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
};

TEST_F(RetentionEngine, R_VII_1_ending_the_last_contract_starts_the_relationship_clock) {
  const auto two = SubjectKey::Id(2);  // one contract: mobile_base and simply_app
  auto plan = engine().PlanDestruction({Day(2030, 1, 1)}, world_["dpo"]);
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->subjects, 2);
  ASSERT_TRUE(LineOf(*plan, "user.contact.email", RetentionStatus::kWaiting));
  EXPECT_EQ(LineOf(*plan, "user.contact.email", RetentionStatus::kWaiting)->count, 2);

  auto before = engine().Check(world_["onboarding"], two, "contract_performance", {});
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_TRUE(before->allow);
  // onboarding records consents; it does not switch services off.
  EXPECT_EQ(engine().EndContract({two, 3, "TERM-1"}, world_["onboarding"]).error().reason, "no_duty");
  const Caller ops = Ender();
  auto ended = engine().EndContract({two, 3, "TERM-1"}, ops);
  ASSERT_TRUE(ended) << ended.error().ToString();
  EXPECT_EQ(ended->services_off, (std::vector<std::string>{"mobile_base", "simply_app"}));
  EXPECT_TRUE(ended->relationship_ended);
  EXPECT_EQ(engine().EndContract({two, 3, "TERM-1"}, ops).error().reason, "contract_ended");
  EXPECT_EQ(engine().EndContract({two, 1, "TERM-1"}, ops).error().code, ErrorCode::kNotFound)
      << "contract 1 is subject 1's";
  EXPECT_EQ(engine().EndContract({two, 3, ""}, ops).error().field, "evidence");
  // Its services are off: the contract's purposes no longer hold.
  auto check = engine().Check(world_["onboarding"], two, "contract_performance", {});
  ASSERT_TRUE(check) << check.error().ToString();
  EXPECT_FALSE(check->allow);

  // Six months on, subject 2's e-mail is due; subject 1's still waits.
  plan = engine().PlanDestruction({Day(2026, 9, 10)}, world_["dpo"]);
  ASSERT_TRUE(plan) << plan.error().ToString();
  ASSERT_TRUE(LineOf(*plan, "user.contact.email", RetentionStatus::kDue));
  EXPECT_EQ(LineOf(*plan, "user.contact.email", RetentionStatus::kDue)->count, 1);
  EXPECT_EQ(LineOf(*plan, "user.contact.email", RetentionStatus::kWaiting)->count, 1);
  ASSERT_TRUE(LineOf(*plan, "user.contact.phone", RetentionStatus::kRunning));
  EXPECT_EQ(*LineOf(*plan, "user.contact.phone", RetentionStatus::kRunning)->next_due, Day(2028, 3, 10));
  // The ledger proves the end.
  ExpectLedgerVerifies();
  // The plan is the data protection officer's.
  EXPECT_EQ(engine().PlanDestruction({}, world_["olga"]).error().reason, "dpo_only");
}

TEST_F(RetentionEngine, R_VII_1_the_plan_says_which_obligation_holds_what) {
  const auto two = SubjectKey::Id(2);
  ASSERT_TRUE(engine().OpenObligation({two, ObligationKind::kLegalHold, "HOLD-9", "", {"user.contact.email"}},
                                      world_["dpo"]));
  EXPECT_EQ(engine()
                .OpenObligation({two, ObligationKind::kLegalHold, "HOLD-10", "", {"user.contact.fax"}}, world_["dpo"])
                .error()
                .field,
            "categories");
  const Caller ops = Ender();
  ASSERT_TRUE(engine().EndContract({two, 3, "TERM-2"}, ops));
  auto plan = engine().PlanDestruction({Day(2029, 1, 1)}, world_["dpo"]);
  ASSERT_TRUE(plan) << plan.error().ToString();
  const auto* held = LineOf(*plan, "user.contact.email", RetentionStatus::kHeld);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->count, 1);
  EXPECT_EQ(held->held_by_kind.at("legal_hold"), 1);
  ASSERT_TRUE(LineOf(*plan, "user.contact.phone", RetentionStatus::kDue)) << "the hold names the e-mail only";
  // The statement gives the e-mail's storage as held by a legal hold.
  clock_.Set(Day(2029, 1, 1));
  auto st = engine().Statement({two, "en", false, std::nullopt}, world_["dpo"]);
  ASSERT_TRUE(st) << st.error().ToString();
  bool seen = false;
  for (const auto& v : st->data) {
    if (v.category != "user.contact.email") continue;
    seen = true;
    EXPECT_EQ(v.storage.status, "held");
    EXPECT_EQ(v.storage.kept_by, std::vector<std::string>{"legal_hold"});
    EXPECT_EQ(v.storage.due_day, "2026-09-10");
  }
  EXPECT_TRUE(seen);
}

// Whether `needle` occurs in a file's bytes.
bool FileHolds(const std::filesystem::path& file, const crypto::Bytes& needle) {
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return false;
  const std::string bytes = testing::ReadFile(file);
  return bytes.find(std::string(needle.begin(), needle.end())) != std::string::npos;
}

TEST_F(RetentionEngine, R_VII_2_a_run_destroys_what_is_due_and_its_act_says_what) {
  const auto two = SubjectKey::Id(2);
  const Caller ops = Ender();
  ASSERT_TRUE(engine().EndContract({two, 3, "TERM-1"}, ops));
  // What subject 2's sealed values are, to look for them in the files later.
  std::vector<crypto::Bytes> sealed;
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    const auto values = txn->GetPersonalData(2).value();
    for (const auto& v : values) sealed.push_back(v.sealed);
  }
  ASSERT_FALSE(sealed.empty());
  const std::string iin = demo::SyntheticSubjects().At(2).iin;

  // Past the longest period (the IIN's and the name's five years).
  clock_.Set(Day(2031, 3, 11));
  EXPECT_EQ(engine().RunDestruction({}, world_["olga"]).error().reason, "dpo_only");
  auto run = engine().RunDestruction({}, world_["dpo"]);
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_FALSE(run->resumed);
  ASSERT_TRUE(run->run.finished_at);
  const auto act = boost::json::parse(run->run.act).as_object();
  EXPECT_EQ(act.at("subjects").as_int64(), 1);
  EXPECT_EQ(act.at("subjects_destroyed").as_int64(), 1);
  std::set<std::string> lines;
  for (const auto& l : act.at("lines").as_array()) lines.insert(std::string(l.at("what").as_string()));
  EXPECT_EQ(lines, (std::set<std::string>{"record:contracts", "user.contact.email", "user.contact.phone",
                                          "user.identity.iin", "user.identity.name"}));
  EXPECT_EQ(run->run.act.find(iin), std::string::npos);

  // Crypto-shredded: no key, no blind index, every later check says so.
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    const auto subject = txn->GetSubject(2).value();
    ASSERT_TRUE(subject);
    EXPECT_TRUE(subject->destroyed_at);
    EXPECT_TRUE(subject->wrapped_key.empty());
    EXPECT_TRUE(txn->GetPersonalData(2).value().empty());
    EXPECT_TRUE(txn->GetContracts(2).value().empty());
    EXPECT_FALSE(txn->GetPersonalData(1).value().empty()) << "subject 1 keeps everything";
  }
  auto check = engine().Check(world_["onboarding"], two, "contract_performance", {});
  ASSERT_TRUE(check) << check.error().ToString();
  EXPECT_EQ(index::ReasonCode(check->reason), "subject_destroyed");
  EXPECT_EQ(engine().ReadPersonalData(world_["olga"], SubjectKey::Iin(iin), "contract_performance", {}).error().code,
            ErrorCode::kNotFound)
      << "nobody is found by the IIN any more";
  // Nothing of the sealed values is left in the database's files, where
  // subject 1's still are.
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    const auto kept = txn->GetPersonalData(1).value();
    ASSERT_FALSE(kept.empty());
    EXPECT_TRUE(FileHolds(dir_.path() / "data/qorgau.db", kept.front().sealed) ||
                FileHolds(dir_.path() / "data/qorgau.db-wal", kept.front().sealed));
  }
  for (const auto& b : sealed) {
    EXPECT_FALSE(FileHolds(dir_.path() / "data/qorgau.db", b));
    EXPECT_FALSE(FileHolds(dir_.path() / "data/qorgau.db-wal", b));
  }
  // The ledger proves the state after it.
  ExpectLedgerVerifies();

  // Again: nothing more is due, and that is an act too.
  auto again = engine().RunDestruction({}, world_["dpo"]);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(boost::json::parse(again->run.act).at("subjects").as_int64(), 0);
  auto runs = engine().RetentionRuns(world_["dpo"]);
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->size(), 2u);
  EXPECT_EQ(runs->front().run, again->run.run) << "newest first";
  // The act prints in the three languages, naming no value.
  for (const char* lang : {"kk", "ru", "en"}) {
    auto html = report::RetentionActHtml(engine().policy(), run->run, lang);
    ASSERT_TRUE(html) << html.error().ToString();
    EXPECT_NE(html->find("DA-" + std::to_string(run->run.run)), std::string::npos);
    EXPECT_EQ(html->find(iin), std::string::npos);
    auto json = report::RetentionActJson(engine().policy(), run->run, lang);
    ASSERT_TRUE(json);
    EXPECT_EQ(boost::json::parse(*json).at("lang").as_string(), lang);
  }
  const std::string ru = report::RetentionActHtml(engine().policy(), run->run, "ru").value();
  EXPECT_NE(ru.find("Акт об уничтожении"), std::string::npos);
  EXPECT_NE(ru.find("5 г. после прекращения отношений"), std::string::npos) << "periods in words";
  EXPECT_NE(ru.find("2031-03-11 05:00 (Asia/Almaty)"), std::string::npos) << "times on the operator's clock";
  EXPECT_EQ(report::RetentionActJson(engine().policy(), run->run, "de").error().field, "lang");
  // A damaged act is reported, not thrown.
  store::RetentionRunRecord damaged = run->run;
  damaged.act = R"({"lines":7})";
  EXPECT_EQ(report::RetentionActHtml(engine().policy(), damaged, "kk").error().code, ErrorCode::kCorruption);
}

TEST_F(RetentionEngine, R_VII_1_a_legal_hold_keeps_exactly_what_it_covers_through_a_run) {
  const auto two = SubjectKey::Id(2);
  const Caller ops = Ender();
  ASSERT_TRUE(engine().EndContract({two, 3, "TERM-1"}, ops));
  ASSERT_TRUE(engine().OpenObligation({two, ObligationKind::kLegalHold, "HOLD-3", "", {"user.contact.email"}},
                                      world_["dpo"]));
  clock_.Set(Day(2031, 3, 11));
  auto run = engine().RunDestruction({}, world_["dpo"]);
  ASSERT_TRUE(run) << run.error().ToString();
  EXPECT_EQ(boost::json::parse(run->run.act).at("subjects_destroyed").as_int64(), 0);
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  const auto values = txn->GetPersonalData(2).value();
  ASSERT_EQ(values.size(), 1u);
  EXPECT_EQ(values[0].category, "user.contact.email");
  EXPECT_FALSE(txn->GetSubject(2).value()->destroyed_at);
  txn.reset();
  auto plan = engine().PlanDestruction({}, world_["dpo"]);
  ASSERT_TRUE(plan);
  const auto* held = LineOf(*plan, "user.contact.email", RetentionStatus::kHeld);
  ASSERT_TRUE(held);
  EXPECT_EQ(held->held_by_kind.at("legal_hold"), 1);
  // Closed, the hold keeps nothing: the next run takes the rest.
  ASSERT_TRUE(engine().CloseObligation("HOLD-3", world_["dpo"]));
  auto next = engine().RunDestruction({}, world_["dpo"]);
  ASSERT_TRUE(next) << next.error().ToString();
  EXPECT_EQ(boost::json::parse(next->run.act).at("subjects_destroyed").as_int64(), 0)
      << "the closed hold is a record kept 5 years";
  ExpectLedgerVerifies();
}

// A phone destroyed while its subject lives (2 years, the name and IIN 5)
// takes its blind index along: nobody is found by it, and the recycled
// number can be a new subscriber's.
TEST_F(RetentionEngine, R_VII_2_a_destroyed_phone_finds_nobody_and_can_be_given_again) {
  const auto two = SubjectKey::Id(2);
  ASSERT_TRUE(engine().EndContract({two, 3, "TERM-1"}, Ender()));
  clock_.Set(Day(2028, 3, 11));
  ASSERT_TRUE(engine().RunDestruction({}, world_["dpo"]));
  EXPECT_FALSE(Holds(2, "user.contact.phone"));
  EXPECT_TRUE(Holds(2, "user.identity.iin"));
  const auto old = demo::SyntheticSubjects().At(2);
  EXPECT_EQ(engine().ReadPersonalData(world_["olga"], SubjectKey::Phone(old.phone), "contract_performance", {})
                .error()
                .code,
            ErrorCode::kNotFound);
  // The IIN still finds the subject (whose contract purposes ended with it).
  auto by_iin = engine().ReadPersonalData(world_["olga"], SubjectKey::Iin(old.iin), "contract_performance", {});
  ASSERT_FALSE(by_iin);
  EXPECT_NE(by_iin.error().code, ErrorCode::kNotFound) << by_iin.error().ToString();
  EXPECT_EQ(by_iin.error().field, "purpose") << by_iin.error().ToString();
  const auto fresh = demo::SyntheticSubjects().At(90);
  auto added = engine().AddSubject({fresh.iin, old.phone, {}, "subject"}, world_["onboarding"]);
  ASSERT_TRUE(added) << added.error().ToString();
  ExpectLedgerVerifies();
}

TEST_F(RetentionEngine, R_VI_4_withdrawal_destroys_at_once_what_only_the_switched_off_services_needed) {
  const auto one = SubjectKey::Id(1);  // has the personalised offers (marketing)
  const Caller crm = Profiler();
  auto put = engine().PutData(one, "user.derived.marketing_profile", "segment:young-urban", "derived", crm);
  ASSERT_TRUE(put) << put.error().ToString();
  auto done = engine().Withdraw({one, "app_support_chat", "CHAT-9", {"marketing_offers"}, {}, false}, crm);
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_EQ(done->destroyed, std::vector<std::string>{"user.derived.marketing_profile"});
  EXPECT_FALSE(Holds(1, "user.derived.marketing_profile"));
  ExpectLedgerVerifies();
  // The statement says what was destroyed, when and why.
  auto st = engine().Statement({one, "en", false, std::nullopt}, world_["dpo"]);
  ASSERT_TRUE(st) << st.error().ToString();
  ASSERT_EQ(st->destroyed.size(), 1u);
  EXPECT_EQ(st->destroyed[0].why, "withdrawal");
  EXPECT_EQ(st->destroyed[0].what, std::vector<std::string>{"user.derived.marketing_profile"});
  EXPECT_EQ(st->destroyed[0].day, "2026-03-10");
  const std::string html = report::StatementHtml(engine().policy(), *st);
  EXPECT_NE(html.find("Data destroyed"), std::string::npos);
  EXPECT_NE(html.find("consent withdrawn"), std::string::npos);
  EXPECT_EQ(html.find("segment:young-urban"), std::string::npos);
}

// Backups that forget (issue 10, part 5): a backup taken before a
// destruction and restored after it holds no readable value of what was
// destroyed, and checks answer subject_destroyed.
TEST_F(RetentionEngine, R_VII_2_a_backup_from_before_a_destruction_restored_after_it_reads_nothing_destroyed) {
  const auto one = SubjectKey::Id(1);
  const auto two = SubjectKey::Id(2);
  const Caller ops = Ender();
  ASSERT_TRUE(engine().EndContract({two, 3, "TERM-1"}, ops));
  const Caller crm = Profiler();
  ASSERT_TRUE(engine().PutData(one, "user.derived.marketing_profile", "segment:night-owl", "derived", crm));
  std::vector<crypto::Bytes> sealed;  // subject 2's values and subject 1's profile
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    for (store::SubjectId id : {1, 2}) {
      const auto values = txn->GetPersonalData(id).value();
      for (const auto& v : values) {
        if (id == 2 || v.category == "user.derived.marketing_profile") sealed.push_back(v.sealed);
      }
    }
  }
  ASSERT_EQ(sealed.size(), 5u);  // IIN, phone, name, e-mail; the profile

  // The backup, while the engine is open; then the destructions.
  const auto backup = dir_.path() / "backup";
  auto made = app::BackupDataDirectory(dir_.path() / "data", backup, "admin", clock_);
  ASSERT_TRUE(made) << made.error().ToString();
  EXPECT_FALSE(std::filesystem::exists(backup / "keys.db"));
  EXPECT_EQ(app::BackupDataDirectory(dir_.path() / "data", backup, "admin", clock_).error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(app::BackupDataDirectory(dir_.path() / "data", dir_.path() / "b2", "dpo", clock_).error().reason,
            "admin_only");
  for (const auto& b : sealed) EXPECT_TRUE(FileHolds(backup / "qorgau.db", b)) << "the backup holds them sealed";
  ASSERT_TRUE(engine().Withdraw({one, "app_support_chat", "CHAT-9", {"marketing_offers"}, {}, false}, crm));
  clock_.Set(Day(2031, 3, 11));
  ASSERT_TRUE(engine().RunDestruction({}, world_["dpo"]));

  // Restored after: the live key store has no key for subject 2, and what
  // was destroyed since the backup is destroyed again.
  inst_.reset();
  EXPECT_EQ(app::RestoreDataDirectory(dir_.path() / "data", backup, "dpo", clock_).error().reason, "admin_only");
  auto restored = app::RestoreDataDirectory(dir_.path() / "data", backup, "admin", clock_);
  ASSERT_TRUE(restored) << restored.error().ToString();
  EXPECT_EQ(restored->subjects_forgotten_again, 2);
  std::filesystem::remove(restored->replaced);
  inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    const auto subject = txn->GetSubject(2).value();
    ASSERT_TRUE(subject);
    EXPECT_TRUE(subject->destroyed_at);
    EXPECT_TRUE(subject->wrapped_key.empty());
    EXPECT_TRUE(txn->GetPersonalData(2).value().empty());
    const auto values = txn->GetPersonalData(1).value();
    EXPECT_FALSE(values.empty());
    for (const auto& v : values) EXPECT_NE(v.category, "user.derived.marketing_profile");
  }
  auto check = engine().Check(world_["onboarding"], two, "contract_performance", {});
  ASSERT_TRUE(check) << check.error().ToString();
  EXPECT_EQ(index::ReasonCode(check->reason), "subject_destroyed");
  for (const auto& b : sealed) {
    EXPECT_FALSE(FileHolds(dir_.path() / "data/qorgau.db", b));
    EXPECT_FALSE(FileHolds(dir_.path() / "data/qorgau.db-wal", b));
  }
  ExpectLedgerVerifies();
  // The statement of subject 1 no longer lists the profile.
  auto st = engine().Statement({one, "en", false, std::nullopt}, world_["dpo"]);
  ASSERT_TRUE(st) << st.error().ToString();
  for (const auto& v : st->data) EXPECT_NE(v.category, "user.derived.marketing_profile");
}

// LAW.md §5: on a destruction application everything no statutory minimum
// or obligation keeps goes at once; the answer says what stays and why.
TEST_F(RetentionEngine, R_VII_2_a_destruction_application_destroys_at_once_all_no_statute_keeps) {
  const auto one = SubjectKey::Id(1);
  ApplicationRequest req{one, "destruction", "office_written", "REG-D-1", {}, {}, {}, {}};
  auto filed = engine().FileApplication(req, world_["olga"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  const std::int64_t id = filed->record.id;
  EXPECT_EQ(engine().DestroyOnApplication(id, world_["olga"]).error().reason, "destruction_application_required")
      << "the applicant's identity is verified first";
  ASSERT_TRUE(engine().AdvanceApplication(id, "identity_verified", world_["olga"]));
  EXPECT_EQ(engine().AnswerApplication(id, "OUT-1", world_["olga"]).error().reason, "answered_by_carrying_out");
  EXPECT_EQ(engine().DestroyOnApplication(id, world_["anna"]).error().reason, "no_duty");
  ASSERT_TRUE(engine().OpenObligation({one, ObligationKind::kLegalHold, "HOLD-7", "", {"user.contact.email"}},
                                      world_["dpo"]));
  ASSERT_TRUE(engine().PutData(one, "user.contact.address", "Almaty, Abay 1", "subject", world_["onboarding"]));

  auto done = engine().DestroyOnApplication(id, world_["olga"]);
  ASSERT_TRUE(done) << done.error().ToString();
  // Every KEM category subject 1 holds cites a statute (the address the
  // civil limitation period) but the e-mail, which the hold keeps.
  std::map<std::string, const RetentionItem*> kept;
  for (const auto& k : done->kept) kept[k.what] = &k;
  ASSERT_TRUE(kept.count("user.contact.email"));
  EXPECT_EQ(kept["user.contact.email"]->held_by, std::vector<std::string>{"HOLD-7"});
  ASSERT_TRUE(kept.count("user.identity.iin"));
  EXPECT_EQ(kept["user.identity.iin"]->rule->minimum->id, "tax_records");
  EXPECT_EQ(kept["user.identity.iin"]->status, RetentionStatus::kWaiting) << "the relationship lasts";
  EXPECT_FALSE(done->subject_destroyed);
  auto app = engine().GetApplication(id, world_["olga"]);
  ASSERT_TRUE(app);
  EXPECT_EQ(app->record.state, ApplicationState::kAnswered);
  EXPECT_EQ(app->record.outcome, done->answer);
  EXPECT_NE(done->answer.find("kept"), std::string::npos);

  // Without the hold, the e-mail goes on a second application.
  ASSERT_TRUE(engine().CloseObligation("HOLD-7", world_["dpo"]));
  req.reference = "REG-D-2";
  auto second = engine().FileApplication(req, world_["olga"]);
  ASSERT_TRUE(second);
  ASSERT_TRUE(engine().AdvanceApplication(second->record.id, "identity_verified", world_["olga"]));
  auto again = engine().DestroyOnApplication(second->record.id, world_["olga"]);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->destroyed, std::vector<std::string>{"user.contact.email"});
  EXPECT_FALSE(Holds(1, "user.contact.email"));
  ExpectLedgerVerifies();
}

TEST_F(RetentionEngine, R_VII_2_a_run_asked_for_a_day_to_come_is_refused_not_run_as_of_now) {
  // 2026-03-10 00:00 UTC is 05:00 in Almaty, the same day.
  const auto calendar = engine().Calendar().value();
  EXPECT_EQ(RunAsOfDay(*calendar, "2026-03-10", clock_.Now(), "as_of").value(), clock_.Now()) << "today: now";
  EXPECT_EQ(RunAsOfDay(*calendar, "2026-03-09", clock_.Now(), "as_of").value(),
            calendar->EndOfLocalDay(std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::month{3},
                                                                std::chrono::day{9}}));
  for (const char* day : {"2026-03-11", "2030-01-01"}) {
    auto refused = RunAsOfDay(*calendar, day, clock_.Now(), "--as-of");
    ASSERT_FALSE(refused) << day;
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
    EXPECT_EQ(refused.error().field, "--as-of");
  }
  EXPECT_EQ(RunAsOfDay(*calendar, "2026-13-01", clock_.Now(), "as_of").error().field, "as_of");
}

// The daily run inside serve: 02:30 in Almaty (UTC+5) is 21:30 UTC the
// day before.
TEST(RetentionSchedule, R_VII_2_the_daily_run_comes_at_the_local_time_asked) {
  const UnixMillis hour = 3600000;
  EXPECT_EQ(NextDailyRun("Asia/Almaty", 150, Day(2026, 3, 10)), Day(2026, 3, 10) + 21 * hour + 30 * 60000);
  EXPECT_EQ(NextDailyRun("Asia/Almaty", 150, Day(2026, 3, 9) + 20 * hour), Day(2026, 3, 9) + 21 * hour + 30 * 60000);
  EXPECT_EQ(NextDailyRun("Asia/Almaty", 150, Day(2026, 3, 9) + 21 * hour + 30 * 60000),
            Day(2026, 3, 10) + 21 * hour + 30 * 60000)
      << "at the very instant, the next is tomorrow's";
}

TEST(RetentionPeriod, CalendarArithmeticKeepsTheDayOrTakesTheMonthsLast) {
  EXPECT_EQ((policy::Period{1, 'm'}.After(Day(2025, 1, 31))), Day(2025, 2, 28));
  EXPECT_EQ((policy::Period{5, 'y'}.After(Day(2024, 2, 29))), Day(2029, 2, 28));
  EXPECT_EQ((policy::Period{30, 'd'}.After(Day(2025, 1, 31) + 3600000)), Day(2025, 3, 2) + 3600000);
  EXPECT_EQ((policy::Period{0, 'd'}.After(Day(2025, 1, 31))), Day(2025, 1, 31));
}

}  // namespace
}  // namespace qorgau::rules
