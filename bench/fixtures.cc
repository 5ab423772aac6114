#include "fixtures.h"

#include "rules/engine.h"

#include <malloc.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "demo/synthetic.h"
#include "policy/policy_loader.h"
#include "store/sqlite/sqlite_store.h"

#ifndef QORGAU_SOURCE_DIR
#define QORGAU_SOURCE_DIR "."
#endif

namespace qorgau::bench {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

Config g_config;
std::mutex g_mu;  // guards the lazily built fixtures below

double Since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

std::int64_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
}

std::int64_t FileSize(const fs::path& p) {
  std::error_code ec;
  const auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::int64_t>(n);
}

// "1000000", "1M", "25m", "2k", "1.5M".
bool ParseCount(std::string_view text, std::uint64_t* out) {
  if (text.empty()) return false;
  double mult = 1;
  const char last = text.back();
  if (last == 'k' || last == 'K') mult = 1e3;
  if (last == 'm' || last == 'M') mult = 1e6;
  if (mult != 1) text.remove_suffix(1);
  try {
    std::size_t used = 0;
    const std::string s(text);
    const double v = std::stod(s, &used);
    if (used != s.size() || v < 0) return false;
    *out = static_cast<std::uint64_t>(v * mult + 0.5);
    return true;
  } catch (...) {
    return false;
  }
}

void Progress(const std::string& what) { std::fprintf(stderr, "[qorgau_bench] %s\n", what.c_str()); }

// Each built once, on first use.
std::map<std::uint64_t, std::unique_ptr<Population>> g_populations;
std::map<std::uint64_t, std::unique_ptr<FilledIndex>> g_indexes;
std::map<std::uint64_t, std::unique_ptr<NaiveDb>> g_naive;
std::map<std::uint64_t, std::unique_ptr<QorgauStore>> g_stores;
std::unique_ptr<DurableFixture> g_durable;
std::unique_ptr<NaiveDurableFixture> g_naive_durable;
std::unique_ptr<FloorFixture> g_floor;
std::unique_ptr<StatementFixture> g_statement;
std::shared_ptr<const policy::Policy> g_policy;
SystemClock g_clock;

bool g_work_dir_used = false;

// A fresh directory under QORGAU_BENCH_DIR (or $TMPDIR, or /tmp), so that
// a run never finds the databases of an earlier one.
const fs::path& WorkDir() {
  g_work_dir_used = true;
  static const fs::path dir = [] {
    fs::path base = g_config.dir;
    if (!g_config.dir_given) {
      const char* tmp = std::getenv("TMPDIR");
      base = tmp && *tmp ? tmp : "/tmp";
    }
    std::error_code ec;
    fs::create_directories(base, ec);
    std::string pattern = (base / "qorgau-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror(("mkdtemp " + pattern).c_str());
      std::exit(2);
    }
    return fs::path(pattern);
  }();
  return dir;
}

}  // namespace

[[noreturn]] void Die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "qorgau_bench: %s: %s\n", what.c_str(), e.ToString().c_str());
  std::exit(2);
}

