// Retention (R-VII): the plan of what falls due, and why.
#include "rules/retention.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <set>
#include <tuple>

#include "core/working_calendar.h"
#include "ledger/canonical_json.h"
#include "ledger/ledger.h"

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
  if (f.blocked) out.emplace_back(kBlockedHold);
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
            const RetentionFacts& f, std::string_view category, UnixMillis as_of, bool statutory_only = false) {
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
  if (!item->rule) {
    if (statutory_only) {  // on a destruction application: no statute keeps it
      item->held_by = HeldBy(f, category);
      item->status = item->held_by.empty() ? RetentionStatus::kDue : RetentionStatus::kHeld;
      return;
    }
    item->status = RetentionStatus::kWaiting;  // no rule applies: kept, never destroyed by guess
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
                 std::vector<RetentionItem>* out, bool statutory_only) {
  auto rules = p.RetentionRules("record:" + std::string(kind));
  if (rules.empty()) return;  // no rule: kept with the ledger
  if (statutory_only) std::erase_if(rules, [](const RetentionRule* r) { return !r->minimum; });
  if (statutory_only && rules.empty()) {
    // On a destruction application with no statute for these records: a
    // record goes once its own event has come (a contract in force, an
    // open application or obligation, a consent in force stay).
    for (const T& record : records) {
      RetentionItem item;
      item.what = "record:" + std::string(kind);
      item.key = key_of(record);
      const Clock c = clock_of(record);
      if (!c.at) {
        item.status = RetentionStatus::kWaiting;
      } else {
        item.held_by = HeldBy(f, "");
        item.status = item.held_by.empty() ? RetentionStatus::kDue : RetentionStatus::kHeld;
      }
      out->push_back(std::move(item));
    }
    return;
  }
  for (const T& record : records) {
    RetentionItem item;
    item.what = "record:" + std::string(kind);
    item.key = key_of(record);
    std::vector<std::pair<const RetentionRule*, Clock>> clocks;
    const Clock c = clock_of(record);
    for (const RetentionRule* r : rules) clocks.emplace_back(r, c);
    Decide(&item, clocks, f, "", as_of, statutory_only);
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
  QORGAU_ASSIGN_OR_RETURN(const auto block, txn.GetSubjectBlock(subject.id));
  f.blocked = block.has_value();
  return f;
}

std::vector<RetentionItem> PlanRetention(const policy::Policy& p, const RetentionFacts& f, UnixMillis as_of,
                                         bool statutory_only) {
  std::vector<RetentionItem> out;
  for (const auto& v : f.values) {
    RetentionItem item;
    item.what = v.category;
    std::vector<std::pair<const RetentionRule*, Clock>> clocks;
    for (const RetentionRule* r : p.RetentionRules(v.category)) {
      if (!PurposeConcerns(p, *r, f) || (statutory_only && !r->minimum)) continue;
      clocks.emplace_back(r, CategoryClock(p, *r, f, v.recorded_at));
    }
    Decide(&item, clocks, f, v.category, as_of, statutory_only);
    out.push_back(std::move(item));
  }
  const Clock relationship = RelationshipEnd(f);
  PlanRecords(
      p, "contracts", f.contracts, [](const store::ContractRecord& c) { return std::to_string(c.id); },
      [&](const store::ContractRecord&) { return relationship; }, f, as_of, &out, statutory_only);
  PlanRecords(
      p, "consents", f.consents, [](const store::ConsentRecord& c) { return c.purpose; },
      [](const store::ConsentRecord& c) {
        return c.state == ConsentState::kGranted ? NotYet() : Started(c.changed_at);
      },
      f, as_of, &out, statutory_only);
  PlanRecords(
      p, "obligations", f.obligations, [](const store::ObligationRecord& o) { return o.ref; },
      [](const store::ObligationRecord& o) { return o.closed_at ? Started(*o.closed_at) : NotYet(); }, f, as_of,
      &out, statutory_only);
  PlanRecords(
      p, "applications", f.applications, [](const store::ApplicationRecord& a) { return std::to_string(a.id); },
      [](const store::ApplicationRecord& a) { return a.closed_at ? Started(*a.closed_at) : NotYet(); }, f, as_of,
      &out, statutory_only);
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
          if (ref == kBlockedHold) ++line.held_by_kind["block"];
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

namespace {

// The rule's place in the edition's retention list, which events name.
std::int64_t RuleIndex(const policy::Policy& p, const RetentionRule* r) {
  return r ? static_cast<std::int64_t>(r - p.retention.data()) : -1;
}

// An IIN or phone destroyed while its subject lives: nobody is found by it
// any more, and the number can be someone else's.
Result<void> ForgetIndexOf(const policy::Policy& p, store::Transaction& txn, SubjectId subject, std::string_view what) {
  const policy::Category* c = p.FindCategory(what);
  if (!c) return {};
  if (c->value == ValueType::kIin) return txn.ForgetSubjectIndex(subject, store::IndexKind::kIin);
  if (c->value == ValueType::kPhone) return txn.ForgetSubjectIndex(subject, store::IndexKind::kPhone);
  return {};
}

Result<void> DeleteItem(store::Transaction& txn, SubjectId subject, const RetentionItem& item, UnixMillis at) {
  if (item.what.rfind("record:", 0) != 0) return txn.DeletePersonalData(subject, item.what, at);
  const std::string_view kind = std::string_view(item.what).substr(7);
  if (kind == "contracts") return txn.DeleteContract(std::stoll(item.key), at);  // keys made by PlanRetention
  if (kind == "consents") return txn.DeleteConsent(subject, item.key, at);
  if (kind == "obligations") return txn.DeleteObligation(item.key, at);
  if (kind == "applications") return txn.DeleteApplication(std::stoll(item.key), at);
  return Fail(ErrorCode::kInternal, "record", "no record kind '" + std::string(kind) + "'");
}

}  // namespace

Result<std::optional<Destruction>> DestroyDue(const EngineDeps& d, store::Transaction& txn, const Caller& actor,
                                              SubjectId id, UnixMillis as_of, std::int64_t run, std::string_view why,
                                              const std::function<bool(const RetentionItem&)>& only,
                                              std::vector<index::Delta>* deltas, bool statutory_only) {
  const policy::Policy& p = *d.policy;
  QORGAU_ASSIGN_OR_RETURN(const auto subject, txn.GetSubject(id));
  if (!subject || subject->destroyed_at) return std::optional<Destruction>();
  QORGAU_ASSIGN_OR_RETURN(const RetentionFacts facts, ReadRetentionFacts(txn, *subject));
  const auto items = PlanRetention(p, facts, as_of, statutory_only);
  Destruction out;
  out.subject = id;
  bool everything = true;
  for (const auto& item : items) {
    if (item.status == RetentionStatus::kDue && (!only || only(item))) {
      out.items.push_back(item);
    } else {
      everything = false;
    }
  }
  if (out.items.empty()) return std::optional<Destruction>();
  const UnixMillis now = d.clock.Now();
  for (const auto& item : out.items) {
    QORGAU_TRY(DeleteItem(txn, id, item, now));
    QORGAU_TRY(ForgetIndexOf(p, txn, id, item.what));
  }
  out.subject_destroyed = everything;
  ledger::EventDraft ev{"retention.destroyed", id, actor.id(), {}};
  if (run != 0) ev.data["run"] = run;
  ev.data["why"] = std::string(why);
  ev.data["as_of"] = FormatUtc(as_of);
  ev.data["edition"] = p.edition.number;
  boost::json::array list;
  for (const auto& item : out.items) {
    boost::json::object o{{"what", item.what}, {"rule", RuleIndex(p, item.rule)}};
    if (!item.key.empty()) o["key"] = item.key;
    list.push_back(std::move(o));
  }
  ev.data["items"] = std::move(list);
  ev.data["subject_destroyed"] = everything;
  QORGAU_ASSIGN_OR_RETURN(const store::EventRecord event, ledger::Append(txn, now, ev));
  out.event = event.seq;
  if (everything) {
    QORGAU_TRY(txn.DestroySubject(id, now));
    deltas->push_back({index::Delta::Kind::kSubjectDestroyed, id});
  }
  return std::optional<Destruction>(std::move(out));
}

Result<std::vector<std::string>> DestroyAtOnce(const EngineDeps& d, store::Transaction& txn, const Caller& actor,
                                               SubjectId subject, std::string_view why,
                                               std::vector<index::Delta>* deltas) {
  QORGAU_ASSIGN_OR_RETURN(
      const auto done, DestroyDue(d, txn, actor, subject, d.clock.Now(), 0, why,
                                  [](const RetentionItem& i) { return i.rule && i.rule->period.amount == 0; }, deltas));
  std::vector<std::string> out;
  if (done) {
    for (const auto& i : done->items) out.push_back(i.key.empty() ? i.what : i.what + ":" + i.key);
  }
  return out;
}

namespace {

// The act of a run (R-VII.2, LAW.md §9): what its retention.destroyed
// events took, by category or record and rule, never a value: counts, the
// grounds, and the events' range, which stand for the subjects.
Result<std::string> BuildAct(const policy::Policy& p, store::Store& store, const store::RetentionRunRecord& run,
                             UnixMillis finished_at) {
  std::map<std::pair<std::string, std::int64_t>, std::int64_t> counts;  // (what, rule) -> count
  std::int64_t subjects = 0, destroyed = 0, first = 0, last = 0;
  std::optional<Error> bad;
  QORGAU_ASSIGN_OR_RETURN(auto txn, store.Begin(store::Store::Mode::kRead));
  QORGAU_TRY(txn->ScanEvents(run.run, [&](const store::EventRecord& e) {
    if (e.body.find("\"retention.destroyed\"") == std::string::npos) return true;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(e.body, ec);
    const auto* o = !ec && v.is_object() ? &v.get_object() : nullptr;
    const auto* type = o ? o->if_contains("type") : nullptr;
    if (!type || !type->is_string() || type->get_string() != "retention.destroyed") return true;
    const auto* data = o->if_contains("data");
    const auto* r = data && data->is_object() ? data->get_object().if_contains("run") : nullptr;
    if (!r || !r->is_int64() || r->get_int64() != run.run) return true;
    const auto* items = data->get_object().if_contains("items");
    if (!items || !items->is_array()) {
      bad = Error{ErrorCode::kCorruption, "event", "event " + std::to_string(e.seq) + " has no items"};
      return false;
    }
    for (const auto& item : items->get_array()) {
      const auto* what = item.is_object() ? item.get_object().if_contains("what") : nullptr;
      const auto* rule = item.is_object() ? item.get_object().if_contains("rule") : nullptr;
      if (!what || !what->is_string() || !rule || !rule->is_int64()) continue;
      ++counts[{std::string(what->get_string()), rule->get_int64()}];
    }
    const auto* whole = data->get_object().if_contains("subject_destroyed");
    if (whole && whole->is_bool() && whole->get_bool()) ++destroyed;
    ++subjects;
    if (first == 0) first = e.seq;
    last = e.seq;
    return true;
  }));
  if (bad) return tl::unexpected(*bad);
  boost::json::array lines;
  for (const auto& [key, n] : counts) {
    const auto& [what, rule] = key;
    boost::json::object line{{"what", what}, {"count", n}, {"rule", rule}};
    if (rule >= 0 && rule < static_cast<std::int64_t>(p.retention.size())) {
      const RetentionRule& r = p.retention[static_cast<std::size_t>(rule)];
      line["period"] = r.period.ToString();
      line["from"] = r.from;
      line["ground"] = r.ground;
      if (r.minimum) line["statute"] = r.minimum->id;
    }
    lines.push_back(std::move(line));
  }
  boost::json::object act{{"format", "qorgau-destruction-act/1"},
                          {"run", run.run},
                          {"as_of", FormatUtc(run.as_of)},
                          {"started_at", FormatUtc(run.started_at)},
                          {"finished_at", FormatUtc(finished_at)},
                          {"actor", run.actor},
                          {"edition", run.edition},
                          {"subjects", subjects},
                          {"subjects_destroyed", destroyed},
                          {"method", "deletion of the rows; for a subject with nothing left, destruction of its data "
                                     "key and blind indexes (crypto-shredding)"},
                          {"lines", std::move(lines)}};
  act["events"] = subjects == 0 ? boost::json::value(nullptr)
                                : boost::json::value(boost::json::object{{"first", first}, {"last", last}});
  return ledger::CanonicalJson(act);
}

}  // namespace

Result<RetentionRunOutcome> Retention::RunDestruction(const RetentionRunRequest& req, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kRetentionRun));
  const policy::Policy& p = *d_.policy;
  if (req.batch == 0) return Fail(ErrorCode::kInvalidArgument, "batch", "must be at least 1");
  // The daily run and a run asked for over the API would both carry on the
  // same run: one at a time.
  std::unique_lock<std::mutex> one(run_mu_, std::try_to_lock);
  if (!one.owns_lock()) {
    return Refuse("retention_run_in_progress", "run", "a destruction run is in progress; its act follows when it ends");
  }
  RetentionRunOutcome out;
  // A run killed in the middle is carried on, with its own as_of.
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_TRY(txn->ScanRetentionRuns([&](const store::RetentionRunRecord& r) {
      if (!r.finished_at && !out.resumed) {
        out.run = r;
        out.resumed = true;
      }
    }));
  }
  if (!out.resumed) {
    const UnixMillis now = d_.clock.Now();
    const UnixMillis as_of = req.as_of.value_or(now);
    if (as_of > now) return Fail(ErrorCode::kInvalidArgument, "as_of", "is in the future: nothing is destroyed ahead of time");
    QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
      ledger::EventDraft ev{"retention.run_started", std::nullopt, caller.id(), {}};
      ev.data["as_of"] = FormatUtc(as_of);
      ev.data["edition"] = p.edition.number;
      QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
      out.run = store::RetentionRunRecord{};
      out.run.run = e.seq;
      out.run.started_at = now;
      out.run.as_of = as_of;
      out.run.actor = caller.id();
      out.run.edition = p.edition.number;
      QORGAU_TRY(txn.PutRetentionRun(out.run));
      return std::vector<index::Delta>{};
    }));
  }
  const std::int64_t run = out.run.run;
  const UnixMillis as_of = out.run.as_of;
  std::int64_t seen = 0, destroyed = 0;
  SubjectId after = 0;
  for (;;) {
    std::vector<SubjectId> due;
    std::size_t listed = 0;
    {
      QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
      QORGAU_ASSIGN_OR_RETURN(const auto subjects, txn->ListSubjects(after, 512));
      listed = subjects.size();
      for (const auto& s : subjects) {
        after = s.id;
        ++seen;
        if (s.destroyed_at) continue;
        QORGAU_ASSIGN_OR_RETURN(const RetentionFacts facts, ReadRetentionFacts(*txn, s));
        const auto items = PlanRetention(p, facts, as_of);
        if (std::any_of(items.begin(), items.end(),
                        [](const RetentionItem& i) { return i.status == RetentionStatus::kDue; })) {
          due.push_back(s.id);
        }
      }
    }
    for (std::size_t i = 0; i < due.size(); i += req.batch) {
      const std::size_t end = std::min(due.size(), i + req.batch);
      std::int64_t done = 0;
      QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
        done = 0;
        std::vector<index::Delta> deltas;
        for (std::size_t k = i; k < end; ++k) {
          QORGAU_ASSIGN_OR_RETURN(const auto d, DestroyDue(d_, txn, caller, due[k], as_of, run, "retention", nullptr, &deltas));
          if (d) ++done;
        }
        return deltas;
      }));
      destroyed += done;
      if (req.progress) req.progress(seen, destroyed);
    }
    if (listed < 512) break;
  }
  const UnixMillis finished = d_.clock.Now();
  QORGAU_ASSIGN_OR_RETURN(const std::string act, BuildAct(p, d_.store, out.run, finished));
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"retention.act", std::nullopt, caller.id(), {}};
    ev.data["run"] = run;
    ev.data["act"] = boost::json::parse(act);
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, finished, ev));
    out.run.finished_at = finished;
    out.run.act = act;
    out.run.act_seq = e.seq;
    QORGAU_TRY(txn.PutRetentionRun(out.run));
    return std::vector<index::Delta>{};
  }));
  // What the deleted rows left in the files goes too.
  QORGAU_TRY(d_.store.ForgetDeleted());
  return out;
}

