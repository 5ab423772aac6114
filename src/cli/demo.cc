// `qorgau demo`: the main job of `make run` until the HTTP service exists.
// A fresh data directory, the operator's policy, synthetic subscribers,
// consents through several channels, refusals the policy demands, one
// withdrawal, the subjects (masked) and the ledger verification. Every step
// goes through the same engine calls as the other commands.
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <fstream>
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
  std::string serve;  // ADDRESS:PORT: serve the API afterwards
};

constexpr int kStory = 8;  // the subscribers the printed story is about

void Step(const std::string& title) { std::cout << "\n== " << title << "\n"; }

void Refusal(const char* what, const Error& e) {
  std::cout << "  refused as expected - " << what << ":\n      ["
            << (e.reason.empty() ? std::string(ErrorCodeName(e.code)) : e.reason) << "] "
            << e.ToString() << "\n";
}

int Fail(const Error& e) {
  std::cerr << "qorgau: " << e.ToString() << "\n";
  return 1;
}

// Subscribers kStory.. `count`: each joins the base contract by form; every
// second also the offers by SMS; every fiftieth owes money. Many threads, so
// the group committer batches their writes.
int AddPopulation(rules::Engine& engine, const demo::SyntheticSubjects& gen, int from, int count) {
  const rules::Actor actor{"demo"};
  std::atomic<int> next{from}, done{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 32; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        const demo::SyntheticSubject s = gen.At(static_cast<std::uint64_t>(i));
        auto id = engine.AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}}, "subject"}, actor);
        if (!id) {
          ++failed;
          continue;
        }
        const auto key = rules::SubjectKey::Id(*id);
        bool ok = engine.JoinContract({key, "form", {"mobile_base", "simply_app"}, ""}, actor).has_value();
        if (i % 2 == 0) {
          ok = ok && engine.JoinContract({key, "sms", {"marketing_offers"}, "SMS-" + std::to_string(i)}, actor).has_value();
        }
        if (i % 50 == 0) {
          ok = ok && engine.OpenObligation({key, store::ObligationKind::kDebt, "DEBT-" + std::to_string(i), "2500"}, actor).has_value();
        }
        if (!ok) ++failed;
        if (++done % 500 == 0) std::cout << "  " << done << " added\n" << std::flush;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed > 0) {
    std::cerr << "qorgau: " << failed << " synthetic subscribers failed\n";
    return 1;
  }
  std::cout << "  " << done << " added; the index holds " << engine.index().subjects()
            << " subjects at revision " << engine.index().revision() << "\n";
  return 0;
}

// The staff and systems of the demo, and their keys in `keys_file`.
int AddActors(rules::Engine& engine, const std::string& keys_file) {
  const rules::Actor admin{"demo"};
  struct Person {
    rules::ActorInput input;
    std::vector<store::DutyRecord> duties;
    const char* what;
  };
  const std::vector<Person> people = {
      {{"dpo", store::ActorRole::kAdmin, "Data protection officer", "2024-01-10", "2024-01-10", {}},
       {},
       "administrator: actors, duties, keys, audit"},
      {{"agent-anna", store::ActorRole::kEmployee, "Call-centre agent", "2024-02-01", "2024-02-01", {}},
       {{"agent-anna", "contract_performance", {"user.identity.name", "user.contact.phone"}, false}},
       "employee, NDA signed; duty contract_performance (name, phone) masked"},
      {{"agent-bek", store::ActorRole::kEmployee, "New agent", "", "", {}},
       {{"agent-bek", "contract_performance", {"user.identity.name", "user.contact.phone"}, false}},
       "employee WITHOUT a signed NDA"},
      {{"analyst-dana", store::ActorRole::kEmployee, "Marketing analyst", "2024-03-01", "2024-03-01", {}},
       {{"analyst-dana", "marketing", {"user.contact.phone", "user.contact.email"}, true}},
       "employee, NDA signed; duty marketing (phone, e-mail) full view"},
      {{"crm", store::ActorRole::kSystem, "CRM and campaign system", "", "",
        {"marketing", "contract_performance", "service_notices", "product_development"}},
       {{"crm", "marketing", {"user.contact.phone"}, true}},
       "system acting for marketing, contract_performance, service_notices, product_development"},
  };
  std::ofstream keys(keys_file);
  for (const auto& p : people) {
    if (auto r = engine.PutActor(p.input, admin); !r) return Fail(r.error());
    for (const auto& d : p.duties) {
      if (auto r = engine.GrantDuty(d, admin); !r) return Fail(r.error());
    }
    auto key = engine.CreateApiKey(p.input.id, admin);
    if (!key) return Fail(key.error());
    keys << p.input.id << " " << *key << "\n";
    std::cout << "  " << p.input.id << ": " << p.what << "\n";
  }
  keys.close();
  ::chmod(keys_file.c_str(), 0600);
  std::cout << "  API keys written to " << keys_file << " (0600)\n";
  return 0;
}

