// Anonymised aggregates (R-IX.2; rules/aggregates.h) on a real store: no
// group under k leaves, ℓ-diversity of a sensitive attribute, differencing
// of overlapping releases, the privacy budget, and the ledger's record.
#include "rules/aggregates.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "core/iin.h"

namespace qorgau::rules {
namespace {

using namespace std::chrono;

UnixMillis Day(int y, unsigned m, unsigned d) {
  return duration_cast<milliseconds>(sys_days{year{y} / month{m} / day{d}}.time_since_epoch()).count();
}

class Aggregate : public ::testing::Test {
 protected:
  // `rules`: the policy's aggregates section.
  // Billing data are a number (a monthly amount) in these tests' policy.
  void Start(const std::string& rules) {
    const auto policy = testing::KemPolicyWithPartners(dir_.path() / "policy");
    std::string text = testing::ReplaceOnce(testing::ReadFile(policy), "aggregates:\n  k: 2\n  epsilon_budget: 1.0\n", rules);
    text = testing::ReplaceOnce(text, "  - id: user.financial.billing\n    access: restricted\n",
                                "  - id: user.financial.billing\n    access: restricted\n    value: number\n");
    testing::WriteFile(policy, text);
    auto init = app::Instance::Init(dir_.path() / "data", policy, clock_);
    ASSERT_TRUE(init) << init.error().ToString();
    inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
    world_ = testing::MakeAccessWorld(engine(), /*with_keys=*/false);
    // The access world's two subscribers leave (their contracts end), so
    // the population is the subscribers each test adds.
    Caller ender = world_["onboarding"];
    for (auto& d : ender.duties) d.actions |= static_cast<DutyActions>(DutyAction::kWithdraw);
    for (auto [subject, contract] : {std::pair{1, 1}, {1, 2}, {2, 3}}) {
      auto ended = engine().EndContract({SubjectKey::Id(subject), contract, "END-" + std::to_string(contract)}, ender);
      ASSERT_TRUE(ended) << ended.error().ToString();
    }
  }
  Engine& engine() { return inst_->engine(); }
  // `n` subscribers born in `born`, of `sex`, on the base services; with
  // the personalised offers when `offers`.
  void Add(int n, int born, Sex sex, bool offers = false, std::vector<std::string> billing = {}) {
    for (int i = 0; i < n; ++i) {
      const auto s = demo::SyntheticSubjects().At(100 + next_);
      const auto iin = Iin::Make(year{born} / March / day{1 + next_ % 28}, sex, 1000 + next_);
      ++next_;
      if (!iin) {  // a serial whose check digit would be 10: take the next
        --i;
        continue;
      }
      iins_.push_back(iin->digits());
      std::map<std::string, std::string> data{{"user.identity.name", s.name}};
      if (static_cast<std::size_t>(i) < billing.size()) data["user.financial.billing"] = billing[i];
      Caller recorder = world_["onboarding"];
      recorder.duties[0].categories.push_back("user.financial.billing");
      auto id = engine().AddSubject({iin->digits(), s.phone, data, "subject"}, recorder);
      ASSERT_TRUE(id) << id.error().ToString();
      ASSERT_TRUE(engine().JoinContract({SubjectKey::Id(*id), "form", {"mobile_base"}, "FORM-" + std::to_string(*id)},
                                        world_["onboarding"]));
      if (offers) {
        ASSERT_TRUE(engine().JoinContract({SubjectKey::Id(*id), "sms", {"marketing_offers"}, "SMS-" + std::to_string(*id)},
                                          world_["onboarding"]));
      }
    }
  }
  Result<AggregateRelease> Release(std::vector<std::string> by, const std::string& sensitive = "",
                                   std::optional<double> epsilon = std::nullopt, const std::string& recipient = "",
                                   const std::string& sum = "") {
    return engine().ReleaseAggregate({"contract_performance", std::move(by), sensitive, recipient, epsilon, sum},
                                     world_["dpo"]);
  }
  Result<AggregateRelease> Sum(std::vector<std::string> by) {
    return Release(std::move(by), "", std::nullopt, "", "user.financial.billing");
  }
  static const AggregateCell* CellOf(const AggregateRelease& r, const std::vector<std::string>& key) {
    for (const auto& c : r.cells) {
      if (c.key == key) return &c;
    }
    return nullptr;
  }
  static std::int64_t CountOf(const AggregateRelease& r, const std::vector<std::string>& key) {
    for (const auto& c : r.cells) {
      if (c.key == key) return c.count;
    }
    return -1;
  }
  void ExpectEveryGroupAtLeast(const AggregateRelease& r, std::int64_t k) {
    for (const auto& c : r.cells) EXPECT_GE(c.count, k) << ::testing::PrintToString(c.key);
  }