std::string Short(std::uint64_t n) {
  auto fmt = [](double v, const char* unit) {
    char buf[32];
    if (v == static_cast<double>(static_cast<std::uint64_t>(v))) {
      std::snprintf(buf, sizeof buf, "%llu%s", static_cast<unsigned long long>(v), unit);
    } else {
      std::snprintf(buf, sizeof buf, "%.1f%s", v, unit);
    }
    return std::string(buf);
  };
  if (n >= 1'000'000 && n % 100'000 == 0) return fmt(n / 1e6, "M");
  if (n >= 1'000 && n % 100 == 0) return fmt(n / 1e3, "k");
  return std::to_string(n);
}

bool ParseConfig(int* argc, char** argv, Config* c) {
  c->policy = fs::path(QORGAU_SOURCE_DIR) / "policies/kem/policy.yaml";
  auto env_count = [](const char* name, std::uint64_t* out) {
    const char* v = std::getenv(name);
    if (v && *v && !ParseCount(v, out)) {
      std::fprintf(stderr, "qorgau_bench: %s=%s is not a count\n", name, v);
      std::exit(2);
    }
  };
  env_count("QORGAU_BENCH_SUBJECTS", &c->subjects);
  env_count("QORGAU_BENCH_LARGE", &c->large);
  env_count("QORGAU_BENCH_NAIVE_LARGE", &c->naive_large);
  env_count("QORGAU_BENCH_DURABLE_SUBJECTS", &c->durable_subjects);
  env_count("QORGAU_BENCH_RETENTION_SUBJECTS", &c->retention_subjects);
  env_count("QORGAU_BENCH_SEED", &c->seed);
  if (const char* v = std::getenv("QORGAU_BENCH_DIR"); v && *v) {
    c->dir = v;
    c->dir_given = true;
  }
  if (const char* v = std::getenv("QORGAU_BENCH_KEEP"); v && *v && std::string(v) != "0") c->keep = true;
  if (const char* v = std::getenv("QORGAU_POLICY"); v && *v) c->policy = v;

  int out = 1;
  for (int i = 1; i < *argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::string prefix = std::string("--") + flag + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    bool ok = true;
    if (const char* v = value("subjects")) {
      ok = ParseCount(v, &c->subjects);
    } else if (const char* v = value("large")) {
      ok = ParseCount(v, &c->large);
    } else if (const char* v = value("naive_large")) {
      ok = ParseCount(v, &c->naive_large);
    } else if (const char* v = value("durable_subjects")) {
      ok = ParseCount(v, &c->durable_subjects);
    } else if (const char* v = value("retention_subjects")) {
      ok = ParseCount(v, &c->retention_subjects);
    } else if (const char* v = value("seed")) {
      ok = ParseCount(v, &c->seed);
    } else if (const char* v = value("dir")) {
      c->dir = v;
      c->dir_given = true;
    } else if (const char* v = value("policy")) {
      c->policy = v;
    } else if (arg == "--keep") {
      c->keep = true;
    } else {
      argv[out++] = argv[i];  // not ours
      continue;
    }
    if (!ok) {
      std::fprintf(stderr, "qorgau_bench: bad value in %s\n", arg.c_str());
      return false;
    }
  }
  *argc = out;
  if (c->subjects < 1024 || c->durable_subjects < 64) {
    std::fprintf(stderr, "qorgau_bench: --subjects must be >= 1024 and --durable_subjects >= 64\n");
    return false;
  }
  return true;
}

const Config& GetConfig() { return g_config; }
void SetConfig(const Config& config) { g_config = config; }

std::shared_ptr<const policy::Policy> Policy() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_policy) {
    policy::LoadResult loaded = policy::LoadPolicyFile(g_config.policy);
    if (!loaded.policy) {
      for (const auto& d : loaded.problems) std::fprintf(stderr, "%s\n", d.ToString().c_str());
      std::fprintf(stderr, "qorgau_bench: cannot load the policy %s\n", g_config.policy.c_str());
      std::exit(2);
    }
    g_policy = std::make_shared<const policy::Policy>(std::move(*loaded.policy));
  }
  return g_policy;
}

const Population& PopulationOf(std::uint64_t n) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto& p = g_populations[n];
  if (!p) p = std::make_unique<Population>(g_config.seed, n);
  return *p;
}

FilledIndex& IndexOf(std::uint64_t n) {
  const Population& pop = PopulationOf(n);
  auto policy = Policy();
  std::lock_guard<std::mutex> lock(g_mu);
  auto& f = g_indexes[n];
  if (!f) {
    Progress("filling a decision index with " + Short(n) + " subjects through Apply");
    f = std::make_unique<FilledIndex>();
    const std::int64_t heap0 = HeapInUse();
    const auto t0 = Clock::now();
    f->index = std::make_unique<index::DecisionIndex>(policy);
    pop.FillIndex(*f->index);
    f->fill_seconds = Since(t0);
    f->heap_bytes = HeapInUse() - heap0;
    Progress("  done in " + std::to_string(f->fill_seconds) + " s");
  }
  return *f;
}

