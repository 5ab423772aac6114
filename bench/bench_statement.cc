// The information statement (R-IV.4) against the naive alternative: reading
// the same subject's values and consent history as plain SQLite rows and
// writing them out as JSON. qorgau's statement also decrypts the values,
// reads the subject's ~1 000 ledger events, the index and the policy in
// three languages, and records the read durably (an fsync'd group commit):
// the figure a user waits for.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.h"
#include "names.h"
#include "report/statement.h"

namespace qorgau::bench {
namespace {

// p50 and p99 of the iterations' times, as counters (microseconds).
void Percentiles(benchmark::State& state, std::vector<double>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  auto at = [&](double q) { return us[std::min(us.size() - 1, static_cast<std::size_t>(q * static_cast<double>(us.size())))]; };
  state.counters["p50_us"] = at(0.50);
  state.counters["p99_us"] = at(0.99);
}

void StatementQorgau(benchmark::State& state) {
  StatementFixture& f = StatementData();
  rules::Engine& engine = f.instance->engine();
  const rules::StatementRequest req{rules::SubjectKey::Id(f.subject), "ru", false, std::nullopt};
  std::vector<double> us;
  std::optional<std::string> error;
  std::size_t bytes = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    auto st = engine.Statement(req, *f.office);
    if (!st) {
      if (!error) error = st.error().ToString();
      continue;
    }
    const std::string json = report::StatementJson(engine.policy(), *st);
    bytes = json.size();
    benchmark::DoNotOptimize(json.data());
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  if (error) state.SkipWithError(error->c_str());
  Percentiles(state, us);
  state.counters["events"] = static_cast<double>(f.events);
  state.counters["categories"] = static_cast<double>(f.categories);
  state.counters["bytes"] = static_cast<double>(bytes);
}

void StatementNaive(benchmark::State& state) {
  StatementFixture& f = StatementData();
  sqlite3* db = f.naive->get();
  std::vector<double> us;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    boost::json::array data, history;
    sqlite3_bind_int64(f.naive_data.get(), 1, 1);
    while (sqlite3_step(f.naive_data.get()) == SQLITE_ROW) {
      auto text = [&](int c) { return reinterpret_cast<const char*>(sqlite3_column_text(f.naive_data.get(), c)); };
      data.push_back(boost::json::object{{"category", text(0)}, {"value", text(1)}, {"provenance", text(2)},
                                         {"recorded_at", sqlite3_column_int64(f.naive_data.get(), 3)}});
    }
    sqlite3_reset(f.naive_data.get());
    sqlite3_bind_int64(f.naive_history.get(), 1, 1);
    while (sqlite3_step(f.naive_history.get()) == SQLITE_ROW) {
      sqlite3_stmt* h = f.naive_history.get();
      auto text = [&](int c) { return reinterpret_cast<const char*>(sqlite3_column_text(h, c)); };
      history.push_back(boost::json::object{{"purpose", text(0)}, {"state", sqlite3_column_int(h, 1)},
                                            {"channel", text(2)}, {"evidence", text(3)},
                                            {"at", sqlite3_column_int64(h, 4)}});
    }
    sqlite3_reset(f.naive_history.get());
    const std::string json = boost::json::serialize(boost::json::object{{"data", std::move(data)}, {"history", std::move(history)}});
    benchmark::DoNotOptimize(json.data());
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  (void)db;
  Percentiles(state, us);
}

}  // namespace

void RegisterStatementBenchmarks(const Config&) {
  benchmark::RegisterBenchmark(names::StatementQorgau().c_str(), StatementQorgau)
      ->UseRealTime()
      ->MinTime(1.0)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(names::StatementNaive().c_str(), StatementNaive)
      ->UseRealTime()
      ->MinTime(1.0)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace qorgau::bench
