// A deterministic synthetic population for the benchmarks.
//
// Subject ids run 1..N (the store's rowids). Whether a subject has each
// consent, service and obligation is decided from a hash of (seed, id, what),
// so the same seed gives the same population on every run and platform, and
// a subject's profile is computed in O(1) without storing it:
//
//   marketing consent   granted ~60 %; of the rest, withdrawn ~10 %
//   mobile_base         active ~85 %
//   marketing_offers    active for ~50 % of those with marketing granted
//   open obligation     (a debt) ~3 %
//
// The population fills
//   - a DecisionIndex directly, through Apply with deltas (fast: 25 M
//     subjects in seconds);
//   - a qorgau store, through the Transaction API in one transaction (fake
//     32-byte blind indexes derived from the id; nothing is encrypted: the
//     decision index never reads sealed values);
//   - the "naive" schema a user would write without qorgau, in SQLite, with
//     the right indexes (kNaiveSchema).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"
#include "index/decision_index.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::bench {

using store::SubjectId;

enum class Mark : std::uint8_t { kNone = 0, kGranted = 1, kWithdrawn = 2 };

struct Profile {
  Mark marketing = Mark::kNone;
  bool mobile_base = false;
  bool marketing_offers = false;
  bool debt = false;  // an open obligation
};

// How many subjects have each trait; `audience` is the answer to "marketing
// allowed and no open obligation", which both sides must find.
struct Totals {
  std::uint64_t subjects = 0;
  std::uint64_t granted = 0;
  std::uint64_t withdrawn = 0;
  std::uint64_t mobile_base = 0;
  std::uint64_t marketing_offers = 0;
  std::uint64_t debts = 0;
  std::uint64_t audience = 0;
};

// The schema a user would write without qorgau: current state in three
// tables, with the indexes its queries need (primary keys, obligations by
// subject, and a covering index for "who has purpose P in state S"), and an
// audit table for the durable-change comparison.
extern const char* const kNaiveSchema;

class Population {
 public:
  Population(std::uint64_t seed, std::uint64_t subjects) : seed_(seed), subjects_(subjects) {}

  std::uint64_t subjects() const { return subjects_; }
  std::uint64_t seed() const { return seed_; }
  Profile At(SubjectId id) const;
  Totals Count() const;

  // Applies every subject, consent, service and obligation as deltas, in
  // chunks, at revision 1.
  void FillIndex(index::DecisionIndex& index) const;

  // Writes the population into an empty qorgau store in one write
  // transaction. Fails if the store's ids do not come out as 1..N.
  Result<void> FillStore(store::Store& store) const;

  // Creates `file` with kNaiveSchema and writes the population into it.
  Result<void> FillNaive(const std::filesystem::path& file) const;

  // 32 bytes derived from (seed, id, kind): stands in for an HMAC blind index.
  store::Bytes FakeBlindIndex(SubjectId id, int kind) const;

 private:
  std::uint64_t Draw(SubjectId id, std::uint64_t what) const;  // uniform in [0, 1000)

  std::uint64_t seed_;
  std::uint64_t subjects_;
};

// A small RAII handle on a raw SQLite connection, for the naive side.
class SqliteDb {
 public:
  static Result<std::unique_ptr<SqliteDb>> Open(const std::filesystem::path& file, bool create);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  sqlite3* get() const { return db_; }
  Result<void> Exec(std::string_view sql);
  // A prepared statement; the caller finalizes it (or wraps it in Stmt).
  Result<sqlite3_stmt*> Prepare(std::string_view sql);
  // page_count * page_size of the main database.
  std::int64_t FileBytes();

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Owns a prepared statement.
struct StmtDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtDeleter>;

// SplitMix64.
inline std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace qorgau::bench
