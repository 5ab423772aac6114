// qorgau_bench: runs the benchmarks with the console reporter, keeps every
// result, and ends with a summary table against DESIGN.md's performance
// budget: metric | qorgau | naive | speedup | target | met?
//
// Every Google Benchmark flag works (--benchmark_filter, --benchmark_repetitions,
// --benchmark_out, ...); with repetitions the summary takes the median.
// The population flags are in fixtures.h.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fixtures.h"
#include "names.h"

namespace qorgau::bench {

void RegisterIndexBenchmarks(const Config& c);
void RegisterDurableBenchmarks(const Config& c);
void RegisterStatementBenchmarks(const Config& c);
void RegisterRetentionBenchmarks(const Config& c);
void RegisterAggregateBenchmarks(const Config& c);

namespace {

// One reported run, reduced to what the summary needs.
struct Result1 {
  std::string name;  // the registered name
  int threads = 1;
  bool aggregate = false;
  std::string aggregate_name;
  bool error = false;
  std::string error_message;
  double real_ns = 0;  // real time per iteration
  std::map<std::string, double> counters;
};

class CollectingReporter : public benchmark::ConsoleReporter {
 public:
  explicit CollectingReporter(OutputOptions opts) : ConsoleReporter(opts) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      Result1 x;
      x.name = r.run_name.function_name;
      x.threads = static_cast<int>(r.threads);
      x.aggregate = r.run_type == Run::RT_Aggregate;
      x.aggregate_name = r.aggregate_name;
      x.error = r.error_occurred;
      x.error_message = r.error_message;
      x.real_ns = r.GetAdjustedRealTime() * UnitNs(r.time_unit);
      for (const auto& [k, c] : r.counters) x.counters[k] = c.value;
      results_.push_back(std::move(x));
    }
  }

  const std::vector<Result1>& results() const { return results_; }

 private:
  static double UnitNs(benchmark::TimeUnit u) {
    switch (u) {
      case benchmark::kNanosecond: return 1;
      case benchmark::kMicrosecond: return 1e3;
      case benchmark::kMillisecond: return 1e6;
      case benchmark::kSecond: return 1e9;
    }
    return 1;
  }
  std::vector<Result1> results_;
};

double Median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

// A benchmark's figure: the "median" aggregate when repetitions reported
// one, else the median over the runs reported.
struct Figure {
  bool ran = false;
  std::string error;  // set when every run failed
  double real_ns = NAN;
  std::map<std::string, double> counters;
  double Counter(const std::string& k) const {
    auto it = counters.find(k);
    return it == counters.end() ? NAN : it->second;
  }
};

Figure Find(const std::vector<Result1>& all, const std::string& name, int threads = 1) {
  Figure f;
  std::vector<const Result1*> runs;
  const Result1* median = nullptr;
  for (const Result1& r : all) {
    if (r.name != name || r.threads != threads) continue;
    if (r.error) {
      f.error = r.error_message;
      continue;
    }
    if (r.aggregate) {
      if (r.aggregate_name == "median") median = &r;
      continue;
    }
    runs.push_back(&r);
  }
  if (median) {
    f.ran = true;
    f.real_ns = median->real_ns;
    f.counters = median->counters;
    return f;
  }
  if (runs.empty()) return f;
  f.ran = true;
  std::vector<double> t;
  std::map<std::string, std::vector<double>> c;
  for (const Result1* r : runs) {
    t.push_back(r->real_ns);
    for (const auto& [k, v] : r->counters) c[k].push_back(v);
  }
  f.real_ns = Median(t);
  for (auto& [k, v] : c) f.counters[k] = Median(v);
  return f;
}

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Three significant digits.
std::string Sig(double v) {
  if (!std::isfinite(v)) return "?";
  const double a = std::fabs(v);
  if (a >= 100) return Fmt("%.0f", v);
  if (a >= 10) return Fmt("%.1f", v);
  if (a >= 1) return Fmt("%.2f", v);
  return Fmt("%.3g", v);
}

std::string Rate(double per_s) {
  if (!std::isfinite(per_s)) return "?";
  if (per_s >= 1e6) return Sig(per_s / 1e6) + " M/s";
  if (per_s >= 1e3) return Sig(per_s / 1e3) + " k/s";
  return Sig(per_s) + " /s";
}

std::string Time(double ns) {
  if (!std::isfinite(ns)) return "?";
  if (ns >= 1e9) return Sig(ns / 1e9) + " s";
  if (ns >= 1e6) return Sig(ns / 1e6) + " ms";
  if (ns >= 1e3) return Sig(ns / 1e3) + " µs";
  return Sig(ns) + " ns";
}

std::string Times(double x) { return std::isfinite(x) ? "×" + Sig(x) : "—"; }

