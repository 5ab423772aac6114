// Subjects' applications and their deadlines (rules/applications.h).
#include "rules/applications.h"
#include "rules/retention.h"

#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "core/iin.h"
#include "core/personal_value.h"
#include "core/utf8.h"
#include "ledger/ledger.h"
#include "policy/policy_loader.h"
#include "rules/checks.h"

namespace qorgau::rules {
namespace {

// The channels an application comes in by (R-IV.4, R-IV.5, R-VI.2).
const std::set<std::string>& ApplicationChannels() {
  static const std::set<std::string> channels{"office_written", "app_support_chat", "e_document",
                                              "personal_cabinet"};
  return channels;
}

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

Result<void> CheckDocument(const DocumentRef& doc, const std::string& field) {
  QORGAU_TRY(CheckReference(doc.reference, field + ".reference"));
  if (!IsHex64(doc.sha256)) {
    return Fail(ErrorCode::kInvalidArgument, field + ".sha256",
                "must be the file's SHA-256 as 64 lower-case hex digits");
  }
  return {};
}

// A reason code: lower-case letters, digits and '_', 1-64.
Result<void> CheckCode(std::string_view code, std::string_view field) {
  const bool ok = !code.empty() && code.size() <= 64 &&
                  std::all_of(code.begin(), code.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                  });
  if (!ok) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field),
                "must be a code of lower-case letters, digits and '_' (at most 64)");
  }
  if (ContainsPersonalDataShape(code)) {
    return Fail(ErrorCode::kInvalidArgument, std::string(field),
                "must be a code, not personal data (it contains an IIN or phone number)");
  }
  return {};
}

boost::json::object DocumentJson(const DocumentRef& d) {
  return boost::json::object{{"reference", d.reference}, {"sha256_hash", d.sha256}};
}

}  // namespace

const std::vector<DeadlineRule>& DefaultDeadlines() {
  // LAW.md §5 and §4; `confirmed` repeats its markers.
  static const std::vector<DeadlineRule> rules{
      {ApplicationKind::kInformation, 3, true, "Law 94-V Art. 24-25 (Lexology, confirmed)"},
      {ApplicationKind::kRectification, 1, false, "Law 94-V Art. 25 (from memory, verify)"},
      {ApplicationKind::kBlocking, 1, false, "Law 94-V Art. 25 (from memory, verify)"},
      {ApplicationKind::kUnblocking, 1, false, "Law 94-V Art. 25 (from memory, verify)"},
      {ApplicationKind::kDestruction, 1, false, "Law 94-V Art. 25 (from memory, verify)"},
      {ApplicationKind::kWithdrawal, 1, false, "design choice: LAW.md §4 found no statutory deadline"},
      {ApplicationKind::kReenabling, 1, false, "design choice, as withdrawal"},
      {ApplicationKind::kObjection, 3, false, "design choice, as information"},
  };
  return rules;
}

Result<void> RecordCalendarYear(store::Transaction& txn, UnixMillis now, const std::string& actor,
                                const CalendarYear& year, const std::string& content) {
  ledger::EventDraft ev{"calendar.imported", std::nullopt, actor, {}};
  ev.data["country"] = year.country;
  ev.data["year"] = year.year;
  ev.data["file_hash"] = crypto::ToHex(crypto::Sha256(content));
  ev.data["days_off"] = static_cast<std::int64_t>(year.days_off.size());
  ev.data["working_days"] = static_cast<std::int64_t>(year.working_days.size());
  QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
  return txn.PutCalendarYear({year.country, year.year, content, now, e.seq});
}

int Applications::DeadlineDays(ApplicationKind kind) const {
  const auto& set = d_.policy->right_deadlines;
  if (auto it = set.find(ApplicationKindName(kind)); it != set.end()) return it->second;
  for (const auto& r : DefaultDeadlines()) {
    if (r.kind == kind) return r.working_days;
  }
  return 1;
}

Result<std::shared_ptr<const WorkingCalendar>> Applications::Calendar() {
  std::lock_guard<std::mutex> lock(calendar_mu_);
  if (calendar_) return calendar_;
  const std::string country = d_.policy->controller.country;
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<CalendarYear> years;
  std::optional<Error> bad;
  QORGAU_TRY(txn->ScanCalendarYears([&](const store::CalendarYearRecord& r) {
    if (r.country != country || bad) return;
    auto loaded = policy::LoadCalendarYear(r.content, "calendar " + r.country + " " + std::to_string(r.year));
    if (!loaded.year) {
      bad = Error{ErrorCode::kCorruption, "calendar", loaded.problems.front().ToString()};
      return;
    }
    years.push_back(std::move(*loaded.year));
  }));
  if (bad) return tl::unexpected(*bad);
  QORGAU_ASSIGN_OR_RETURN(WorkingCalendar made, WorkingCalendar::Make(country, std::move(years)));
  calendar_ = std::make_shared<const WorkingCalendar>(std::move(made));
  return calendar_;
}

