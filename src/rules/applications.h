// Subjects' applications and the legal deadlines of their answers (LAW.md
// §5; R-IV.4, R-IV.5, R-VI): an application is received through a channel
// with its registration reference, from the subject or a legal
// representative, with the references and digests of its documents; it
// goes received -> identity_verified -> in_progress -> answered | refused,
// each step a ledger event; its deadline is counted in working days of the
// country's calendar (core/working_calendar.h) when it is received, and
// kept. Part of rules::Engine (rules/engine.h).
//
// Calendars are imported into the store one year at a time (`calendar
// import`), each a `calendar.imported` event with the file's digest, so a
// deadline can always be recomputed from what the ledger proves.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/working_calendar.h"
#include "report/statement.h"
#include "rules/engine_core.h"

namespace qorgau::rules {

// A document of an application: its reference (a registration number, a
// file name in the operator's document system) and the SHA-256 of the file.
struct DocumentRef {
  std::string reference;
  std::string sha256;  // 64 hex digits
};

struct ApplicationRequest {
  SubjectKey subject;
  std::string kind;       // information, rectification, ... (ApplicationKindName)
  std::string channel;    // office_written | app_support_chat | e_document | personal_cabinet
  std::string reference;  // the channel's registration reference
  std::optional<UnixMillis> received_at;  // when it came in; default now, never in the future
  std::optional<Representative> representative;
  std::vector<DocumentRef> documents;
  std::vector<std::string> purposes;  // withdrawal: the purposes; re-enabling: the services
};

// An application with its documents, and how its deadline was counted.
struct ApplicationView {
  store::ApplicationRecord record;
  std::vector<store::ApplicationDocumentRecord> documents;
  bool overdue = false;  // open and past its deadline at the time asked
};

// What a kind of application must be answered within (LAW.md §5), and
// whether the period was read in a source (`confirmed`) or is from memory
// or a design choice; the policy may set another (rights[].deadline_working_days).
struct DeadlineRule {
  ApplicationKind kind;
  int working_days = 0;
  bool confirmed = false;
  const char* basis = "";  // where the period comes from
};
const std::vector<DeadlineRule>& DefaultDeadlines();

// Records one calendar year in `txn`: its `calendar.imported` event by
// `actor` and its row (the file verbatim). The caller has checked it.
Result<void> RecordCalendarYear(store::Transaction& txn, UnixMillis now, const std::string& actor,
                                const CalendarYear& year, const std::string& content);

// An information statement asked for (R-IV.4).
struct StatementRequest {
  SubjectKey subject;
  std::string lang = "kk";  // kk | ru | en
  // Values in full where a duty of the caller with the full view covers
  // the category; masked otherwise, and always when false.
  bool full = false;
  std::optional<std::int64_t> application;  // the information application it answers
};

// A personal-data security breach to record (LAW.md §1, §10).
struct BreachRequest {
  std::optional<UnixMillis> detected_at;  // default now; never in the future
  std::string how;                        // how it was detected: a code
  std::vector<std::string> categories;    // categories of the policy concerned
  std::vector<std::string> measures;      // measures taken: codes
  std::vector<SubjectId> subjects;        // the subjects affected
};

// Open and overdue applications by kind, for /metrics.
struct ApplicationCounts {
  std::map<std::string, std::int64_t> open;     // kind -> count
  std::map<std::string, std::int64_t> overdue;  // kind -> count
};

class Applications {
 public:
  explicit Applications(EngineCore& core) : core_(core), d_(core.deps()) {}
  Applications(const Applications&) = delete;
  Applications& operator=(const Applications&) = delete;

  // Imports one year of a working-day calendar (its YAML file); replaces
  // the year when imported before. calendar.import: admin or dpo.
  Result<CalendarYear> ImportCalendar(const std::string& content, const Caller& caller);
  // The years loaded; public, like the policy.
  Result<std::vector<store::CalendarYearRecord>> ListCalendars();
  // The calendar of the policy's country, as loaded.
  Result<std::shared_ptr<const WorkingCalendar>> Calendar();