NaiveDb& NaiveOf(std::uint64_t n) {
  const Population& pop = PopulationOf(n);
  std::lock_guard<std::mutex> lock(g_mu);
  auto& f = g_naive[n];
  if (!f) {
    const fs::path file = WorkDir() / ("naive_" + std::to_string(n) + ".db");
    Progress("writing the naive SQLite schema with " + Short(n) + " subjects to " + file.string());
    f = std::make_unique<NaiveDb>();
    const auto t0 = Clock::now();
    if (auto r = pop.FillNaive(file); !r) Die("naive schema", r.error());
    f->fill_seconds = Since(t0);
    auto db = SqliteDb::Open(file, /*create=*/false);
    if (!db) Die("naive schema", db.error());
    f->db = std::move(*db);
    // Tuned for reads, as a deployment answering checks would be: a 1 GiB
    // page cache and the file memory-mapped.
    if (auto r = f->db->Exec("PRAGMA cache_size = -1048576; PRAGMA mmap_size = 17179869184;"); !r) {
      Die("naive schema", r.error());
    }
    f->file_bytes = f->db->FileBytes();
    Progress("  done in " + std::to_string(f->fill_seconds) + " s");
  }
  return *f;
}

QorgauStore& QorgauStoreOf(std::uint64_t n) {
  const Population& pop = PopulationOf(n);
  std::lock_guard<std::mutex> lock(g_mu);
  auto& f = g_stores[n];
  if (!f) {
    const fs::path file = WorkDir() / ("qorgau_" + std::to_string(n) + ".db");
    Progress("writing a qorgau store with " + Short(n) + " subjects to " + file.string());
    f = std::make_unique<QorgauStore>();
    auto store = store::OpenSqliteStore(file, /*create=*/true);
    if (!store) Die("qorgau store", store.error());
    f->store = std::move(*store);
    const auto t0 = Clock::now();
    if (auto r = pop.FillStore(*f->store); !r) Die("qorgau store", r.error());
    f->fill_seconds = Since(t0);
    f->file_bytes = FileSize(file) + FileSize(file.string() + "-wal");
    Progress("  done in " + std::to_string(f->fill_seconds) + " s");
  }
  return *f;
}

DurableFixture& Durable() {
  auto policy = Policy();
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_durable) return *g_durable;
  const std::uint64_t n = g_config.durable_subjects;
  const fs::path dir = WorkDir() / "instance";
  Progress("creating an instance in " + dir.string() + " with " + Short(n) + " subjects");
  auto f = std::make_unique<DurableFixture>();
  const auto t0 = Clock::now();
  if (auto r = app::Instance::Init(dir, g_config.policy, g_clock); !r) Die("Instance::Init", r.error());
  auto inst = app::Instance::Open(dir, g_clock);
  if (!inst) Die("Instance::Open", inst.error());
  f->instance = std::move(*inst);
  f->ids.assign(n, 0);
  f->granted.assign(n, 1);
  // Many writers at once, so that setup itself rides on group commit.
  rules::Engine& engine = f->instance->engine();
  const demo::SyntheticSubjects synthetic(g_config.seed);
  {
    auto console = engine.CallerFor(std::string(rules::kConsoleActor));
    if (!console) Die("console", console.error());
    const auto all = static_cast<DutyActions>(DutyAction::kRecord) |
                     static_cast<DutyActions>(DutyAction::kConsent) |
                     static_cast<DutyActions>(DutyAction::kWithdraw);
    if (auto r = engine.PutActor({"app-backend", ActorRole::kSystem, "Benchmark", "", "",
                                  {"contract_performance", "marketing"}},
                                 **console);
        !r) {
      Die("PutActor", r.error());
    }
    for (const auto& [purpose, categories] :
         std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"contract_performance", {"user.identity.iin", "user.contact.phone"}},
             {"marketing", {"user.contact.phone"}}}) {
      if (auto r = engine.GrantDuty({"app-backend", purpose, categories, false, all}, **console); !r) {
        Die("GrantDuty", r.error());
      }
    }
    auto caller = engine.CallerFor("app-backend");
    if (!caller) Die("CallerFor", caller.error());
    f->caller = *caller;
  }
  const rules::Caller& actor = *f->caller;
  std::mutex err_mu;
  std::optional<Error> failure;
  std::vector<std::thread> threads;
  constexpr int kSetupThreads = 32;
  for (int t = 0; t < kSetupThreads; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint64_t i = t; i < n; i += kSetupThreads) {
        const demo::SyntheticSubject s = synthetic.At(i);
        auto id = engine.AddSubject({s.iin, s.phone, {}, "subject"}, actor);
        if (!id) {
          std::lock_guard<std::mutex> l(err_mu);
          failure = id.error();
          return;
        }
        auto granted = engine.GrantConsent(
            {rules::SubjectKey::Id(*id), "marketing", "mobile_app", "APP-SETUP-" + std::to_string(i)},
            actor);
        if (!granted) {
          std::lock_guard<std::mutex> l(err_mu);
          failure = granted.error();
          return;
        }
        f->ids[i] = *id;
      }
    });
  }
  for (auto& th : threads) th.join();
  if (failure) Die("durable setup", *failure);
  f->setup_seconds = Since(t0);
  Progress("  done in " + std::to_string(f->setup_seconds) + " s");
  g_durable = std::move(f);
  return *g_durable;
}