Result<UnixMillis> RunAsOfDay(const WorkingCalendar& calendar, std::string_view day, UnixMillis now,
                              const std::string& field) {
  QORGAU_ASSIGN_OR_RETURN(const auto date, ParseDate(day, field));
  const auto days = std::chrono::sys_days(date);
  // The day before ended after now: the day asked for has not begun.
  if (calendar.EndOfLocalDay(std::chrono::year_month_day(days - std::chrono::days(1))) >= now) {
    return Fail(ErrorCode::kInvalidArgument, field, "is in the future: nothing is destroyed ahead of time");
  }
  return std::min(calendar.EndOfLocalDay(date), now);
}

UnixMillis NextDailyRun(const std::string& zone, int minute_of_day, UnixMillis now) {
  const auto today = LocalDateIn(zone, now);
  const UnixMillis offset = static_cast<UnixMillis>(minute_of_day) * 60000;
  // The local day starts just after the previous one ends.
  const UnixMillis start_today = EndOfLocalDayIn(zone, std::chrono::sys_days(today) - std::chrono::days(1)) + 1;
  if (start_today + offset > now) return start_today + offset;
  return EndOfLocalDayIn(zone, today) + 1 + offset;
}

Result<std::int64_t> Retention::ForgetAgain(std::int64_t backup_events, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kStoreRestore));
  std::map<SubjectId, std::vector<store::ForgottenRecord>> by_subject;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_TRY(txn->ScanForgotten([&](const store::ForgottenRecord& f) { by_subject[f.subject_id].push_back(f); }));
  }
  std::int64_t touched = 0;
  for (const auto& [id, forgotten] : by_subject) {
    bool changed = false;
    QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
      changed = false;
      std::vector<index::Delta> deltas;
      QORGAU_ASSIGN_OR_RETURN(const auto subject, txn.GetSubject(id));
      if (!subject) return deltas;  // made after the backup: not in it
      QORGAU_ASSIGN_OR_RETURN(const auto values, txn.GetPersonalData(id));
      QORGAU_ASSIGN_OR_RETURN(const auto contracts, txn.GetContracts(id));
      QORGAU_ASSIGN_OR_RETURN(const auto consents, txn.GetConsents(id));
      QORGAU_ASSIGN_OR_RETURN(const auto apps, txn.GetSubjectApplications(id));
      const UnixMillis now = d_.clock.Now();
      boost::json::array items;
      bool whole = false;
      std::set<std::pair<std::string, std::string>> done;
      for (const auto& f : forgotten) {
        if (!done.insert({f.what, f.key}).second) continue;
        bool present = false;
        if (f.what == "subject") {
          // Ids can come back after a restore: only the subject that was
          // there when it was destroyed.
          whole = !subject->destroyed_at && subject->created_at <= f.at;
          continue;
        } else if (f.what == "record:contracts") {
          present = std::any_of(contracts.begin(), contracts.end(), [&](const store::ContractRecord& c) {
            return std::to_string(c.id) == f.key && c.joined_at <= f.at;
          });
          if (present) QORGAU_TRY(txn.DeleteContract(std::stoll(f.key), now));  // present: a contract's id
        } else if (f.what == "record:consents") {
          present = std::any_of(consents.begin(), consents.end(), [&](const store::ConsentRecord& c) {
            return c.purpose == f.key && c.changed_at <= f.at;
          });
          if (present) QORGAU_TRY(txn.DeleteConsent(id, f.key, now));
        } else if (f.what == "record:obligations") {
          QORGAU_ASSIGN_OR_RETURN(const auto o, txn.GetObligation(f.key));
          present = o && o->subject_id == id && o->opened_at <= f.at;
          if (present) QORGAU_TRY(txn.DeleteObligation(f.key, now));
        } else if (f.what == "record:applications") {
          present = std::any_of(apps.begin(), apps.end(), [&](const store::ApplicationRecord& a) {
            return std::to_string(a.id) == f.key && a.received_at <= f.at;
          });
          if (present) QORGAU_TRY(txn.DeleteApplication(std::stoll(f.key), now));  // present: an application's id
        } else {
          // A value recorded again after its destruction is a new one.
          present = std::any_of(values.begin(), values.end(), [&](const store::PersonalDataRecord& v) {
            return v.category == f.what && v.recorded_at <= f.at;
          });
          if (present) {
            QORGAU_TRY(txn.DeletePersonalData(id, f.what, now));
            QORGAU_TRY(ForgetIndexOf(*d_.policy, txn, id, f.what));
          }
        }
        if (!present) continue;
        boost::json::object o{{"what", f.what}, {"rule", -1}};
        if (!f.key.empty()) o["key"] = f.key;
        items.push_back(std::move(o));
      }
      if (items.empty() && !whole) return deltas;
      ledger::EventDraft ev{"retention.destroyed", id, caller.id(), {}};
      ev.data["why"] = "restore";
      ev.data["as_of"] = FormatUtc(now);
      ev.data["edition"] = d_.policy->edition.number;
      ev.data["items"] = std::move(items);
      ev.data["subject_destroyed"] = whole;
      QORGAU_TRY(ledger::Append(txn, now, ev));
      if (whole) {
        QORGAU_TRY(txn.DestroySubject(id, now));
        deltas.push_back({index::Delta::Kind::kSubjectDestroyed, id});
      }
      changed = true;
      return deltas;
    }));
    if (changed) ++touched;
  }
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    ledger::EventDraft ev{"store.restored", std::nullopt, caller.id(), {}};
    ev.data["backup_events"] = backup_events;
    ev.data["subjects_forgotten_again"] = touched;
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  }));
  QORGAU_TRY(d_.store.ForgetDeleted());
  return touched;
}

