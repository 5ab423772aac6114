// Anonymised aggregates (R-IX.2, issue 11): a release over the main
// population (1 M subjects by default), against the GROUP BY a user would
// write over plain SQLite tables.
//
// The population: the --subjects subjects of the run's seed (population.h:
// marketing granted ~60 %, mobile_base ~85 %), each also with a birth date
// (ages 18 to 80), a sex and a registration between 2015 and 2026 drawn
// from the same seed. qorgau's store is filled through the Transaction API
// in one transaction, with the demographics really sealed under the
// instance's key ring (rules/demographics.h: the release opens each one) and
// placeholder data keys (a release never unwraps them). The naive database
// holds the same people in clear: people (id, birth as YYYYMMDD, sex,
// registered) and consents (subject, purpose, state).
//
// One release: marketing's population by age band and sex, released with
// k = the policy's (10), through Engine::ReleaseAggregate as the data
// protection officer: the lattice search, the differencing check against
// every earlier release, and the aggregate.released event with its commit.
// The naive side: the same counts by one GROUP BY ... HAVING count(*) >= k.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "fixtures.h"
#include "rules/demographics.h"
#include "rules/engine.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau::bench {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono;

constexpr UnixMillis kRegisteredFrom = 1420070400000;  // 2015-01-01
constexpr UnixMillis kRegisteredSpan = 11LL * 365 * 86400000;
constexpr char kNaiveSchema[] = R"sql(
CREATE TABLE people (id INTEGER PRIMARY KEY, birth INTEGER NOT NULL, sex TEXT NOT NULL,
                     registered INTEGER NOT NULL);
CREATE TABLE consents (subject_id INTEGER NOT NULL, purpose TEXT NOT NULL, state TEXT NOT NULL,
                       PRIMARY KEY (subject_id, purpose)) WITHOUT ROWID;
)sql";

struct Person {
  year_month_day birth;
  Sex sex;
  UnixMillis registered;
};

Person PersonOf(std::uint64_t seed, SubjectId id) {
  const std::uint64_t h = Mix(seed ^ Mix(static_cast<std::uint64_t>(id) * 0x51));
  const auto born = sys_days{year{1946} / January / 1} + days(static_cast<int>(h % (62 * 365)));
  return {year_month_day{born}, (h >> 32) & 1 ? Sex::kMale : Sex::kFemale,
          kRegisteredFrom + static_cast<UnixMillis>((h >> 33) % static_cast<std::uint64_t>(kRegisteredSpan))};
}

struct AggregateFixture {
  fs::path dir;
  fs::path naive_file;
  std::uint64_t subjects = 0;
  std::uint64_t granted = 0;
};

