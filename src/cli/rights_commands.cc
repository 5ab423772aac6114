// Subjects' rights: the working-day calendars deadlines are counted in, and
// applications (`calendar`, `request`; rules/applications.h).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_util.h"

namespace qorgau::cli {
namespace {

// "2026-03-27 (Asia/Almaty)": the local day a deadline ends with.
std::string DueDay(const WorkingCalendar& calendar, UnixMillis due) {
  return FormatDate(calendar.LocalDate(due)) + " (end of day, " + calendar.zone() + ")";
}

void PrintApplication(const WorkingCalendar& calendar, const rules::ApplicationView& v,
                      const char* status = nullptr) {
  const auto& r = v.record;
  std::cout << "application " << r.id << " (" << ApplicationKindName(r.kind) << ") of subject "
            << r.subject_id << ": " << ApplicationStateName(r.state);
  if (status) std::cout << ", " << status;
  std::cout << "\n  received " << FormatUtc(r.received_at) << " by " << r.channel << " " << r.reference
            << (r.requester == "subject" ? "" : ", from a legal representative (" + r.requester + ", " +
                                                    r.proof_kind + ")")
            << "\n  due " << DueDay(calendar, r.due_at) << ", " << r.working_days << " working day"
            << (r.working_days == 1 ? "" : "s") << (v.overdue && !status ? ", OVERDUE" : "")
            << "\n  handler " << r.handler;
  if (!r.purposes.empty()) {
    std::cout << "\n  names";
    for (const auto& p : r.purposes) std::cout << " " << p;
  }
  if (r.closed_at) std::cout << "\n  closed " << FormatUtc(*r.closed_at) << ": " << r.outcome;
  for (const auto& d : v.documents) std::cout << "\n  document " << d.reference << " sha256 " << d.sha256;
  std::cout << "\n";
}

// REF:SHA256 -> a document.
Result<rules::DocumentRef> ParseDocument(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument, "--document", "must be REFERENCE:SHA256");
  }
  return rules::DocumentRef{text.substr(0, colon), text.substr(colon + 1)};
}

Result<std::int64_t> ParseId(const std::string& text) {
  std::int64_t id = 0;
  const bool ok = !text.empty() && text.size() <= 18 &&
                  std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (ok) id = std::stoll(text);
  if (!ok || id <= 0) return Fail(ErrorCode::kInvalidArgument, "id", "must be an application id (a positive number)");
  return id;
}

void RegisterCalendar(CLI::App& app, Options& opts) {
  auto* calendar = app.add_subcommand("calendar", "Working-day calendars that deadlines are counted in");
  calendar->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  auto* import = calendar->add_subcommand("import", "Load calendar years (calendars/kz/YEAR.yaml); "
                                                    "a year loaded before is replaced");
  import->add_option("files", *files, "Calendar files")->required();
  import->callback([&opts, files] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      for (const auto& f : *files) {
        auto text = ReadAll(f);
        if (!text) return Report(Error{ErrorCode::kIo, f, "cannot read"});
        auto r = inst.engine().ImportCalendar(*text, caller);
        if (!r) {
          Error e = r.error();
          e.field = f + (e.field.empty() ? "" : ": " + e.field);
          return Report(e);
        }
        std::cout << "calendar " << r->country << " " << r->year << " imported: " << r->days_off.size()
                  << " days off, " << r->working_days.size() << " working weekend days\n";
      }
      return 0;
    });
  });
  auto* list = calendar->add_subcommand("list", "The calendar years loaded");
  list->callback([&opts] {
    WithInstance(opts, [&](app::Instance& inst) {
      auto r = inst.engine().ListCalendars();
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no calendars: import calendars/kz/YEAR.yaml with 'qorgau calendar import'\n";
      for (const auto& c : *r) {
        std::cout << c.country << " " << c.year << ", imported " << FormatUtc(c.imported_at) << " (event "
                  << c.event_seq << ")\n";
      }
      return 0;
    });
  });
}

