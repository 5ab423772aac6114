#include "population.h"

#include <string>
#include <vector>

namespace qorgau::bench {

const char* const kNaiveSchema = R"sql(
CREATE TABLE consents (
  subject_id INTEGER NOT NULL,
  purpose    TEXT NOT NULL,
  state      INTEGER NOT NULL,  -- 0 granted, 1 withdrawn
  PRIMARY KEY (subject_id, purpose)
);
CREATE INDEX consents_by_purpose ON consents (purpose, state, subject_id);
CREATE TABLE subscriptions (
  subject_id INTEGER NOT NULL,
  service    TEXT NOT NULL,
  active     INTEGER NOT NULL,
  PRIMARY KEY (subject_id, service)
);
CREATE TABLE obligations (
  subject_id INTEGER NOT NULL,
  ref        TEXT NOT NULL,
  open       INTEGER NOT NULL
);
CREATE INDEX obligations_by_subject ON obligations (subject_id);
CREATE TABLE consent_audit (
  id         INTEGER PRIMARY KEY,
  subject_id INTEGER NOT NULL,
  purpose    TEXT NOT NULL,
  state      INTEGER NOT NULL,
  channel    TEXT NOT NULL,
  evidence   TEXT NOT NULL,
  at         INTEGER NOT NULL
);
)sql";

namespace {

constexpr std::uint64_t kMarketing = 1, kWithdrawn = 2, kMobileBase = 3, kOffers = 4, kDebt = 5;
constexpr UnixMillis kCreatedAt = 1'735'689'600'000;  // 2025-01-01T00:00:00Z

tl::unexpected<Error> SqlFail(sqlite3* db, std::string_view what) {
  return Fail(ErrorCode::kIo, "naive", std::string(what) + ": " + sqlite3_errmsg(db));
}

}  // namespace

std::uint64_t Population::Draw(SubjectId id, std::uint64_t what) const {
  return Mix(seed_ ^ Mix(static_cast<std::uint64_t>(id) * 16 + what)) % 1000;
}

Profile Population::At(SubjectId id) const {
  Profile p;
  if (Draw(id, kMarketing) < 600) {
    p.marketing = Mark::kGranted;
  } else if (Draw(id, kWithdrawn) < 100) {
    p.marketing = Mark::kWithdrawn;
  }
  p.mobile_base = Draw(id, kMobileBase) < 850;
  p.marketing_offers = p.marketing == Mark::kGranted && Draw(id, kOffers) < 500;
  p.debt = Draw(id, kDebt) < 30;
  return p;
}

Totals Population::Count() const {
  Totals t;
  t.subjects = subjects_;
  for (SubjectId id = 1; id <= static_cast<SubjectId>(subjects_); ++id) {
    const Profile p = At(id);
    t.granted += p.marketing == Mark::kGranted;
    t.withdrawn += p.marketing == Mark::kWithdrawn;
    t.mobile_base += p.mobile_base;
    t.marketing_offers += p.marketing_offers;
    t.debts += p.debt;
    t.audience += p.marketing == Mark::kGranted && !p.debt;
  }
  return t;
}

store::Bytes Population::FakeBlindIndex(SubjectId id, int kind) const {
  store::Bytes out(32);
  std::uint64_t x = seed_ ^ (static_cast<std::uint64_t>(id) << 2) ^ static_cast<std::uint64_t>(kind);
  for (int w = 0; w < 4; ++w) {
    x = Mix(x);
    for (int b = 0; b < 8; ++b) out[w * 8 + b] = static_cast<std::uint8_t>(x >> (8 * b));
  }
  return out;
}

void Population::FillIndex(index::DecisionIndex& index) const {
  using Kind = index::Delta::Kind;
  const int marketing = index.PurposeOrdinal("marketing");
  const int mobile_base = index.ServiceOrdinal("mobile_base");
  const int offers = index.ServiceOrdinal("marketing_offers");
  std::vector<index::Delta> deltas;
  deltas.reserve(1 << 16);
  for (SubjectId id = 1; id <= static_cast<SubjectId>(subjects_); ++id) {
    const Profile p = At(id);
    deltas.push_back({Kind::kSubjectAdded, id});
    if (p.marketing == Mark::kGranted) deltas.push_back({Kind::kConsentGranted, id, marketing});
    if (p.marketing == Mark::kWithdrawn) deltas.push_back({Kind::kConsentWithdrawn, id, marketing});
    if (p.mobile_base) deltas.push_back({Kind::kServiceOn, id, mobile_base});
    if (p.marketing_offers) deltas.push_back({Kind::kServiceOn, id, offers});
    if (p.debt) deltas.push_back({Kind::kObligationOpened, id});
    if (deltas.size() >= (1 << 16) - 8) {
      index.Apply(deltas, 1);
      deltas.clear();
    }
  }
  index.Apply(deltas, 1);
}

