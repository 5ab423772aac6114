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
#include <sstream>
#include <map>
#include <memory>

#include "app/instance.h"
#include "cli/commands.h"
#include "demo/synthetic.h"
#include "policy/policy_loader.h"
#include "report/retention_act.h"
#include "report/statement.h"

#include <boost/json.hpp>

namespace qorgau::cli {
namespace {

struct DemoArgs {
  std::string policy = "policies/kem/policy.yaml";
  int subjects = 8;
  std::string serve;  // ADDRESS:PORT: serve the API afterwards
};

constexpr int kStory = 8;    // the subscribers the printed story is about
constexpr int kHistory = 10; // subscribers since 2020, whose periods have run (R-VII)

// The demo's clock: the system's, set back while the earlier years of the
// history are played, then on time.
class DemoClock final : public Clock {
 public:
  UnixMillis Now() const override { return system_.Now() - back_.load(); }
  void SetBack(UnixMillis by) { back_.store(by); }

 private:
  SystemClock system_;
  std::atomic<UnixMillis> back_{0};
};

constexpr UnixMillis kDay = 86400000;

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
int AddPopulation(rules::Engine& engine, const demo::SyntheticSubjects& gen, int from, int count,
                  const rules::Caller& onboarding, const rules::Caller& billing) {
  const rules::Caller& actor = onboarding;
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
        bool ok = engine.JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-" + std::to_string(i)}, actor).has_value();
        if (i % 2 == 0) {
          ok = ok && engine.JoinContract({key, "sms", {"marketing_offers"}, "SMS-" + std::to_string(i)}, actor).has_value();
        }
        if (i % 50 == 0) {
          ok = ok && engine.OpenObligation({key, store::ObligationKind::kDebt, "DEBT-" + std::to_string(i), "2500"}, billing).has_value();
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

// The demo's console passwords: known, for the demo only.
std::string DemoPassword(const std::string& actor) { return "qorgau-demo-" + actor; }

// The staff and systems of the demo, created by the console administrator,
// with their keys in `keys_file`; returns them as callers by id.
struct DemoDuty {
  const char* purpose;
  std::vector<std::string> categories;
  bool full_view;
  std::vector<std::string> actions;
};
struct Person {
  rules::ActorInput input;
  std::vector<DemoDuty> duties;
  const char* what;
};

const std::vector<Person>& People() {
  using R = store::ActorRole;
  static const std::vector<Person> people = {
      {{"dpo", R::kDpo, "Data protection officer", "2020-01-10", "2020-01-10", {}},
       {{"contract_performance", {"user.identity.name", "user.contact.phone"}, false, {"read"}}},
       "data protection officer: legal holds, the access trail, the audit"},
      {{"admin-aida", R::kAdmin, "IT administrator", "2020-01-10", "2020-01-10", {}},
       {},
       "administrator: actors, duties and keys; acts on no subject"},
      {{"agent-anna", R::kEmployee, "Call-centre agent", "2020-02-01", "2020-02-01", {}},
       {{"contract_performance", {"user.identity.name", "user.contact.phone"}, false, {"read"}},
        {"marketing", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"product_development", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"contests_campaigns", {"user.contact.phone"}, false, {"consent", "withdraw"}}},
       "call centre: reads name and phone (masked); records consents and withdrawals"},
      {{"agent-bek", R::kEmployee, "New agent", "", "", {}},
       {{"contract_performance", {"user.identity.name", "user.contact.phone"}, false, {"read"}}},
       "employee WITHOUT a signed NDA"},
      {{"office-olga", R::kEmployee, "Office clerk", "2020-02-15", "2020-02-15", {}},
       {{"contract_performance", {"user.identity.iin", "user.contact.phone"}, false, {"read", "withdraw", "applications"}},
        {"service_quality", {"user.contact.phone"}, false, {"withdraw"}},
        {"service_notices", {"user.contact.phone"}, false, {"withdraw"}},
        {"debt_collection", {"user.contact.phone"}, false, {"withdraw"}},
        {"marketing", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"contests_campaigns", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"convergent_services", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"product_development", {"user.contact.phone"}, false, {"consent", "withdraw"}}},
       "office: written applications, contracts ended, services switched on and off (R-VI.5)"},
      {{"analyst-dana", R::kEmployee, "Marketing analyst", "2020-03-01", "2020-03-01", {}},
       {{"marketing", {"user.contact.phone", "user.contact.email"}, true, {"read"}}},
       "marketing analyst: phone and e-mail, full view"},
      {{"onboarding", R::kSystem, "Shops and app registration", "", "",
        {"contract_performance", "service_quality", "service_notices", "debt_collection",
         "marketing", "contests_campaigns", "product_development"}},
       {{"contract_performance",
         {"user.identity.name", "user.identity.iin", "user.contact.phone", "user.contact.email"},
         false,
         {"record", "consent"}},
        {"service_quality", {"user.contact.phone"}, false, {"consent"}},
        {"service_notices", {"user.contact.phone"}, false, {"consent"}},
        {"debt_collection", {"user.contact.phone"}, false, {"consent"}},
        {"marketing", {"user.contact.phone"}, false, {"consent"}},
        {"contests_campaigns", {"user.contact.phone"}, false, {"consent"}},
        {"product_development", {"user.contact.phone"}, false, {"consent"}}},
       "system: registers subscribers and their contracts"},
      {{"billing", R::kSystem, "Billing", "", "", {"debt_collection", "contract_performance"}},
       {{"debt_collection", {"user.identity.iin", "user.financial.billing"}, false,
         {"obligations"}}},
       "system: debts and instalments, by IIN (R-VI.3)"},
      {{"crm", R::kSystem, "CRM and campaign system", "", "",
        {"marketing", "contract_performance", "service_notices", "product_development"}},
       {{"marketing",
         {"user.contact.phone", "user.derived.marketing_profile", "user.social.public_profile", "user.telecom.usage"},
         true,
         {"read", "record", "consent", "withdraw"}},
        {"product_development", {"user.contact.phone"}, false, {"consent", "withdraw"}}},
       "system: decisions for marketing, contract_performance, service_notices, "
       "product_development; marketing consents and profiles"},
      {{"sales", R::kSystem, "Partner gateway", "", "", {"convergent_services", "product_development"}},
       {{"convergent_services",
         {"user.identity.name", "user.identity.iin", "user.contact.phone", "user.financial.billing"},
         true,
         {"consent", "transfer"}},
        {"product_development", {"user.contact.phone", "user.telecom.usage"}, true, {"consent", "transfer"}}},
       "system: hands data to the policy's partners (R-IX), each subject decided on its own"},
      {{"privacy-centre", R::kSystem, "Privacy centre (/privacy/)", "", "",
        {"contract_performance", "convergent_services", "marketing", "product_development", "contests_campaigns"}},
       {{"contract_performance", {"user.contact.phone"}, false, {"read", "applications"}},
        {"convergent_services", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"marketing", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"product_development", {"user.contact.phone"}, false, {"consent", "withdraw"}},
        {"contests_campaigns", {"user.contact.phone"}, false, {"consent", "withdraw"}}},
       "system: the web privacy centre, acting for the subscriber signed in (their consents, statement and "
       "applications only)"},
  };
  return people;
}

int AddActors(rules::Engine& engine, const std::string& keys_file,
              std::map<std::string, std::shared_ptr<const rules::Caller>>* callers) {
  auto console = engine.CallerFor(std::string(rules::kConsoleActor));
  if (!console) return Fail(console.error());
  const rules::Caller& admin = **console;
  std::ofstream keys(keys_file);
  for (const auto& p : People()) {
    if (auto r = engine.PutActor(p.input, admin); !r) return Fail(r.error());
    for (const auto& d : p.duties) {
      DutyActions actions = 0;
      std::string bad;
      if (!ParseDutyActions(d.actions, &actions, &bad)) {
        return Fail(Error{ErrorCode::kInternal, "actions", "unknown action " + bad});
      }
      if (auto r = engine.GrantDuty({p.input.id, d.purpose, d.categories, d.full_view, actions}, admin);
          !r) {
        return Fail(r.error());
      }
    }
    // A person's key comes through an enrolment token the person redeems
    // (here at once, for the demo); a system's key is created directly.
    std::string key;
    if (p.input.role == store::ActorRole::kEmployee || p.input.role == store::ActorRole::kDpo) {
      auto token = engine.CreateEnrolment(p.input.id, admin);
      if (!token) return Fail(token.error());
      auto redeemed = engine.RedeemEnrolment(token->token);
      if (!redeemed) return Fail(redeemed.error());
      key = redeemed->second;
    } else {
      auto created = engine.CreateApiKey(p.input.id, admin);
      if (!created) return Fail(created.error());
      key = *created;
    }
    keys << p.input.id << " " << key << "\n";
    // A person's console password, set through an enrolment token of its
    // own, as the person would on /console/enrol (docs/console.md).
    if (p.input.role != store::ActorRole::kSystem) {
      auto token = engine.CreateEnrolment(p.input.id, admin, 3600 * 1000);
      if (!token) return Fail(token.error());
      if (auto set = engine.SetPasswordByEnrolment(token->token, DemoPassword(p.input.id)); !set) return Fail(set.error());
    }
    auto caller = engine.CallerFor(p.input.id);
    if (!caller) return Fail(caller.error());
    (*callers)[p.input.id] = *caller;
    std::cout << "  " << p.input.id << ": " << p.what << "\n";
  }
  keys.close();
  ::chmod(keys_file.c_str(), 0600);
  std::cout << "  API keys written to " << keys_file << " (0600)\n";
  return 0;
}

void PrintCurlExamples(const std::string& data_dir, const std::string& host, std::uint16_t port,
                       const std::string& one) {
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
            << "       -d '{\"subject\":" << one << ",\"purpose\":\"marketing\"}' " << base << "/v1/check\n"
            << "  curl -s -H \"Authorization: Bearer " << k("agent-anna") << "\" \\\n"
            << "       '" << base << "/v1/subjects/" << one << "?purpose=contract_performance'\n"
            << "  curl -s -H \"Authorization: Bearer " << k("agent-bek") << "\" \\\n"
            << "       '" << base << "/v1/subjects/" << one << "?purpose=contract_performance'   # 403 nda_not_signed\n"
            << "  The README has the full tour (consents, withdrawals, access trail).\n"
            << std::flush;
}

// The web pages and the demo's sign-ins (docs/console.md). The phones are
// the synthetic subscribers' of the story: subject 0 has consents to
// withdraw, subject 2 an open debt (R-VI.3).
void PrintPages(const std::string& host, std::uint16_t port, const std::string& sms_file,
                const demo::SyntheticSubjects& gen) {
  const std::string base = "http://" + host + ":" + std::to_string(port);
  std::cout << "\nWeb pages:\n"
            << "  staff console   " << base << "/console/\n"
            << "    sign in as dpo / " << DemoPassword("dpo") << " (the data protection officer), or agent-anna / "
            << DemoPassword("agent-anna") << ", office-olga / " << DemoPassword("office-olga") << ", admin-aida / "
            << DemoPassword("admin-aida") << "\n"
            << "  privacy centre  " << base << "/privacy/\n"
            << "    sign in as subscriber " << gen.At(0).phone << " (consents to withdraw) or "
            << gen.At(2).phone << " (an open debt: withdrawal refused, R-VI.3);\n"
            << "    the one-time code is the last line of " << sms_file << "\n"
            << std::flush;
}

// Ten subscribers since six years ago: all join the base services; two
// also the offers, with a marketing profile; four leave five and a half
// years ago, two three years ago; the data protection officer put a legal
// hold on one's e-mail a year ago. Ids 1..kHistory.
int PlayHistory(rules::Engine& engine, DemoClock& clock, const std::map<std::string, std::shared_ptr<const rules::Caller>>& callers,
                std::vector<rules::SubjectKey>* keys) {
  const rules::Caller& onboarding = *callers.at("onboarding");
  const rules::Caller& olga = *callers.at("office-olga");
  const rules::Caller& crm = *callers.at("crm");
  const rules::Caller& dpo = *callers.at("dpo");
  demo::SyntheticSubjects gen;
  clock.SetBack(6 * 365 * kDay);
  std::vector<std::int64_t> contracts;
  for (int h = 0; h < kHistory; ++h) {
    const demo::SyntheticSubject s = gen.At(static_cast<std::uint64_t>(200000 + h));
    auto id = engine.AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}, {"user.contact.email", s.email}}, "subject"},
                                onboarding);
    if (!id) return Fail(id.error());
    keys->push_back(rules::SubjectKey::Id(*id));
    auto c = engine.JoinContract({keys->back(), "form", {"mobile_base", "simply_app"}, "FORM-2020-" + std::to_string(h)},
                                 onboarding);
    if (!c) return Fail(c.error());
    contracts.push_back(c->contract_id);
    if (h == 6 || h == 7) {
      auto offers = engine.JoinContract({keys->back(), "sms", {"marketing_offers", "contests"}, "SMS-2020-" + std::to_string(h)},
                                        onboarding);
      if (!offers) return Fail(offers.error());
      auto profile = engine.PutData(keys->back(), "user.derived.marketing_profile", "segment:streaming-heavy", "derived", crm);
      if (!profile) return Fail(profile.error());
    }
  }
  std::cout << "  " << kHistory << " subscribers joined six years ago (subjects 1-" << kHistory << ")\n";
  auto end = [&](int from, int to, UnixMillis back) -> int {
    clock.SetBack(back);
    for (int h = from; h < to; ++h) {
      auto r = engine.EndContract({(*keys)[h], contracts[h], "TERM-" + std::to_string(h)}, olga);
      if (!r) return Fail(r.error());
    }
    return 0;
  };
  if (int rc = end(0, 4, 5 * 365 * kDay + 180 * kDay); rc != 0) return rc;
  std::cout << "  subjects 1-4 ended their contracts five and a half years ago\n";
  if (int rc = end(4, 6, 3 * 365 * kDay + 30 * kDay); rc != 0) return rc;
  std::cout << "  subjects 5-6 ended theirs three years ago\n";
  clock.SetBack(365 * kDay);
  auto hold = engine.OpenObligation({(*keys)[3], store::ObligationKind::kLegalHold, "HOLD-2025-CASE-12", "",
                                     {"user.contact.email"}},
                                    dpo);
  if (!hold) return Fail(hold.error());
  std::cout << "  a year ago the data protection officer put a legal hold on subject 4's e-mail (a court case)\n";
  clock.SetBack(0);
  return 0;
}