  // The working days an application of `kind` must be answered within
  // under the edition in force.
  int DeadlineDays(ApplicationKind kind) const;

  Result<ApplicationView> FileApplication(const ApplicationRequest& request, const Caller& caller);
  Result<ApplicationView> GetApplication(std::int64_t id, const Caller& caller);
  Result<std::vector<ApplicationView>> ListApplications(const Caller& caller, const SubjectKey& key);
  // Open applications due before `before` (all open ones when unset),
  // earliest first; each subject listed is recorded as read.
  Result<std::vector<ApplicationView>> DueApplications(const Caller& caller,
                                                       std::optional<UnixMillis> before);
  Result<ApplicationView> AttachDocument(std::int64_t id, const DocumentRef& document,
                                         const Caller& caller);
  // identity_verified or in_progress; the caller becomes the handler.
  Result<ApplicationView> AdvanceApplication(std::int64_t id, const std::string& to, const Caller& caller);
  // Answered: `reference` is the answer's registration (the outgoing
  // letter, the chat reply, the statement's number).
  Result<ApplicationView> AnswerApplication(std::int64_t id, const std::string& reference, const Caller& caller);
  // Refused with a reason code (identity_not_confirmed, no_authority, ...).
  Result<ApplicationView> RefuseApplication(std::int64_t id, const std::string& reason, const Caller& caller);

  // Blocks the subject of `id`, a blocking application whose applicant's
  // identity was verified (LAW.md §1, §5): from then on every check and
  // audience denies it (`subject_blocked`), reads are refused to all but
  // the data protection officer, and nothing of it is collected, changed
  // or used, until the block is lifted.
  Result<ApplicationView> BlockSubject(std::int64_t id, const Caller& caller);
  // Lifts the block of the subject of `id` (the blocking application, or an
  // unblocking one of the same subject) with a reason code
  // (breach_not_confirmed, breach_remedied, ...).
  Result<ApplicationView> UnblockSubject(std::int64_t id, const std::string& reason, const Caller& caller);

  // The subject's information statement, from the store alone (R-IV.4):
  // statement.read (the dpo, or an `applications` duty); producing it is a
  // recorded read (`access.read`, what `statement`), whose seq is in its
  // reference.
  Result<report::StatementInput> Statement(const StatementRequest& request, const Caller& caller);

  // The breach register (LAW.md §10), the data protection officer's:
  // a breach's notice to the authorised body is due at the end of the
  // working day after its detection (one working day, Order 481/НҚ).
  Result<store::BreachRecord> RecordBreach(const BreachRequest& request, const Caller& caller);
  Result<store::BreachRecord> BreachNotified(std::int64_t id, const std::string& reference, const Caller& caller);
  Result<std::vector<store::BreachRecord>> ListBreaches(const Caller& caller);
  // The notice, in kk or ru: the operator and its responsible person, the
  // breach, the measures, and each affected subject's name, IIN and phone
  // (so the authority can notify them), each a recorded read.
  Result<std::string> BreachNotice(std::int64_t id, const std::string& lang, const Caller& caller);
  // Breaches whose notice is due before `now` and not sent, for /metrics.
  Result<std::int64_t> CountOverdueNotices(UnixMillis now);

  // Counts for /metrics at `now`; reads no personal data, records nothing.
  Result<ApplicationCounts> CountApplications(UnixMillis now);

 private:
  Result<store::ApplicationRecord> LoadApplication(store::Transaction& txn, std::int64_t id);
  // Writes a change of an open application as `type` with `data`.
  Result<ApplicationView> ChangeApplication(std::int64_t id, const Caller& caller, const std::string& type,
                                 const std::function<Result<void>(store::ApplicationRecord&, boost::json::object&,
                                                                  UnixMillis now)>& change);

  EngineCore& core_;
  const EngineDeps& d_;
  std::mutex calendar_mu_;
  std::mutex import_mu_;  // one calendar import at a time
  std::shared_ptr<const WorkingCalendar> calendar_;  // null until loaded
};

}  // namespace qorgau::rules
