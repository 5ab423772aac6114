// Retention (R-VII): when each datum and record of a subject falls due for
// destruction, and why.
//
// The policy's retention rules (docs/policy.md section 12) say, per data
// category (optionally per purpose) and per record qorgau keeps, from which
// event a period counts and how long it is. For one subject, PlanRetention
// applies every rule whose purpose the subject's data serve and whose
// event can come; the longest period wins (R-VII.1). A clock that has not
// started (the relationship lasts, a consent is in force) keeps the datum.
// A datum whose period has ended is due, unless an open obligation or legal
// hold covers it: then it is held, and the plan names what holds it.
//
// PlanRetention is a pure function of the policy and the subject's records
// (RetentionFacts, read by ReadRetentionFacts); the Retention aggregate runs
// it over every subject for the data protection officer.
//
// Part of rules::Engine (rules/engine.h); implemented in retention.cc.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

// What the store says about one subject's clocks.
struct RetentionFacts {
  SubjectId subject = 0;
  UnixMillis created_at = 0;
  struct Value {
    std::string category;
    UnixMillis recorded_at = 0;  // collected, or last changed
  };
  std::vector<Value> values;
  std::vector<store::ContractRecord> contracts;
  std::vector<store::SubscriptionRecord> services;
  std::vector<store::ConsentRecord> consents;
  std::vector<store::ObligationRecord> obligations;  // open and closed
  std::vector<store::ApplicationRecord> applications;
};

Result<RetentionFacts> ReadRetentionFacts(store::Transaction& txn, const store::SubjectRecord& subject);

enum class RetentionStatus : std::uint8_t {
  kDue = 0,      // the period has ended and nothing holds it: to be destroyed
  kHeld = 1,     // the period has ended, an open obligation or legal hold keeps it
  kRunning = 2,  // the period runs until due_at
  kWaiting = 3,  // the clock has not started: the event it counts from has not come
};
std::string_view RetentionStatusName(RetentionStatus s);  // due, held, running, waiting

struct RetentionItem {
  std::string what;  // a category id, or "record:contracts", "record:consents", ...
  std::string key;   // a record's own id (contract id, purpose, ref, application id); "" for a category
  RetentionStatus status = RetentionStatus::kWaiting;
  const policy::RetentionRule* rule = nullptr;  // the rule that decides
  std::optional<UnixMillis> started_at;         // when its clock started
  std::optional<UnixMillis> due_at;             // when the deciding period ends
  std::vector<std::string> held_by;             // the open obligations that keep it
};

// Every category the subject holds a value of, and every record qorgau keeps
// about it that a rule covers, with its status on `as_of`.
std::vector<RetentionItem> PlanRetention(const policy::Policy& policy, const RetentionFacts& facts,
                                         UnixMillis as_of);

// The plan over every subject: counts by what, status and rule.
struct RetentionPlan {
  UnixMillis as_of = 0;
  std::int64_t subjects = 0;   // subjects planned (not destroyed)
  std::int64_t destroyed = 0;  // subjects already destroyed, skipped
  struct Line {
    std::string what;
    RetentionStatus status = RetentionStatus::kWaiting;
    const policy::RetentionRule* rule = nullptr;
    std::int64_t count = 0;
    std::optional<UnixMillis> next_due;  // running: the earliest due date among them
    std::map<std::string, std::int64_t> held_by_kind;  // held: debt, instalment, legal_hold -> count
  };
  std::vector<Line> lines;  // by what, then status, then rule
};

// The plan as JSON (docs/openapi.yaml, RetentionPlan): counts, dates and
// rules, never a value or a subject.
std::string RetentionPlanJson(const RetentionPlan& plan);

struct RetentionPlanRequest {
  std::optional<UnixMillis> as_of;  // default: now
  // Called after each batch of subjects with the number planned so far,
  // for progress on long runs.
  std::function<void(std::int64_t done)> progress = nullptr;
};

class Retention {
 public:
  explicit Retention(EngineCore& core) : core_(core), d_(core.deps()) {}
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // R-VII: what falls due by category, status and ground; changes nothing.
  // The data protection officer's (retention.plan).
  Result<RetentionPlan> PlanDestruction(const RetentionPlanRequest& request, const Caller& caller);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