void RegisterRequest(CLI::App& app, Options& opts) {
  auto* request = app.add_subcommand("request", "Subjects' applications and their legal deadlines "
                                                "(R-IV.4, R-IV.5, LAW.md §5)");
  request->require_subcommand(1);

  struct FileArgs {
    SubjectArgs subject;
    std::string kind, channel, reference, received;
    std::vector<std::string> documents, purposes;
    RepresentativeArgs rep;
  };
  auto fa = std::make_shared<FileArgs>();
  auto* file = request->add_subcommand("file", "Register an application as received");
  fa->subject.Add(file);
  file->add_option("--kind", fa->kind,
                   "information, rectification, blocking, unblocking, withdrawal, reenabling, "
                   "destruction or objection")
      ->required();
  file->add_option("--channel", fa->channel,
                   "office_written, app_support_chat, e_document or personal_cabinet")
      ->required();
  file->add_option("--reference", fa->reference, "The registration number, chat or document id")->required();
  file->add_option("--received", fa->received, "When it was received, UTC (YYYY-MM-DDTHH:MM:SSZ); default now");
  file->add_option("--document", fa->documents, "An attached document, REFERENCE:SHA256 (repeatable)");
  file->add_option("--purpose", fa->purposes,
                   "Withdrawal: a purpose; re-enabling: a service (repeatable)");
  fa->rep.Add(file, "A legal representative filing for the subject");
  file->callback([&opts, fa] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::ApplicationRequest req;
      req.subject = fa->subject.Key();
      req.kind = fa->kind;
      req.channel = fa->channel;
      req.reference = fa->reference;
      req.purposes = fa->purposes;
      if (!fa->received.empty()) {
        auto at = ParseUtc(fa->received, "--received");
        if (!at) return Report(at.error());
        req.received_at = *at;
      }
      for (const auto& d : fa->documents) {
        auto doc = ParseDocument(d);
        if (!doc) return Report(doc.error());
        req.documents.push_back(*doc);
      }
      auto representative = fa->rep.Get();
      if (!representative) return Report(representative.error());
      req.representative = *representative;
      auto r = inst.engine().FileApplication(req, caller);
      if (!r) return Report(r.error());
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      PrintApplication(**calendar, *r);
      return 0;
    });
  });

  auto id = std::make_shared<std::string>();
  auto* show = request->add_subcommand("show", "One application with its documents");
  show->add_option("id", *id, "The application's id")->required();
  show->callback([&opts, id] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto n = ParseId(*id);
      if (!n) return Report(n.error());
      auto r = inst.engine().GetApplication(*n, caller);
      if (!r) return Report(r.error());
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      PrintApplication(**calendar, *r);
      return 0;
    });
  });

  auto la = std::make_shared<SubjectArgs>();
  auto* list = request->add_subcommand("list", "A subject's applications, newest first");
  la->Add(list);
  list->callback([&opts, la] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListApplications(caller, la->Key());
      if (!r) return Report(r.error());
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      if (r->empty()) std::cout << "no applications\n";
      for (const auto& v : *r) PrintApplication(**calendar, v);
      return 0;
    });
  });

  auto as_of = std::make_shared<std::string>();
  auto* overdue = request->add_subcommand(
      "overdue", "Open applications that are late, or due by the end of the next working day");
  overdue->add_option("--as-of", *as_of, "The day to look from, YYYY-MM-DD in the operator's time zone; default today");
  overdue->callback([&opts, as_of] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      const WorkingCalendar& cal = **calendar;
      auto day = cal.LocalDate(Clock().Now());
      if (!as_of->empty()) {
        auto d = ParseDate(*as_of, "--as-of");
        if (!d) return Report(d.error());
        day = *d;
      }
      // Late: due before the day began. About to be: due by the end of the
      // next working day.
      const UnixMillis start = cal.EndOfLocalDay(std::chrono::sys_days(day) - std::chrono::days(1)) + 1;
      auto horizon = cal.Deadline(start, 1);
      if (!horizon) return Report(horizon.error());
      auto r = inst.engine().DueApplications(caller, *horizon + 1);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "nothing late or due by " << FormatDate(cal.LocalDate(*horizon)) << "\n";
      for (const auto& v : *r) {
        const bool late = v.record.due_at < start;
        PrintApplication(cal, v, late ? "OVERDUE" : "due soon");
      }
      return 0;
    });
  });

  struct StepArgs {
    std::string id, to, document, reference, reason;
  };
  auto sa = std::make_shared<StepArgs>();
  auto run = [&opts, sa](auto step) {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto n = ParseId(sa->id);
      if (!n) return Report(n.error());
      auto r = step(inst.engine(), *n, caller);
      if (!r) return Report(r.error());
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      PrintApplication(**calendar, *r);
      return 0;
    });
  };
  auto* advance = request->add_subcommand("advance", "Move an application on: identity_verified, in_progress");
  advance->add_option("id", sa->id, "The application's id")->required();
  advance->add_option("--to", sa->to, "identity_verified or in_progress")->required();
  advance->callback([run, sa] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) { return e.AdvanceApplication(n, sa->to, c); });
  });
  auto* attach = request->add_subcommand("attach", "Attach a document (its reference and SHA-256)");
  attach->add_option("id", sa->id, "The application's id")->required();
  attach->add_option("--document", sa->document, "REFERENCE:SHA256")->required();
  attach->callback([run, sa] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) -> Result<rules::ApplicationView> {
      QORGAU_ASSIGN_OR_RETURN(const auto doc, ParseDocument(sa->document));
      return e.AttachDocument(n, doc, c);
    });
  });
  auto* answer = request->add_subcommand("answer", "Record the answer, by its registration reference");
  answer->add_option("id", sa->id, "The application's id")->required();
  answer->add_option("--reference", sa->reference, "The answer's registration (letter, reply or statement number)")
      ->required();
  answer->callback([run, sa] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) { return e.AnswerApplication(n, sa->reference, c); });
  });
  auto* block = request->add_subcommand(
      "block", "Block the subject of a blocking application (LAW.md §1, §5): no check, read or change "
               "but the data protection officer's reads until it is lifted");
  block->add_option("id", sa->id, "The blocking application's id")->required();
  block->callback([run] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) { return e.BlockSubject(n, c); });
  });
  auto destroy_id = std::make_shared<std::int64_t>(0);
  auto* destroy = request->add_subcommand(
      "destroy", "Carry out a destruction application (LAW.md §5): destroy at once all that no statutory minimum "
                 "or obligation keeps, and answer it saying what stays");
  destroy->add_option("id", *destroy_id, "The destruction application's id")->required();
  destroy->callback([&opts, destroy_id] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().DestroyOnApplication(*destroy_id, caller);
      if (!r) return Report(r.error());
      std::cout << "application " << r->application << " of subject " << r->subject << " answered: " << r->answer << "\n";
      for (const auto& d : r->destroyed) std::cout << "  destroyed " << d << "\n";
      if (r->subject_destroyed) std::cout << "  nothing was left: the subject's data key is destroyed\n";
      for (const auto& k : r->kept) {
        std::cout << "  kept " << k.what << (k.key.empty() ? "" : ":" + k.key) << ": ";
        if (!k.held_by.empty()) {
          std::cout << "held by " << k.held_by.front();
        } else if (k.rule) {
          std::cout << k.rule->period.ToString() << " from " << k.rule->from << " ("
                    << (k.rule->minimum ? k.rule->minimum->id : "") << ")";
        }
        std::cout << (k.due_at ? ", until " + FormatUtc(*k.due_at).substr(0, 10) : std::string(", its period has not started"))
                  << "\n";
      }
      return 0;
    });
  });
  auto* unblock = request->add_subcommand("unblock", "Lift the block, on the blocking or an unblocking application");
  unblock->add_option("id", sa->id, "The application's id")->required();
  unblock->add_option("--reason", sa->reason, "breach_not_confirmed, breach_remedied, ...")->required();
  unblock->callback([run, sa] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) { return e.UnblockSubject(n, sa->reason, c); });
  });
  auto* refuse = request->add_subcommand("refuse", "Refuse an application with a reason code");
  refuse->add_option("id", sa->id, "The application's id")->required();
  refuse->add_option("--reason", sa->reason, "identity_not_confirmed, no_authority, not_the_operators_data, ...")
      ->required();
  refuse->callback([run, sa] {
    run([&](rules::Engine& e, std::int64_t n, const rules::Caller& c) { return e.RefuseApplication(n, sa->reason, c); });
  });
}