Result<CalendarYear> Applications::ImportCalendar(const std::string& content, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kCalendarImport));
  auto loaded = policy::LoadCalendarYear(content, "calendar");
  if (!loaded.year) {
    std::string msg;
    for (const auto& p : loaded.problems) msg += (msg.empty() ? "" : "; ") + p.ToString();
    return Fail(ErrorCode::kInvalidArgument, "calendar", msg);
  }
  const CalendarYear year = *loaded.year;
  if (year.country != d_.policy->controller.country) {
    return Fail(ErrorCode::kInvalidArgument, "country",
                "the calendar is for '" + year.country + "'; the operator's country is '" +
                    d_.policy->controller.country + "'");
  }
  // One import at a time, from the snapshot to the swap: two imports must
  // not each keep a cache without the other's year.
  std::lock_guard<std::mutex> importing(import_mu_);
  // The year must fit with the others before anything is written.
  QORGAU_ASSIGN_OR_RETURN(auto current, Calendar());
  std::vector<CalendarYear> years{year};
  for (int y : current->Years()) {
    if (y != year.year) years.push_back(*current->Year(y));
  }
  QORGAU_ASSIGN_OR_RETURN(WorkingCalendar next, WorkingCalendar::Make(year.country, std::move(years)));
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_TRY(RecordCalendarYear(txn, d_.clock.Now(), caller.id(), year, content));
    return std::vector<index::Delta>{};
  }));
  std::lock_guard<std::mutex> lock(calendar_mu_);
  calendar_ = std::make_shared<const WorkingCalendar>(std::move(next));
  return year;
}

Result<std::vector<store::CalendarYearRecord>> Applications::ListCalendars() {
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<store::CalendarYearRecord> out;
  QORGAU_TRY(txn->ScanCalendarYears([&](const store::CalendarYearRecord& r) { out.push_back(r); }));
  return out;
}

Result<ApplicationView> Applications::FileApplication(const ApplicationRequest& req, const Caller& caller) {
  ApplicationKind kind;
  if (!ParseApplicationKind(req.kind, &kind)) {
    std::string all;
    for (auto k : AllApplicationKinds()) all += (all.empty() ? "" : ", ") + std::string(ApplicationKindName(k));
    return Fail(ErrorCode::kInvalidArgument, "kind", "'" + req.kind + "' is not a kind of application (" + all + ")");
  }
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationFile));
  QORGAU_TRY(core_.AuthorizeKey(caller, req.subject));
  if (!ApplicationChannels().count(req.channel)) {
    return Fail(ErrorCode::kInvalidArgument, "channel",
                "'" + req.channel + "' is not a channel applications come by "
                "(office_written, app_support_chat, e_document, personal_cabinet)");
  }
  QORGAU_TRY(CheckReference(req.reference, "reference"));
  const UnixMillis now = d_.clock.Now();
  const UnixMillis received = req.received_at.value_or(now);
  if (received > now) return Fail(ErrorCode::kInvalidArgument, "received_at", "is in the future");
  std::set<std::string> seen_docs;
  for (size_t i = 0; i < req.documents.size(); ++i) {
    const std::string field = "documents[" + std::to_string(i) + "]";
    QORGAU_TRY(CheckDocument(req.documents[i], field));
    if (!seen_docs.insert(req.documents[i].reference).second) {
      return Fail(ErrorCode::kInvalidArgument, field + ".reference", "given twice");
    }
  }
  const bool names_purposes = kind == ApplicationKind::kWithdrawal || kind == ApplicationKind::kReenabling;
  if (!names_purposes && !req.purposes.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "purposes", "only withdrawal and re-enabling applications name them");
  }
  for (const auto& p : req.purposes) {
    const bool known = kind == ApplicationKind::kWithdrawal ? d_.policy->FindPurpose(p) != nullptr
                                                            : d_.policy->FindService(p) != nullptr;
    if (!known) {
      return Fail(ErrorCode::kNotFound, "purposes",
                  "'" + p + "' is not a " + (kind == ApplicationKind::kWithdrawal ? "purpose" : "service") +
                      " of the policy");
    }
    // Only consent is withdrawn by a withdrawal (R-VI): a purpose resting
    // on the contract or the law is refused now, not at the answer.
    if (kind == ApplicationKind::kWithdrawal) QORGAU_TRY(CheckConsentPurpose(*d_.policy, p));
  }
  const std::string zone = CountryTimeZone(d_.policy->controller.country);
  std::string identity;  // the representative's, to seal
  if (req.representative) {
    QORGAU_ASSIGN_OR_RETURN(identity, CheckRepresentative(*req.representative, received, zone));
  }
  QORGAU_ASSIGN_OR_RETURN(auto calendar, Calendar());
  const int days = DeadlineDays(kind);
  QORGAU_ASSIGN_OR_RETURN(const UnixMillis due, calendar->Deadline(received, days));

  store::ApplicationRecord rec;
  std::vector<store::ApplicationDocumentRecord> docs;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    docs.clear();
    QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.Resolve(txn, req.subject));
    // A minor applies only through a legal representative (LAW.md §12).
    QORGAU_TRY(CheckRepresentation(d_, txn, id, received, req.representative ? &*req.representative : nullptr));
    rec = store::ApplicationRecord{};
    rec.subject_id = id;
    rec.kind = kind;
    rec.channel = req.channel;
    rec.reference = req.reference;
    rec.purposes = req.purposes;
    rec.handler = caller.id();
    rec.received_at = received;
    rec.due_at = due;
    rec.working_days = days;
    ledger::EventDraft ev{"application.received", id, caller.id(), {}};
    ev.data["kind"] = ApplicationKindName(kind);
    ev.data["channel"] = rec.channel;
    ev.data["reference"] = rec.reference;
    ev.data["received_at"] = FormatUtc(received);
    ev.data["due_at"] = FormatUtc(due);
    ev.data["working_days"] = days;
    boost::json::array purposes;
    for (const auto& p : rec.purposes) purposes.emplace_back(p);
    ev.data["purposes"] = std::move(purposes);
    if (req.representative) {
      QORGAU_ASSIGN_OR_RETURN(const auto sealed, SealRepresentation(d_, txn, id, *req.representative, identity));
      rec.representative = sealed.sealed;
      rec.requester = sealed.requester;
      rec.proof_kind = sealed.proof_kind;
      rec.proof_valid_until = sealed.proof_valid_until;
      RepresentationData(sealed, ev.data);
    }
    ev.data["requester"] = rec.requester;
    boost::json::array documents;
    for (const auto& d : req.documents) documents.push_back(DocumentJson(d));
    ev.data["documents"] = std::move(documents);
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
    rec.id = e.seq;
    rec.event_seq = e.seq;
    QORGAU_TRY(txn.InsertApplication(rec));
    for (const auto& d : req.documents) {
      docs.push_back({rec.id, d.reference, d.sha256, now, e.seq});
      QORGAU_TRY(txn.InsertApplicationDocument(docs.back()));
    }
    return std::vector<index::Delta>{};
  }));
  return ApplicationView{rec, docs, false};
}

