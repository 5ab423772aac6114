// `qorgau demo`: the main job of `make run` until the HTTP service exists.
// A fresh data directory, the operator's policy, synthetic subscribers,
// consents through several channels, refusals the policy demands, one
// withdrawal, the subjects (masked) and the ledger verification. Every step
// goes through the same engine calls as the other commands.
#include <cstdio>
#include <iostream>
#include <memory>

#include "app/instance.h"
#include "cli/commands.h"
#include "demo/synthetic.h"

namespace qorgau::cli {
namespace {

struct DemoArgs {
  std::string policy = "policies/kem/policy.yaml";
  int subjects = 8;
};

void Step(const std::string& title) { std::cout << "\n== " << title << "\n"; }

void Refusal(const char* what, const Error& e) {
  std::cout << "  refused as expected - " << what << ": " << e.ToString() << " ["
            << ErrorCodeName(e.code) << "]\n";
}

int RunDemo(const Options& opts, const DemoArgs& args) {
  SystemClock clock;
  const rules::Actor actor{"demo"};
  Step("init " + opts.data_dir + " with " + args.policy);
  auto init = app::Instance::Init(opts.data_dir, args.policy, clock);
  if (!init) {
    std::cerr << "qorgau: " << init.error().ToString() << "\n";
    return 1;
  }
  std::cout << "  database " << init->database.string() << ", policy edition " << init->edition
            << " published\n";
  auto inst = app::Instance::Open(opts.data_dir, clock);
  if (!inst) {
    std::cerr << "qorgau: " << inst.error().ToString() << "\n";
    return 1;
  }
  rules::Engine& engine = (*inst)->engine();
  const policy::Policy& p = engine.policy();
  std::cout << "  " << policy::InLanguage(p.controller.name, "en") << ", " << p.purposes.size()
            << " purposes, " << p.categories.size() << " data categories, " << p.services.size()
            << " services\n";

  Step("add " + std::to_string(args.subjects) + " synthetic subscribers (values encrypted)");
  demo::SyntheticSubjects gen;
  std::vector<rules::SubjectKey> keys;
  for (int i = 0; i < args.subjects; ++i) {
    const demo::SyntheticSubject s = gen.At(static_cast<std::uint64_t>(i));
    rules::SubjectInput in{s.iin, s.phone, {}, "subject"};
    in.data["user.identity.name"] = s.name;
    in.data["user.contact.email"] = s.email;
    auto id = engine.AddSubject(in, actor);
    if (!id) {
      std::cerr << "qorgau: " << id.error().ToString() << "\n";
      return 1;
    }
    keys.push_back(rules::SubjectKey::Id(*id));
  }
  std::cout << "  " << keys.size() << " subjects added\n";

  Step("record consents through several channels (R-III.4)");
  const char* channels[] = {"mobile_app", "call_centre", "website", "e_document",
                            "personal_cabinet", "e_message"};
  const char* evidence_prefix[] = {"APP-MSG", "CALL-REC", "WEB-FORM", "EDOC-SIG", "CAB-MSG", "MSG"};
  int granted = 0;
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t c = i % 6;
    const std::string evidence = std::string(evidence_prefix[c]) + "-" + std::to_string(1000 + i);
    for (const char* purpose : {"marketing", "contests_campaigns"}) {
      if (std::string(purpose) == "contests_campaigns" && i % 2 == 1) continue;
      auto r = engine.GrantConsent({keys[i], purpose, channels[c], evidence}, actor);
      if (!r) {
        std::cerr << "qorgau: " << r.error().ToString() << "\n";
        return 1;
      }
      ++granted;
    }
  }
  std::cout << "  " << granted << " consents granted\n";

  Step("what the policy refuses");
  {
    demo::SyntheticSubject s = gen.At(1000);
    s.iin.back() = static_cast<char>('0' + (s.iin.back() - '0' + 1) % 10);
    auto r = engine.AddSubject({s.iin, s.phone, {}, "subject"}, actor);
    if (r) return 1;
    Refusal("an IIN with a wrong check digit", r.error());
  }
  {
    auto r = engine.GrantConsent({keys[0], "fiscal_reporting", "website", "WEB-FORM-1"}, actor);
    if (r) return 1;
    Refusal("consent to a purpose that rests on law", r.error());
  }
  {
    auto r = engine.WithdrawConsent({keys[1], "marketing", "website", "WEB-FORM-2"}, actor);
    if (r) return 1;
    Refusal("withdrawal through a channel the policy does not take it from", r.error());
  }

  Step("withdraw one consent through the app's support chat (R-VI.2)");
  {
    auto r = engine.WithdrawConsent({keys[2], "marketing", "app_support_chat", "CHAT-7781"}, actor);
    if (!r) {
      std::cerr << "qorgau: " << r.error().ToString() << "\n";
      return 1;
    }
    std::cout << "  subject " << r->subject << ": marketing withdrawn (ledger event " << r->revision
              << ")\n";
  }

  Step("subjects, masked, with their consents");
  auto views = engine.ListSubjects(0, static_cast<size_t>(args.subjects), /*full=*/false);
  if (!views) {
    std::cerr << "qorgau: " << views.error().ToString() << "\n";
    return 1;
  }
  for (const auto& v : *views) {
    std::cout << "  subject " << v.id << ":";
    for (const auto& d : v.data) std::cout << "  " << d.value;
    std::cout << "\n";
    auto consents = engine.ListConsents(rules::SubjectKey::Id(v.id));
    if (!consents) return 1;
    for (const auto& c : *consents) {
      std::cout << "      " << c.purpose << ": "
                << (c.state == store::ConsentState::kGranted ? "granted" : "withdrawn") << " via "
                << c.channel << " (" << c.evidence << ")\n";
    }
  }

  Step("ledger verification");
  auto report = engine.VerifyLedger();
  if (!report || !report->ok) {
    std::cerr << "qorgau: ledger verification failed\n";
    return 1;
  }
  std::cout << "  " << report->events << " events verified, head " << report->head_hash << "\n";
  std::cout << "\nTry: build/qorgau --data " << opts.data_dir
            << " subject show --id 1\n     build/qorgau --data " << opts.data_dir
            << " consent list --id 3\n     build/qorgau --data " << opts.data_dir
            << " audit verify\n     build/qorgau --data " << opts.data_dir
            << " policy show --lang en\n";
  return 0;
}

}  // namespace

void RegisterDemo(CLI::App& app, Options& opts) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Run the demo of `make run` on a fresh data directory");
  cmd->add_option("--policy", args->policy, "Policy file")->capture_default_str();
  cmd->add_option("--subjects", args->subjects, "How many synthetic subscribers")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->callback([&opts, args] { opts.exit_code = RunDemo(opts, *args); });
}

}  // namespace qorgau::cli
