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
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/working_calendar.h"
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
  bool blocked = false;  // a block stops destruction too (LAW.md §1)
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
  std::vector<std::string> held_by;             // the open obligations that keep it; kBlockedHold for a block
};

// What held_by says of a subject's block.
inline constexpr std::string_view kBlockedHold = "blocked";

// Every category the subject holds a value of, and every record qorgau keeps
// about it that a rule covers, with its status on `as_of`. With
// `statutory_only` (a destruction application, LAW.md §5) only the rules
// that cite a statutory minimum keep anything: an item no such rule covers
// is due at once.
std::vector<RetentionItem> PlanRetention(const policy::Policy& policy, const RetentionFacts& facts,
                                         UnixMillis as_of, bool statutory_only = false);

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

// What one destruction took from one subject: its retention.destroyed
// event.
struct Destruction {
  SubjectId subject = 0;
  std::vector<RetentionItem> items;
  bool subject_destroyed = false;  // nothing was left: the data key went too
  std::int64_t event = 0;
};

// Destroys, in `txn`, what of the subject is due on `as_of` and passes
// `only` (all when null): deletes the values and records, and when nothing
// of the subject is kept any more destroys its data key and blind indexes;
// records one retention.destroyed event (`run`: the run it belongs to, 0
// for none; `why`: retention, withdrawal, application). nullopt when
// nothing is due. The deltas say a destroyed subject to the index.
Result<std::optional<Destruction>> DestroyDue(const EngineDeps& d, store::Transaction& txn, const Caller& actor,
                                              SubjectId subject, UnixMillis as_of, std::int64_t run,
                                              std::string_view why,
                                              const std::function<bool(const RetentionItem&)>& only,
                                              std::vector<index::Delta>* deltas, bool statutory_only = false);

// What a destruction application did (LAW.md §5, R-VII.2): what went at
// once, and what must stay, with its ground and until when.
struct DestructionOnApplication {
  std::int64_t application = 0;
  SubjectId subject = 0;
  std::vector<std::string> destroyed;  // categories, or record:KIND:KEY
  std::vector<RetentionItem> kept;     // rule (statute) or held_by says why; due_at until when
  bool subject_destroyed = false;
  std::string answer;                  // the application's outcome
  std::int64_t revision = 0;
};

// R-VI.4: right after a change that switched services off or ended a
// consent, in its transaction: what a rule of period 0 makes due at once
// (the data only the switched-off services needed) is destroyed now, with
// `why` (withdrawal, service_off, contract_end). The categories and records
// destroyed.
Result<std::vector<std::string>> DestroyAtOnce(const EngineDeps& d, store::Transaction& txn, const Caller& actor,
                                               SubjectId subject, std::string_view why,
                                               std::vector<index::Delta>* deltas);

// The daily run inside `serve`: the first instant after `now` that is
// `minute_of_day` (0-1439) on a local day of `zone`.
UnixMillis NextDailyRun(const std::string& zone, int minute_of_day, UnixMillis now);

// The `as_of` of a run asked for by day (YYYY-MM-DD in the operator's
// zone): the end of that day, or now for today; a day still to come is
// refused, naming `field`, rather than quietly run as of now.
Result<UnixMillis> RunAsOfDay(const WorkingCalendar& calendar, std::string_view day, UnixMillis now,
                              const std::string& field);

struct RetentionRunRequest {
  std::optional<UnixMillis> as_of;  // default now; an unfinished run keeps its own
  std::size_t batch = 64;           // subjects destroyed per transaction
  // Called after each batch: subjects looked at, subjects with something destroyed.
  std::function<void(std::int64_t seen, std::int64_t destroyed)> progress = nullptr;
};

struct RetentionRunOutcome {
  store::RetentionRunRecord run;  // finished, with its act
  bool resumed = false;           // an unfinished run (killed) was carried on
};

class Retention {
 public:
  explicit Retention(EngineCore& core) : core_(core), d_(core.deps()) {}
  Retention(const Retention&) = delete;
  Retention& operator=(const Retention&) = delete;

  // R-VII: what falls due by category, status and ground; changes nothing.
  // The data protection officer's (retention.plan).
  Result<RetentionPlan> PlanDestruction(const RetentionPlanRequest& request, const Caller& caller);
  // R-VII.2: destroys what is due, subject by subject, and writes the act.
  // Idempotent and resumable: a run killed in the middle is carried on by
  // the next call, with its own as_of, and ends as an uninterrupted run
  // would; what was destroyed is never destroyed twice. The data protection
  // officer's (retention.run).
  Result<RetentionRunOutcome> RunDestruction(const RetentionRunRequest& request, const Caller& caller);
  // After a restore of an older backup (app::RestoreDataDirectory): what
  // the key store remembers as destroyed and the restored data still hold
  // is destroyed again, a retention.destroyed event (why `restore`) a
  // subject; then a store.restored event. Returns the subjects touched.
  // An administrator's (store.restore).
  Result<std::int64_t> ForgetAgain(std::int64_t backup_events, const Caller& caller);
  // Carries out a destruction application (LAW.md §5) whose applicant's
  // identity was verified: everything no statutory minimum and no open
  // obligation keeps is destroyed at once (the data key too when nothing is
  // left); what must stay is listed with its ground and date, and the
  // application is answered saying so, in the same transaction.
  // application.handle.
  Result<DestructionOnApplication> DestroyOnApplication(std::int64_t application, const Caller& caller);
  // Destruction runs, newest first, with their acts (retention.acts).
  Result<std::vector<store::RetentionRunRecord>> RetentionRuns(const Caller& caller);

 private:
  EngineCore& core_;
  const EngineDeps& d_;
  std::mutex run_mu_;  // one destruction run at a time in a process
};

}  // namespace qorgau::rules
