// Retention (R-VII): the plan of what falls due, and why.
#include "rules/retention.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <tuple>

namespace qorgau::rules {
namespace {

using policy::LegalBasis;
using policy::RetentionRule;

// When a rule's clock started for a subject: `applies` false when the
// event it counts from can never come for this subject (no consent of the
// kind the rule names, no application, no obligation); `at` unset while
// the event has not come yet.
struct Clock {
  bool applies = true;
  std::optional<UnixMillis> at;
};

Clock Started(UnixMillis at) { return {true, at}; }
Clock NotYet() { return {true, std::nullopt}; }
Clock Never() { return {false, std::nullopt}; }

// The latest of the ends of a set of things, each in force or ended: not
// started while one is in force; Never when there is none.
template <typename T, typename InForce, typename EndedAt>
Clock LastEnd(const std::vector<T>& items, InForce in_force, EndedAt ended_at) {
  if (items.empty()) return Never();
  UnixMillis last = 0;
  for (const T& item : items) {
    if (in_force(item)) return NotYet();
    last = std::max(last, ended_at(item));
  }
  return Started(last);
}

// The subject's relationship with the operator: its contracts; for a
// subject who never joined one, its consents. It ends when none is in
// force any more.
Clock RelationshipEnd(const RetentionFacts& f) {
  if (!f.contracts.empty()) {
    return LastEnd(
        f.contracts, [](const store::ContractRecord& c) { return !c.ended_at.has_value(); },
        [](const store::ContractRecord& c) { return *c.ended_at; });
  }
  Clock c = LastEnd(
      f.consents, [](const store::ConsentRecord& c) { return c.state == ConsentState::kGranted; },
      [](const store::ConsentRecord& c) { return c.changed_at; });
  // Neither contract nor consent: a subject only registered; it ended
  // when it began.
  return c.applies ? c : Started(f.created_at);
}

// The start of the calendar year after the one holding `at` (UTC, so never
// before the end of the tax year in Kazakhstan's time zone, UTC+5).
UnixMillis YearEnd(UnixMillis at) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(sys_time<milliseconds>{milliseconds{at}})};
  return duration_cast<milliseconds>(sys_days{(ymd.year() + years{1}) / January / 1}.time_since_epoch()).count();
}

// Whether a rule's purpose concerns the subject: a purpose of law always;
// a contract purpose when a service the subject joined serves it; a
// consent purpose when the subject consented to it.
bool PurposeConcerns(const policy::Policy& p, const RetentionRule& r, const RetentionFacts& f) {
  if (!r.purpose) return true;
  const policy::Purpose* pu = p.FindPurpose(r.purpose->id);
  if (!pu) return false;
  switch (pu->basis) {
    case LegalBasis::kLaw: return true;
    case LegalBasis::kConsent:
      return std::any_of(f.consents.begin(), f.consents.end(),
                         [&](const store::ConsentRecord& c) { return c.purpose == pu->id; });
    case LegalBasis::kContract:
      return std::any_of(f.services.begin(), f.services.end(), [&](const store::SubscriptionRecord& s) {
        const policy::Service* svc = p.FindService(s.service);
        return svc && std::any_of(svc->purposes.begin(), svc->purposes.end(),
                                  [&](const policy::Ref& ref) { return ref.id == pu->id; });
      });
  }
  return false;
}

bool ServiceNeeds(const policy::Policy& p, std::string_view service, std::string_view category) {
  const policy::Service* s = p.FindService(service);
  return s && std::any_of(s->categories.begin(), s->categories.end(),
                          [&](const policy::Ref& r) { return r.id == category; });
}

// A category rule's clock for a value recorded at `recorded_at`.
Clock CategoryClock(const policy::Policy& p, const RetentionRule& r, const RetentionFacts& f,
                    UnixMillis recorded_at) {
  if (r.from == "collection") return Started(recorded_at);
  if (r.from == "relationship_end") return RelationshipEnd(f);
  if (r.from == "tax_period_end") {
    const Clock rel = RelationshipEnd(f);
    if (!rel.at) return rel;
    return Started(YearEnd(std::max(*rel.at, recorded_at)));
  }
  if (r.from == "service_end") {
    std::vector<store::SubscriptionRecord> needing;
    for (const auto& s : f.services) {
      if (ServiceNeeds(p, s.service, r.category.id)) needing.push_back(s);
    }
    // Needed by no service the subject has had: from its collection.
    if (needing.empty()) return Started(recorded_at);
    const Clock c = LastEnd(
        needing, [](const store::SubscriptionRecord& s) { return s.active; },
        [](const store::SubscriptionRecord& s) { return s.changed_at; });
    if (!c.at) return c;
    return Started(std::max(*c.at, recorded_at));
  }
  if (r.from == "consent_end") {
    std::vector<store::ConsentRecord> covered;
    for (const auto& c : f.consents) {
      if (r.purpose && c.purpose != r.purpose->id) continue;
      if (!r.evidence.empty()) {
        const policy::Channel* ch = p.FindChannel(c.channel);
        if (!ch || ch->evidence != r.evidence) continue;
      }
      covered.push_back(c);
    }
    return LastEnd(
        covered, [](const store::ConsentRecord& c) { return c.state == ConsentState::kGranted; },
        [](const store::ConsentRecord& c) { return c.changed_at; });
  }
  if (r.from == "application_answered") {
    return LastEnd(
        f.applications, [](const store::ApplicationRecord& a) { return !a.closed_at.has_value(); },
        [](const store::ApplicationRecord& a) { return *a.closed_at; });
  }
  if (r.from == "obligation_closed") {
    return LastEnd(
        f.obligations, [](const store::ObligationRecord& o) { return !o.closed_at.has_value(); },
        [](const store::ObligationRecord& o) { return *o.closed_at; });
  }
  return Never();  // a start the validator refuses
}