// Today: subject 7 withdraws the offers, and the profile only they needed
// goes at once (R-VI.4); the plan; the run, its act in three languages; a
// check of a destroyed subject.
int ShowRetention(rules::Engine& engine, const std::map<std::string, std::shared_ptr<const rules::Caller>>& callers,
                  const std::vector<rules::SubjectKey>& history, const std::string& data_dir) {
  const rules::Caller& olga = *callers.at("office-olga");
  const rules::Caller& dpo = *callers.at("dpo");
  const rules::Caller& crm = *callers.at("crm");
  auto withdrawn = engine.Withdraw({history[6], "office_written", "APP-2026-0777", {"marketing_offers", "contests"}, {}, false},
                                   olga);
  if (!withdrawn) return Fail(withdrawn.error());
  std::cout << "  subject " << history[6].value << " withdrew the offers and contests; destroyed at once:";
  for (const auto& d : withdrawn->destroyed) std::cout << " " << d;
  std::cout << "\n";
  auto plan = engine.PlanDestruction({}, dpo);
  if (!plan) return Fail(plan.error());
  std::cout << "  plan for today over " << plan->subjects << " subjects:\n";
  for (const auto& l : plan->lines) {
    if (l.status != rules::RetentionStatus::kDue && l.status != rules::RetentionStatus::kHeld) continue;
    std::cout << "    " << rules::RetentionStatusName(l.status) << " " << l.count << " x " << l.what;
    if (l.rule) std::cout << " (" << l.rule->period.ToString() << " from " << l.rule->from << ")";
    for (const auto& [kind, n] : l.held_by_kind) std::cout << ", kept by " << kind;
    std::cout << "\n";
  }
  auto run = engine.RunDestruction({}, dpo);
  if (!run) return Fail(run.error());
  const auto act = boost::json::parse(run->run.act).as_object();
  std::cout << "  destruction run DA-" << run->run.run << ": " << act.at("subjects").as_int64() << " subjects, "
            << act.at("subjects_destroyed").as_int64() << " destroyed entirely (their data keys too)\n";
  for (const std::string lang : {"kk", "ru", "en"}) {
    auto html = report::RetentionActHtml(engine.policy(), run->run, lang);
    if (!html) return Fail(html.error());
    const auto path = std::filesystem::path(data_dir) / ("act-DA-" + std::to_string(run->run.run) + "-" + lang + ".html");
    std::ofstream(path, std::ios::binary) << *html;
    std::cout << "  act (" << lang << ") written to " << path.string() << "\n";
  }
  auto check = engine.Check(crm, history[0], "contract_performance", {});
  if (!check) return Fail(check.error());
  std::cout << "  check of subject " << history[0].value << " for contract_performance: "
            << (check->allow ? "ALLOW " : "DENY ") << index::ReasonCode(check->reason) << "\n";
  return 0;
}