void PrintCurlExamples(const std::string& data_dir, const std::string& host, std::uint16_t port) {
  const std::string base = "http://" + host + ":" + std::to_string(port);
  const std::string key = "$(awk '/^%s /{print $2}' " + data_dir + "/keys.txt)";
  auto k = [&](const char* who) {
    std::string s = key;
    s.replace(s.find("%s"), 2, who);
    return s;
  };
  std::cout << "\nqorgau is serving " << base << " (Ctrl-C stops it gracefully). Try:\n"
            << "  curl -s '" << base << "/v1/policy?lang=en'\n"
            << "  curl -s -H \"Authorization: Bearer " << k("crm") << "\" -H 'Content-Type: application/json' \\\n"
            << "       -d '{\"subject\":1,\"purpose\":\"marketing\"}' " << base << "/v1/check\n"
            << "  curl -s -H \"Authorization: Bearer " << k("agent-anna") << "\" \\\n"
            << "       '" << base << "/v1/subjects/1?purpose=contract_performance'\n"
            << "  curl -s -H \"Authorization: Bearer " << k("agent-bek") << "\" \\\n"
            << "       '" << base << "/v1/subjects/1?purpose=contract_performance'   # 403 nda_not_signed\n"
            << "  The README has the full tour (consents, withdrawals, access trail).\n"
            << std::flush;
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
  if (!args.serve.empty()) BlockStopSignals();  // before any thread starts
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

  Step("add " + std::to_string(kStory) + " synthetic subscribers (values encrypted)");
  demo::SyntheticSubjects gen;
  std::vector<rules::SubjectKey> keys;
  for (int i = 0; i < kStory; ++i) {
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

  Step("join contracts (R-III.2, R-III.3): everyone the base service by form, half the offers by SMS");
  for (size_t i = 0; i < keys.size(); ++i) {
    auto base = engine.JoinContract({keys[i], "form", {"mobile_base", "simply_app"}, ""}, actor);
    if (!base) return Fail(base.error());
    if (i % 2 == 0) {
      auto offers = engine.JoinContract(
          {keys[i], "sms", {"marketing_offers", "contests"}, "SMS-" + std::to_string(4000 + i)},
          actor);
      if (!offers) return Fail(offers.error());
    }
  }
  std::cout << "  " << keys.size() << " contracts for mobile_base + simply_app; "
            << (keys.size() + 1) / 2 << " for marketing_offers + contests (consent by joining)\n";

  Step("record consents through several channels (R-III.4)");
  const char* channels[] = {"mobile_app", "call_centre", "website", "e_document",
                            "personal_cabinet", "e_message"};
  const char* evidence_prefix[] = {"APP-MSG", "CALL-REC", "WEB-FORM", "EDOC-SIG", "CAB-MSG", "MSG"};
  for (size_t i = 0; i < keys.size(); ++i) {
    const size_t c = i % 6;
    const std::string evidence = std::string(evidence_prefix[c]) + "-" + std::to_string(1000 + i);
    auto r = engine.GrantConsent({keys[i], "product_development", channels[c], evidence}, actor);
    if (!r) return Fail(r.error());
    std::cout << "  subject " << r->subject << ": product_development via " << channels[c] << " ("
              << evidence << ")\n";
  }

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
    auto r = engine.Withdraw({keys[0], "website", "WEB-FORM-2", {}, {}, false}, actor);
    if (r) return 1;
    Refusal("withdrawal through a channel the policy does not take it from", r.error());
  }
  {
    auto debt = engine.OpenObligation(
        {keys[2], store::ObligationKind::kDebt, "DEBT-2026-0042", "12500.50"}, actor);
    if (!debt) return Fail(debt.error());
    auto r = engine.Withdraw({keys[2], "app_support_chat", "CHAT-7001", {}, {}, false}, actor);
    if (r) return 1;
    Refusal("withdrawal while a debt is open (R-VI.3)", r.error());
  }

  Step("withdraw the data of one additional service (R-VI.4): preview, then confirm");
  {
    rules::WithdrawalRequest req{keys[4], "app_support_chat", "CHAT-7781", {"marketing_offers"}, {}, true};
    auto preview = engine.Withdraw(req, actor);
    if (!preview) return Fail(preview.error());
    std::cout << "  preview: " << policy::InLanguage(preview->warning, "en") << "\n"
              << "  preview: consents that end:";
    for (const auto& p2 : preview->consents_end) std::cout << " " << p2;
    std::cout << "; services switched off:";
    for (const auto& s2 : preview->services_off) std::cout << " " << s2;
    std::cout << "\n";
    req.preview = false;
    auto done = engine.Withdraw(req, actor);
    if (!done) return Fail(done.error());
    const std::string receipt = (std::filesystem::path(opts.data_dir) / "receipt-withdrawal.json").string();
    std::ofstream(receipt) << done->receipt;
    std::cout << "  confirmed at ledger revision " << done->revision << "; signed receipt " << receipt
              << "\n";
    auto again = engine.EnableService({keys[4], "marketing_offers", "", "", ""}, actor);
    if (again) return 1;
    Refusal("switching it back on without a written application (R-VI.5)", again.error());
    auto reenabled = engine.EnableService({keys[4], "marketing_offers", "APP-2026-0301", "", ""}, actor);
    if (!reenabled) return Fail(reenabled.error());
    std::cout << "  re-enabled with written application APP-2026-0301 and a new consent\n";
  }

  Step("decisions from the in-memory index");
  for (const char* purpose : {"marketing", "contract_performance", "fiscal_reporting"}) {
    for (size_t i : {size_t{0}, size_t{1}}) {
      auto d = engine.Check(keys[i], purpose, {});
      if (!d) return Fail(d.error());
      std::cout << "  subject " << i + 1 << " " << purpose << ": " << (d->allow ? "ALLOW " : "DENY  ")
                << index::ReasonCode(d->reason) << " (basis " << policy::LegalBasisName(d->basis)
                << ", revision " << d->revision << ")\n";
    }
  }
  {
    auto all = engine.SelectAudience("marketing", false, nullptr);
    auto clean = engine.SelectAudience("marketing", true, nullptr);
    if (!all || !clean) return 1;
    std::cout << "  audience for marketing: " << all->count << " subjects, " << clean->count
              << " without open obligations\n";
  }

  Step("subjects, masked, with their consents");
  auto views = engine.ListSubjects(0, kStory, /*full=*/false);
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

  if (args.subjects > kStory) {
    Step("add " + std::to_string(args.subjects - kStory) +
         " more subscribers with contracts, concurrently (group commit)");
    if (int rc = AddPopulation(engine, gen, kStory, args.subjects); rc != 0) return rc;
  }

  Step("actors and API keys (R-II.3, R-VIII)");
  const std::string keys_file = (std::filesystem::path(opts.data_dir) / "keys.txt").string();
  if (int rc = AddActors(engine, keys_file); rc != 0) return rc;

  Step("ledger verification");
  auto report = engine.VerifyLedger();
  if (!report || !report->ok) {
    std::cerr << "qorgau: ledger verification failed\n";
    return 1;
  }
  std::cout << "  " << report->events << " events verified, head " << report->head_hash << "\n";
  if (!args.serve.empty()) {
    ServeOptions so;
    so.listen = args.serve;
    return Serve(**inst, so, [&](std::uint16_t port) {
      PrintCurlExamples(opts.data_dir, args.serve.substr(0, args.serve.rfind(':')), port);
    });
  }
  const std::string q = "build/qorgau --data " + opts.data_dir;
  std::cout << "\nTry:\n  " << q << " subject show --id 1\n  " << q << " consent list --id 5\n  "
            << q << " check --id 3 --purpose marketing --category user.contact.phone\n  " << q
            << " withdraw --id 3 --channel app_support_chat --preview\n  " << q
            << " receipt verify " << opts.data_dir << "/receipt-withdrawal.json\n  " << q
            << " audit verify\n  " << q << " policy show --lang en\n";
  return 0;
}

}  // namespace

void RegisterDemo(CLI::App& app, Options& opts) {
  auto args = std::make_shared<DemoArgs>();
  auto* cmd = app.add_subcommand("demo", "Run the demo of `make run` on a fresh data directory");
  cmd->add_option("--policy", args->policy, "Policy file")->capture_default_str();
  cmd->add_option("--subjects", args->subjects, "How many synthetic subscribers (at least 8)")
      ->check(CLI::Range(kStory, 200000))
      ->capture_default_str();
  cmd->add_option("--serve", args->serve, "Then serve the API on ADDRESS:PORT until Ctrl-C");
  cmd->callback([&opts, args] { opts.exit_code = RunDemo(opts, *args); });
}

}  // namespace qorgau::cli