Result<store::ApplicationRecord> Applications::LoadApplication(store::Transaction& txn, std::int64_t id) {
  QORGAU_ASSIGN_OR_RETURN(auto rec, txn.GetApplication(id));
  if (!rec) return Fail(ErrorCode::kNotFound, "application", "no application with this id");
  return *rec;
}

Result<ApplicationView> Applications::GetApplication(std::int64_t id, const Caller& caller) {
  const Result<void> allowed = Authorize(*d_.policy, caller, Action::kApplicationsRead);
  ApplicationView view;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(view.record, LoadApplication(*txn, id));
    if (allowed) {
      QORGAU_ASSIGN_OR_RETURN(view.documents, txn->GetApplicationDocuments(id));
    }
  }
  QORGAU_TRY(core_.RecordRead(caller, view.record.subject_id, "application", "", {}, allowed));
  view.overdue = !IsClosed(view.record.state) && view.record.due_at < d_.clock.Now();
  return view;
}

Result<std::vector<ApplicationView>> Applications::ListApplications(const Caller& caller,
                                                                     const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindSubject(caller, key));
  QORGAU_TRY(core_.RecordRead(caller, id, "applications", "", {},
                              Authorize(*d_.policy, caller, Action::kApplicationsRead)));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto records, txn->GetSubjectApplications(id));
  const UnixMillis now = d_.clock.Now();
  std::vector<ApplicationView> out;
  for (const auto& r : records) {
    QORGAU_ASSIGN_OR_RETURN(auto docs, txn->GetApplicationDocuments(r.id));
    out.push_back({r, std::move(docs), !IsClosed(r.state) && r.due_at < now});
  }
  return out;
}

Result<std::vector<ApplicationView>> Applications::DueApplications(const Caller& caller,
                                                                   std::optional<UnixMillis> before) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationsRead));
  std::vector<ApplicationView> out;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    const UnixMillis now = d_.clock.Now();
    QORGAU_TRY(txn->ScanOpenApplications([&](const store::ApplicationRecord& r) {
      if (before && r.due_at >= *before) return;
      out.push_back({r, {}, r.due_at < now});
    }));
  }
  // The list names subjects and what they asked: a read about each.
  std::set<SubjectId> recorded;
  for (const auto& v : out) {
    if (!recorded.insert(v.record.subject_id).second) continue;
    QORGAU_TRY(core_.RecordRead(caller, v.record.subject_id, "applications", "", {}, Result<void>{}));
  }
  return out;
}

Result<ApplicationView> Applications::ChangeApplication(
    std::int64_t id, const Caller& caller, const std::string& type,
    const std::function<Result<void>(store::ApplicationRecord&, boost::json::object&, UnixMillis)>& change) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationHandle));
  ApplicationView view;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(view.record, LoadApplication(txn, id));
    if (IsClosed(view.record.state)) {
      return Refuse("application_closed", "application",
                    std::string("the application was ") + ApplicationStateName(view.record.state) +
                        " already");
    }
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{type, view.record.subject_id, caller.id(), {}};
    ev.data["application"] = id;
    QORGAU_TRY(change(view.record, ev.data, now));
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
    view.record.event_seq = e.seq;
    if (type == "application.document_added") {
      QORGAU_TRY(txn.InsertApplicationDocument(
          {id, std::string(ev.data["reference"].as_string()), std::string(ev.data["sha256_hash"].as_string()),
           now, e.seq}));
    }
    QORGAU_TRY(txn.UpdateApplication(view.record));
    // An objection to profiling, answered, stops it for good (R-X.2).
    if (type == "application.answered" && view.record.kind == ApplicationKind::kObjection) {
      QORGAU_ASSIGN_OR_RETURN(const auto earlier, txn.GetProfilingObjection(view.record.subject_id));
      if (!earlier) QORGAU_TRY(txn.InsertProfilingObjection({view.record.subject_id, id, now, e.seq}));
      QORGAU_TRY(core_.StopProfiling(txn, view.record.subject_id, "", "profiling_objection", caller));
    }
    QORGAU_ASSIGN_OR_RETURN(view.documents, txn.GetApplicationDocuments(id));
    return std::vector<index::Delta>{};
  }));
  view.overdue = !IsClosed(view.record.state) && view.record.due_at < d_.clock.Now();
  return view;
}

