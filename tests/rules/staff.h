// Callers for engine tests that are about other rules than permissions: an
// actor with every duty action on every purpose (each with every category
// the purpose may use, masked unless asked), created through the console
// administrator like any actor. tests/rules/permissions_test.cc and the
// access tests are where refusals are tested.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "rules/engine.h"

namespace qorgau::testing {

using rules::ActorInput;
using rules::Caller;
using rules::Engine;

inline std::shared_ptr<const Caller> Console(Engine& engine) {
  auto console = engine.CallerFor(std::string(rules::kConsoleActor));
  EXPECT_TRUE(console) << console.error().ToString();
  return *console;
}

// Creates (or updates) `id` with `role`, a signed NDA and liability
// warning, and duties allowing `actions` on every purpose (systems act for
// every purpose); returns it as a caller.
inline std::shared_ptr<const Caller> MakeActor(Engine& engine, const std::string& id,
                                               ActorRole role,
                                               DutyActions actions = kAllDutyActions,
                                               bool full_view = false) {
  const policy::Policy& p = engine.policy();
  auto console = Console(engine);
  ActorInput in{id, role, "Test " + id, "2024-01-01", "2024-01-01", {}};
  if (role == ActorRole::kSystem) {
    for (const auto& pu : p.purposes) in.purposes.push_back(pu.id);
  }
  auto put = engine.PutActor(in, *console);
  EXPECT_TRUE(put) << put.error().ToString();
  if (actions != 0 && role != ActorRole::kAdmin) {
    for (const auto& pu : p.purposes) {
      store::DutyRecord d{id, pu.id, {}, full_view, actions};
      for (const auto& c : p.categories) {
        if (p.CategoryAllowsPurpose(c.id, pu.id)) d.categories.push_back(c.id);
      }
      if (d.categories.empty()) continue;
      auto granted = engine.GrantDuty(d, *console);
      EXPECT_TRUE(granted) << granted.error().ToString();
    }
  }
  auto caller = engine.CallerFor(id);
  EXPECT_TRUE(caller) << caller.error().ToString();
  return *caller;
}

}  // namespace qorgau::testing