void RegisterStatement(CLI::App& app, Options& opts) {
  struct Args {
    SubjectArgs subject;
    std::string lang = "kk", format = "json", out;
    bool full = false;
    std::int64_t application = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("statement", "A subject's information statement (R-IV.4): data, purposes, sources, "
                                              "methods, periods, consents and applications; a recorded read");
  a->subject.Add(cmd);
  cmd->add_option("--lang", a->lang, "kk, ru or en")->check(CLI::IsMember({"kk", "ru", "en"}))->capture_default_str();
  cmd->add_option("--format", a->format, "json, or html (prints on A4)")
      ->check(CLI::IsMember({"json", "html"}))
      ->capture_default_str();
  cmd->add_flag("--full", a->full, "Values in full where a full-view duty of yours covers them");
  cmd->add_option("--application", a->application, "The information application it answers")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--out", a->out, "Write it to this file, readable by you only (0600; default: standard output)");
  cmd->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::StatementRequest req{a->subject.Key(), a->lang, a->full,
                                  a->application > 0 ? std::optional<std::int64_t>(a->application) : std::nullopt};
      auto r = inst.engine().Statement(req, caller);
      if (!r) return Report(r.error());
      const std::string text = a->format == "html" ? report::StatementHtml(inst.policy(), *r)
                                                   : report::StatementJson(inst.policy(), *r);
      if (a->out.empty()) {
        std::cout << text;
        return 0;
      }
      if (auto w = WriteOwnerOnly(a->out, text); !w) return Report(w.error());
      std::cout << "statement " << r->reference << " written to " << a->out << "\n";
      return 0;
    });
  });
}