NaiveDurableFixture& NaiveDurable() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_naive_durable) return *g_naive_durable;
  const std::uint64_t n = g_config.durable_subjects;
  const fs::path file = WorkDir() / "naive_durable.db";
  auto f = std::make_unique<NaiveDurableFixture>();
  auto db = SqliteDb::Open(file, /*create=*/true);
  if (!db) Die("naive durable", db.error());
  f->db = std::move(*db);
  SqliteDb& d = *f->db;
  // The same durability as qorgau's store: WAL, every commit fsync'd.
  auto check = [](Result<void> r) {
    if (!r) Die("naive durable", r.error());
  };
  check(d.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
  check(d.Exec(kNaiveSchema));
  check(d.Exec("BEGIN"));
  for (std::uint64_t id = 1; id <= n; ++id) {
    check(d.Exec("INSERT INTO consents (subject_id, purpose, state) VALUES (" + std::to_string(id) +
                 ", 'marketing', 0)"));
  }
  check(d.Exec("COMMIT"));
  auto prepare = [&](const char* sql) {
    auto s = d.Prepare(sql);
    if (!s) Die("naive durable", s.error());
    return Stmt(*s);
  };
  f->update = prepare("UPDATE consents SET state = ?2 WHERE subject_id = ?1 AND purpose = 'marketing'");
  f->audit = prepare(
      "INSERT INTO consent_audit (subject_id, purpose, state, channel, evidence, at) "
      "VALUES (?1, 'marketing', ?2, ?3, ?4, ?5)");
  f->begin = prepare("BEGIN IMMEDIATE");
  f->commit = prepare("COMMIT");
  f->granted.assign(n, 1);
  g_naive_durable = std::move(f);
  return *g_naive_durable;
}

FloorFixture& Floor() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_floor) return *g_floor;
  const std::uint64_t n = g_config.durable_subjects;
  auto f = std::make_unique<FloorFixture>();
  auto db = SqliteDb::Open(WorkDir() / "floor.db", /*create=*/true);
  if (!db) Die("floor", db.error());
  f->db = std::move(*db);
  SqliteDb& d = *f->db;
  auto check = [](Result<void> r) {
    if (!r) Die("floor", r.error());
  };
  // The columns, keys and indexes of these tables in src/store/sqlite.
  check(d.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"));
  check(d.Exec(R"sql(
CREATE TABLE consents (
  subject_id INTEGER NOT NULL, purpose TEXT NOT NULL, state INTEGER NOT NULL,
  edition INTEGER NOT NULL, channel TEXT NOT NULL, evidence TEXT NOT NULL,
  changed_at INTEGER NOT NULL, event_seq INTEGER NOT NULL,
  PRIMARY KEY (subject_id, purpose)) STRICT;
CREATE TABLE events (
  seq INTEGER PRIMARY KEY, body TEXT NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL,
  subject_id INTEGER) STRICT;
CREATE INDEX events_by_subject ON events (subject_id) WHERE subject_id IS NOT NULL;
CREATE TABLE merkle_nodes (
  level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)) STRICT, WITHOUT ROWID;
)sql"));
  check(d.Exec("BEGIN"));
  for (std::uint64_t id = 1; id <= n; ++id) {
    check(d.Exec("INSERT INTO consents VALUES (" + std::to_string(id) +
                 ", 'marketing', 0, 1, 'mobile_app', 'APP-0', 0, 0)"));
  }
  check(d.Exec("COMMIT"));
  auto prepare = [&](const char* sql) {
    auto s = d.Prepare(sql);
    if (!s) Die("floor", s.error());
    return Stmt(*s);
  };
  f->read = prepare("SELECT purpose, state, edition, channel, evidence, changed_at, event_seq "
                    "FROM consents WHERE subject_id = ?1");
  f->event = prepare("INSERT INTO events (seq, body, prev_hash, hash, subject_id) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)");
  f->node = prepare("INSERT INTO merkle_nodes (level, idx, hash) VALUES (?1, ?2, ?3)");
  f->consent = prepare("INSERT OR REPLACE INTO consents VALUES (?1, 'marketing', ?2, 1, ?3, ?4, ?5, ?6)");
  f->begin = prepare("BEGIN IMMEDIATE");
  f->commit = prepare("COMMIT");
  g_floor = std::move(f);
  return *g_floor;
}

