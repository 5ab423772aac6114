// Retention (R-VII): `retention plan` (rules/retention.h).
#include <cstdio>
#include <iostream>
#include <memory>

#include "cli/cli_util.h"

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

}  // namespace

void RegisterRetention(CLI::App& app, Options& opts) {
  auto* retention = app.add_subcommand("retention", "Retention and destruction (R-VII)");
  retention->require_subcommand(1);
  RegisterPlan(retention, opts);
}

}  // namespace qorgau::cli
