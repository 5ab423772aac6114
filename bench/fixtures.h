// Settings of a benchmark run and the data the benchmarks share, built on
// first use (so that --benchmark_filter builds only what it runs) and kept
// for the rest of the run.
//
// Settings come from the environment, or from the flags of the same name
// after the Google Benchmark flags (`qorgau_bench --subjects=100000`):
//   QORGAU_BENCH_SUBJECTS          --subjects=N     the main population (1 000 000)
//   QORGAU_BENCH_LARGE             --large=N        the large index, 0 to skip (25 000 000)
//   QORGAU_BENCH_NAIVE_LARGE       --naive_large=N  the larger naive SQL audience, 0 to skip
//                                                   (5 000 000)
//   QORGAU_BENCH_DURABLE_SUBJECTS  --durable_subjects=N  subjects of the durable benchmark (2 000)
//   QORGAU_BENCH_RETENTION_SUBJECTS --retention_subjects=N  subjects of the retention benchmark,
//                                                   0 to skip (100 000)
//   QORGAU_BENCH_SEED              --seed=N         population seed (2024)
//   QORGAU_BENCH_DIR               --dir=PATH       where databases go: a fresh directory
//                                                   qorgau-bench-XXXXXX is made inside it
//                                                   ($TMPDIR or /tmp by default) and
//                                                   removed at exit
//   QORGAU_BENCH_KEEP=1            --keep           keep that directory
//   QORGAU_POLICY                  --policy=FILE    the policy (policies/kem/policy.yaml)
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "app/instance.h"
#include "index/decision_index.h"
#include "population.h"

namespace qorgau::bench {

struct Config {
  std::uint64_t subjects = 1'000'000;
  std::uint64_t large = 25'000'000;
  std::uint64_t naive_large = 5'000'000;
  std::uint64_t durable_subjects = 2'000;
  std::uint64_t retention_subjects = 100'000;
  std::uint64_t seed = 2024;
  std::filesystem::path dir;
  bool dir_given = false;
  bool keep = false;
  std::filesystem::path policy;
};

// Reads the environment, then consumes the flags above from argv. Returns
// false (after printing why) on an unknown argument.
bool ParseConfig(int* argc, char** argv, Config* config);
const Config& GetConfig();
void SetConfig(const Config& config);

// Closes every database and, unless asked to keep it, removes the work
// directory. Called once by main after the run.
void ReleaseFixtures();

// The KEM policy (edition 1), loaded once.
std::shared_ptr<const policy::Policy> Policy();

// The population of n subjects with the run's seed.
const Population& PopulationOf(std::uint64_t n);

// An index filled through Apply. `heap_bytes` is the heap the fill kept
// (glibc mallinfo2), a check on MemoryBytes().
struct FilledIndex {
  std::unique_ptr<index::DecisionIndex> index;
  double fill_seconds = 0;
  std::int64_t heap_bytes = 0;
};
FilledIndex& IndexOf(std::uint64_t n);

// The naive schema with n subjects, opened for reading (a large page cache
// and mmap, as a tuned deployment would have).
struct NaiveDb {
  std::unique_ptr<SqliteDb> db;
  double fill_seconds = 0;
  std::int64_t file_bytes = 0;
};
NaiveDb& NaiveOf(std::uint64_t n);

// A qorgau store (SQLite, the product's schema) with n subjects.
struct QorgauStore {
  std::unique_ptr<store::Store> store;
  double fill_seconds = 0;
  std::int64_t file_bytes = 0;
};
QorgauStore& QorgauStoreOf(std::uint64_t n);

// An Instance (Instance::Init in the work directory, then Open) with
// `durable_subjects` subjects, each with marketing granted through
// mobile_app. granted[i] tracks subject ids[i]; a benchmark thread only
// touches the subjects it owns.
struct DurableFixture {
  std::unique_ptr<app::Instance> instance;
  // The system the benchmark acts as: registers subjects and records and
  // withdraws marketing consent (docs/access.md), like the app backend.
  std::shared_ptr<const rules::Caller> caller;
  std::vector<SubjectId> ids;
  std::vector<std::uint8_t> granted;
  double setup_seconds = 0;
};
DurableFixture& Durable();

// The naive schema in its own small database with durable_subjects
// subjects (marketing granted), opened with synchronous=FULL in WAL mode.
struct NaiveDurableFixture {
  std::unique_ptr<SqliteDb> db;
  Stmt update, audit, begin, commit;
  std::vector<std::uint8_t> granted;  // by subject id - 1
};
NaiveDurableFixture& NaiveDurable();

// The least a ledgered consent change can write to SQLite: qorgau's own
// tables (consents; events with their subject index; merkle_nodes), with
// durable_subjects subjects, WAL and synchronous=FULL. The floor benchmark
// writes them from one thread and hashes nothing: an upper bound on any
// design that stores an event row per change in this store.
struct FloorFixture {
  std::unique_ptr<SqliteDb> db;
  Stmt read, event, node, consent, begin, commit;
  std::int64_t seq = 0;
};
FloorFixture& Floor();

// The information statement (R-IV.4): an Instance with one subject holding a
// value of every category its services need and about 1 000 ledger events
// (500 consent changes, each with its receipt), an office employee who
// produces statements, and the naive alternative: the same values and
// consent history as plain SQLite rows (personal_data, consent_audit).
struct StatementFixture {
  std::unique_ptr<app::Instance> instance;
  std::shared_ptr<const rules::Caller> office;
  SubjectId subject = 0;
  std::int64_t events = 0;      // ledger events about the subject
  std::size_t categories = 0;   // values held
  std::unique_ptr<SqliteDb> naive;
  Stmt naive_data, naive_history;
};
StatementFixture& StatementData();

// "1M", "25M", "2000", "1.5M": short subject counts for benchmark names.
std::string Short(std::uint64_t n);

// Aborts the run with a message: fixtures that cannot be built make every
// figure meaningless.
[[noreturn]] void Die(const std::string& what, const Error& e);

// The run's work directory (made on first use, removed at exit unless
// kept), and a progress line on stderr, for fixtures kept beside their
// benchmarks.
const std::filesystem::path& BenchWorkDir();
void BenchProgress(const std::string& what);

// The data protection officer of an instance (actor "dpo", put by the
// console actor): who plans retention and releases aggregates.
std::shared_ptr<const rules::Caller> BenchDpo(rules::Engine& e);

}  // namespace qorgau::bench