int RunDemo(const Options& opts, const DemoArgs& args) {
  // The story begins six years ago, so that retention periods have run by
  // today (PlayHistory); everything after it happens now.
  DemoClock clock;
  clock.SetBack(6 * 365 * kDay);
  Step("init " + opts.data_dir + " with " + args.policy + " (six years ago, on the demo's clock)");
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
  if (!init->calendar_years.empty()) {
    std::cout << "  working-day calendars " << p.controller.country << " " << init->calendar_years.front() << "-"
              << init->calendar_years.back() << " imported from " << init->calendars.string() << " (LAW.md §14)\n";
  }

  Step("actors, duties and API keys, created by the console administrator (R-II.3, R-VIII)");
  const std::string keys_file = (std::filesystem::path(opts.data_dir) / "keys.txt").string();
  std::map<std::string, std::shared_ptr<const rules::Caller>> callers;
  if (int rc = AddActors(engine, keys_file, &callers); rc != 0) return rc;
  const rules::Caller& onboarding = *callers.at("onboarding");
  const rules::Caller& anna = *callers.at("agent-anna");
  const rules::Caller& olga = *callers.at("office-olga");
  const rules::Caller& billing = *callers.at("billing");
  const rules::Caller& crm = *callers.at("crm");
  const rules::Caller& dpo = *callers.at("dpo");
  const rules::Caller& actor = onboarding;

  Step("history: " + std::to_string(kHistory) + " subscribers since six years ago, some long gone (R-VII)");
  std::vector<rules::SubjectKey> history;
  if (int rc = PlayHistory(engine, clock, callers, &history); rc != 0) return rc;

  Step("add " + std::to_string(kStory) + " synthetic subscribers (values encrypted), today");
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
    auto base = engine.JoinContract({keys[i], "form", {"mobile_base", "simply_app"}, "FORM-" + std::to_string(i)}, actor);
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
    auto r = engine.GrantConsent({keys[i], "product_development", channels[c], evidence}, anna);
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
    auto r = engine.GrantConsent({keys[0], "fiscal_reporting", "website", "WEB-FORM-1"}, anna);
    if (r) return 1;
    Refusal("consent to a purpose that rests on law", r.error());
  }
  {
    auto r = engine.Withdraw({keys[0], "website", "WEB-FORM-2", {}, {}, false}, anna);
    if (r) return 1;
    Refusal("withdrawal through a channel the policy does not take it from", r.error());
  }
  {
    auto r = engine.GrantConsent({keys[1], "contests_campaigns", "website", "WEB-FORM-3"}, crm);
    if (r) return 1;
    Refusal("a system recording consent to a purpose it does not act for", r.error());
  }
  {
    auto r = engine.OpenObligation({keys[3], store::ObligationKind::kLegalHold, "HOLD-2026-7", ""},
                                   billing);
    if (r) return 1;
    Refusal("a legal hold opened by billing: only the role the policy names may (R-VI.3)",
            r.error());
  }
  {
    auto debt = engine.OpenObligation(
        {keys[2], store::ObligationKind::kDebt, "DEBT-2026-0042", "12500.50"}, billing);
    if (!debt) return Fail(debt.error());
    auto r = engine.Withdraw({keys[2], "app_support_chat", "CHAT-7001", {}, {}, false}, anna);
    if (r) return 1;
    Refusal("withdrawal while a debt is open (R-VI.3)", r.error());
  }
  {
    // The policy's recipients are examples without a BIN: nothing leaves
    // for a partner the policy does not identify (R-IX.3).
    const rules::Caller& sales = *callers.at("sales");
    std::ostringstream out;
    auto r = engine.Transfer({"partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}}, sales, out);
    if (r) return 1;
    Refusal("a transfer to a partner with no BIN in the policy (R-IX.3)", r.error());
  }

  Step("withdraw the data of one additional service (R-VI.4): preview, then confirm");
  {
    rules::WithdrawalRequest req{keys[4], "app_support_chat", "CHAT-7781", {"marketing_offers"}, {}, true};
    auto preview = engine.Withdraw(req, anna);
    if (!preview) return Fail(preview.error());
    std::cout << "  preview: " << policy::InLanguage(preview->warning, "en") << "\n"
              << "  preview: consents that end:";
    for (const auto& p2 : preview->consents_end) std::cout << " " << p2;
    std::cout << "; services switched off:";
    for (const auto& s2 : preview->services_off) std::cout << " " << s2;
    std::cout << "\n";
    req.preview = false;
    auto done = engine.Withdraw(req, anna);
    if (!done) return Fail(done.error());
    const std::string receipt = (std::filesystem::path(opts.data_dir) / "receipt-withdrawal.json").string();
    std::ofstream(receipt) << done->receipt;
    std::cout << "  confirmed at ledger revision " << done->revision << "; signed receipt " << receipt
              << "\n";
    auto again = engine.EnableService({keys[4], "marketing_offers", "", "", ""}, olga);
    if (again) return 1;
    Refusal("switching it back on without a written application (R-VI.5)", again.error());
    auto reenabled = engine.EnableService({keys[4], "marketing_offers", "APP-2026-0301", "", ""}, olga);
    if (!reenabled) return Fail(reenabled.error());
    std::cout << "  re-enabled with written application APP-2026-0301 and a new consent\n";
  }

  Step("decisions from the in-memory index, asked by crm for its purposes");
  for (const char* purpose : {"marketing", "contract_performance", "service_notices"}) {
    for (size_t i : {size_t{0}, size_t{1}}) {
      auto d = engine.Check(crm, keys[i], purpose, {});
      if (!d) return Fail(d.error());
      std::cout << "  subject " << keys[i].value << " " << purpose << ": " << (d->allow ? "ALLOW " : "DENY  ")
                << index::ReasonCode(d->reason) << " (basis " << policy::LegalBasisName(d->basis)
                << ", revision " << d->revision << ")\n";
    }
  }
  {
    auto all = engine.SelectAudience(crm, "marketing", false, nullptr);
    auto clean = engine.SelectAudience(crm, "marketing", true, nullptr);
    if (!all || !clean) return 1;
    std::cout << "  audience for marketing: " << all->count << " subjects, " << clean->count
              << " without open obligations\n";
  }

  Step("subjects as agent-anna sees them: masked, her purposes only, each read in the trail");
  for (const auto& key : keys) {
    auto v = engine.ReadPersonalData(anna, key, "contract_performance", {});
    if (!v) return Fail(v.error());
    std::cout << "  subject " << v->id << ":";
    for (const auto& d : v->data) std::cout << "  " << d.value;
    std::cout << "\n";
    auto consents = engine.ListConsents(anna, key);
    if (!consents) return Fail(consents.error());
    for (const auto& c : *consents) {
      std::cout << "      " << c.purpose << ": " << ConsentStateName(c.state) << " via " << c.channel
                << " (" << c.evidence << ")\n";
    }
  }

  if (args.subjects > kStory) {
    Step("add " + std::to_string(args.subjects - kStory) +
         " more subscribers with contracts, concurrently (group commit)");
    if (int rc = AddPopulation(engine, gen, kStory, args.subjects, onboarding, billing); rc != 0) {
      return rc;
    }
  }

  Step("subjects' rights (R-IV.4, LAW.md §5): an information application at the office, answered "
       "with a statement in kk, ru and en");
  {
    rules::ApplicationRequest req{keys[0], "information", "office_written", "REG-DEMO-1", {}, {}, {}, {}};
    auto filed = engine.FileApplication(req, dpo);
    if (!filed && filed.error().reason == "calendar_missing") {
      std::cout << "  skipped: " << filed.error().message << "\n";
    } else {
      if (!filed) return Fail(filed.error());
      auto calendar = engine.Calendar();
      if (!calendar) return Fail(calendar.error());
      std::cout << "  application " << filed->record.id << " due "
                << FormatDate((*calendar)->LocalDate(filed->record.due_at)) << " (3 working days, "
                << (*calendar)->zone() << ")\n";
      if (auto r = engine.AdvanceApplication(filed->record.id, "identity_verified", dpo); !r) return Fail(r.error());
      std::string reference;
      for (const std::string lang : {"kk", "ru", "en"}) {
        auto st = engine.Statement({keys[0], lang, false, filed->record.id}, dpo);
        if (!st) return Fail(st.error());
        const auto path = std::filesystem::path(opts.data_dir) / ("statement-" + lang + ".html");
        if (auto w = WriteOwnerOnly(path.string(), report::StatementHtml(engine.policy(), *st)); !w) return Fail(w.error());
        std::cout << "  statement " << st->reference << " (" << lang << ") written to " << path.string() << "\n";
        reference = st->reference;
      }
      if (auto r = engine.AnswerApplication(filed->record.id, reference, dpo); !r) return Fail(r.error());
      std::cout << "  answered with " << reference << "\n";
      // One left unanswered, received two weeks ago: overdue on the
      // console's dashboard (docs/console.md).
      rules::ApplicationRequest late{keys[1], "information", "office_written", "REG-DEMO-2",
                                     engine.clock().Now() - 14 * kDay, {}, {}, {}};
      auto overdue = engine.FileApplication(late, dpo);
      if (!overdue) return Fail(overdue.error());
      std::cout << "  application " << overdue->record.id << " of subject " << keys[1].value
                << ", received two weeks ago, is still open: overdue\n";
      // A breach found yesterday, its notice to the authorised body not yet
      // sent (LAW.md §10): on the dashboard with its deadline.
      rules::BreachRequest breach{engine.clock().Now() - kDay, "monitoring_alert", {"user.contact.email"},
                                  {"access_revoked"}, {static_cast<store::SubjectId>(std::stoll(keys[3].value))}};
      auto recorded = engine.RecordBreach(breach, dpo);
      if (!recorded) return Fail(recorded.error());
      std::cout << "  breach " << recorded->id << " recorded; its notice is due " << FormatUtc(recorded->notify_due_at)
                << "\n";
    }
  }

  Step("retention (R-VII): R-VI.4 at once, the plan, a destruction run and its act in kk, ru and en");
  if (int rc = ShowRetention(engine, callers, history, opts.data_dir); rc != 0) return rc;

  // R-XI: edition 2 (policies/kem-2, beside the policy's folder), with the
  // legal review's corrections; it takes effect at once, for the next run.
  if (const auto next = std::filesystem::path(args.policy).parent_path().parent_path() / "kem-2/policy.yaml";
      std::filesystem::exists(next)) {
    Step("policy edition 2 (R-XI): published with its difference and reasons; subjects told through the outbox");
    policy::LoadResult loaded = policy::LoadPolicyFile(next);
    if (!loaded.policy) return Fail(app::PolicyError(loaded.problems));
    rules::PublishRequest req;
    req.policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
    req.files = loaded.files;
    req.main_file = next.filename().string();
    req.reason = "The legal review of edition 1 (December 2026)";
    auto published = engine.PublishPolicy(req, dpo);
    if (!published) return Fail(published.error());
    std::size_t added = 0, changed = 0;
    for (const auto& c : published->diff.changes) (c.change == "added" ? added : changed) += 1;
    std::cout << "  edition " << published->edition << ": " << published->diff.changes.size() << " changes (" << added
              << " added, " << changed << " changed or removed), each with its reason; "
              << published->notified << " subjects told (outbox); in force from the next start\n"
              << "  e.g. " << published->diff.changes.front().Key() << ": "
              << req.policy->edition.changes.at(published->diff.changes.front().Key()) << "\n";
  }

  Step("ledger verification, by the data protection officer");
  auto report = engine.VerifyLedger(dpo);
  if (!report) return Fail(report.error());
  if (!report->ok) {
    std::cerr << "qorgau: ledger verification failed at event " << report->broken_seq << ": "
              << report->reason << "\n";
    return 1;
  }
  std::cout << "  " << report->events << " events verified, head " << report->head_hash << "\n";
  if (!args.serve.empty()) {
    ServeOptions so;
    so.listen = args.serve;
    so.retention_as = "dpo";  // the daily destruction run, as the data protection officer
    so.sms_file = (std::filesystem::path(opts.data_dir) / "sms.txt").string();
    return Serve(**inst, so, [&](std::uint16_t port) {
      const std::string host = args.serve.substr(0, args.serve.rfind(':'));
      PrintCurlExamples(opts.data_dir, host, port, keys[0].value);
      PrintPages(host, port, so.sms_file, gen);
    });
  }
  const std::string q = "build/qorgau --data " + opts.data_dir;
  std::cout << "\nTry (each command acts as the actor of --as; docs/access.md):\n  " << q
            << " --as agent-anna subject show --id " << keys[0].value << " --purpose contract_performance\n  " << q
            << " --as agent-anna consent list --id " << keys[4].value << "\n  " << q
            << " --as crm check --id " << keys[2].value << " --purpose marketing --category user.contact.phone\n  " << q
            << " --as agent-anna withdraw --id " << keys[2].value << " --channel app_support_chat --preview\n  " << q
            << " receipt verify " << opts.data_dir << "/receipt-withdrawal.json\n  " << q
            << " --as dpo audit verify\n  " << q << " --as dpo retention plan --as-of 2031-01-01\n  " << q
            << " --as dpo retention acts\n  " << q << " policy show --lang en\n  " << q
            << " policy editions\n  " << q << " --as dpo outbox --pending\n";
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
