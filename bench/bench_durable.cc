// Durable consent changes: qorgau's engine through group commit, from T
// threads at once, against the naive schema with one fsync'd SQLite
// transaction per change.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>

#include "fixtures.h"
#include "names.h"

namespace qorgau::bench {
namespace {

// CPU seconds of the whole process (every thread), user + system.
double ProcessCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// Before each durable run (not timed): write back what earlier benchmarks
// left dirty (their databases are hundreds of MB), or every fsync of this
// run waits behind that writeback.
void QuietDisk() { ::sync(); }

// Each thread owns the subjects i with i % T == t and cycles through them;
// a subject whose marketing consent is in force gets it withdrawn (through
// app_support_chat, a withdrawal channel), otherwise granted (mobile_app).
// Every change is one ledger event, durable before the call returns.
void DurableQorgau(benchmark::State& state) {
  DurableFixture& f = Durable();
  const auto threads = static_cast<std::size_t>(state.threads());
  const auto t = static_cast<std::size_t>(state.thread_index());
  const std::size_t per = f.ids.size() / threads;
  rules::Engine& engine = f.instance->engine();
  const rules::Caller& actor = *f.caller;
  std::uint64_t batches_before = 0;
  double cpu_before = 0;
  if (t == 0) {
    QuietDisk();
    batches_before = f.instance->writer().batches();
    cpu_before = ProcessCpuSeconds();
  }
  std::optional<std::string> error;
  std::uint64_t k = 0;
  for (auto _ : state) {
    const std::size_t i = t + threads * static_cast<std::size_t>(k % per);
    const std::string evidence = std::to_string(k++ % 100000);
    const rules::ConsentRequest change{
        rules::SubjectKey::Id(f.ids[i]), "marketing",
        f.granted[i] ? "app_support_chat" : "mobile_app",
        (f.granted[i] ? "CHAT-" : "APP-") + evidence};
    const auto r = f.granted[i] ? engine.WithdrawConsent(change, actor)
                                : engine.GrantConsent(change, actor);
    if (r) {
      f.granted[i] ^= 1;
    } else if (!error) {
      error = r.error().ToString();  // reported after the loop: all threads must finish it
    }
  }
  if (error) state.SkipWithError(error->c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  if (t == 0) {
    // Every thread has left the loop (the end barrier), so the count is whole.
    const double cpu = ProcessCpuSeconds() - cpu_before;
    const double changes = static_cast<double>(state.iterations()) * static_cast<double>(threads);
    const double batches =
        static_cast<double>(f.instance->writer().batches() - batches_before);
    state.counters["batches"] = batches;
    state.counters["changes_per_batch"] = batches > 0 ? changes / batches : 0;
    // Mostly the one writer thread, which runs every change of a batch.
    state.counters["cpu_us_per_change"] = changes > 0 ? cpu * 1e6 / changes : 0;
  }
}

// The same change as a user would write it: one transaction per change,
// UPDATE the consent row and INSERT an audit row, synchronous=FULL in WAL
// mode, one thread.
void DurableNaive(benchmark::State& state) {
  NaiveDurableFixture& f = NaiveDurable();
  const std::size_t n = f.granted.size();
  sqlite3* db = f.db->get();
  std::optional<std::string> error;
  auto step = [&](sqlite3_stmt* s) {
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW && !error) error = sqlite3_errmsg(db);
    sqlite3_reset(s);
  };
  QuietDisk();
  const double cpu_before = ProcessCpuSeconds();
  std::uint64_t k = 0;
  for (auto _ : state) {
    const std::size_t i = static_cast<std::size_t>(k % n);
    const std::string evidence = (f.granted[i] ? "CHAT-" : "APP-") + std::to_string(k++ % 100000);
    const int to = f.granted[i] ? 1 : 0;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    step(f.begin.get());
    sqlite3_bind_int64(f.update.get(), 1, static_cast<std::int64_t>(i + 1));
    sqlite3_bind_int(f.update.get(), 2, to);
    step(f.update.get());
    sqlite3_bind_int64(f.audit.get(), 1, static_cast<std::int64_t>(i + 1));
    sqlite3_bind_int(f.audit.get(), 2, to);
    sqlite3_bind_text(f.audit.get(), 3, to ? "app_support_chat" : "mobile_app", -1, SQLITE_STATIC);
    sqlite3_bind_text(f.audit.get(), 4, evidence.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(f.audit.get(), 5, now);
    step(f.audit.get());
    step(f.commit.get());
    f.granted[i] ^= 1;
  }
  const double cpu = ProcessCpuSeconds() - cpu_before;
  if (error) state.SkipWithError(error->c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["cpu_us_per_change"] = cpu * 1e6 / static_cast<double>(state.iterations());
}

}  // namespace

void RegisterDurableBenchmarks(const Config&) {
  benchmark::RegisterBenchmark(names::DurableQorgau().c_str(), DurableQorgau)
      ->Threads(1)
      ->Threads(4)
      ->Threads(16)
      ->Threads(64)
      ->UseRealTime()
      ->MinTime(1.0)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark(names::DurableNaive().c_str(), DurableNaive)
      ->Threads(1)
      ->UseRealTime()
      ->MinTime(1.0)
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace qorgau::bench