AggregateFixture& Fixture() {
  static AggregateFixture f = [] {
    AggregateFixture r;
    r.subjects = GetConfig().subjects;
    const Population& pop = PopulationOf(r.subjects);
    r.dir = BenchWorkDir() / "aggregate";
    r.naive_file = BenchWorkDir() / "aggregate_naive.db";
    BenchProgress("filling the aggregate population of " + Short(r.subjects) + " subjects in " + r.dir.string());
    const auto t0 = steady_clock::now();
    FixedClock clock(kRegisteredFrom);
    if (auto i = app::Instance::Init(r.dir, GetConfig().policy, clock); !i) Die("Instance::Init", i.error());
    {
      auto master = crypto::LoadMasterKey(r.dir, false);
      if (!master) Die("master key", master.error());
      auto ring = crypto::KeyRing::FromMasterKey(master->key);
      if (!ring) Die("key ring", ring.error());
      auto store = store::OpenSqliteStore(r.dir / "qorgau.db", false);
      if (!store) Die("open", store.error());
      auto txn = (*store)->Begin(store::Store::Mode::kWrite);
      if (!txn) Die("begin", txn.error());
      store::Transaction& t = **txn;
      const crypto::Bytes wrapped(61, 0x5a);
      for (SubjectId id = 1; id <= static_cast<SubjectId>(r.subjects); ++id) {
        const Person person = PersonOf(pop.seed(), id);
        const Profile p = pop.At(id);
        auto got = t.InsertSubject(person.registered, pop.FakeBlindIndex(id, 0), pop.FakeBlindIndex(id, 1));
        if (!got || *got != id) Die("InsertSubject", got ? Error{ErrorCode::kInternal, "id", "not 1..N"} : got.error());
        if (auto w = t.SetSubjectKey(id, wrapped); !w) Die("SetSubjectKey", w.error());
        auto sealed = ring->SealDemographics(id, rules::EncodeDemographics({person.birth, person.sex}));
        if (!sealed) Die("seal", sealed.error());
        if (auto w = t.SetSubjectDemographics(id, *sealed); !w) Die("SetSubjectDemographics", w.error());
        if (p.marketing != Mark::kNone) {
          const bool granted = p.marketing == Mark::kGranted;
          r.granted += granted ? 1 : 0;
          store::ConsentRecord c{id, "marketing", granted ? store::ConsentState::kGranted : store::ConsentState::kWithdrawn,
                                 1, "mobile_app", "BENCH-" + std::to_string(id), person.registered, 0};
          if (auto w = t.PutConsent(c); !w) Die("PutConsent", w.error());
        }
        if (p.mobile_base) {
          if (auto w = t.PutSubscription({id, "mobile_base", true, 0, person.registered, 0}); !w) {
            Die("PutSubscription", w.error());
          }
        }
      }
      // Filled already: the open does not look for IINs to fill them from.
      if (auto w = t.PutMeta(rules::kDemographicsMeta, crypto::ToBytes("1")); !w) Die("meta", w.error());
      if (auto c = t.Commit(); !c) Die("commit", c.error());
    }
    {
      auto db = SqliteDb::Open(r.naive_file, /*create=*/true);
      if (!db) Die("naive", db.error());
      SqliteDb& d = **db;
      if (auto e = d.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"); !e) Die("naive", e.error());
      if (auto e = d.Exec(kNaiveSchema); !e) Die("naive", e.error());
      if (auto e = d.Exec("BEGIN"); !e) Die("naive", e.error());
      Stmt people(d.Prepare("INSERT INTO people VALUES (?1, ?2, ?3, ?4)").value());
      Stmt consents(d.Prepare("INSERT INTO consents VALUES (?1, 'marketing', ?2)").value());
      for (SubjectId id = 1; id <= static_cast<SubjectId>(r.subjects); ++id) {
        const Person person = PersonOf(pop.seed(), id);
        const Profile p = pop.At(id);
        sqlite3_bind_int64(people.get(), 1, id);
        sqlite3_bind_int64(people.get(), 2,
                           static_cast<int>(person.birth.year()) * 10000 +
                               static_cast<int>(static_cast<unsigned>(person.birth.month())) * 100 +
                               static_cast<int>(static_cast<unsigned>(person.birth.day())));
        sqlite3_bind_text(people.get(), 3, person.sex == Sex::kFemale ? "F" : "M", 1, SQLITE_STATIC);
        sqlite3_bind_int64(people.get(), 4, person.registered);
        sqlite3_step(people.get());
        sqlite3_reset(people.get());
        if (p.marketing != Mark::kNone) {
          sqlite3_bind_int64(consents.get(), 1, id);
          sqlite3_bind_text(consents.get(), 2, p.marketing == Mark::kGranted ? "granted" : "withdrawn", -1,
                            SQLITE_STATIC);
          sqlite3_step(consents.get());
          sqlite3_reset(consents.get());
        }
      }
      if (auto e = d.Exec("COMMIT"); !e) Die("naive", e.error());
    }
    BenchProgress("  done in " + std::to_string(duration<double>(steady_clock::now() - t0).count()) + " s");
    return r;
  }();
  return f;
}

void Report(benchmark::State& state, double seconds, std::int64_t population, std::size_t groups) {
  state.counters["seconds"] = seconds;
  state.counters["population"] = static_cast<double>(population);
  state.counters["groups"] = static_cast<double>(groups);
  state.counters["subjects_per_s"] = static_cast<double>(population) / seconds;
}

void ReleaseQorgau(benchmark::State& state) {
  AggregateFixture& f = Fixture();
  SystemClock clock;
  auto inst = app::Instance::Open(f.dir, clock);
  if (!inst) Die("open", inst.error());
  rules::Engine& e = (*inst)->engine();
  const auto dpo = BenchDpo(e);
  for (auto _ : state) {
    const auto t0 = steady_clock::now();
    auto r = e.ReleaseAggregate({"marketing", {"age_band", "sex"}, "", "", std::nullopt}, *dpo);
    if (!r) Die("release", r.error());
    const double s = duration<double>(steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, r->population, r->cells.size());
    state.counters["suppressed_subjects"] = static_cast<double>(r->suppressed_subjects);
  }
}

void ReleaseNaive(benchmark::State& state) {
  AggregateFixture& f = Fixture();
  auto db = SqliteDb::Open(f.naive_file, false);
  if (!db) Die("naive", db.error());
  const auto today = year_month_day{floor<days>(system_clock::now())};
  const std::int64_t today_num = static_cast<int>(today.year()) * 10000 +
                                 static_cast<int>(static_cast<unsigned>(today.month())) * 100 +
                                 static_cast<int>(static_cast<unsigned>(today.day()));
  Stmt q((*db)->Prepare("SELECT (?1 - birth) / 100000 * 10 AS band, sex, count(*) AS n FROM people "
                        "JOIN consents ON consents.subject_id = people.id AND consents.purpose = 'marketing' "
                        "AND consents.state = 'granted' GROUP BY band, sex HAVING n >= 10")
             .value());
  for (auto _ : state) {
    const auto t0 = steady_clock::now();
    sqlite3_bind_int64(q.get(), 1, today_num);
    std::int64_t population = 0;
    std::size_t groups = 0;
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      population += sqlite3_column_int64(q.get(), 2);
      ++groups;
    }
    sqlite3_reset(q.get());
    const double s = duration<double>(steady_clock::now() - t0).count();
    state.SetIterationTime(s);
    Report(state, s, population, groups);
  }
}

}  // namespace

void RegisterAggregateBenchmarks(const Config& c) {
  if (c.subjects == 0) return;
  const std::string n = "/subjects:" + Short(c.subjects);
  using Fn = void (*)(benchmark::State&);
  const std::pair<std::string, Fn> all[] = {{"aggregate/release/qorgau" + n, ReleaseQorgau},
                                            {"aggregate/release/naive/sql_group_by" + n, ReleaseNaive}};
  for (const auto& [name, fn] : all) {
    benchmark::RegisterBenchmark(name.c_str(), fn)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);
  }
}

}  // namespace qorgau::bench
