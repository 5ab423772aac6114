// Policy editions (R-XI; rules/editions.h): `policy publish`, `policy
// editions`, `policy accept`, and `outbox`.
#include <iostream>
#include <memory>

#include "cli/cli_util.h"
#include "core/working_calendar.h"
#include "policy/policy_loader.h"

namespace qorgau::cli {
namespace {

void PrintDiff(const policy::PolicyDiff& diff, const policy::Policy& to) {
  for (const auto& c : diff.changes) {
    std::cout << "  " << c.change << " " << c.Key();
    if (!c.fields.empty()) {
      std::cout << " (";
      for (std::size_t i = 0; i < c.fields.size(); ++i) std::cout << (i ? ", " : "") << c.fields[i];
      std::cout << ")";
    }
    auto reason = to.edition.changes.find(c.Key());
    std::cout << "\n      why: " << (reason == to.edition.changes.end() ? "(no reason given)" : reason->second) << "\n";
  }
  if (!diff.widened.empty()) {
    std::cout << "  consents to renew (the purpose now covers more, R-XI.2):";
    for (const auto& p : diff.widened) std::cout << " " << p;
    std::cout << "\n";
  }
}

}  // namespace

void RegisterEditions(CLI::App& app, Options& opts) {
  CLI::App* policy = app.get_subcommand("policy");
  struct Args {
    std::string file, reason, effective, channel, evidence;
    bool preview = false, pending = false;
    SubjectArgs subject;
  };
  auto a = std::make_shared<Args>();
  auto* publish = policy->add_subcommand(
      "publish", "Publish the next edition (the data protection officer's): its difference from the one before, each "
                 "change with its reason, the subjects told through the outbox");
  publish->add_option("file", a->file, "The new edition's policy file")->required();
  publish->add_option("--reason", a->reason, "Why the edition is published")->required();
  publish->add_option("--effective", a->effective,
                      "The day it takes effect, YYYY-MM-DD in the operator's time zone (default: on publication)");
  publish->add_flag("--preview", a->preview, "Show the difference and what is missing; publish nothing");
  publish->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      policy::LoadResult loaded = policy::LoadPolicyFile(a->file);
      if (!loaded.policy) return Report(app::PolicyError(loaded.problems));
      rules::PublishRequest req;
      req.policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
      req.files = std::move(loaded.files);
      req.main_file = std::filesystem::path(a->file).filename().string();
      req.reason = a->reason;
      if (!a->effective.empty()) {
        auto day = ParseDate(a->effective, "--effective");
        if (!day) return Report(day.error());
        const std::string zone = CountryTimeZone(inst.policy().controller.country);
        // The start of that day; today's start is now.
        req.effective_at = std::max(Clock().Now(),
                                    EndOfLocalDayIn(zone, std::chrono::sys_days(*day) - std::chrono::days{1}) + 1);
      }
      if (a->preview) {
        auto diff = inst.engine().PreviewPolicy(req, caller);
        if (!diff) return Report(diff.error());
        std::cout << "edition " << req.policy->edition.number << " would change:\n";
        PrintDiff(*diff, *req.policy);
        return 0;
      }
      auto r = inst.engine().PublishPolicy(req, caller);
      if (!r) return Report(r.error());
      std::cout << "edition " << r->edition << " published, in force from " << FormatUtc(r->effective_at)
                << " (ledger event " << r->revision << ")\n";
      PrintDiff(r->diff, *req.policy);
      std::cout << "  " << r->notified << " subject(s) told through the outbox (policy.published)\n";
      return 0;
    });
  });

  auto* editions = policy->add_subcommand("editions", "Every edition, with its moment and what it changed");
  editions->callback([&opts] {
    WithInstance(opts, [&](app::Instance& inst) {
      auto list = inst.engine().ListEditions();
      if (!list) return Report(list.error());
      for (const auto& e : *list) {
        std::cout << "edition " << e.record.number << (e.in_force ? " (in force)" : "") << ": published "
                  << FormatUtc(e.record.published_at);
        if (e.record.effective_at) std::cout << ", in force from " << FormatUtc(*e.record.effective_at);
        if (!e.record.reason.empty()) std::cout << "\n  reason: " << e.record.reason;
        std::cout << "\n";
        if (e.diff) PrintDiff(*e.diff, *e.policy);
      }
      return 0;
    });
  });

  auto* accept = policy->add_subcommand("accept", "Record the subject's explicit acceptance of the edition in force "
                                                  "(R-XI.2)");
  a->subject.Add(accept);
  accept->add_option("--channel", a->channel, "The channel it came through (see 'policy show')")->required();
  accept->add_option("--evidence", a->evidence, "Its evidence: the message or document reference")->required();
  accept->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().AcceptEdition(a->subject.Key(), a->channel, a->evidence, caller);
      if (!r) return Report(r.error());
      std::cout << "subject " << r->subject_id << " accepted edition " << r->edition << " (ledger event "
                << r->event_seq << ")\n";
      return 0;
    });
  });

  auto* outbox = app.add_subcommand("outbox", "The messages other systems must act on (the transactional outbox)");
  outbox->add_flag("--pending", a->pending, "Only those not delivered yet");
  outbox->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().Outbox(a->pending, caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "the outbox is empty\n";
      for (const auto& o : *r) {
        std::cout << "event " << o.event_seq << " " << o.kind << " subject " << o.subject_id << " "
                  << (o.delivered_at ? "delivered " + FormatUtc(*o.delivered_at) : std::string("pending")) << "\n";
      }
      return 0;
    });
  });
}

}  // namespace qorgau::cli