  testing::TempDir dir_;
  FixedClock clock_{Day(2026, 3, 10)};
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
  std::vector<std::string> iins_;
  int next_ = 0;
};

TEST_F(Aggregate, R_IX_2_no_group_under_k_leaves_groups_are_generalised_first) {
  Start("aggregates:\n  k: 5\n  max_suppressed_percent: 10\n");
  Add(10, 1990, Sex::kFemale);
  Add(10, 1990, Sex::kMale);
  Add(1, 1960, Sex::kFemale);
  Add(2, 1960, Sex::kMale);
  auto r = Release({"age_band", "sex"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->population, 23);
  ExpectEveryGroupAtLeast(*r, 5);
  // Any age band would suppress more than 10 % (the 3 born in 1960): the
  // age band is generalised away, the split by sex kept.
  EXPECT_EQ(r->levels, (std::vector<int>{2, 0}));
  EXPECT_EQ(CountOf(*r, {"*", "female"}), 11);
  EXPECT_EQ(CountOf(*r, {"*", "male"}), 12);
  EXPECT_EQ(r->suppressed_subjects, 0);
  // No identifier anywhere in what it says.
  const std::string json = AggregateReleaseJson(*r);
  for (const auto& iin : iins_) EXPECT_EQ(json.find(iin), std::string::npos);
  EXPECT_EQ(json.find(demo::SyntheticSubjects().At(100).name), std::string::npos);
  EXPECT_EQ(json.find("subject\""), std::string::npos);
}

TEST_F(Aggregate, R_IX_2_a_release_never_hides_fewer_than_k_subjects) {
  Start("aggregates:\n  k: 5\n  max_suppressed_percent: 20\n");
  Add(10, 1990, Sex::kFemale);
  Add(10, 1990, Sex::kMale);
  Add(1, 1960, Sex::kFemale);
  auto r = Release({"age_band", "sex"});
  ASSERT_TRUE(r) << r.error().ToString();
  ExpectEveryGroupAtLeast(*r, 5);
  // Subtracting the released groups from the population never gives 1 .. k-1.
  EXPECT_TRUE(r->suppressed_subjects == 0 || r->suppressed_subjects >= 5) << r->suppressed_subjects;
}

TEST_F(Aggregate, R_IX_2_differencing_two_overlapping_releases_does_not_single_out_anyone) {
  Start("aggregates:\n  k: 5\n  max_suppressed_percent: 40\n");
  Add(10, 1990, Sex::kFemale);
  Add(10, 1990, Sex::kMale);
  Add(2, 1960, Sex::kFemale);  // the two older women an attacker is after
  auto coarse = Release({"sex"});
  ASSERT_TRUE(coarse) << coarse.error().ToString();
  auto fine = Release({"sex", "age_band"});
  ASSERT_TRUE(fine) << fine.error().ToString();
  ExpectEveryGroupAtLeast(*fine, 5);
  // Each coarse group minus the finer groups inside it: 0, or at least k.
  for (const auto& c : coarse->cells) {
    std::int64_t inside = 0;
    for (const auto& f : fine->cells) {
      if (f.key[0] == c.key[0] || c.key[0] == "*") inside += f.count;
    }
    const std::int64_t hidden = c.count - inside;
    EXPECT_TRUE(hidden == 0 || hidden >= 5) << c.key[0] << ": " << c.count << " - " << inside;
  }
  // Before and after one more older woman: the group that moved by one is held back.
  auto before = Release({"sex"});
  ASSERT_TRUE(before) << before.error().ToString();
  Add(1, 1961, Sex::kFemale);
  auto after = Release({"sex"});
  ASSERT_TRUE(after) << after.error().ToString();
  const std::int64_t was = CountOf(*before, {"female"}), now = CountOf(*after, {"female"});
  EXPECT_TRUE(was < 0 || now < 0 || now == was || std::abs(now - was) >= 5) << was << " -> " << now;
}

TEST_F(Aggregate, R_IX_2_a_sensitive_attribute_is_released_only_l_diverse) {
  Start("aggregates:\n  k: 3\n  l: 2\n  max_suppressed_percent: 10\n");
  Add(10, 1990, Sex::kFemale);                // none with the offers
  Add(5, 1990, Sex::kMale, /*offers=*/true);  // half the men with them
  Add(5, 1990, Sex::kMale);
  auto r = Release({"sex"}, "service:marketing_offers");
  ASSERT_TRUE(r) << r.error().ToString();
  for (const auto& c : r->cells) {
    EXPECT_GE(c.sensitive.size(), 2u) << ::testing::PrintToString(c.key);
  }
  // The women's group alone would tell that no woman has the offers.
  EXPECT_EQ(CountOf(*r, {"female"}), -1);
}

TEST_F(Aggregate, R_IX_2_noise_is_charged_to_the_recipients_budget) {
  Start("aggregates:\n  k: 3\n  epsilon_budget: 1.0\n");
  Add(20, 1990, Sex::kFemale);
  ASSERT_TRUE(Release({"sex"}, "", 0.5, "partner_bank_kz"));
  ASSERT_TRUE(Release({"sex"}, "", 0.5, "partner_bank_kz"));
  auto spent = Release({"sex"}, "", 0.5, "partner_bank_kz");
  ASSERT_FALSE(spent);
  EXPECT_EQ(spent.error().reason, "privacy_budget_spent");
  // Another recipient's budget is its own.
  EXPECT_TRUE(Release({"sex"}, "", 0.5, "content_partner_eu"));
}

TEST_F(Aggregate, R_IX_2_without_a_budget_no_noisy_release_and_bad_queries_name_their_field) {
  Start("aggregates:\n  k: 3\n");
  Add(5, 1990, Sex::kFemale);
  auto none = Release({"sex"}, "", 0.5);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().reason, "no_privacy_budget");
  struct Bad {
    AggregateRequest req;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {{"contract_performance", {}, "", "", std::nullopt}, "by"},
      {{"contract_performance", {"shoe_size"}, "", "", std::nullopt}, "by"},
      {{"contract_performance", {"sex", "sex"}, "", "", std::nullopt}, "by"},
      {{"contract_performance", {"sex"}, "sex", "", std::nullopt}, "sensitive"},
      {{"contract_performance", {"service:teleport"}, "", "", std::nullopt}, "by"},
      {{"contract_performance", {"sex"}, "", "nobody", std::nullopt}, "recipient"},
      {{"contract_performance", {"sex"}, "", "", 0.0}, "epsilon"},
      {{"no_purpose", {"sex"}, "", "", std::nullopt}, "purpose"},
  };
  for (const auto& b : bad) {
    auto r = engine().ReleaseAggregate(b.req, world_["dpo"]);
    ASSERT_FALSE(r) << b.field;
    EXPECT_EQ(r.error().field, b.field) << r.error().ToString();
  }
  EXPECT_TRUE(engine().ListAggregateReleases(world_["dpo"]).value().empty());
}

TEST_F(Aggregate, R_IX_2_every_release_is_recorded_and_the_ledger_proves_it) {
  Start("aggregates:\n  k: 3\n");
  Add(6, 1990, Sex::kFemale);
  auto r = Release({"sex", "tenure"});
  ASSERT_TRUE(r) << r.error().ToString();
  const auto list = engine().ListAggregateReleases(world_["dpo"]).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].id, r->id);
  EXPECT_NE(list[0].body.find("\"k\":3"), std::string::npos) << list[0].body;
  auto ok = engine().VerifyLedger(world_["dpo"]);
  ASSERT_TRUE(ok) << ok.error().ToString();
  EXPECT_TRUE(ok->ok) << ok->reason;
  // A release rewritten after the fact no longer matches its event.
  inst_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_.path() / "data/qorgau.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE aggregate_releases SET body = replace(body, '\"k\":3', '\"k\":30')", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
  auto bad = engine().VerifyLedger(world_["dpo"]);
  ASSERT_TRUE(bad) << bad.error().ToString();
  EXPECT_FALSE(bad->ok);
  EXPECT_NE(bad->reason.find("aggregate_releases"), std::string::npos) << bad->reason;
}

