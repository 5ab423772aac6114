// Retention (R-VII, issue 10): the plan over every subject and a
// destruction run, against the naive alternative a user would write: SQL
// `DELETE ... WHERE` per category over plain tables with the right indexes.
//
// The population (retention_subjects, default 100 000): every subject joined
// in 2018 with name, phone and e-mail recorded then; one in ten ended the
// contract in mid-2019 (so today its e-mail, phone and record are past
// their periods, and after five years also its name); one in 33 of those
// owes money (a debt that keeps everything). qorgau's store is filled through
// the Transaction API in one transaction (values sealed with fake bytes: a
// destruction never opens them); the naive schema holds the same rows.
//
// Each figure is one iteration (a run destroys: there is nothing to destroy
// a second time), on fresh copies made before the run.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include <chrono>
#include <string>

#include "fixtures.h"
#include "rules/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau::bench {
namespace {

namespace fs = std::filesystem;

constexpr UnixMillis kJoined = 1514764800000;  // 2018-01-01
constexpr UnixMillis kLeft = 1559347200000;    // 2019-06-01
constexpr char kNaiveSchema[] = R"sql(
CREATE TABLE personal_data (subject_id INTEGER NOT NULL, category TEXT NOT NULL, value BLOB NOT NULL,
                            recorded_at INTEGER NOT NULL, PRIMARY KEY (subject_id, category)) WITHOUT ROWID;
CREATE TABLE contracts (id INTEGER PRIMARY KEY, subject_id INTEGER NOT NULL, joined_at INTEGER NOT NULL,
                        ended_at INTEGER);
CREATE INDEX contracts_by_subject ON contracts (subject_id);
CREATE TABLE obligations (ref TEXT PRIMARY KEY, subject_id INTEGER NOT NULL, open INTEGER NOT NULL);
CREATE INDEX obligations_by_subject ON obligations (subject_id);
)sql";

bool Left(std::int64_t id) { return id % 10 == 0; }
bool Owes(std::int64_t id) { return id % 330 == 0; }

struct RetentionFixture {
  fs::path dir;         // the qorgau data directory, filled once
  fs::path naive_file;  // the naive database, filled once
  double fill_seconds = 0;
};

