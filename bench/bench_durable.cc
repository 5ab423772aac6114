// Durable consent changes: qorgau's engine through group commit, from T
// threads at once, against the naive schema with one fsync'd SQLite
// transaction per change.
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>

#include "core/clock.h"
#include "crypto/crypto.h"
#include "crypto/signer.h"
#include "fixtures.h"
#include "ledger/canonical_json.h"
#include "ledger/merkle.h"
#include "ledger/tree_head.h"
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

// The floor: what SQLite alone takes to store the fewest rows a ledgered
// consent change needs, in qorgau's own tables, batched as the group
// committer batches 64 clients (64 changes per fsync'd commit), or one
// change per fsync'd commit as it runs a single client: read the
// subject's consents, insert the change's event (a body the size of
// qorgau's consent.granted, about 210 bytes) and its subject index entry,
// one Merkle node (a tree has one inner node per leaf), and upsert the
// consent row. One thread, nothing hashed, encoded, checked or signed, no
// client threads: no design that keeps an event row per change in this
// store can be faster on this machine.
//
// `ledgered` adds what ledger format 2 (docs/ledger-format.md) makes every
// change compute, whatever the store: the event's canonical body (with
// ledger::CanonicalObject, but without ledger::Append's scan of the data
// for personal values or its encoding of the data as a JSON value), its
// chain hash (without the format's prefix) and its Merkle leaf hash, the
// one inner node hash a leaf adds on average (the sealer computes it twice,
// with two roots a batch), and one Ed25519 signature of a tree head per
// batch (so one per change at batch 1). No checks, no receipt and its
// second event, no client threads: a
// generous upper bound for a writer thread that hashes its own events.
void RunFloor(benchmark::State& state, std::uint64_t kBatch, bool ledgered) {
  FloorFixture& f = Floor();
  std::optional<crypto::Signer> signer;
  if (ledgered) {
    auto generated = crypto::Signer::Generate();
    if (!generated) {
      state.SkipWithError(generated.error().ToString().c_str());
      return;
    }
    signer.emplace(std::move(*generated));
  }
  crypto::Digest prev{};
  ledger::merkle::Hash left{};
  const std::int64_t n = static_cast<std::int64_t>(GetConfig().durable_subjects);
  sqlite3* db = f.db->get();
  std::optional<std::string> error;
  auto step = [&](sqlite3_stmt* s) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE && !error) error = sqlite3_errmsg(db);
    sqlite3_reset(s);
  };
  std::array<std::uint8_t, 32> hash{};  // the plain floor computes none
  char body[256];
  std::string encoded;
  QuietDisk();
  const double cpu_before = ProcessCpuSeconds();
  std::uint64_t k = 0;
  for (auto _ : state) {
    if (k % kBatch == 0) step(f.begin.get());
    const std::int64_t subject = 1 + static_cast<std::int64_t>(k % static_cast<std::uint64_t>(n));
    const std::int64_t seq = ++f.seq;
    const int len = std::snprintf(
        body, sizeof body,
        "{\"actor\":\"app-backend\",\"at\":\"2026-12-01T22:10:46.165Z\",\"data\":{\"basis\":"
        "\"consent\",\"channel\":\"mobile_app\",\"edition\":1,\"evidence\":\"APP-%llu\","
        "\"purpose\":\"marketing\"},\"seq\":%lld,\"subject\":%lld,\"type\":\"consent.granted\","
        "\"v\":1}",
        static_cast<unsigned long long>(k % 100000), static_cast<long long>(seq),
        static_cast<long long>(subject));
    std::string_view stored(body, static_cast<std::size_t>(len));
    if (ledgered) {
      const UnixMillis now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      ledger::CanonicalObject data;
      data.String("basis", "consent").String("channel", "mobile_app").Int("edition", 1);
      data.String("evidence", "APP-" + std::to_string(k % 100000)).String("purpose", "marketing");
      auto data_json = data.Finish();
      ledger::CanonicalObject event;
      event.Int("v", 1).Int("seq", seq).String("at", FormatUtc(now)).String("type", "consent.granted");
      event.String("actor", "app-backend").Int("subject", subject);
      auto event_json = data_json ? event.Raw("data", *data_json).Finish() : data_json;
      if (event_json) {
        encoded = std::move(*event_json);
        stored = encoded;
      } else if (!error) {
        error = event_json.error().ToString();  // reported after the loop, which runs out
      }
      const crypto::Digest chained =
          crypto::Sha256({std::string_view(reinterpret_cast<const char*>(prev.data()), prev.size()), stored});
      prev = chained;
      std::copy(chained.begin(), chained.end(), hash.begin());
      const ledger::merkle::Hash leaf = ledger::EventLeafHash(stored);
      left = ledger::merkle::NodeHash(left, leaf);
    }
    sqlite3_bind_int64(f.read.get(), 1, subject);
    step(f.read.get());
    sqlite3_bind_int64(f.event.get(), 1, seq);
    sqlite3_bind_text(f.event.get(), 2, stored.data(), static_cast<int>(stored.size()), SQLITE_STATIC);
    sqlite3_bind_blob(f.event.get(), 3, hash.data(), 32, SQLITE_STATIC);
    sqlite3_bind_blob(f.event.get(), 4, hash.data(), 32, SQLITE_STATIC);
    sqlite3_bind_int64(f.event.get(), 5, subject);
    step(f.event.get());
    sqlite3_bind_int(f.node.get(), 1, 1);
    sqlite3_bind_int64(f.node.get(), 2, seq);
    sqlite3_bind_blob(f.node.get(), 3, left.data(), 32, SQLITE_STATIC);
    step(f.node.get());
    sqlite3_bind_int64(f.consent.get(), 1, subject);
    sqlite3_bind_int(f.consent.get(), 2, static_cast<int>(k & 1));
    sqlite3_bind_text(f.consent.get(), 3, (k & 1) ? "app_support_chat" : "mobile_app", -1, SQLITE_STATIC);
    sqlite3_bind_text(f.consent.get(), 4, "APP-1", -1, SQLITE_STATIC);
    sqlite3_bind_int64(f.consent.get(), 5, static_cast<std::int64_t>(k));
    sqlite3_bind_int64(f.consent.get(), 6, seq);
    step(f.consent.get());
    if (++k % kBatch == 0) {
      if (signer) {
        // A tree head's message: size, root, time, key id (about 90 bytes).
        const std::string head = std::to_string(seq) + std::string(left.begin(), left.end()) +
                                 std::to_string(k) + signer->KeyId();
        if (auto signature = signer->Sign(head); !signature && !error) error = signature.error().ToString();
      }
      step(f.commit.get());
    }
  }
  if (k % kBatch != 0) step(f.commit.get());
  const double cpu = ProcessCpuSeconds() - cpu_before;
  if (error) state.SkipWithError(error->c_str());
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["changes_per_batch"] = static_cast<double>(kBatch);
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
  // Each floor as the committer batches 64 clients, and as it runs one
  // client: a commit, an fsync (and, ledgered, a signature) per change.
  for (const int batch : {64, 1}) {
    for (const bool ledgered : {false, true}) {
      const std::string name = ledgered ? names::DurableLedgerFloor(batch) : names::DurableFloor(batch);
      benchmark::RegisterBenchmark(name.c_str(),
                                   [batch, ledgered](benchmark::State& state) {
                                     RunFloor(state, static_cast<std::uint64_t>(batch), ledgered);
                                   })
          ->Threads(1)
          ->UseRealTime()
          ->MinTime(1.0)
          ->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace qorgau::bench