// Ages and sexes come from the demographics sealed when each IIN was
// recorded (rules/demographics.h), kept in the key store; a store from
// before them has them filled from the sealed IINs once, at open.
TEST_F(Aggregate, R_IX_2_ages_come_from_demographics_filled_once_for_an_older_store) {
  Start("aggregates:\n  k: 2\n");
  Add(3, 1990, Sex::kFemale);
  Add(4, 1960, Sex::kMale);
  auto before = Release({"age_band", "sex"});
  ASSERT_TRUE(before) << before.error().ToString();
  EXPECT_EQ(CountOf(*before, {"30-39", "female"}), 3);
  EXPECT_EQ(CountOf(*before, {"60-69", "male"}), 4);
  // As a store from before demographics: none in the key store, no mark.
  inst_.reset();
  testing::ExecSql(dir_.path() / "data/keys.db", "UPDATE data_keys SET demographics = NULL");
  testing::ExecSql(dir_.path() / "data/qorgau.db", "DELETE FROM meta WHERE key = 'demographics_v1'");
  {
    auto opened = app::Instance::Open(dir_.path() / "data", clock_);
    ASSERT_TRUE(opened) << opened.error().ToString();
    inst_ = std::move(*opened);
  }
  auto after = Release({"age_band", "sex"});
  ASSERT_TRUE(after) << after.error().ToString();
  EXPECT_EQ(CountOf(*after, {"30-39", "female"}), 3);
  EXPECT_EQ(CountOf(*after, {"60-69", "male"}), 4);
  // An IIN the key store remembers destroying is not read back by a fill
  // (a restored backup may still hold it).
  inst_.reset();
  testing::ExecSql(dir_.path() / "data/keys.db", "UPDATE data_keys SET demographics = NULL");
  testing::ExecSql(dir_.path() / "data/keys.db",
                   "INSERT INTO forgotten (subject_id, what, key, at, seq, pending) "
                   "VALUES (3, 'user.identity.iin', '', 0, 0, 0)");
  testing::ExecSql(dir_.path() / "data/qorgau.db", "DELETE FROM meta WHERE key = 'demographics_v1'");
  inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
  {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    std::map<store::SubjectId, bool> has;
    ASSERT_TRUE(txn->ScanSubjectDemographics(
        [&](store::SubjectId id, UnixMillis, std::span<const std::uint8_t> d) { has[id] = !d.empty(); }));
    EXPECT_FALSE(has.at(3)) << "remembered as destroyed";
    EXPECT_TRUE(has.at(4));
  }
  // Without them (the fill already done), the same subjects are unknown:
  // the release reads nothing else.
  inst_.reset();
  testing::ExecSql(dir_.path() / "data/keys.db", "UPDATE data_keys SET demographics = NULL");
  inst_ = app::Instance::Open(dir_.path() / "data", clock_).value();
  auto unknown = Release({"sex"});
  ASSERT_TRUE(unknown) << unknown.error().ToString();
  EXPECT_EQ(CountOf(*unknown, {"unknown"}), 7);
}