// The open obligations that keep `category` ("" for a record): those that
// name it, and those that name nothing (they keep everything).
std::vector<std::string> HeldBy(const RetentionFacts& f, std::string_view category) {
  std::vector<std::string> out;
  for (const auto& o : f.obligations) {
    if (o.closed_at) continue;
    if (o.categories.empty() ||
        (!category.empty() && std::find(o.categories.begin(), o.categories.end(), category) != o.categories.end())) {
      out.push_back(o.ref);
    }
  }
  return out;
}

// The longest of the clocks that apply decides; one not started keeps the
// item waiting.
void Decide(RetentionItem* item, const std::vector<std::pair<const RetentionRule*, Clock>>& clocks,
            const RetentionFacts& f, std::string_view category, UnixMillis as_of) {
  for (const auto& [rule, clock] : clocks) {
    if (clock.applies && !clock.at) {
      item->status = RetentionStatus::kWaiting;
      item->rule = rule;
      return;
    }
  }
  for (const auto& [rule, clock] : clocks) {
    if (!clock.applies) continue;
    const UnixMillis due = rule->period.After(*clock.at);
    if (!item->due_at || due > *item->due_at) {
      item->due_at = due;
      item->started_at = clock.at;
      item->rule = rule;
    }
  }
  if (!item->rule) {  // no rule applies: kept, never destroyed by guess
    item->status = RetentionStatus::kWaiting;
    return;
  }
  if (*item->due_at > as_of) {
    item->status = RetentionStatus::kRunning;
    return;
  }
  item->held_by = HeldBy(f, category);
  item->status = item->held_by.empty() ? RetentionStatus::kDue : RetentionStatus::kHeld;
}

// Items for each record of one kind, each with its own clock.
template <typename T, typename KeyOf, typename ClockOf>
void PlanRecords(const policy::Policy& p, std::string_view kind, const std::vector<T>& records,
                 KeyOf key_of, ClockOf clock_of, const RetentionFacts& f, UnixMillis as_of,
                 std::vector<RetentionItem>* out) {
  const auto rules = p.RetentionRules("record:" + std::string(kind));
  if (rules.empty()) return;  // no rule: kept with the ledger
  for (const T& record : records) {
    RetentionItem item;
    item.what = "record:" + std::string(kind);
    item.key = key_of(record);
    std::vector<std::pair<const RetentionRule*, Clock>> clocks;
    const Clock c = clock_of(record);
    for (const RetentionRule* r : rules) clocks.emplace_back(r, c);
    Decide(&item, clocks, f, "", as_of);
    out->push_back(std::move(item));
  }
}

}  // namespace

std::string_view RetentionStatusName(RetentionStatus s) {
  switch (s) {
    case RetentionStatus::kDue: return "due";
    case RetentionStatus::kHeld: return "held";
    case RetentionStatus::kRunning: return "running";
    case RetentionStatus::kWaiting: return "waiting";
  }
  return "waiting";
}

Result<RetentionFacts> ReadRetentionFacts(store::Transaction& txn, const store::SubjectRecord& subject) {
  RetentionFacts f;
  f.subject = subject.id;
  f.created_at = subject.created_at;
  QORGAU_ASSIGN_OR_RETURN(const auto values, txn.GetPersonalData(subject.id));
  for (const auto& v : values) f.values.push_back({v.category, v.recorded_at});
  QORGAU_ASSIGN_OR_RETURN(f.contracts, txn.GetContracts(subject.id));
  QORGAU_ASSIGN_OR_RETURN(f.services, txn.GetSubscriptions(subject.id));
  QORGAU_ASSIGN_OR_RETURN(f.consents, txn.GetConsents(subject.id));
  QORGAU_ASSIGN_OR_RETURN(f.obligations, txn.GetObligations(subject.id, false));
  QORGAU_ASSIGN_OR_RETURN(f.applications, txn.GetSubjectApplications(subject.id));
  return f;
}