Result<void> Population::FillStore(store::Store& store) const {
  auto txn = store.Begin(store::Store::Mode::kWrite);
  if (!txn) return tl::unexpected(txn.error());
  store::Transaction& t = **txn;
  for (SubjectId id = 1; id <= static_cast<SubjectId>(subjects_); ++id) {
    const Profile p = At(id);
    auto got = t.InsertSubject(kCreatedAt, FakeBlindIndex(id, 0), FakeBlindIndex(id, 1));
    if (!got) return tl::unexpected(got.error());
    if (*got != id) {
      return Fail(ErrorCode::kInternal, "store", "the store is not empty: subject ids are not 1..N");
    }
    if (p.marketing != Mark::kNone) {
      store::ConsentRecord c{id,
                             "marketing",
                             p.marketing == Mark::kGranted ? store::ConsentState::kGranted
                                                           : store::ConsentState::kWithdrawn,
                             1,
                             p.marketing == Mark::kGranted ? "mobile_app" : "app_support_chat",
                             "BENCH-" + std::to_string(id),
                             kCreatedAt,
                             0};
      if (auto r = t.PutConsent(c); !r) return r;
    }
    for (const auto& [on, service] : {std::pair{p.mobile_base, "mobile_base"},
                                      std::pair{p.marketing_offers, "marketing_offers"}}) {
      if (!on) continue;
      if (auto r = t.PutSubscription({id, service, true, 0, kCreatedAt, 0}); !r) return r;
    }
    if (p.debt) {
      store::ObligationRecord o{"DEBT-" + std::to_string(id), id, store::ObligationKind::kDebt,
                                250000, kCreatedAt, std::nullopt, 0};
      if (auto r = t.InsertObligation(o); !r) return r;
    }
  }
  return t.Commit();
}

Result<void> Population::FillNaive(const std::filesystem::path& file) const {
  auto db = SqliteDb::Open(file, /*create=*/true);
  if (!db) return tl::unexpected(db.error());
  SqliteDb& d = **db;
  // Building is not measured: no fsync while loading.
  if (auto r = d.Exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; "
                      "PRAGMA cache_size = -262144;");
      !r) {
    return r;
  }
  if (auto r = d.Exec(kNaiveSchema); !r) return r;
  if (auto r = d.Exec("BEGIN"); !r) return r;
  auto c = d.Prepare("INSERT INTO consents (subject_id, purpose, state) VALUES (?1, 'marketing', ?2)");
  auto s = d.Prepare("INSERT INTO subscriptions (subject_id, service, active) VALUES (?1, ?2, 1)");
  auto o = d.Prepare("INSERT INTO obligations (subject_id, ref, open) VALUES (?1, ?2, 1)");
  if (!c) return tl::unexpected(c.error());
  if (!s) return tl::unexpected(s.error());
  if (!o) return tl::unexpected(o.error());
  Stmt consent(*c), sub(*s), obligation(*o);
  auto step = [&](sqlite3_stmt* st) -> Result<void> {
    const int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return SqlFail(d.get(), "filling the naive schema");
    return {};
  };
  for (SubjectId id = 1; id <= static_cast<SubjectId>(subjects_); ++id) {
    const Profile p = At(id);
    if (p.marketing != Mark::kNone) {
      sqlite3_bind_int64(consent.get(), 1, id);
      sqlite3_bind_int(consent.get(), 2, p.marketing == Mark::kGranted ? 0 : 1);
      if (auto r = step(consent.get()); !r) return r;
    }
    for (const auto& [on, service] : {std::pair{p.mobile_base, "mobile_base"},
                                      std::pair{p.marketing_offers, "marketing_offers"}}) {
      if (!on) continue;
      sqlite3_bind_int64(sub.get(), 1, id);
      sqlite3_bind_text(sub.get(), 2, service, -1, SQLITE_STATIC);
      if (auto r = step(sub.get()); !r) return r;
    }
    if (p.debt) {
      const std::string ref = "DEBT-" + std::to_string(id);
      sqlite3_bind_int64(obligation.get(), 1, id);
      sqlite3_bind_text(obligation.get(), 2, ref.c_str(), -1, SQLITE_TRANSIENT);
      if (auto r = step(obligation.get()); !r) return r;
    }
  }
  consent.reset();
  sub.reset();
  obligation.reset();
  if (auto r = d.Exec("COMMIT"); !r) return r;
  // What a careful user does after a bulk load: statistics for the planner,
  // and the WAL folded into the database file.
  if (auto r = d.Exec("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);"); !r) return r;
  return {};
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::filesystem::path& file, bool create) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(file.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    auto err = SqlFail(db, "opening " + file.string());
    sqlite3_close(db);
    return err;
  }
  sqlite3_busy_timeout(db, 10000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Result<void> SqliteDb::Exec(std::string_view sql) {
  const std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqlFail(db_, "executing SQL");
  }
  return {};
}

Result<sqlite3_stmt*> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &s, nullptr) != SQLITE_OK) {
    return SqlFail(db_, "preparing SQL");
  }
  return s;
}

std::int64_t SqliteDb::FileBytes() {
  std::int64_t pages = 0, size = 0;
  for (auto [pragma, out] : {std::pair{"PRAGMA page_count", &pages}, std::pair{"PRAGMA page_size", &size}}) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, pragma, -1, &s, nullptr) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW) {
      *out = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  }
  return pages * size;
}

}  // namespace qorgau::bench