// Sums of a number category (R-IX.2): each group's total, unless fewer than
// k subjects hold a value or two values make most of it; and since the
// grand total may be known (any release showing all its totals gives it),
// the totals withheld must together be safe: one more is withheld.
TEST_F(Aggregate, R_IX_2_sums_are_released_per_group_unless_a_few_values_dominate) {
  Start("aggregates:\n  k: 3\n");
  Add(4, 2000, Sex::kFemale, false, {"100", "100.25", "99.75", "100"});
  Add(4, 1990, Sex::kMale, false, {"400", "5", "5", "5"});
  Add(4, 1980, Sex::kFemale, false, {"20"});
  Add(5, 1960, Sex::kMale, false, {"100", "100", "100", "100", "100"});
  auto r = Sum({"age_band"});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->sum, "user.financial.billing");
  for (const char* band : {"20-29", "30-39", "40-49", "60-69"}) {
    ASSERT_NE(CellOf(*r, {band}), nullptr) << band;
    EXPECT_EQ(CellOf(*r, {band})->count, std::string(band) == "60-69" ? 5 : 4) << "every count stays";
  }
  EXPECT_FALSE(CellOf(*r, {"30-39"})->sum) << "one value is nearly all of it";
  EXPECT_FALSE(CellOf(*r, {"40-49"})->sum) << "one holder of four";
  // The grand total less the rest would be 425, nearly all one value: the
  // total with the fewest holders goes too.
  EXPECT_FALSE(CellOf(*r, {"20-29"})->sum) << "secondary suppression";
  EXPECT_EQ(CellOf(*r, {"60-69"})->sum, "500");
  // What it says names the category and never a value of one subject.
  const std::string json = AggregateReleaseJson(*r);
  EXPECT_NE(json.find("\"sum\":\"500\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"sum_suppressed\":true"), std::string::npos) << json;
  EXPECT_EQ(json.find("\"415\""), std::string::npos) << json;
  EXPECT_EQ(json.find("\"400\""), std::string::npos) << json;
}

