// Policy editions (R-XI; rules/editions.h): `policy publish`, `policy
// editions`, `policy accept`, and `outbox`; the webhooks the outbox goes to
// (rules/webhooks.h): `webhook add|remove|list|deliver`.
#include <filesystem>
#include <iostream>
#include <memory>

#include "api/outbound.h"

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

  auto* accepted = policy->add_subcommand("accepted", "Whether the subject has accepted the edition in force, and how "
                                                      "(R-XI.2; a recorded read)");
  a->subject.Add(accepted);
  accepted->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().EditionAcceptance(caller, a->subject.Key());
      if (!r) return Report(r.error());
      const int edition = inst.policy().edition.number;
      if (!*r) {
        std::cout << "edition " << edition << ": not accepted yet\n";
      } else {
        std::cout << "edition " << edition << ": accepted " << (*r)->how << " through " << (*r)->channel << " at "
                  << FormatUtc((*r)->at) << " (ledger event " << (*r)->event_seq << ")\n";
      }
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

void RegisterWebhooks(CLI::App& app, Options& opts) {
  struct Args {
    rules::WebhookSpec spec;
    std::string ca;
    int timeout = 10;
    std::size_t batch = 100;
  };
  auto a = std::make_shared<Args>();
  auto* webhook = app.add_subcommand("webhook", "The webhooks the outbox is delivered to (the administrator's)");
  webhook->require_subcommand(1);

  auto* add = webhook->add_subcommand(
      "add", "Add a webhook: it is sent, signed, every message of the outbox not delivered yet and every later one");
  add->add_option("--name", a->spec.name, "Its name: a-z, 0-9, '_', '-'")->required();
  add->add_option("--url", a->spec.url, "Where to POST: http:// or https://")->required();
  add->add_option("--secret-file", a->spec.secret_file,
                  "The file of the key that signs each POST (outside the data directory, mode 0600); made, with a "
                  "new random key, when it does not exist")
      ->required();
  add->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      // Refused before any file is made.
      if (auto allowed = rules::Authorize(inst.policy(), caller, rules::Action::kWebhooksManage); !allowed) {
        return Report(allowed.error());
      }
      rules::WebhookSpec spec = a->spec;
      if (!spec.secret_file.empty()) spec.secret_file = std::filesystem::absolute(spec.secret_file).string();
      bool made = false;
      if (!spec.secret_file.empty() && !std::filesystem::exists(spec.secret_file)) {
        if (auto created = api::CreateWebhookSecret(spec.secret_file); !created) return Report(created.error());
        made = true;
      }
      if (auto secret = api::ReadWebhookSecret(spec.secret_file); !secret) return Report(secret.error());
      auto r = inst.engine().AddWebhook(spec, caller);
      if (!r) {
        if (made) std::filesystem::remove(spec.secret_file);
        return Report(r.error());
      }
      std::cout << "webhook " << r->name << " added (ledger event " << r->event_seq << "): "
                << rules::UrlAuthority(r->url) << ", signed with the key in " << r->secret_file
                << (made ? " (made now: give it to the receiver)" : "") << "\n";
      return 0;
    });
  });

  auto* remove = webhook->add_subcommand("remove", "Remove a webhook: nothing more is sent to it");
  remove->add_option("--name", a->spec.name, "Its name")->required();
  remove->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      if (auto r = inst.engine().RemoveWebhook(a->spec.name, caller); !r) return Report(r.error());
      std::cout << "webhook " << a->spec.name << " removed\n";
      return 0;
    });
  });

  auto* list = webhook->add_subcommand("list", "The webhooks and how far delivery got");
  list->callback([&opts] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      auto r = inst.engine().ListWebhooks(caller);
      if (!r) return Report(r.error());
      if (r->empty()) std::cout << "no webhook: the outbox waits for one\n";
      for (const auto& w : *r) {
        std::cout << w.name << " " << rules::UrlAuthority(w.url) << ": " << w.delivered << " delivered";
        if (w.last_delivered_at) std::cout << ", last at " << FormatUtc(*w.last_delivered_at);
        if (w.failures > 0) {
          std::cout << "; " << w.failures << " failed attempt(s), next at " << FormatUtc(w.next_at) << ": "
                    << w.last_error;
        }
        std::cout << "\n";
      }
      return 0;
    });
  });

  auto* deliver = webhook->add_subcommand(
      "deliver", "Deliver the outbox to the webhooks now, once (`qorgau serve` delivers on its own)");
  deliver->add_option("--ca", a->ca, "PEM certificates to trust for the receivers besides the system's");
  deliver->add_option("--timeout", a->timeout, "Seconds each step of a POST may take")->check(CLI::Range(1, 300));
  deliver->add_option("--batch", a->batch, "Messages per POST")->check(CLI::Range(1, 1000));
  deliver->callback([&opts, a] {
    WithCaller(opts, [&](app::Instance& inst, const rules::Caller& caller) {
      api::PostOptions post;
      post.ca_file = a->ca;
      post.timeout = std::chrono::seconds(a->timeout);
      rules::DeliveryOptions o;
      o.batch = a->batch;
      auto r = inst.engine().DeliverOutbox(api::MakeWebhookSender(post), o, caller);
      if (!r) return Report(r.error());
      if (r->webhooks.empty()) std::cout << "no webhook: the outbox waits for one\n";
      bool failed = false;
      for (const auto& w : r->webhooks) {
        std::cout << w.webhook << ": " << w.delivered << " delivered";
        if (w.waiting) std::cout << "; waiting after a failure (" << w.error << ")";
        if (w.failed) std::cout << "; failed: " << w.error;
        std::cout << "\n";
        failed = failed || w.failed;
      }
      return failed ? 1 : 0;
    });
  });
}

}  // namespace qorgau::cli