Result<ApplicationView> Applications::AttachDocument(std::int64_t id, const DocumentRef& document,
                                                     const Caller& caller) {
  QORGAU_TRY(CheckDocument(document, "document"));
  return ChangeApplication(id, caller, "application.document_added",
                [&](store::ApplicationRecord&, boost::json::object& data, UnixMillis) -> Result<void> {
                  data["reference"] = document.reference;
                  data["sha256_hash"] = document.sha256;
                  return {};
                });
}

Result<ApplicationView> Applications::AdvanceApplication(std::int64_t id, const std::string& to, const Caller& caller) {
  ApplicationState next;
  if (!ParseApplicationState(to, &next) ||
      (next != ApplicationState::kIdentityVerified && next != ApplicationState::kInProgress)) {
    return Fail(ErrorCode::kInvalidArgument, "to", "must be identity_verified or in_progress");
  }
  return ChangeApplication(id, caller, "application.advanced",
                [&](store::ApplicationRecord& r, boost::json::object& data, UnixMillis) -> Result<void> {
                  if (static_cast<int>(next) <= static_cast<int>(r.state)) {
                    return Refuse("application_state", "to",
                                  std::string("the application is ") + ApplicationStateName(r.state) +
                                      " already; it moves on only (received, identity_verified, in_progress)");
                  }
                  // Nothing is done for an applicant whose identity (and
                  // authority) was not checked.
                  if (next == ApplicationState::kInProgress && r.state == ApplicationState::kReceived) {
                    return Refuse("identity_not_verified", "to",
                                  "verify the applicant's identity (and authority) first");
                  }
                  r.state = next;
                  r.handler = caller.id();
                  data["state"] = ApplicationStateName(next);
                  return {};
                });
}

Result<ApplicationView> Applications::AnswerApplication(std::int64_t id, const std::string& reference, const Caller& caller) {
  QORGAU_TRY(CheckReference(reference, "reference"));
  return ChangeApplication(id, caller, "application.answered",
                [&](store::ApplicationRecord& r, boost::json::object& data, UnixMillis now) -> Result<void> {
                  // An answer goes to the one who applied: their identity first.
                  if (r.state == ApplicationState::kReceived) {
                    return Refuse("identity_not_verified", "application",
                                  "verify the applicant's identity (and authority) before answering");
                  }
                  // These are answered by the change itself, as R-VI's
                  // rules decide it (or refused by them).
                  if (r.kind == ApplicationKind::kWithdrawal) {
                    return Refuse("answered_by_carrying_out", "application",
                                  "a withdrawal application is answered by the withdrawal: "
                                  "withdraw --application " + std::to_string(id) + " (R-VI)");
                  }
                  if (r.kind == ApplicationKind::kReenabling) {
                    return Refuse("answered_by_carrying_out", "application",
                                  "a re-enabling application is answered by switching its services on: "
                                  "service enable --application-id " + std::to_string(id) + " (R-VI.5)");
                  }
                  if (r.kind == ApplicationKind::kDestruction) {
                    return Refuse("answered_by_carrying_out", "application",
                                  "a destruction application is answered by the destruction: "
                                  "request destroy " + std::to_string(id) + " (R-VII.2, LAW.md §5)");
                  }
                  r.state = ApplicationState::kAnswered;
                  r.closed_at = now;
                  r.outcome = reference;
                  r.handler = caller.id();
                  data["reference"] = reference;
                  return {};
                });
}

Result<ApplicationView> Applications::RefuseApplication(std::int64_t id, const std::string& reason, const Caller& caller) {
  QORGAU_TRY(CheckCode(reason, "reason"));
  return ChangeApplication(id, caller, "application.refused",
                [&](store::ApplicationRecord& r, boost::json::object& data, UnixMillis now) -> Result<void> {
                  r.state = ApplicationState::kRefused;
                  r.closed_at = now;
                  r.outcome = reason;
                  r.handler = caller.id();
                  data["reason"] = reason;
                  return {};
                });
}

Result<ApplicationView> Applications::BlockSubject(std::int64_t id, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationHandle));
  ApplicationView view;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(view.record, LoadApplication(txn, id));
    const store::ApplicationRecord& r = view.record;
    if (r.kind != ApplicationKind::kBlocking) {
      return Refuse("blocking_application_required", "application", "is not a blocking application");
    }
    if (IsClosed(r.state) || r.state == ApplicationState::kReceived) {
      return Refuse("identity_not_verified", "application",
                    std::string("the application is ") + ApplicationStateName(r.state) +
                        "; a subject is blocked on an open application whose applicant's identity was verified");
    }
    QORGAU_ASSIGN_OR_RETURN(const auto block, txn.GetSubjectBlock(r.subject_id));
    if (block) {
      return Fail(ErrorCode::kAlreadyExists, "subject",
                  "the subject is blocked already, on application " + std::to_string(block->application_id));
    }
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"subject.blocked", r.subject_id, caller.id(), {}};
    ev.data["application"] = id;
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
    QORGAU_TRY(txn.PutSubjectBlock({r.subject_id, id, now, e.seq}));
    QORGAU_ASSIGN_OR_RETURN(view.documents, txn.GetApplicationDocuments(id));
    return std::vector<index::Delta>{{index::Delta::Kind::kSubjectBlocked, r.subject_id}};
  }));
  return view;
}