std::vector<RetentionItem> PlanRetention(const policy::Policy& p, const RetentionFacts& f, UnixMillis as_of) {
  std::vector<RetentionItem> out;
  for (const auto& v : f.values) {
    RetentionItem item;
    item.what = v.category;
    std::vector<std::pair<const RetentionRule*, Clock>> clocks;
    for (const RetentionRule* r : p.RetentionRules(v.category)) {
      if (!PurposeConcerns(p, *r, f)) continue;
      clocks.emplace_back(r, CategoryClock(p, *r, f, v.recorded_at));
    }
    Decide(&item, clocks, f, v.category, as_of);
    out.push_back(std::move(item));
  }
  const Clock relationship = RelationshipEnd(f);
  PlanRecords(
      p, "contracts", f.contracts, [](const store::ContractRecord& c) { return std::to_string(c.id); },
      [&](const store::ContractRecord&) { return relationship; }, f, as_of, &out);
  PlanRecords(
      p, "consents", f.consents, [](const store::ConsentRecord& c) { return c.purpose; },
      [](const store::ConsentRecord& c) {
        return c.state == ConsentState::kGranted ? NotYet() : Started(c.changed_at);
      },
      f, as_of, &out);
  PlanRecords(
      p, "obligations", f.obligations, [](const store::ObligationRecord& o) { return o.ref; },
      [](const store::ObligationRecord& o) { return o.closed_at ? Started(*o.closed_at) : NotYet(); }, f, as_of,
      &out);
  PlanRecords(
      p, "applications", f.applications, [](const store::ApplicationRecord& a) { return std::to_string(a.id); },
      [](const store::ApplicationRecord& a) { return a.closed_at ? Started(*a.closed_at) : NotYet(); }, f, as_of,
      &out);
  return out;
}

namespace {

boost::json::object RuleJson(const RetentionRule& r) {
  boost::json::object o{{"period", r.period.ToString()}, {"from", r.from}, {"ground", r.ground}};
  o["purpose"] = r.purpose ? boost::json::value(r.purpose->id) : boost::json::value(nullptr);
  o["evidence"] = r.evidence.empty() ? boost::json::value(nullptr) : boost::json::value(r.evidence);
  o["minimum"] = r.minimum ? boost::json::value(r.minimum->id) : boost::json::value(nullptr);
  return o;
}

}  // namespace

std::string RetentionPlanJson(const RetentionPlan& plan) {
  boost::json::array lines;
  std::int64_t due = 0, held = 0;
  for (const auto& l : plan.lines) {
    boost::json::object o{{"what", l.what}, {"status", RetentionStatusName(l.status)}, {"count", l.count}};
    o["rule"] = l.rule ? boost::json::value(RuleJson(*l.rule)) : boost::json::value(nullptr);
    if (l.next_due) o["next_due"] = FormatUtc(*l.next_due);
    if (!l.held_by_kind.empty()) {
      boost::json::object by;
      for (const auto& [kind, n] : l.held_by_kind) by[kind] = n;
      o["held_by"] = std::move(by);
    }
    if (l.status == RetentionStatus::kDue) due += l.count;
    if (l.status == RetentionStatus::kHeld) held += l.count;
    lines.push_back(std::move(o));
  }
  return boost::json::serialize(boost::json::object{{"as_of", FormatUtc(plan.as_of)},
                                                    {"subjects", plan.subjects},
                                                    {"destroyed_subjects", plan.destroyed},
                                                    {"due", due},
                                                    {"held", held},
                                                    {"lines", std::move(lines)}}) +
         "\n";
}

Result<RetentionPlan> Retention::PlanDestruction(const RetentionPlanRequest& req, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kRetentionPlan));
  const policy::Policy& p = *d_.policy;
  RetentionPlan plan;
  plan.as_of = req.as_of.value_or(d_.clock.Now());
  // Lines keyed by (what, status, rule's place in the policy).
  std::map<std::tuple<std::string, RetentionStatus, const RetentionRule*>, RetentionPlan::Line> lines;
  constexpr std::size_t kBatch = 512;
  SubjectId after = 0;
  for (;;) {
    // A read transaction a batch: a long plan never holds one snapshot
    // (and the WAL) for the whole run.
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto subjects, txn->ListSubjects(after, kBatch));
    if (subjects.empty()) break;
    for (const auto& s : subjects) {
      after = s.id;
      if (s.destroyed_at) {
        ++plan.destroyed;
        continue;
      }
      ++plan.subjects;
      QORGAU_ASSIGN_OR_RETURN(const RetentionFacts facts, ReadRetentionFacts(*txn, s));
      for (const RetentionItem& item : PlanRetention(p, facts, plan.as_of)) {
        RetentionPlan::Line& line = lines[{item.what, item.status, item.rule}];
        line.what = item.what;
        line.status = item.status;
        line.rule = item.rule;
        ++line.count;
        if (item.status == RetentionStatus::kRunning && (!line.next_due || *item.due_at < *line.next_due)) {
          line.next_due = item.due_at;
        }
        for (const auto& ref : item.held_by) {
          for (const auto& o : facts.obligations) {
            if (o.ref == ref) ++line.held_by_kind[std::string(store::ObligationKindName(o.kind))];
          }
        }
      }
    }
    if (req.progress) req.progress(plan.subjects + plan.destroyed);
    if (subjects.size() < kBatch) break;
  }
  for (auto& [key, line] : lines) plan.lines.push_back(std::move(line));
  return plan;
}

}  // namespace qorgau::rules
