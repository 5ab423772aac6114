// Retention (R-VII): `retention plan`, `run`, `acts` (rules/retention.h,
// report/retention_act.h).
#include <boost/json.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "cli/cli_util.h"
#include "report/retention_act.h"

namespace qorgau::cli {
namespace {

// "5y from relationship_end (tax_records; purpose convergent_services)".
std::string RuleText(const policy::RetentionRule* r) {
  if (!r) return "no rule applies: kept";
  std::string out = r->period.ToString() + " from " + r->from;
  std::string extra;
  if (r->minimum) extra += r->minimum->id;
  if (r->purpose) extra += (extra.empty() ? "" : "; ") + std::string("purpose ") + r->purpose->id;
  if (!r->evidence.empty()) extra += (extra.empty() ? "" : "; ") + std::string("evidence ") + r->evidence;
  return extra.empty() ? out : out + " (" + extra + ")";
}

void RegisterPlan(CLI::App* retention, Options& opts) {
  struct Args {
    std::string as_of;
    bool json = false;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  auto* plan = retention->add_subcommand(
      "plan", "What falls due for destruction, by category and ground, and what holds it; changes nothing");
  plan->add_option("--as-of", args->as_of,
                   "Plan as at the end of this day, YYYY-MM-DD in the operator's time zone; default now");
  plan->add_flag("--json", args->json, "Print the plan as JSON (as GET /v1/retention/plan)");
  plan->add_flag("--quiet", args->quiet, "No progress on stderr");
  plan->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::RetentionPlanRequest req;
      if (!args->as_of.empty()) {
        auto day = ParseDate(args->as_of, "--as-of");
        if (!day) return Report(day.error());
        auto calendar = inst.engine().Calendar();
        if (!calendar) return Report(calendar.error());
        req.as_of = (*calendar)->EndOfLocalDay(std::chrono::sys_days(*day));
      }
      if (!args->quiet) {
        req.progress = [](std::int64_t done) {
          if (done % 100000 < 512) std::fprintf(stderr, "retention plan: %lld subjects\n", static_cast<long long>(done));
        };
      }
      auto r = inst.engine().PlanDestruction(req, caller);
      if (!r) return Report(r.error());
      if (args->json) {
        std::cout << rules::RetentionPlanJson(*r);
        return 0;
      }
      std::cout << "retention plan as of " << FormatUtc(r->as_of) << ": " << r->subjects << " subjects";
      if (r->destroyed) std::cout << " (" << r->destroyed << " destroyed before, skipped)";
      std::cout << "\n";
      std::printf("  %-34s %-8s %9s  %s\n", "category or record", "status", "count", "rule (ground)");
      std::int64_t due = 0;
      for (const auto& l : r->lines) {
        std::string note = RuleText(l.rule);
        if (l.next_due) note += "; next due " + FormatUtc(*l.next_due).substr(0, 10);
        for (const auto& [kind, n] : l.held_by_kind) note += "; kept by " + kind + " x" + std::to_string(n);
        std::printf("  %-34s %-8s %9lld  %s\n", l.what.c_str(), std::string(rules::RetentionStatusName(l.status)).c_str(),
                    static_cast<long long>(l.count), note.c_str());
        if (l.rule) std::printf("  %-34s %-8s %9s    %s\n", "", "", "", l.rule->ground.c_str());
        if (l.status == rules::RetentionStatus::kDue) due += l.count;
      }
      std::cout << due << " due for destruction\n";
      return 0;
    });
  });
}