Result<ApplicationView> Applications::UnblockSubject(std::int64_t id, const std::string& reason,
                                                     const Caller& caller) {
  QORGAU_TRY(CheckCode(reason, "reason"));
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kApplicationHandle));
  ApplicationView view;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(view.record, LoadApplication(txn, id));
    const store::ApplicationRecord& r = view.record;
    if (r.kind != ApplicationKind::kBlocking && r.kind != ApplicationKind::kUnblocking) {
      return Refuse("blocking_application_required", "application",
                    "a block is lifted on the blocking application or an unblocking one");
    }
    QORGAU_ASSIGN_OR_RETURN(const auto block, txn.GetSubjectBlock(r.subject_id));
    if (!block) return Refuse("subject_not_blocked", "subject", "the subject is not blocked");
    // Lifted on the application the block rests on, or on an unblocking
    // application whose applicant's identity was verified.
    if (r.kind == ApplicationKind::kBlocking && r.id != block->application_id) {
      return Refuse("blocking_application_required", "application",
                    "the block rests on application " + std::to_string(block->application_id));
    }
    if (r.kind == ApplicationKind::kUnblocking &&
        (IsClosed(r.state) || r.state == ApplicationState::kReceived)) {
      return Refuse("identity_not_verified", "application",
                    std::string("the unblocking application is ") + ApplicationStateName(r.state) +
                        "; a block is lifted on an open one whose applicant's identity was verified");
    }
    ledger::EventDraft ev{"subject.unblocked", r.subject_id, caller.id(), {}};
    ev.data["application"] = id;
    ev.data["reason"] = reason;
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    QORGAU_TRY(txn.DeleteSubjectBlock(r.subject_id));
    QORGAU_ASSIGN_OR_RETURN(view.documents, txn.GetApplicationDocuments(id));
    return std::vector<index::Delta>{{index::Delta::Kind::kSubjectUnblocked, r.subject_id}};
  }));
  return view;
}

