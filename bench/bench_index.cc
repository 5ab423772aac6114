// The decision index against the naive SQL schema: a consent check, an
// audience, the memory per subject, and loading the index from a store.
#include <benchmark/benchmark.h>

#include <map>
#include <span>
#include <string>
#include <vector>

#include "fixtures.h"
#include "names.h"

namespace qorgau::bench {
namespace {

constexpr std::size_t kIds = std::size_t{1} << 20;  // pre-drawn random ids per population
constexpr std::size_t kBatch = 1024;

// Pseudo-random subject ids in [1, n], drawn once so that the loop measures
// the check, not the generator.
const std::vector<SubjectId>& RandomIds(std::uint64_t n) {
  static std::map<std::uint64_t, std::vector<SubjectId>> cache;
  auto& ids = cache[n];
  if (ids.empty()) {
    ids.resize(kIds);
    for (std::size_t i = 0; i < kIds; ++i) {
      ids[i] = static_cast<SubjectId>(Mix(0x5eed ^ (i * 0x9e37)) % n) + 1;
    }
  }
  return ids;
}

const Totals& TotalsOf(std::uint64_t n) {
  static std::map<std::uint64_t, Totals> cache;
  auto it = cache.find(n);
  if (it == cache.end()) it = cache.emplace(n, PopulationOf(n).Count()).first;
  return it->second;
}

// --- check ---------------------------------------------------------------

void CheckQorgau(benchmark::State& state, std::uint64_t n, std::string purpose) {
  const index::DecisionIndex& idx = *IndexOf(n).index;
  const int p = idx.PurposeOrdinal(purpose);
  const auto& ids = RandomIds(n);
  std::size_t i = 0;
  std::uint64_t allowed = 0;
  for (auto _ : state) {
    const index::Decision d = idx.Check(ids[i++ & (kIds - 1)], p, 0);
    allowed += d.allow ? 1 : 0;
    benchmark::DoNotOptimize(d);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allowed_share"] = static_cast<double>(allowed) / static_cast<double>(state.iterations());
}

void CheckManyQorgau(benchmark::State& state, std::uint64_t n, std::string purpose) {
  const index::DecisionIndex& idx = *IndexOf(n).index;
  const int p = idx.PurposeOrdinal(purpose);
  const auto& ids = RandomIds(n);
  std::vector<index::Decision> out(kBatch);
  std::size_t off = 0;
  std::uint64_t allowed = 0;
  for (auto _ : state) {
    idx.CheckMany(std::span<const SubjectId>(ids.data() + off, kBatch), p, 0, out);
    allowed += out[0].allow ? 1 : 0;
    off = (off + kBatch) & (kIds - 1);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.counters["allowed_share"] = static_cast<double>(allowed) / static_cast<double>(state.iterations());
}

// One prepared SELECT per check: the consent's state for a consent purpose;
// for a contract purpose, whether an active service needs it.
void CheckNaive(benchmark::State& state, std::uint64_t n, std::string purpose) {
  NaiveDb& naive = NaiveOf(n);
  auto policy = Policy();
  const policy::Purpose* pu = policy->FindPurpose(purpose);
  const bool contract = pu->basis == policy::LegalBasis::kContract;
  std::string sql = "SELECT state = 0 FROM consents WHERE subject_id = ?1 AND purpose = ?2";
  if (contract) {
    std::string in;
    for (const auto& s : policy->services) {
      for (const auto& r : s.purposes) {
        if (r.id == purpose) in += (in.empty() ? "'" : ", '") + s.id + "'";
      }
    }
    sql = "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE subject_id = ?1 AND active = 1 "
          "AND service IN (" + in + "))";
  }
  auto prepared = naive.db->Prepare(sql);
  if (!prepared) {
    state.SkipWithError(prepared.error().ToString().c_str());
    return;
  }
  Stmt stmt(*prepared);
  sqlite3_stmt* s = stmt.get();
  if (!contract) sqlite3_bind_text(s, 2, purpose.c_str(), -1, SQLITE_STATIC);
  const auto& ids = RandomIds(n);
  std::size_t i = 0;
  std::uint64_t allowed = 0;
  bool failed = false;
  for (auto _ : state) {
    sqlite3_bind_int64(s, 1, ids[i++ & (kIds - 1)]);
    const int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
      allowed += sqlite3_column_int(s, 0) != 0 ? 1 : 0;
    } else if (rc != SQLITE_DONE) {
      failed = true;
    }
    sqlite3_reset(s);
  }
  if (failed) state.SkipWithError(sqlite3_errmsg(naive.db->get()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["allowed_share"] = static_cast<double>(allowed) / static_cast<double>(state.iterations());
}

// --- audience ------------------------------------------------------------

void AudienceQorgau(benchmark::State& state, std::uint64_t n) {
  const index::DecisionIndex& idx = *IndexOf(n).index;
  const int p = idx.PurposeOrdinal("marketing");
  const Totals& totals = TotalsOf(n);
  std::uint64_t count = 0;
  for (auto _ : state) {
    index::Audience a = idx.Select(p, /*exclude_obligations=*/true);
    count = a.count;
    benchmark::DoNotOptimize(a.words.data());
  }
  if (count != totals.audience) {
    state.SkipWithError("the index's audience differs from the population's");
  }
  state.counters["audience"] = static_cast<double>(count);
  state.counters["subjects"] = static_cast<double>(n);
}

constexpr const char* kNaiveAudience =
    "SELECT COUNT(*) FROM consents c WHERE c.purpose = 'marketing' AND c.state = 0 "
    "AND NOT EXISTS (SELECT 1 FROM obligations o WHERE o.subject_id = c.subject_id AND o.open = 1)";

void AudienceNaive(benchmark::State& state, std::uint64_t n) {
  NaiveDb& naive = NaiveOf(n);
  const Totals& totals = TotalsOf(n);
  auto prepared = naive.db->Prepare(kNaiveAudience);
  if (!prepared) {
    state.SkipWithError(prepared.error().ToString().c_str());
    return;
  }
  Stmt stmt(*prepared);
  std::int64_t count = -1;
  for (auto _ : state) {
    if (sqlite3_step(stmt.get()) == SQLITE_ROW) count = sqlite3_column_int64(stmt.get(), 0);
    sqlite3_reset(stmt.get());
  }
  if (count != static_cast<std::int64_t>(totals.audience)) {
    state.SkipWithError("the SQL audience differs from the population's");
  }
  state.counters["audience"] = static_cast<double>(count);
  state.counters["subjects"] = static_cast<double>(n);
  state.counters["file_bytes_per_subject"] =
      static_cast<double>(naive.file_bytes) / static_cast<double>(n);
  state.counters["fill_s"] = naive.fill_seconds;
}

// --- memory and load -----------------------------------------------------

void IndexMemory(benchmark::State& state, std::uint64_t n) {
  FilledIndex& f = IndexOf(n);
  std::size_t bytes = 0;
  for (auto _ : state) {
    bytes = f.index->MemoryBytes();
    benchmark::DoNotOptimize(bytes);
  }
  const double subjects = static_cast<double>(f.index->subjects());
  state.counters["bytes_per_subject"] = static_cast<double>(bytes) / subjects;
  state.counters["heap_bytes_per_subject"] = static_cast<double>(f.heap_bytes) / subjects;
  state.counters["index_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
  state.counters["apply_fill_s"] = f.fill_seconds;
}

void IndexLoad(benchmark::State& state, std::uint64_t n) {
  QorgauStore& s = QorgauStoreOf(n);
  auto policy = Policy();
  const Totals& totals = TotalsOf(n);
  bool same = true;
  for (auto _ : state) {
    auto idx = index::DecisionIndex::Load(*s.store, policy);
    state.PauseTiming();
    if (!idx) {
      state.SkipWithError(idx.error().ToString().c_str());
    } else {
      same = same && (*idx)->subjects() == n &&
             (*idx)->Select((*idx)->PurposeOrdinal("marketing"), true).count == totals.audience;
      idx->reset();  // not timed
    }
    state.ResumeTiming();
  }
  if (!same) state.SkipWithError("the loaded index differs from the population");
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
  state.counters["store_bytes_per_subject"] =
      static_cast<double>(s.file_bytes) / static_cast<double>(n);
  state.counters["store_fill_s"] = s.fill_seconds;
}

}  // namespace

void RegisterIndexBenchmarks(const Config& c) {
  using benchmark::RegisterBenchmark;
  const std::uint64_t n = c.subjects;
  for (const char* purpose : {"marketing", "contract_performance"}) {
    const std::string p = purpose;
    RegisterBenchmark(names::CheckQorgau(p, n).c_str(), CheckQorgau, n, p);
    RegisterBenchmark(names::CheckManyQorgau(p, n).c_str(), CheckManyQorgau, n, p);
    RegisterBenchmark(names::CheckNaive(p, n).c_str(), CheckNaive, n, p);
  }
  if (c.large > 0) {
    RegisterBenchmark(names::CheckQorgau("marketing", c.large).c_str(), CheckQorgau, c.large,
                      std::string("marketing"));
    RegisterBenchmark(names::CheckManyQorgau("marketing", c.large).c_str(), CheckManyQorgau,
                      c.large, std::string("marketing"));
  }

  std::vector<std::uint64_t> qorgau_sizes{n}, naive_sizes{n};
  if (c.naive_large > 0 && c.naive_large != n) {
    qorgau_sizes.push_back(c.naive_large);
    naive_sizes.push_back(c.naive_large);
  }
  if (c.large > 0 && c.large != n && c.large != c.naive_large) qorgau_sizes.push_back(c.large);
  for (std::uint64_t size : qorgau_sizes) {
    RegisterBenchmark(names::AudienceQorgau(size).c_str(), AudienceQorgau, size)
        ->Unit(benchmark::kMillisecond);
  }
  for (std::uint64_t size : naive_sizes) {
    // Each query scans the whole consent table: a few iterations suffice.
    RegisterBenchmark(names::AudienceNaive(size).c_str(), AudienceNaive, size)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(size > 2'000'000 ? 1 : 3);
  }

  RegisterBenchmark(names::IndexMemory(n).c_str(), IndexMemory, n);
  if (c.large > 0 && c.large != n) {
    RegisterBenchmark(names::IndexMemory(c.large).c_str(), IndexMemory, c.large);
  }
  RegisterBenchmark(names::IndexLoad(n).c_str(), IndexLoad, n)
      ->Unit(benchmark::kMillisecond)
      ->Iterations(2);
}

}  // namespace qorgau::bench