void RegisterRun(CLI::App* retention, Options& opts) {
  struct Args {
    std::string as_of;
    std::size_t batch = 64;
    bool quiet = false;
  };
  auto args = std::make_shared<Args>();
  auto* run = retention->add_subcommand(
      "run", "Destroy what is due and write the destruction act; a run killed in the middle is carried on");
  run->add_option("--as-of", args->as_of,
                  "Destroy what was due by the end of this day (YYYY-MM-DD, the operator's time zone, not in the "
                  "future); default now");
  run->add_option("--batch", args->batch, "Subjects destroyed per transaction")->check(CLI::Range(1, 10000));
  run->add_flag("--quiet", args->quiet, "No progress on stderr");
  run->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      rules::RetentionRunRequest req;
      req.batch = args->batch;
      if (!args->as_of.empty()) {
        auto calendar = inst.engine().Calendar();
        if (!calendar) return Report(calendar.error());
        auto as_of = rules::RunAsOfDay(**calendar, args->as_of, inst.engine().clock().Now(), "--as-of");
        if (!as_of) return Report(as_of.error());
        req.as_of = *as_of;
      }
      if (!args->quiet) {
        req.progress = [](std::int64_t seen, std::int64_t destroyed) {
          std::fprintf(stderr, "retention run: %lld subjects looked at, %lld with data destroyed\n",
                       static_cast<long long>(seen), static_cast<long long>(destroyed));
        };
      }
      auto r = inst.engine().RunDestruction(req, caller);
      if (!r) return Report(r.error());
      if (r->resumed) {
        std::cout << "carried on run " << r->run.run << ", started " << FormatUtc(r->run.started_at)
                  << " and not finished\n";
      }
      auto act = report::RetentionActJson(inst.engine().policy(), r->run, "en");
      if (!act) return Report(act.error());
      const auto parsed = boost::json::parse(r->run.act).as_object();  // readable: RetentionActJson read it
      std::cout << "destruction act DA-" << r->run.run << " (as of " << FormatUtc(r->run.as_of) << "): "
                << parsed.at("subjects").as_int64() << " subjects, " << parsed.at("subjects_destroyed").as_int64()
                << " of them entirely\n";
      for (const auto& v : parsed.at("lines").as_array()) {
        const auto& l = v.as_object();
        std::printf("  %-34s %9lld  %s\n", std::string(l.at("what").as_string()).c_str(),
                    static_cast<long long>(l.at("count").as_int64()),
                    l.contains("ground") ? std::string(l.at("ground").as_string()).c_str() : "");
      }
      std::cout << "print it: qorgau retention acts --run " << r->run.run << " --lang kk --format html\n";
      return 0;
    });
  });
}

void RegisterActs(CLI::App* retention, Options& opts) {
  struct Args {
    std::optional<std::int64_t> run;
    std::string lang = "kk";
    std::string format = "text";
    std::string out;
  };
  auto args = std::make_shared<Args>();
  auto* acts = retention->add_subcommand("acts", "The destruction runs and their acts (kk, ru, en; JSON or HTML)");
  acts->add_option("--run", args->run, "One run's act");
  acts->add_option("--lang", args->lang, "kk, ru or en")->check(CLI::IsMember({"kk", "ru", "en"}));
  acts->add_option("--format", args->format, "text, json or html (html and json need --run)")
      ->check(CLI::IsMember({"text", "json", "html"}));
  acts->add_option("--out", args->out, "Write the act to this file");
  acts->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto runs = inst.engine().RetentionRuns(caller);
      if (!runs) return Report(runs.error());
      if (!args->run) {
        if (args->format != "text") return Report(Error{ErrorCode::kInvalidArgument, "--run", "name the run to print"});
        if (runs->empty()) std::cout << "no destruction run yet\n";
        for (const auto& r : *runs) {
          std::cout << "DA-" << r.run << "  as of " << FormatUtc(r.as_of) << "  by " << r.actor << "  "
                    << (r.finished_at ? "finished " + FormatUtc(*r.finished_at) : std::string("NOT FINISHED")) << "\n";
        }
        return 0;
      }
      const auto it = std::find_if(runs->begin(), runs->end(),
                                   [&](const store::RetentionRunRecord& r) { return r.run == *args->run; });
      if (it == runs->end()) return Report(Error{ErrorCode::kNotFound, "--run", "no destruction run " + std::to_string(*args->run)});
      auto doc = args->format == "html" ? report::RetentionActHtml(inst.engine().policy(), *it, args->lang)
                                        : report::RetentionActJson(inst.engine().policy(), *it, args->lang);
      if (!doc) return Report(doc.error());
      if (args->out.empty()) {
        std::cout << *doc;
        return 0;
      }
      std::ofstream f(args->out, std::ios::binary | std::ios::trunc);
      f << *doc;
      if (!f.flush()) return Report(Error{ErrorCode::kIo, "--out", "cannot write " + args->out});
      std::cout << "act DA-" << it->run << " written to " << args->out << "\n";
      return 0;
    });
  });
}