Result<report::StatementInput> Applications::Statement(const StatementRequest& req, const Caller& caller) {
  if (req.lang != "kk" && req.lang != "ru" && req.lang != "en") {
    return Fail(ErrorCode::kInvalidArgument, "lang", "must be kk, ru or en");
  }
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindUnblocked(caller, req.subject, "statement"));
  const Result<void> allowed = Authorize(*d_.policy, caller, Action::kStatementRead);
  if (!allowed) {
    auto recorded = core_.RecordRead(caller, id, "statement", "", {}, allowed);
    return tl::unexpected(recorded.error());
  }
  QORGAU_ASSIGN_OR_RETURN(auto calendar, Calendar());
  report::StatementInput out;
  out.subject = id;
  out.lang = req.lang;
  out.prepared_by = caller.id();
  out.application = req.application;
  out.time_zone = CountryTimeZone(d_.policy->controller.country);
  out.blocked = d_.index.IsBlocked(id);
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    if (req.application) {
      QORGAU_ASSIGN_OR_RETURN(const auto app, txn->GetApplication(*req.application));
      if (!app || app->subject_id != id || app->kind != ApplicationKind::kInformation) {
        return Fail(ErrorCode::kInvalidArgument, "application", "is not an information application of this subject");
      }
    }
    QORGAU_ASSIGN_OR_RETURN(const auto subject, txn->GetSubject(id));
    if (!subject) return Fail(ErrorCode::kNotFound, "subject", "no subject with this id");
    QORGAU_ASSIGN_OR_RETURN(const SubjectView values, core_.ReadValues(*txn, *subject, /*full=*/true));
    // The last rectification of each category, and the consent history.
    std::map<std::string, std::int64_t> rectified;
    std::optional<Error> bad;
    QORGAU_TRY(txn->ScanSubjectEvents(id, [&](const store::EventRecord& e) {
      // Canonical bodies end with the type (keys sorted): find it once.
      const std::size_t at_type = e.body.rfind("\"type\":\"");
      if (at_type == std::string::npos) return;
      const std::string_view type = std::string_view(e.body).substr(at_type + 8);
      const bool granted = type.starts_with("consent.granted\"");
      const bool consent = granted || type.starts_with("consent.withdrawn\"");
      const bool data = type.starts_with("data.recorded\"");
      const bool destroyed = type.starts_with("retention.destroyed\"");
      if (!consent && !data && !destroyed) return;
      // Parsed in a buffer on the stack: ~1 000 of these for a
      // long-standing subscriber, no heap allocation for each.
      unsigned char buffer[4096];
      boost::json::monotonic_resource arena(buffer, sizeof buffer);
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(e.body, ec, &arena);
      const boost::json::object* o = !ec && v.is_object() ? &v.get_object() : nullptr;
      const boost::json::value* d = o ? o->if_contains("data") : nullptr;
      if (!d || !d->is_object()) {
        bad = Error{ErrorCode::kCorruption, "event", "event " + std::to_string(e.seq) + " cannot be read"};
        return;
      }
      const auto& f = d->get_object();
      auto str = [&](const char* k) {
        const auto* x = f.if_contains(k);
        return x && x->is_string() ? std::string(x->get_string()) : std::string();
      };
      const auto* when = o->if_contains("at");
      const UnixMillis at = when && when->is_string() ? ParseUtc(when->get_string(), "at").value_or(0) : 0;
      if (destroyed) {
        // R-VII.2: what was destroyed, and when; a value recorded again
        // afterwards is a new one.
        report::StatementInput::Destroyed step{at, FormatDate(calendar->LocalDate(at)), str("why"), {}};
        const auto* items = f.if_contains("items");
        if (items && items->is_array()) {
          for (const auto& item : items->get_array()) {
            const auto* what = item.is_object() ? item.get_object().if_contains("what") : nullptr;
            if (what && what->is_string()) step.what.emplace_back(what->get_string());
          }
        }
        out.destroyed.push_back(std::move(step));
        return;
      }
      if (data) {
        const auto* a = f.if_contains("application");
        if (a && a->is_int64()) rectified[str("category")] = a->get_int64();
        else rectified.erase(str("category"));
        return;
      }
      const auto* edition = f.if_contains("edition");
      const std::string requester = str("requester");
      out.consents.push_back({at, granted, str("purpose"), str("channel"), str("evidence"),
                              edition && edition->is_int64() ? static_cast<int>(edition->get_int64()) : 0,
                              FormatDate(calendar->LocalDate(at)), requester.empty() ? "subject" : requester});
    }));
    if (bad) return tl::unexpected(*bad);
    QORGAU_ASSIGN_OR_RETURN(const auto enrichments, txn->GetEnrichments(id));
    for (const auto& v : values.data) {
      const policy::Category* c = d_.policy->FindCategory(v.category);
      bool full = false;
      for (const auto& duty : caller.duties) {
        full = full || (req.full && duty.full_view &&
                        std::find(duty.categories.begin(), duty.categories.end(), v.category) != duty.categories.end());
      }
      out.masked = out.masked && !full;
      std::optional<std::int64_t> on;
      if (auto it = rectified.find(v.category); it != rectified.end()) on = it->second;
      out.data.push_back({v.category, full ? v.value : MaskValue(c ? c->value : ValueType::kText, v.value),
                          v.provenance, v.recorded_at, on, FormatDate(calendar->LocalDate(v.recorded_at))});
      for (const auto& e : enrichments) {
        if (e.category == v.category) out.data.back().enrichment = e;
      }
    }
    // What went to recipients (R-IX.1).
    QORGAU_ASSIGN_OR_RETURN(const auto sent, txn->GetTransferSubjects(id));
    for (const auto& t : sent) {
      QORGAU_ASSIGN_OR_RETURN(const auto transfer, txn->GetTransfer(t.transfer_id));
      if (!transfer) return Fail(ErrorCode::kCorruption, "transfer", "a subject's transfer is not in the register");
      out.transfers.push_back({*transfer, FormatDate(calendar->LocalDate(transfer->at)), t.basis, t.cross_border});
    }
    QORGAU_ASSIGN_OR_RETURN(out.contracts, txn->GetContracts(id));
    for (const auto& c : out.contracts) out.contract_days.push_back(FormatDate(calendar->LocalDate(c.joined_at)));
    QORGAU_ASSIGN_OR_RETURN(out.services, txn->GetSubscriptions(id));
    QORGAU_ASSIGN_OR_RETURN(const auto apps, txn->GetSubjectApplications(id));
    // The storage period of each value: the retention plan on this day.
    {
      QORGAU_ASSIGN_OR_RETURN(const auto subject, txn->GetSubject(id));
      if (!subject) return Fail(ErrorCode::kNotFound, "subject", "no such subject");
      QORGAU_ASSIGN_OR_RETURN(const RetentionFacts facts, ReadRetentionFacts(*txn, *subject));
      out.open_obligations = static_cast<std::size_t>(std::count_if(
          facts.obligations.begin(), facts.obligations.end(),
          [](const store::ObligationRecord& o) { return !o.closed_at.has_value(); }));
      const auto items = PlanRetention(*d_.policy, facts, d_.clock.Now());
      for (auto& v : out.data) {
        const auto item = std::find_if(items.begin(), items.end(),
                                       [&](const RetentionItem& i) { return i.what == v.category; });
        if (item == items.end()) continue;
        v.storage.rule = item->rule;
        v.storage.status = std::string(RetentionStatusName(item->status));
        if (item->due_at) v.storage.due_day = FormatDate(calendar->LocalDate(*item->due_at));
        for (const auto& ref : item->held_by) {
          for (const auto& o : facts.obligations) {
            if (o.ref != ref) continue;
            const std::string kind(store::ObligationKindName(o.kind));
            if (std::find(v.storage.kept_by.begin(), v.storage.kept_by.end(), kind) == v.storage.kept_by.end()) {
              v.storage.kept_by.push_back(kind);
            }
          }
        }
      }
    }
    for (const auto& a : apps) {
      out.applications.push_back(
          {a, FormatDate(calendar->LocalDate(a.due_at)), FormatDate(calendar->LocalDate(a.received_at))});
    }
  }
  for (const auto& pu : d_.policy->purposes) {
    const int ordinal = d_.index.PurposeOrdinal(pu.id);
    out.purpose_holds[pu.id] = ordinal >= 0 && d_.index.Check(id, ordinal, 0).allow;
  }
  // The statement is a read of everything listed: recorded first, and its
  // event names it.
  std::vector<std::string> categories;
  for (const auto& v : out.data) categories.push_back(v.category);
  out.at = d_.clock.Now();
  QORGAU_ASSIGN_OR_RETURN(const std::int64_t seq,
                          core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
                            ledger::EventDraft ev{"access.read", id, caller.id(), {}};
                            ev.data["what"] = "statement";
                            boost::json::array cats;
                            for (const auto& c : categories) cats.emplace_back(c);
                            ev.data["categories"] = std::move(cats);
                            ev.data["allowed"] = true;
                            ev.data["reason"] = "need_to_know";
                            ev.data["lang"] = req.lang;
                            ev.data["masked"] = out.masked;
                            if (req.application) ev.data["application"] = *req.application;
                            QORGAU_TRY(ledger::Append(txn, out.at, ev));
                            return std::vector<index::Delta>{};
                          }));
  out.reference = "ST-" + std::to_string(id) + "-" + std::to_string(seq);
  out.local_date = FormatDate(calendar->LocalDate(out.at));
  return out;
}