struct Row {
  std::string metric, qorgau, naive, speedup, target, met;
};

std::string Missing(const Figure& f) {
  if (!f.error.empty()) return "error: " + f.error;
  return "not run";
}

void PrintSummary(const CollectingReporter& rep, const Config& c) {
  const auto& all = rep.results();
  std::vector<Row> rows;
  const std::uint64_t n = c.subjects;
  const std::string sn = Short(n);

  // Checks.
  struct CheckCase {
    const char* purpose;
    const char* label;
  };
  for (const CheckCase& cc : {CheckCase{"marketing", "consent purpose `marketing`"},
                              CheckCase{"contract_performance", "contract purpose `contract_performance`"}}) {
    const Figure naive = Find(all, names::CheckNaive(cc.purpose, n));
    const double nv = naive.Counter("items_per_second");
    for (const bool many : {false, true}) {
      const Figure q = Find(all, many ? names::CheckManyQorgau(cc.purpose, n)
                                      : names::CheckQorgau(cc.purpose, n));
      if (!q.ran && !naive.ran) continue;
      const double qv = q.Counter("items_per_second");
      rows.push_back({std::string("check, ") + cc.label + ", " + sn + " subjects, " +
                          (many ? "CheckMany ×1024" : "Check") + " (one core)",
                      q.ran ? Rate(qv) : Missing(q), naive.ran ? Rate(nv) + " (1 SELECT)" : Missing(naive),
                      q.ran && naive.ran ? Times(qv / nv) : "—", "≥ 10 M/s",
                      q.ran ? (qv >= 10e6 ? "yes" : "NO") : "—"});
    }
  }
  if (c.large > 0) {
    for (const bool many : {false, true}) {
      const Figure q = Find(all, many ? names::CheckManyQorgau("marketing", c.large)
                                      : names::CheckQorgau("marketing", c.large));
      if (!q.ran) continue;
      const double qv = q.Counter("items_per_second");
      rows.push_back({"check, `marketing`, " + Short(c.large) + " subjects, " +
                          (many ? "CheckMany ×1024" : "Check") + " (one core)",
                      Rate(qv), "not built (see audience)", "—", "≥ 10 M/s", qv >= 10e6 ? "yes" : "NO"});
    }
  }

  // Audiences.
  std::vector<std::uint64_t> sizes{n};
  if (c.naive_large > 0 && c.naive_large != n) sizes.push_back(c.naive_large);
  if (c.large > 0 && c.large != n && c.large != c.naive_large) sizes.push_back(c.large);
  std::vector<std::string> counts;
  for (std::uint64_t size : sizes) {
    const Figure q = Find(all, names::AudienceQorgau(size));
    const Figure naive = Find(all, names::AudienceNaive(size));
    if (!q.ran && !naive.ran && q.error.empty() && naive.error.empty()) continue;
    const bool at_large = size == c.large;
    std::string naive_text = naive.ran ? Time(naive.real_ns) : Missing(naive);
    if (!naive.ran && naive.error.empty() && at_large) {
      naive_text = "not run: too long to build (naive stops at --naive_large)";
    }
    rows.push_back({"audience: `marketing` allowed and no open obligation, " + Short(size) + " subjects",
                    q.ran ? Time(q.real_ns) : Missing(q), naive_text,
                    q.ran && naive.ran ? Times(naive.real_ns / q.real_ns) : "—",
                    size >= 25'000'000 ? "≤ 5 ms" : "— (target is at 25 M)",
                    size >= 25'000'000 && q.ran ? (q.real_ns <= 5e6 ? "yes" : "NO") : "—"});
    if (q.ran || naive.ran) {
      counts.push_back(Short(size) + ": qorgau " +
                       (q.ran ? Fmt("%.0f", q.Counter("audience")) : std::string("-")) + ", naive " +
                       (naive.ran ? Fmt("%.0f", naive.Counter("audience")) : std::string("-")));
    }
  }

  // Memory.
  const Figure naive_n = Find(all, names::AudienceNaive(n));
  for (std::uint64_t size : {n, c.large}) {
    if (size == 0) continue;
    const Figure q = Find(all, names::IndexMemory(size));
    if (!q.ran) continue;
    const double b = q.Counter("bytes_per_subject");
    const double nb = size == n ? naive_n.Counter("file_bytes_per_subject") : NAN;
    rows.push_back({"decision index bytes per subject, " + Short(size) + " subjects (MemoryBytes; heap " +
                        Sig(q.Counter("heap_bytes_per_subject")) + " B)",
                    Sig(b) + " B",
                    std::isfinite(nb) ? Sig(nb) + " B (SQLite file)" : "—",
                    std::isfinite(nb) ? Times(nb / b) + " smaller" : "—", "≤ 16 B",
                    b <= 16 ? "yes" : "NO"});
  }
  const Figure load = Find(all, names::IndexLoad(n));
  if (load.ran || !load.error.empty()) {
    rows.push_back({"index load from the qorgau store, " + sn + " subjects",
                    load.ran ? Time(load.real_ns) + " (" + Rate(load.Counter("items_per_second")) + ")"
                             : Missing(load),
                    "— (queries the tables)", "—", "—", "—"});
  }

  // Durable changes.
  const Figure dn = Find(all, names::DurableNaive(), 1);
  const double naive_rate = dn.Counter("items_per_second");
  std::vector<std::string> batches;
  for (int t : {1, 4, 16, 64}) {
    const Figure q = Find(all, names::DurableQorgau(), t);
    if (!q.ran && q.error.empty()) continue;
    const double qv = q.Counter("items_per_second");
    rows.push_back({"durable consent changes, group commit, " + std::to_string(t) + " thread" +
                        (t > 1 ? "s" : "") + " (naive: 1 thread, txn per change)",
                    q.ran ? Rate(qv) : Missing(q), dn.ran ? Rate(naive_rate) : Missing(dn),
                    q.ran && dn.ran ? Times(qv / naive_rate) : "—", "≥ 50 k/s",
                    q.ran ? (qv >= 50e3 ? "yes" : "NO") : "—"});
    if (q.ran) {
      batches.push_back(std::to_string(t) + " threads: " + Fmt("%.0f", q.Counter("batches")) +
                        " batches, " + Sig(q.Counter("changes_per_batch")) + " changes/batch, " +
                        Sig(q.Counter("cpu_us_per_change")) + " µs CPU/change");
    }
  }

  // The floors: at batch 64 against the 64-client target, at batch 1
  // (a commit per change, as one client gets) against naive's rate.
  for (const int batch : {64, 1}) {
    const bool one = batch == 1;
    const std::string per = one ? "one per fsync'd commit" : "64 per fsync'd commit";
    const std::string target = one ? "≥ naive" : "≥ 50 k/s";
    auto met = [&](const Figure& f) -> std::string {
      if (!f.ran) return "—";
      const double v = f.Counter("items_per_second");
      if (one) return dn.ran ? (v >= naive_rate ? "yes" : "NO") : "—";
      return v >= 50e3 ? "yes" : "NO";
    };
    const Figure floor = Find(all, names::DurableFloor(batch), 1);
    if (floor.ran || !floor.error.empty()) {
      rows.push_back({"SQLite floor of a ledgered change: its event row, one Merkle node, the consent "
                      "row, " + per + ", one thread, nothing hashed (an upper bound)",
                      floor.ran ? Rate(floor.Counter("items_per_second")) : Missing(floor),
                      one && dn.ran ? Rate(naive_rate) : "—",
                      one && floor.ran && dn.ran ? Times(floor.Counter("items_per_second") / naive_rate) : "—",
                      target, met(floor)});
    }
    const Figure ledger_floor = Find(all, names::DurableLedgerFloor(batch), 1);
    if (ledger_floor.ran || !ledger_floor.error.empty()) {
      rows.push_back({"ledger floor: the SQLite floor plus what ledger format 2 computes for each change (its "
                      "canonical body, chain and leaf hashes, one Merkle node) and one Ed25519 tree-head "
                      "signature per commit, " + per + "; no checks, no receipt, one thread (an upper bound "
                      "for a writer that hashes)",
                      ledger_floor.ran ? Rate(ledger_floor.Counter("items_per_second")) : Missing(ledger_floor),
                      one && dn.ran ? Rate(naive_rate) : "—",
                      one && ledger_floor.ran && dn.ran
                          ? Times(ledger_floor.Counter("items_per_second") / naive_rate)
                          : "—",
                      target, met(ledger_floor)});
    }
  }

  const Figure stq = Find(all, names::StatementQorgau());
  const Figure stn = Find(all, names::StatementNaive());
  if (stq.ran || !stq.error.empty()) {
    const double p99 = stq.Counter("p99_us");
    rows.push_back({"information statement, JSON, one subject with " + Fmt("%.0f", stq.Counter("events")) +
                        " events and " + Fmt("%.0f", stq.Counter("categories")) +
                        " categories (p50 / p99; the read recorded durably)",
                    stq.ran ? Sig(stq.Counter("p50_us")) + " / " + Sig(p99) + " µs" : Missing(stq),
                    stn.ran ? Sig(stn.Counter("p50_us")) + " / " + Sig(stn.Counter("p99_us")) + " µs (rows only)" : Missing(stn),
                    stq.ran && stn.ran ? Times(stn.Counter("p50_us") / stq.Counter("p50_us")) : "—", "p99 ≤ 5 ms",
                    stq.ran ? (p99 <= 5000 ? "yes" : "NO") : "—"});
  }

  if (rows.empty()) return;
  std::printf("\n## Summary (medians where repeated)\n\n");
  std::printf("| metric | qorgau | naive | speedup | DESIGN.md target | met? |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Row& r : rows) {
    std::printf("| %s | %s | %s | %s | %s | %s |\n", r.metric.c_str(), r.qorgau.c_str(),
                r.naive.c_str(), r.speedup.c_str(), r.target.c_str(), r.met.c_str());
  }
  std::printf("\n");
  if (!counts.empty()) {
    std::printf("Audience sizes (must agree):");
    for (const auto& s : counts) std::printf("  %s;", s.c_str());
    std::printf("\n");
  }
  if (!batches.empty()) {
    std::printf("Group commit:");
    for (const auto& s : batches) std::printf("  %s;", s.c_str());
    if (dn.ran) std::printf("  naive: %s µs CPU/change;", Sig(dn.Counter("cpu_us_per_change")).c_str());
    for (const int batch : {64, 1}) {
      const std::string b = std::to_string(batch);
      const Figure floor = Find(all, names::DurableFloor(batch), 1);
      const Figure ledger_floor = Find(all, names::DurableLedgerFloor(batch), 1);
      if (floor.ran) {
        std::printf("  SQLite floor, batch %s: %s µs CPU/change;", b.c_str(),
                    Sig(floor.Counter("cpu_us_per_change")).c_str());
      }
      if (ledger_floor.ran) {
        std::printf("  ledger floor, batch %s: %s µs CPU/change;", b.c_str(),
                    Sig(ledger_floor.Counter("cpu_us_per_change")).c_str());
      }
    }
    std::printf("\n");
  }
  if (c.large > 0 && c.large != c.naive_large) {
    std::printf("The naive SQL audience is not measured at %s subjects (--large): at 25 M, "
                "building that database alone would take longer than the whole run%s.\n",
                Short(c.large).c_str(),
                c.naive_large > 0 ? (", so the naive side stops at " + Short(c.naive_large)).c_str()
                                  : "");
  }
  std::printf("Naive = the same data in plain SQLite tables with the right indexes "
              "(bench/population.cc, kNaiveSchema).\n");
}