// `backup DIR`, `restore DIR`: backups that forget (docs/architecture.md).
void RegisterBackup(CLI::App& app, Options& opts) {
  auto dir = std::make_shared<std::string>();
  auto* backup = app.add_subcommand(
      "backup", "Copy the database, consistently, even while the server runs; never the data keys (keys.db), "
                "so a subject destroyed later cannot be read from it (an administrator's)");
  backup->add_option("dir", *dir, "A new directory for the backup")->required();
  backup->callback([&opts, dir] {
    auto r = app::BackupDataDirectory(opts.data_dir, *dir, opts.as, Clock());
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    std::cout << "backup " << r->file.string() << ": " << r->events << " events, head " << r->head << "\n"
              << "  not in it: the data keys (keys.db), the master key, the signing key; keep those apart\n";
  });

  auto from = std::make_shared<std::string>();
  auto* restore = app.add_subcommand(
      "restore", "Put a backup in place of the database (the server stopped); what was destroyed since the "
                 "backup is destroyed again (an administrator's)");
  restore->add_option("dir", *from, "The backup's directory")->required();
  restore->callback([&opts, from] {
    auto r = app::RestoreDataDirectory(opts.data_dir, *from, opts.as, Clock());
    if (!r) {
      opts.exit_code = Report(r.error());
      return;
    }
    std::cout << "restored " << r->backup_events << " events from " << *from << "\n"
              << "  subjects whose destruction since the backup was applied again: " << r->subjects_forgotten_again
              << "\n  the database it replaced: " << r->replaced.string() << " (delete it when you no longer need it)\n"
              << "  signed checkpoints exported after the backup no longer match: the ledger went back to the backup\n";
  });
}

// `statistics`: the dashboard's counts per day (rules/statistics.h).
void RegisterStatistics(CLI::App& app, Options& opts) {
  struct Args {
    std::string from, to;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "statistics", "Consents granted and withdrawn and decisions by reason, per day, as JSON (the dashboard's)");
  cmd->add_option("--from", args->from, "First day, YYYY-MM-DD; default a year before --to");
  cmd->add_option("--to", args->to, "Last day, YYYY-MM-DD; default today (the operator's time zone)");
  cmd->callback([&opts, args] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      std::optional<std::chrono::year_month_day> from, to;
      for (auto [text, out, name] : {std::tuple{&args->from, &from, "--from"}, std::tuple{&args->to, &to, "--to"}}) {
        if (text->empty()) continue;
        auto day = ParseDate(*text, name);
        if (!day) return Report(day.error());
        *out = *day;
      }
      auto view = inst.engine().ReadStatistics(caller, from, to);
      if (!view) return Report(view.error());
      std::cout << rules::StatisticsJson(*view) << "\n";
      return 0;
    });
  });
}

}  // namespace

void RegisterRetention(CLI::App& app, Options& opts) {
  auto* retention = app.add_subcommand("retention", "Retention and destruction (R-VII)");
  retention->require_subcommand(1);
  RegisterPlan(retention, opts);
  RegisterRun(retention, opts);
  RegisterActs(retention, opts);
  RegisterBackup(app, opts);
  RegisterStatistics(app, opts);
}

}  // namespace qorgau::cli