Result<DestructionOnApplication> Retention::DestroyOnApplication(std::int64_t application, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationHandle));
  DestructionOnApplication out;
  out.application = application;
  QORGAU_ASSIGN_OR_RETURN(
      out.revision, core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
        QORGAU_ASSIGN_OR_RETURN(const auto found, txn.GetApplication(application));
        if (!found) return Fail(ErrorCode::kNotFound, "application", "no application " + std::to_string(application));
        QORGAU_ASSIGN_OR_RETURN(auto app, core_.VerifiedApplication(txn, application, found->subject_id,
                                                                    ApplicationKind::kDestruction,
                                                                    "destruction_application_required", "application"));
        out.subject = app.subject_id;
        std::vector<index::Delta> deltas;
        const UnixMillis now = d_.clock.Now();
        QORGAU_ASSIGN_OR_RETURN(const auto done, DestroyDue(d_, txn, caller, app.subject_id, now, 0, "application",
                                                            nullptr, &deltas, /*statutory_only=*/true));
        if (done) {
          for (const auto& i : done->items) out.destroyed.push_back(i.key.empty() ? i.what : i.what + ":" + i.key);
          out.subject_destroyed = done->subject_destroyed;
        }
        if (!out.subject_destroyed) {
          QORGAU_ASSIGN_OR_RETURN(const auto subject, txn.GetSubject(app.subject_id));
          QORGAU_ASSIGN_OR_RETURN(const RetentionFacts facts, ReadRetentionFacts(txn, *subject));
          for (auto& item : PlanRetention(*d_.policy, facts, now, /*statutory_only=*/true)) {
            if (item.status != RetentionStatus::kDue) out.kept.push_back(std::move(item));
          }
        }
        out.answer = "destroyed " + std::to_string(out.destroyed.size()) + (out.subject_destroyed ? ", all" : "") +
                     "; kept " + std::to_string(out.kept.size()) +
                     (out.kept.empty() ? "" : " by statutory minimums or obligations, listed with their grounds");
        QORGAU_TRY(core_.CloseApplication(txn, app, true, out.answer, caller));
        return deltas;
      }));
  if (!out.destroyed.empty()) QORGAU_TRY(d_.store.ForgetDeleted());
  return out;
}

Result<std::vector<store::RetentionRunRecord>> Retention::RetentionRuns(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kRetentionActs));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<store::RetentionRunRecord> out;
  QORGAU_TRY(txn->ScanRetentionRuns([&](const store::RetentionRunRecord& r) { out.push_back(r); }));
  return out;
}

}  // namespace qorgau::rules