Result<store::BreachRecord> Applications::RecordBreach(const BreachRequest& req, const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kBreachRecord));
  QORGAU_TRY(CheckCode(req.how, "how"));
  if (req.measures.empty()) return Fail(ErrorCode::kInvalidArgument, "measures", "name at least one measure taken");
  for (const auto& m : req.measures) QORGAU_TRY(CheckCode(m, "measures"));
  if (req.categories.empty()) return Fail(ErrorCode::kInvalidArgument, "categories", "name the categories concerned");
  for (const auto& c : req.categories) {
    if (!d_.policy->FindCategory(c)) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a category");
  }
  const UnixMillis now = d_.clock.Now();
  const UnixMillis detected = req.detected_at.value_or(now);
  if (detected > now) return Fail(ErrorCode::kInvalidArgument, "detected_at", "is in the future");
  QORGAU_ASSIGN_OR_RETURN(auto calendar, Calendar());
  // One working day (LAW.md §10): to the end of the working day after the
  // day of detection, in the operator's time zone.
  QORGAU_ASSIGN_OR_RETURN(const UnixMillis due, calendar->Deadline(detected, 1));
  store::BreachRecord rec;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    rec = store::BreachRecord{0, detected, req.how, req.categories, req.measures, {}, due, {}, "", 0};
    boost::json::array subjects;
    std::set<SubjectId> seen;
    for (SubjectId id : req.subjects) {
      if (!seen.insert(id).second) continue;
      QORGAU_ASSIGN_OR_RETURN(const auto s, txn.GetSubject(id));
      if (!s) return Fail(ErrorCode::kNotFound, "subjects", "no subject with id " + std::to_string(id));
      rec.subjects.push_back(id);
      subjects.emplace_back(id);
    }
    ledger::EventDraft ev{"breach.recorded", std::nullopt, caller.id(), {}};
    ev.data["detected_at"] = FormatUtc(detected);
    ev.data["how"] = req.how;
    boost::json::array categories, measures;
    for (const auto& c : req.categories) categories.emplace_back(c);
    for (const auto& m : req.measures) measures.emplace_back(m);
    ev.data["categories"] = std::move(categories);
    ev.data["measures"] = std::move(measures);
    ev.data["subjects"] = std::move(subjects);
    ev.data["notify_due_at"] = FormatUtc(due);
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
    rec.id = e.seq;
    rec.event_seq = e.seq;
    QORGAU_TRY(txn.InsertBreach(rec));
    return std::vector<index::Delta>{};
  }));
  return rec;
}

Result<store::BreachRecord> Applications::BreachNotified(std::int64_t id, const std::string& reference,
                                                         const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kBreachRecord));
  QORGAU_TRY(CheckReference(reference, "reference"));
  store::BreachRecord rec;
  QORGAU_TRY(core_.Write(caller, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const auto found, txn.GetBreach(id));
    if (!found) return Fail(ErrorCode::kNotFound, "breach", "no breach with this id");
    rec = *found;
    if (rec.notified_at) return Refuse("breach_notified", "breach", "its notice was recorded as sent already");
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"breach.notified", std::nullopt, caller.id(), {}};
    ev.data["breach"] = id;
    ev.data["reference"] = reference;
    QORGAU_ASSIGN_OR_RETURN(const store::EventRecord e, ledger::Append(txn, now, ev));
    rec.notified_at = now;
    rec.notice_reference = reference;
    rec.event_seq = e.seq;
    QORGAU_TRY(txn.UpdateBreach(rec));
    return std::vector<index::Delta>{};
  }));
  return rec;
}

Result<std::vector<store::BreachRecord>> Applications::ListBreaches(const Caller& caller) {
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kBreachesRead));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::vector<store::BreachRecord> out;
  QORGAU_TRY(txn->ScanBreaches([&](const store::BreachRecord& b) { out.push_back(b); }));
  return out;
}

