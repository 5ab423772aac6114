#include "index/decision_index.h"

#include <gtest/gtest.h>

#include "../test_util.h"
#include "policy/policy_loader.h"

namespace qorgau::index {
namespace {

std::shared_ptr<const policy::Policy> Kem() {
  static auto p = std::make_shared<const policy::Policy>(*policy::LoadPolicyFile(testing::KemPolicy()).policy);
  return p;
}

TEST(DecisionIndex, SubjectDestroyedDeniesEveryPurposeEvenLaw) {
  DecisionIndex idx(Kem());
  const int marketing = idx.PurposeOrdinal("marketing");
  const int fiscal = idx.PurposeOrdinal("fiscal_reporting");
  const std::vector<Delta> setup = {{Delta::Kind::kSubjectAdded, 7},
                                    {Delta::Kind::kConsentGranted, 7, marketing}};
  idx.Apply(setup, 10);
  EXPECT_TRUE(idx.Check(7, marketing, 0).allow);
  EXPECT_TRUE(idx.Check(7, fiscal, 0).allow);
  const std::vector<Delta> destroy = {{Delta::Kind::kSubjectDestroyed, 7}};
  idx.Apply(destroy, 11);
  for (int p : {marketing, fiscal}) {
    const Decision d = idx.Check(7, p, 0);
    EXPECT_FALSE(d.allow);
    EXPECT_EQ(d.reason, Reason::kSubjectDestroyed);
    EXPECT_EQ(d.revision, 11);
  }
  EXPECT_EQ(idx.Select(marketing, false).count, 0u);
}

TEST(DecisionIndex, UnknownSubjectAndPurpose) {
  DecisionIndex idx(Kem());
  EXPECT_EQ(idx.Check(1, 0, 0).reason, Reason::kUnknownSubject);
  EXPECT_EQ(idx.Check(1, 999, 0).reason, Reason::kUnknownPurpose);
  EXPECT_EQ(idx.Check(-5, 0, 0).reason, Reason::kUnknownSubject);
}

TEST(DecisionIndex, ContractPurposeFollowsAnyServiceThatNeedsIt) {
  DecisionIndex idx(Kem());
  const int notices = idx.PurposeOrdinal("service_notices");
  const int base = idx.ServiceOrdinal("mobile_base");
  const int app = idx.ServiceOrdinal("simply_app");
  idx.Apply(std::vector<Delta>{{Delta::Kind::kSubjectAdded, 3}, {Delta::Kind::kServiceOn, 3, base},
                               {Delta::Kind::kServiceOn, 3, app}}, 1);
  idx.Apply(std::vector<Delta>{{Delta::Kind::kServiceOff, 3, base}}, 2);
  EXPECT_EQ(idx.Check(3, notices, 0).reason, Reason::kContractActive);  // the app still needs it
  idx.Apply(std::vector<Delta>{{Delta::Kind::kServiceOff, 3, app}}, 3);
  EXPECT_EQ(idx.Check(3, notices, 0).reason, Reason::kNoActiveContract);
}

TEST(DecisionIndex, ObligationBitStaysWhileAnyObligationIsOpen) {
  DecisionIndex idx(Kem());
  const int fiscal = idx.PurposeOrdinal("fiscal_reporting");
  idx.Apply(std::vector<Delta>{{Delta::Kind::kSubjectAdded, 2}, {Delta::Kind::kObligationOpened, 2},
                               {Delta::Kind::kObligationOpened, 2}}, 1);
  idx.Apply(std::vector<Delta>{{Delta::Kind::kObligationClosed, 2}}, 2);
  EXPECT_EQ(idx.Select(fiscal, true).count, 0u);
  idx.Apply(std::vector<Delta>{{Delta::Kind::kObligationClosed, 2}}, 3);
  EXPECT_EQ(idx.Select(fiscal, true).count, 1u);
}

TEST(DecisionIndex, CheckManyMatchesCheck) {
  DecisionIndex idx(Kem());
  const int marketing = idx.PurposeOrdinal("marketing");
  std::vector<Delta> d;
  for (SubjectId i = 1; i <= 300; ++i) {
    d.push_back({Delta::Kind::kSubjectAdded, i});
    if (i % 3 == 0) d.push_back({Delta::Kind::kConsentGranted, i, marketing});
    if (i % 5 == 0) d.push_back({Delta::Kind::kConsentWithdrawn, i, marketing});
  }
  idx.Apply(d, 1);
  std::vector<SubjectId> ids;
  for (SubjectId i = 0; i <= 301; ++i) ids.push_back(i);
  std::vector<Decision> out(ids.size());
  idx.CheckMany(ids, marketing, 0, out);
  for (size_t k = 0; k < ids.size(); ++k) EXPECT_EQ(out[k].reason, idx.Check(ids[k], marketing, 0).reason);
  EXPECT_EQ(idx.Select(marketing, false).count, 300u / 3 - 300u / 15);
  EXPECT_LE(idx.MemoryBytes() / 300.0, 1024.0);  // grows in chunks; see the benchmark for the per-subject cost
}

}  // namespace
}  // namespace qorgau::index