void PrintHelp() {
  benchmark::PrintDefaultHelp();
  std::fprintf(stdout,
               "qorgau_bench flags (or the environment variables in brackets):\n"
               "  --subjects=N           main population, default 1M [QORGAU_BENCH_SUBJECTS]\n"
               "  --large=N              large index, 0 to skip, default 25M [QORGAU_BENCH_LARGE]\n"
               "  --naive_large=N        larger naive audience, 0 to skip, default 5M "
               "[QORGAU_BENCH_NAIVE_LARGE]\n"
               "  --durable_subjects=N   subjects of the durable benchmark, default 2000 "
               "[QORGAU_BENCH_DURABLE_SUBJECTS]\n"
               "  --seed=N               population seed, default 2024 [QORGAU_BENCH_SEED]\n"
               "  --dir=PATH             where the work directory is made, default $TMPDIR or /tmp "
               "[QORGAU_BENCH_DIR]\n"
               "  --keep                 keep the work directory [QORGAU_BENCH_KEEP=1]\n"
               "  --policy=FILE          policy file, default policies/kem/policy.yaml [QORGAU_POLICY]\n");
}

}  // namespace
}  // namespace qorgau::bench

int main(int argc, char** argv) {
  using namespace qorgau::bench;
  benchmark::Initialize(&argc, argv, PrintHelp);
  Config config;
  if (!ParseConfig(&argc, argv, &config)) return 1;
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SetConfig(config);
  benchmark::AddCustomContext("qorgau.subjects", std::to_string(config.subjects));
  benchmark::AddCustomContext("qorgau.large", std::to_string(config.large));
  benchmark::AddCustomContext("qorgau.naive_large", std::to_string(config.naive_large));
  benchmark::AddCustomContext("qorgau.durable_subjects", std::to_string(config.durable_subjects));
  benchmark::AddCustomContext("qorgau.seed", std::to_string(config.seed));
  benchmark::AddCustomContext("qorgau.policy", config.policy.string());

  RegisterIndexBenchmarks(config);
  RegisterDurableBenchmarks(config);
  RegisterStatementBenchmarks(config);
  RegisterRetentionBenchmarks(config);
  RegisterAggregateBenchmarks(config);

  const bool color = ::isatty(STDOUT_FILENO) != 0;
  CollectingReporter reporter(color ? benchmark::ConsoleReporter::OO_Color
                                    : benchmark::ConsoleReporter::OO_None);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintSummary(reporter, config);
  std::fflush(stdout);
  benchmark::Shutdown();
  ReleaseFixtures();
  return 0;
}