Result<std::string> Applications::BreachNotice(std::int64_t id, const std::string& lang, const Caller& caller) {
  if (lang != "kk" && lang != "ru") return Fail(ErrorCode::kInvalidArgument, "lang", "must be kk or ru");
  QORGAU_TRY(Authorize(*d_.policy, caller, Action::kBreachesRead));
  QORGAU_ASSIGN_OR_RETURN(auto calendar, Calendar());
  const policy::Policy& p = *d_.policy;
  const bool kk = lang == "kk";
  auto local = [&](UnixMillis t) {
    const std::string utc = FormatUtc(t);
    return FormatDate(calendar->LocalDate(t)) + " (" + utc + ")";
  };
  std::string out;
  std::vector<SubjectId> subjects;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto found, txn->GetBreach(id));
    if (!found) return Fail(ErrorCode::kNotFound, "breach", "no breach with this id");
    const store::BreachRecord& b = *found;
    subjects = b.subjects;
    out += kk ? "Дербес деректер қауіпсіздігінің бұзылуы туралы хабарлама\n"
              : "Уведомление о нарушении безопасности персональных данных\n";
    out += kk ? "(Дербес деректер туралы заң, 25-бап; № 481/НҚ бұйрық)\n\n"
              : "(Закон о персональных данных, ст. 25; Приказ № 481/НҚ)\n\n";
    out += std::string(kk ? "Оператор: " : "Оператор: ") + policy::InLanguage(p.controller.name, lang) + "\n";
    out += std::string(kk ? "БСН: " : "БИН: ") +
           (p.controller.bin.empty() ? std::string(kk ? "саясатта көрсетілмеген" : "не указан в политике") : p.controller.bin) + "\n";
    out += std::string(kk ? "Мекенжай: " : "Адрес: ") + policy::InLanguage(p.controller.address, lang) + "\n";
    out += std::string(kk ? "Жауапты тұлғаның байланыс деректері: " : "Контакты ответственного лица: ") +
           (p.controller.dpo_contact.empty() ? std::string(kk ? "саясатта көрсетілмеген" : "не указаны в политике")
                                             : p.controller.dpo_contact) +
           "\n\n";
    out += std::string(kk ? "Тіркеу нөмірі: " : "Номер: ") + "BR-" + std::to_string(b.id) + "\n";
    out += std::string(kk ? "Анықталған уақыты: " : "Обнаружено: ") + local(b.detected_at) + "\n";
    out += std::string(kk ? "Анықталу тәсілі: " : "Способ обнаружения: ") + b.how + "\n";
    out += std::string(kk ? "Хабарлау мерзімі: " : "Срок уведомления: ") + local(b.notify_due_at) + "\n";
    out += kk ? "Қамтылған дербес деректер санаттары:\n" : "Затронутые категории персональных данных:\n";
    for (const auto& c : b.categories) {
      const policy::Category* cat = p.FindCategory(c);
      out += "  - " + (cat ? policy::InLanguage(cat->name, lang) : c) + "\n";
    }
    out += kk ? "Қабылданған шаралар:\n" : "Принятые меры:\n";
    for (const auto& m : b.measures) out += "  - " + m + "\n";
    out += std::string(kk ? "Субъектілер саны: " : "Число субъектов: ") + std::to_string(b.subjects.size()) + "\n";
    out += kk ? "Субъектілер (аты-жөні, ЖСН, абоненттік нөмір):\n" : "Субъекты (ФИО, ИИН, абонентский номер):\n";
    for (SubjectId sid : b.subjects) {
      QORGAU_ASSIGN_OR_RETURN(const auto s, txn->GetSubject(sid));
      if (!s) continue;
      QORGAU_ASSIGN_OR_RETURN(const SubjectView v, core_.ReadValues(*txn, *s, /*full=*/true));
      std::string name, iin, phone;
      for (const auto& d : v.data) {
        const policy::Category* c = p.FindCategory(d.category);
        if (!c) continue;
        if (c->value == ValueType::kIin) iin = d.value;
        if (c->value == ValueType::kPhone) phone = d.value;
        if (c->value == ValueType::kName) name = d.value;
      }
      out += "  " + std::to_string(sid) + ": " + (name.empty() ? "-" : name) + "; " + (iin.empty() ? "-" : iin) +
             "; " + (phone.empty() ? "-" : phone) + "\n";
    }
  }
  // The notice shows each subject's identifiers: a read of each.
  std::vector<std::string> shown;
  for (ValueType t : {ValueType::kName, ValueType::kIin, ValueType::kPhone}) {
    if (const policy::Category* c = p.FindCategoryByValue(t)) shown.push_back(c->id);
  }
  for (SubjectId sid : subjects) {
    QORGAU_TRY(core_.RecordRead(caller, sid, "breach_notice", "", shown, Result<void>{}));
  }
  return out;
}

Result<std::int64_t> Applications::CountOverdueNotices(UnixMillis now) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  std::int64_t n = 0;
  QORGAU_TRY(txn->ScanBreaches([&](const store::BreachRecord& b) {
    if (!b.notified_at && b.notify_due_at < now) ++n;
  }));
  return n;
}

Result<ApplicationCounts> Applications::CountApplications(UnixMillis now) {
  ApplicationCounts c;
  for (auto k : AllApplicationKinds()) {
    c.open[ApplicationKindName(k)] = 0;
    c.overdue[ApplicationKindName(k)] = 0;
  }
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_TRY(txn->ScanOpenApplications([&](const store::ApplicationRecord& r) {
    ++c.open[ApplicationKindName(r.kind)];
    if (r.due_at < now) ++c.overdue[ApplicationKindName(r.kind)];
  }));
  return c;
}

}  // namespace qorgau::rules