RetentionFixture& Fixture() {
  static RetentionFixture f = [] {
    RetentionFixture r;
    const std::uint64_t n = GetConfig().retention_subjects;
    r.dir = BenchWorkDir() / "retention";
    r.naive_file = BenchWorkDir() / "retention_naive.db";
    BenchProgress("filling the retention population of " + Short(n) + " subjects in " + r.dir.string());
    FixedClock clock(kJoined);
    const auto t0 = std::chrono::steady_clock::now();
    if (auto i = app::Instance::Init(r.dir, GetConfig().policy, clock); !i) Die("Instance::Init", i.error());
    {
      auto store = store::OpenSqliteStore(r.dir / "qorgau.db", false);
      if (!store) Die("open", store.error());
      auto txn = (*store)->Begin(store::Store::Mode::kWrite);
      if (!txn) Die("begin", txn.error());
      store::Transaction& t = **txn;
      const crypto::Bytes sealed(48, 0x5a);
      for (std::int64_t id = 1; id <= static_cast<std::int64_t>(n); ++id) {
        crypto::Bytes iin(32, 0), phone(32, 1);
        for (int k = 0; k < 8; ++k) iin[k] = phone[k] = static_cast<std::uint8_t>(id >> (8 * k));
        auto got = t.InsertSubject(kJoined, iin, phone);
        if (!got) Die("InsertSubject", got.error());
        for (const char* c : {"user.identity.name", "user.contact.phone", "user.contact.email"}) {
          if (auto w = t.PutPersonalData({*got, c, sealed, "subject", kJoined}); !w) Die("PutPersonalData", w.error());
        }
        auto contract = t.InsertContract({0, *got, "registration_form", "FORM", kJoined, 0});
        if (!contract) Die("InsertContract", contract.error());
        const bool left = Left(id);
        if (left) {
          if (auto w = t.EndContract(*contract, kLeft); !w) Die("EndContract", w.error());
        }
        if (auto w = t.PutSubscription({*got, "mobile_base", !left, *contract, left ? kLeft : kJoined, 0}); !w) {
          Die("PutSubscription", w.error());
        }
        if (Owes(id)) {
          store::ObligationRecord o{"DEBT-" + std::to_string(id), *got, ObligationKind::kDebt, 100, kJoined,
                                    std::nullopt, 0};
          if (auto w = t.InsertObligation(o); !w) Die("InsertObligation", w.error());
        }
      }
      if (auto c = t.Commit(); !c) Die("commit", c.error());
    }
    {
      auto db = SqliteDb::Open(r.naive_file, /*create=*/true);
      if (!db) Die("naive", db.error());
      SqliteDb& d = **db;
      if (auto e = d.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"); !e) {
        Die("naive", e.error());
      }
      if (auto e = d.Exec(kNaiveSchema); !e) Die("naive", e.error());
      if (auto e = d.Exec("BEGIN"); !e) Die("naive", e.error());
      Stmt pd(d.Prepare("INSERT INTO personal_data VALUES (?1, ?2, zeroblob(48), ?3)").value());
      Stmt ct(d.Prepare("INSERT INTO contracts (subject_id, joined_at, ended_at) VALUES (?1, ?2, ?3)").value());
      Stmt ob(d.Prepare("INSERT INTO obligations VALUES (?1, ?2, 1)").value());
      for (std::int64_t id = 1; id <= static_cast<std::int64_t>(n); ++id) {
        for (const char* c : {"user.identity.name", "user.contact.phone", "user.contact.email"}) {
          sqlite3_bind_int64(pd.get(), 1, id);
          sqlite3_bind_text(pd.get(), 2, c, -1, SQLITE_STATIC);
          sqlite3_bind_int64(pd.get(), 3, kJoined);
          sqlite3_step(pd.get());
          sqlite3_reset(pd.get());
        }
        sqlite3_bind_int64(ct.get(), 1, id);
        sqlite3_bind_int64(ct.get(), 2, kJoined);
        if (Left(id)) sqlite3_bind_int64(ct.get(), 3, kLeft);
        else sqlite3_bind_null(ct.get(), 3);
        sqlite3_step(ct.get());
        sqlite3_reset(ct.get());
        if (Owes(id)) {
          const std::string ref = "DEBT-" + std::to_string(id);
          sqlite3_bind_text(ob.get(), 1, ref.c_str(), -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64(ob.get(), 2, id);
          sqlite3_step(ob.get());
          sqlite3_reset(ob.get());
        }
      }
      if (auto e = d.Exec("COMMIT"); !e) Die("naive", e.error());
    }
    r.fill_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    BenchProgress("  done in " + std::to_string(r.fill_seconds) + " s");
    return r;
  }();
  return f;
}

// A copy of the filled data directory (with its master key and key store)
// for one destructive iteration.
fs::path CopyOf(const fs::path& dir, const std::string& name) {
  const fs::path to = dir.parent_path() / name;
  std::error_code ec;
  fs::remove_all(to, ec);
  fs::copy(dir, to, fs::copy_options::recursive, ec);
  if (ec) Die("copy", Error{ErrorCode::kIo, to.string(), ec.message()});
  fs::copy_file(dir.string() + ".master.key", to.string() + ".master.key", fs::copy_options::overwrite_existing, ec);
  return to;
}

void Report(benchmark::State& state, double seconds, std::int64_t subjects) {
  state.counters["subjects_per_s"] = static_cast<double>(subjects) / seconds;
  state.counters["seconds"] = seconds;
  state.counters["subjects"] = static_cast<double>(subjects);
}

void PlanQorgau(benchmark::State& state) {
  RetentionFixture& f = Fixture();
  SystemClock clock;
  auto inst = app::Instance::Open(f.dir, clock);
  if (!inst) Die("open", inst.error());
  const auto dpo = BenchDpo((*inst)->engine());
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto plan = (*inst)->engine().PlanDestruction({}, *dpo);
    if (!plan) Die("plan", plan.error());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, plan->subjects);
    std::int64_t due = 0;
    for (const auto& l : plan->lines) due += l.status == rules::RetentionStatus::kDue ? l.count : 0;
    state.counters["due"] = static_cast<double>(due);
  }
}