void PrintBreach(const WorkingCalendar& calendar, const store::BreachRecord& b, UnixMillis now) {
  std::cout << "breach " << b.id << ": detected " << FormatUtc(b.detected_at) << " (" << b.how << "), "
            << b.subjects.size() << " subject(s)\n  notice to the authorised body due "
            << DueDay(calendar, b.notify_due_at);
  if (b.notified_at) {
    std::cout << ", sent " << FormatUtc(*b.notified_at) << " as " << b.notice_reference;
  } else if (b.notify_due_at < now) {
    std::cout << ", OVERDUE";
  }
  std::cout << "\n";
}

void RegisterBreach(CLI::App& app, Options& opts) {
  auto* breach = app.add_subcommand("breach", "The breach register and the notices to the authorised body "
                                              "(LAW.md §10; the data protection officer's)");
  breach->require_subcommand(1);
  struct Args {
    std::string detected, how, id, reference, lang = "kk", out;
    std::vector<std::string> categories, measures;
    std::vector<std::int64_t> subjects;
  };
  auto a = std::make_shared<Args>();
  auto* record = breach->add_subcommand("record", "Record a personal-data security breach");
  record->add_option("--detected", a->detected, "When it was detected, UTC (YYYY-MM-DDTHH:MM:SSZ); default now");
  record->add_option("--how", a->how, "How it was detected: a code (siem_alert, staff_report, ...)")->required();
  record->add_option("--category", a->categories, "A category concerned (repeatable)")->required();
  record->add_option("--measure", a->measures, "A measure taken: a code (repeatable)")->required();
  record->add_option("--subject", a->subjects, "An affected subject's id (repeatable)");
  auto with_calendar = [&opts](auto body) {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto calendar = inst.engine().Calendar();
      if (!calendar) return Report(calendar.error());
      return body(inst, caller, **calendar);
    });
  };
  record->callback([a, with_calendar] {
    with_calendar([&](app::Instance& inst, const rules::Caller& caller, const WorkingCalendar& cal) {
      rules::BreachRequest req{std::nullopt, a->how, a->categories, a->measures, {}};
      for (auto s : a->subjects) req.subjects.push_back(s);
      if (!a->detected.empty()) {
        auto at = ParseUtc(a->detected, "--detected");
        if (!at) return Report(at.error());
        req.detected_at = *at;
      }
      auto r = inst.engine().RecordBreach(req, caller);
      if (!r) return Report(r.error());
      PrintBreach(cal, *r, Clock().Now());
      return 0;
    });
  });
  auto* list = breach->add_subcommand("list", "The breach register, newest first");
  list->callback([with_calendar] {
    with_calendar([&](app::Instance& inst, const rules::Caller& caller, const WorkingCalendar& cal) {
      auto r = inst.engine().ListBreaches(caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no breaches recorded\n";
      for (const auto& b : *r) PrintBreach(cal, b, Clock().Now());
      return 0;
    });
  });
  auto* notified = breach->add_subcommand("notified", "Record the notice as sent, with its registration");
  notified->add_option("id", a->id, "The breach's id")->required();
  notified->add_option("--reference", a->reference, "The notice's registration")->required();
  notified->callback([a, with_calendar] {
    with_calendar([&](app::Instance& inst, const rules::Caller& caller, const WorkingCalendar& cal) {
      auto n = ParseId(a->id);
      if (!n) return Report(n.error());
      auto r = inst.engine().BreachNotified(*n, a->reference, caller);
      if (!r) return Report(r.error());
      PrintBreach(cal, *r, Clock().Now());
      return 0;
    });
  });
  auto* notice = breach->add_subcommand("notice", "The notice to the authorised body, with the affected subjects' "
                                                  "name, IIN and phone (each a recorded read)");
  notice->add_option("id", a->id, "The breach's id")->required();
  notice->add_option("--lang", a->lang, "kk or ru")->check(CLI::IsMember({"kk", "ru"}))->capture_default_str();
  notice->add_option("--out", a->out, "Write it to this file, readable by you only (0600; default: standard output)");
  notice->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto n = ParseId(a->id);
      if (!n) return Report(n.error());
      auto r = inst.engine().BreachNotice(*n, a->lang, caller);
      if (!r) return Report(r.error());
      if (a->out.empty()) {
        std::cout << *r;
        return 0;
      }
      if (auto w = WriteOwnerOnly(a->out, *r); !w) return Report(w.error());
      std::cout << "notice written to " << a->out << "\n";
      return 0;
    });
  });
}

}  // namespace

void RegisterRights(CLI::App& app, Options& opts) {
  RegisterCalendar(app, opts);
  RegisterRequest(app, opts);
  RegisterStatement(app, opts);
  RegisterBreach(app, opts);
}

}  // namespace qorgau::cli