// An earlier release by sex showed the men's total; a finer one may not
// show all but one man's group total, or the difference gives it.
TEST_F(Aggregate, R_IX_2_a_sum_hidden_in_a_finer_release_is_not_the_difference_of_a_coarser_one) {
  Start("aggregates:\n  k: 3\n");
  Add(4, 1990, Sex::kMale, false, {"400", "5", "5", "5"});
  Add(4, 1960, Sex::kMale, false, {"100", "100", "100", "100"});
  Add(4, 1960, Sex::kFemale, false, {"50", "50", "50", "50"});
  auto coarse = Sum({"sex"});
  ASSERT_TRUE(coarse) << coarse.error().ToString();
  ASSERT_NE(CellOf(*coarse, {"male"}), nullptr);
  ASSERT_EQ(CellOf(*coarse, {"male"})->sum, "815");
  auto fine = Sum({"age_band", "sex"});
  ASSERT_TRUE(fine) << fine.error().ToString();
  ASSERT_NE(CellOf(*fine, {"30-39", "male"}), nullptr);
  ASSERT_NE(CellOf(*fine, {"60-69", "male"}), nullptr);
  EXPECT_FALSE(CellOf(*fine, {"30-39", "male"})->sum) << "dominated";
  EXPECT_FALSE(CellOf(*fine, {"60-69", "male"})->sum) << "815 less it would be the dominated total";
  EXPECT_EQ(CellOf(*fine, {"60-69", "female"})->sum, "200") << "nothing to hide among the women";
}

// The other way round: a finer release hid groups' totals, so a coarser
// one may not show a total made of them.
TEST_F(Aggregate, R_IX_2_a_coarser_sum_does_not_reveal_a_total_an_earlier_release_hid) {
  Start("aggregates:\n  k: 3\n");
  Add(4, 1990, Sex::kMale, false, {"400", "5", "5", "5"});
  Add(4, 1960, Sex::kMale, false, {"100", "100", "100", "100"});
  Add(8, 1960, Sex::kFemale, false, {"50", "50", "50", "50", "50", "50", "50", "50"});
  auto fine = Sum({"age_band", "sex"});
  ASSERT_TRUE(fine) << fine.error().ToString();
  EXPECT_FALSE(CellOf(*fine, {"30-39", "male"})->sum);
  EXPECT_FALSE(CellOf(*fine, {"60-69", "male"})->sum) << "or the men's total less it gives the other";
  EXPECT_EQ(CellOf(*fine, {"60-69", "female"})->sum, "400");
  auto coarse = Sum({"sex"});
  ASSERT_TRUE(coarse) << coarse.error().ToString();
  EXPECT_FALSE(CellOf(*coarse, {"male"})->sum) << "made only of totals the earlier release hid";
  EXPECT_EQ(CellOf(*coarse, {"female"})->sum, "400");
}

TEST_F(Aggregate, R_IX_2_a_sum_needs_a_number_category_the_purpose_uses_and_no_noise) {
  Start("aggregates:\n  k: 2\n  epsilon_budget: 1.0\n");
  Add(4, 1990, Sex::kFemale, false, {"1", "2", "3", "4"});
  struct Bad {
    std::string sum;
    std::optional<double> epsilon;
    std::string field;
  };
  for (const Bad& b : {Bad{"user.no.such", std::nullopt, "sum"}, Bad{"user.identity.name", std::nullopt, "sum"},
                       Bad{"user.financial.billing", 0.5, "epsilon"}}) {
    auto r = Release({"sex"}, "", b.epsilon, "", b.sum);
    ASSERT_FALSE(r) << b.sum;
    EXPECT_EQ(r.error().field, b.field) << r.error().ToString();
  }
  // A purpose that may not use the category.
  auto r = engine().ReleaseAggregate({"marketing", {"sex"}, "", "", std::nullopt, "user.financial.billing"},
                                     world_["dpo"]);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "category_not_allowed") << r.error().ToString();
  EXPECT_TRUE(engine().ListAggregateReleases(world_["dpo"]).value().empty());
}

}  // namespace
}  // namespace qorgau::rules
