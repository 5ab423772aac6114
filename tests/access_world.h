// The actors and subscribers that the API and access tests share: one of
// each kind of caller in docs/access.md, created through the console
// administrator, and two subscribers (1 with the personalised offers, so a
// marketing consent; 2 with the base services only).
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <memory>
#include <string>
#include <vector>

#include "demo/synthetic.h"
#include "rules/engine.h"
#include "rules/staff.h"

namespace qorgau::testing {

struct AccessWorld {
  std::map<std::string, std::shared_ptr<const rules::Caller>> callers;
  std::map<std::string, std::string> keys;  // API keys, when asked for
  const rules::Caller& operator[](const std::string& id) const { return *callers.at(id); }
};

inline DutyActions Acts(std::initializer_list<DutyAction> list) {
  DutyActions set = 0;
  for (DutyAction a : list) set |= static_cast<DutyActions>(a);
  return set;
}

// | actor      | role     | duties                                                        |
// | admin      | admin    | -                                                             |
// | dpo        | dpo      | - (legal holds, trail, audit by role)                         |
// | anna       | employee | contract_performance read (name, phone), masked               |
// | bek        | employee | as anna, no NDA                                               |
// | carl       | employee | contract_performance read (name), no liability warning        |
// | dana       | employee | marketing read (phone, e-mail), full view                     |
// | idle       | employee | none                                                          |
// | crm        | system   | marketing read+consent+withdraw; product_development consent+withdraw |
// | onboarding | system   | contract_performance record+consent; consent for the base purposes and marketing |
// | billing    | system   | debt_collection obligations (IIN, billing)                    |
// | olga       | employee | contract_performance read+applications (name, IIN, phone)     |
// | sales      | system   | convergent_services consent+transfer (name, IIN, phone), full view |
// The shipped working-day calendars (calendars/kz) are imported by init.
inline AccessWorld MakeAccessWorld(rules::Engine& e, bool with_keys) {
  using A = DutyAction;
  using R = ActorRole;
  AccessWorld w;
  const auto console = Console(e);
  auto add = [&](rules::ActorInput in, std::vector<store::DutyRecord> duties) {
    auto put = e.PutActor(in, *console);
    EXPECT_TRUE(put) << put.error().ToString();
    for (auto& d : duties) {
      d.actor_id = in.id;
      auto granted = e.GrantDuty(d, *console);
      EXPECT_TRUE(granted) << in.id << " " << d.purpose << ": " << granted.error().ToString();
    }
    if (with_keys) {
      // A person's key comes only through an enrolment the person redeems.
      if (in.role == ActorRole::kEmployee || in.role == ActorRole::kDpo) {
        const std::string token = e.CreateEnrolment(in.id, *console).value().token;
        w.keys[in.id] = e.RedeemEnrolment(token).value().second;
      } else {
        w.keys[in.id] = e.CreateApiKey(in.id, *console).value();
      }
    }
    w.callers[in.id] = e.CallerFor(in.id).value();
  };
  const std::vector<std::string> name_phone = {"user.identity.name", "user.contact.phone"};
  add({"admin", R::kAdmin, "Administrator", "", "", {}}, {});
  add({"dpo", R::kDpo, "DPO", "2017-01-01", "2017-01-01", {}}, {});
  add({"anna", R::kEmployee, "Agent", "2017-02-01", "2017-02-01", {}},
      {{"", "contract_performance", name_phone, false}});
  add({"bek", R::kEmployee, "No NDA", "", "", {}}, {{"", "contract_performance", name_phone, false}});
  add({"carl", R::kEmployee, "No liability warning", "2017-02-01", "", {}},
      {{"", "contract_performance", {"user.identity.name"}, false}});
  add({"dana", R::kEmployee, "Analyst", "2017-03-01", "2017-03-01", {}},
      {{"", "marketing", {"user.contact.phone", "user.contact.email"}, true}});
  add({"idle", R::kEmployee, "No duties", "2017-03-01", "2017-03-01", {}}, {});
  add({"crm", R::kSystem, "CRM", "", "", {"marketing", "product_development"}},
      {{"", "marketing", {"user.contact.phone"}, true, Acts({A::kRead, A::kConsent, A::kWithdraw})},
       {"", "product_development", {"user.contact.phone"}, false, Acts({A::kConsent, A::kWithdraw})}});
  add({"onboarding", R::kSystem, "Registration", "", "",
       {"contract_performance", "service_quality", "service_notices", "debt_collection", "marketing"}},
      {{"",
        "contract_performance",
        {"user.identity.name", "user.identity.iin", "user.contact.phone", "user.contact.email",
         "user.contact.address"},
        false,
        Acts({A::kRecord, A::kConsent})},
       {"", "service_quality", {"user.contact.phone"}, false, Acts({A::kConsent})},
       {"", "service_notices", {"user.contact.phone"}, false, Acts({A::kConsent})},
       {"", "debt_collection", {"user.contact.phone"}, false, Acts({A::kConsent})},
       {"", "marketing", {"user.contact.phone"}, false, Acts({A::kConsent})}});
  add({"billing", R::kSystem, "Billing", "", "", {"debt_collection"}},
      {{"", "debt_collection", {"user.identity.iin", "user.financial.billing"}, false,
        Acts({A::kObligations})}});

  add({"olga", R::kEmployee, "Office", "2017-02-15", "2017-02-15", {}},
      {{"", "contract_performance", {"user.identity.name", "user.identity.iin", "user.contact.phone"}, false,
        Acts({A::kRead, A::kApplications})}});

  add({"sales", R::kSystem, "Convergent sales", "", "", {"convergent_services"}},
      {{"", "convergent_services", {"user.identity.name", "user.identity.iin", "user.contact.phone"}, true,
        Acts({A::kConsent, A::kTransfer})}});

  const rules::Caller& onboarding = w["onboarding"];
  for (std::uint64_t i = 1; i <= 2; ++i) {
    const auto s = demo::SyntheticSubjects().At(i);
    auto id = e.AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}, {"user.contact.email", s.email}},
                            "subject"},
                           onboarding);
    EXPECT_TRUE(id) << id.error().ToString();
    EXPECT_EQ(*id, static_cast<store::SubjectId>(i));
    const auto key = rules::SubjectKey::Id(*id);
    EXPECT_TRUE(e.JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-" + std::to_string(i)}, onboarding));
    if (i == 1) {
      EXPECT_TRUE(e.JoinContract({key, "sms", {"marketing_offers"}, "SMS-1"}, onboarding));
    }
  }
  return w;
}

}  // namespace qorgau::testing