// The naive plan: what each category's rule makes due, as SQL conditions
// (the last contract ended that long ago, no open obligation).
constexpr const char* kNaiveDue[] = {
    // e-mail: 6 months
    "category = 'user.contact.email' AND subject_id IN (SELECT subject_id FROM contracts GROUP BY subject_id "
    "HAVING count(ended_at) = count(*) AND max(ended_at) < ?1 - 15778800000) "
    "AND subject_id NOT IN (SELECT subject_id FROM obligations WHERE open = 1)",
    // phone: 2 years
    "category = 'user.contact.phone' AND subject_id IN (SELECT subject_id FROM contracts GROUP BY subject_id "
    "HAVING count(ended_at) = count(*) AND max(ended_at) < ?1 - 63115200000) "
    "AND subject_id NOT IN (SELECT subject_id FROM obligations WHERE open = 1)",
    // name: 5 years
    "category = 'user.identity.name' AND subject_id IN (SELECT subject_id FROM contracts GROUP BY subject_id "
    "HAVING count(ended_at) = count(*) AND max(ended_at) < ?1 - 157788000000) "
    "AND subject_id NOT IN (SELECT subject_id FROM obligations WHERE open = 1)",
};

void PlanNaive(benchmark::State& state) {
  RetentionFixture& f = Fixture();
  auto db = SqliteDb::Open(f.naive_file, false);
  if (!db) Die("naive", db.error());
  const UnixMillis now = SystemClock().Now();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    std::int64_t due = 0;
    for (const char* where : kNaiveDue) {
      Stmt s((*db)->Prepare(std::string("SELECT count(*) FROM personal_data WHERE ") + where).value());
      sqlite3_bind_int64(s.get(), 1, now);
      if (sqlite3_step(s.get()) == SQLITE_ROW) due += sqlite3_column_int64(s.get(), 0);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, static_cast<std::int64_t>(GetConfig().retention_subjects));
    state.counters["due"] = static_cast<double>(due);
  }
}

void RunQorgau(benchmark::State& state) {
  RetentionFixture& f = Fixture();
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path dir = CopyOf(f.dir, "retention_run");
    SystemClock clock;
    auto inst = app::Instance::Open(dir, clock);
    if (!inst) Die("open", inst.error());
    const auto dpo = BenchDpo((*inst)->engine());
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    rules::RetentionRunRequest req;
    req.batch = 256;
    auto run = (*inst)->engine().RunDestruction(req, *dpo);
    if (!run) Die("run", run.error());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, static_cast<std::int64_t>(GetConfig().retention_subjects));
    const auto act = boost::json::parse(run->run.act).as_object();
    state.counters["destroyed_subjects"] = static_cast<double>(act.at("subjects").as_int64());
  }
}

void RunNaive(benchmark::State& state) {
  RetentionFixture& f = Fixture();
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path file = f.naive_file.parent_path() / "retention_naive_run.db";
    std::error_code ec;
    fs::remove(file, ec);
    fs::copy_file(f.naive_file, file, ec);
    auto db = SqliteDb::Open(file, false);
    if (!db) Die("naive", db.error());
    if (auto e = (*db)->Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"); !e) {
      Die("naive", e.error());
    }
    const UnixMillis now = SystemClock().Now();
    state.ResumeTiming();
    const auto t0 = std::chrono::steady_clock::now();
    if (auto e = (*db)->Exec("BEGIN IMMEDIATE"); !e) Die("naive", e.error());
    std::int64_t deleted = 0;
    for (const char* where : kNaiveDue) {
      Stmt s((*db)->Prepare(std::string("DELETE FROM personal_data WHERE ") + where).value());
      sqlite3_bind_int64(s.get(), 1, now);
      if (sqlite3_step(s.get()) != SQLITE_DONE) Die("naive", Error{ErrorCode::kIo, "delete", sqlite3_errmsg((*db)->get())});
      deleted += sqlite3_changes((*db)->get());
    }
    if (auto e = (*db)->Exec("COMMIT"); !e) Die("naive", e.error());
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, static_cast<std::int64_t>(GetConfig().retention_subjects));
    state.counters["deleted_rows"] = static_cast<double>(deleted);
  }
}

}  // namespace

void RegisterRetentionBenchmarks(const Config& c) {
  if (c.retention_subjects == 0) return;
  const std::string n = "/subjects:" + Short(c.retention_subjects);
  using Fn = void (*)(benchmark::State&);
  const std::pair<std::string, Fn> all[] = {{"retention/plan/qorgau" + n, PlanQorgau},
                                            {"retention/plan/naive/sql_count" + n, PlanNaive},
                                            {"retention/run/qorgau" + n, RunQorgau},
                                            {"retention/run/naive/sql_delete" + n, RunNaive}};
  for (const auto& [name, fn] : all) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseManualTime()->Iterations(1)->Unit(benchmark::kSecond);
  }
}

}  // namespace qorgau::bench