const fs::path& BenchWorkDir() { return WorkDir(); }
void BenchProgress(const std::string& what) { Progress(what); }

StatementFixture& StatementData() {
  auto policy = Policy();
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_statement) return *g_statement;
  const fs::path dir = WorkDir() / "statement";
  Progress("creating a subject with ~1 000 events for the statement in " + dir.string());
  auto f = std::make_unique<StatementFixture>();
  if (auto r = app::Instance::Init(dir, g_config.policy, g_clock); !r) Die("Instance::Init", r.error());
  auto inst = app::Instance::Open(dir, g_clock);
  if (!inst) Die("Instance::Open", inst.error());
  f->instance = std::move(*inst);
  rules::Engine& e = f->instance->engine();
  const policy::Policy& p = e.policy();
  auto check = [](const auto& r, const char* what) {
    if (!r) Die(what, r.error());
  };
  auto console = e.CallerFor(std::string(rules::kConsoleActor));
  check(console, "console");
  check(e.PutActor({"office", ActorRole::kEmployee, "Office", "2024-01-01", "2024-01-01", {}}, **console), "PutActor");
  for (const auto& pu : p.purposes) {
    store::DutyRecord d{"office", pu.id, {}, false, kAllDutyActions};
    for (const auto& c : p.categories) {
      if (p.CategoryAllowsPurpose(c.id, pu.id)) d.categories.push_back(c.id);
    }
    if (!d.categories.empty()) check(e.GrantDuty(d, **console), "GrantDuty");
  }
  auto office = e.CallerFor("office");
  check(office, "CallerFor");
  f->office = *office;
  const auto s = demo::SyntheticSubjects(g_config.seed).At(1);
  auto id = e.AddSubject({s.iin, s.phone, {{"user.identity.name", s.name}, {"user.contact.email", s.email}}, "subject"},
                         *f->office);
  check(id, "AddSubject");
  f->subject = *id;
  const auto key = rules::SubjectKey::Id(*id);
  check(e.JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-1"}, *f->office), "JoinContract");
  check(e.JoinContract({key, "sms", {"marketing_offers"}, "SMS-1"}, *f->office), "JoinContract");
  // A value of every other category the subject's services need.
  std::set<std::string> needed;
  {
    auto txn = f->instance->store().Begin(store::Store::Mode::kRead);
    check(txn, "Begin");
    auto subs = (*txn)->GetSubscriptions(*id);
    check(subs, "GetSubscriptions");
    for (const auto& sub : *subs) {
      if (const policy::Service* sv = p.FindService(sub.service)) {
        for (const auto& c : sv->categories) needed.insert(c.id);
      }
    }
  }
  for (const auto& c : needed) {
    const policy::Category* cat = p.FindCategory(c);
    if (!cat || cat->value != ValueType::kText) continue;
    check(e.PutData(key, c, "value of " + c, "service", *f->office), "PutData");
  }
  // 500 changes of the marketing consent: ~1 000 events with the receipts.
  for (int k = 0; k < 500; ++k) {
    const rules::ConsentRequest change{key, "marketing", k % 2 == 0 ? "app_support_chat" : "mobile_app",
                                       "EV-" + std::to_string(k)};
    if (k % 2 == 0) {
      check(e.WithdrawConsent(change, *f->office), "WithdrawConsent");
    } else {
      check(e.GrantConsent(change, *f->office), "GrantConsent");
    }
  }
  {
    auto txn = f->instance->store().Begin(store::Store::Mode::kRead);
    check(txn, "Begin");
    check((*txn)->ScanSubjectEvents(*id, [&](const store::EventRecord&) { ++f->events; }), "ScanSubjectEvents");
    auto held = (*txn)->GetPersonalData(*id);
    check(held, "GetPersonalData");
    f->categories = held->size();
  }
  // The naive rows: the same values in clear and the consent history.
  auto db = SqliteDb::Open(WorkDir() / "naive_statement.db", /*create=*/true);
  check(db, "naive statement");
  f->naive = std::move(*db);
  SqliteDb& d = *f->naive;
  check(d.Exec("CREATE TABLE personal_data (subject_id INTEGER, category TEXT, value TEXT, provenance TEXT, "
               "recorded_at INTEGER, PRIMARY KEY (subject_id, category));"
               "CREATE TABLE consent_audit (id INTEGER PRIMARY KEY, subject_id INTEGER, purpose TEXT, state INTEGER, "
               "channel TEXT, evidence TEXT, at INTEGER);"
               "CREATE INDEX consent_audit_by_subject ON consent_audit (subject_id); BEGIN"),
        "naive schema");
  for (std::size_t c = 0; c < f->categories; ++c) {
    check(d.Exec("INSERT INTO personal_data VALUES (1, 'category-" + std::to_string(c) +
                 "', 'a value of twenty chars', 'subject', 1764150000000)"),
          "naive data");
  }
  for (std::int64_t k = 0; k < f->events; ++k) {
    check(d.Exec("INSERT INTO consent_audit (subject_id, purpose, state, channel, evidence, at) VALUES (1, "
                 "'marketing', " + std::to_string(k % 2) + ", 'mobile_app', 'EV-" + std::to_string(k) +
                 "', 1764150000000)"),
          "naive history");
  }
  check(d.Exec("COMMIT"), "naive commit");
  auto prepare = [&](const char* sql) {
    auto st = d.Prepare(sql);
    if (!st) Die("naive statement", st.error());
    return Stmt(*st);
  };
  f->naive_data = prepare("SELECT category, value, provenance, recorded_at FROM personal_data WHERE subject_id = ?1");
  f->naive_history =
      prepare("SELECT purpose, state, channel, evidence, at FROM consent_audit WHERE subject_id = ?1 ORDER BY id");
  Progress("  subject " + std::to_string(f->subject) + ": " + std::to_string(f->events) + " events, " +
           std::to_string(f->categories) + " categories held");
  g_statement = std::move(f);
  return *g_statement;
}

void ReleaseFixtures() {
  std::lock_guard<std::mutex> lock(g_mu);
  g_durable.reset();
  g_naive_durable.reset();
  g_floor.reset();
  g_statement.reset();
  g_stores.clear();
  g_naive.clear();
  g_indexes.clear();
  if (!g_work_dir_used) return;
  if (g_config.keep) {
    Progress("kept " + WorkDir().string());
    return;
  }
  std::error_code ec;
  fs::remove_all(WorkDir(), ec);
}

std::shared_ptr<const rules::Caller> BenchDpo(rules::Engine& e) {
  auto console = e.CallerFor(std::string(rules::kConsoleActor));
  if (!console) Die("console", console.error());
  if (auto a = e.PutActor({"dpo", ActorRole::kDpo, "DPO", "2024-01-01", "2024-01-01", {}}, **console); !a) {
    Die("PutActor", a.error());
  }
  auto dpo = e.CallerFor("dpo");
  if (!dpo) Die("dpo", dpo.error());
  return *dpo;
}

}  // namespace qorgau::bench
