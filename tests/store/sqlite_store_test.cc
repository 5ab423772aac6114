#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>

#include <set>
#include <sqlite3.h>

#include "../test_util.h"

namespace qorgau::store {
namespace {

using testing::TempDir;

TEST(SqliteStore, CreatesTheLatestSchemaAndReopens) {
  TempDir dir;
  {
    auto s = OpenSqliteStore(dir.path() / "q.db", true);
    ASSERT_TRUE(s) << s.error().ToString();
    EXPECT_EQ((*s)->SchemaVersion(), LatestSchemaVersion());
  }
  auto again = OpenSqliteStore(dir.path() / "q.db", false);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->SchemaVersion(), LatestSchemaVersion());
}

// Data keys live in keys.db, apart from the data; a database of an older
// schema, whose keys are in subjects.wrapped_key, has them moved there on
// open (docs/architecture.md, "Backups that forget").
TEST(SqliteStore, DataKeysLiveApartAndOlderDatabasesHaveThemMovedOut) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  const Bytes key = {1, 2, 3, 4};
  SubjectId id = 0;
  {
    auto s = OpenSqliteStore(file, true).value();
    auto txn = s->Begin(Store::Mode::kWrite).value();
    id = txn->InsertSubject(1, Bytes{9}, Bytes{8}).value();
    ASSERT_TRUE(txn->SetSubjectKey(id, key));
    EXPECT_EQ(txn->GetSubject(id).value()->wrapped_key, key) << "seen within its transaction";
    ASSERT_TRUE(txn->Commit());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM subjects WHERE wrapped_key IS NOT NULL", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0) << "no key in the data's file";
  sqlite3_finalize(st);
  // As an older schema kept it: in the subjects table, no key store.
  ASSERT_EQ(sqlite3_exec(db, "UPDATE subjects SET wrapped_key = x'01020304'", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  std::filesystem::remove(dir.path() / "keys.db");
  std::filesystem::remove(dir.path() / "keys.db-wal");
  {
    auto s = OpenSqliteStore(file, false).value();
    auto txn = s->Begin(Store::Mode::kRead).value();
    EXPECT_EQ(txn->GetSubject(id).value()->wrapped_key, key);
  }
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM subjects WHERE wrapped_key IS NOT NULL", -1, &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 0) << "moved out";
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "keys.db"));
}

// Demographics live beside the data keys: set with the key, cleared by a new
// key, by a forgotten IIN and by the subject's destruction; a scan gives every
// living subject in id order, with or without them.
TEST(SqliteStore, DemographicsLiveWithTheKeysAndGoWithTheIin) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  auto scan = [&] {
    std::vector<std::pair<SubjectId, Bytes>> out;
    auto txn = s->Begin(Store::Mode::kRead).value();
    EXPECT_TRUE(txn->ScanSubjectDemographics([&](SubjectId id, UnixMillis created, std::span<const std::uint8_t> d) {
      EXPECT_EQ(created, 10 * id);
      out.emplace_back(id, Bytes(d.begin(), d.end()));
    }));
    return out;
  };
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    for (int i = 1; i <= 4; ++i) {
      const SubjectId id = txn->InsertSubject(10 * i, Bytes{static_cast<std::uint8_t>(i)},
                                              Bytes{static_cast<std::uint8_t>(10 + i)}).value();
      ASSERT_TRUE(txn->SetSubjectKey(id, Bytes{1, 2, 3}));
      if (i != 2) ASSERT_TRUE(txn->SetSubjectDemographics(id, Bytes{static_cast<std::uint8_t>(i), 9}));
    }
    ASSERT_TRUE(txn->Commit());
  }
  using Rows = std::vector<std::pair<SubjectId, Bytes>>;
  EXPECT_EQ(scan(), (Rows{{1, {1, 9}}, {2, {}}, {3, {3, 9}}, {4, {4, 9}}}));
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->ForgetSubjectIndex(1, IndexKind::kIin));
    ASSERT_TRUE(txn->SetSubjectKey(3, Bytes{4, 5, 6}));  // a new key: the old demographics go
    ASSERT_TRUE(txn->DestroySubject(4, 5));
    ASSERT_TRUE(txn->Commit());
  }
  EXPECT_EQ(scan(), (Rows{{1, {}}, {2, {}}, {3, {}}}));
  // A transaction that does not commit leaves them as they were.
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->SetSubjectDemographics(2, Bytes{7}));
  }
  EXPECT_EQ(scan(), (Rows{{1, {}}, {2, {}}, {3, {}}}));
  // The data's file never holds them.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "q.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_NE(sqlite3_prepare_v2(db, "SELECT demographics FROM subjects", -1, &st, nullptr), SQLITE_OK);
  sqlite3_finalize(st);
  sqlite3_close(db);
}

// A crash between the key store's commits and the database's leaves keys
// marked doomed by a transaction's last event; the next open settles them by
// what the database holds: a transaction past its ledger never committed.
TEST(SqliteStore, DoomedKeysAreSettledByWhatTheDatabaseCommitted) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  const Bytes key = {7, 7, 7};
  SubjectId kept = 0, gone = 0;
  {
    auto s = OpenSqliteStore(file, true).value();
    auto txn = s->Begin(Store::Mode::kWrite).value();
    kept = txn->InsertSubject(1, Bytes{1}, Bytes{2}).value();
    gone = txn->InsertSubject(1, Bytes{3}, Bytes{4}).value();
    ASSERT_TRUE(txn->SetSubjectKey(kept, key));
    ASSERT_TRUE(txn->SetSubjectKey(gone, key));
    ASSERT_TRUE(txn->Commit());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "keys.db").c_str(), &db), SQLITE_OK);
  // The database's ledger is empty (seq 0): a mark of 0 was committed, a
  // mark of 5 was not.
  const std::string sql = "UPDATE data_keys SET doomed = 5 WHERE subject_id = " + std::to_string(kept) +
                          "; UPDATE data_keys SET doomed = 0 WHERE subject_id = " + std::to_string(gone) + ";";
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqliteStore(file, false).value();
  auto txn = s->Begin(Store::Mode::kRead).value();
  EXPECT_EQ(txn->GetSubject(kept).value()->wrapped_key, key) << "its destruction never committed";
  EXPECT_TRUE(txn->GetSubject(gone).value()->wrapped_key.empty()) << "its destruction committed";
}

TEST(SqliteStore, MissingDatabaseIsNotCreatedWithoutAsking) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "absent.db", false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "absent.db"));
}

TEST(SqliteStore, DatabaseNewerThanTheBinaryIsRefused) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  { ASSERT_TRUE(OpenSqliteStore(file, true)); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
  const std::string set = "PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1);
  ASSERT_EQ(sqlite3_exec(db, set.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = OpenSqliteStore(file, false);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(s.error().message.find("newer"), std::string::npos);
}

// Schema 16 puts in the outbox the events of the kinds other systems act
// on that were recorded before the outbox took them (ledger::GoesToOutbox).
TEST(SqliteStore, Schema16PutsEarlierEventsOtherSystemsActOnInTheOutbox) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  {
    auto s = OpenSqliteStore(file, true).value();
    auto txn = s->Begin(Store::Mode::kWrite).value();
    const SubjectId id = txn->InsertSubject(1, Bytes{9}, Bytes{8}).value();
    auto put = [&](std::int64_t seq, const std::string& type, std::optional<SubjectId> subject) {
      EventRecord e;
      e.seq = seq;
      e.body = R"({"actor":"crm","at":"2026-11-26T09:40:00.123Z","data":{},"seq":)" + std::to_string(seq) +
               (subject ? ",\"subject\":" + std::to_string(*subject) : std::string()) + R"(,"type":")" + type +
               R"(","v":1})";
      e.prev_hash = Bytes(32, 0);
      e.hash = Bytes(32, static_cast<std::uint8_t>(seq));
      e.subject = subject;
      ASSERT_TRUE(txn->AppendEvent(e));
    };
    put(1, "consent.granted", id);
    put(2, "consent.withdrawn", id);
    put(3, "transfer.made", std::nullopt);
    put(4, "service.enabled", id);
    ASSERT_TRUE(txn->Commit());
  }
  // As schema 15 left it (and the tables of the later schemas gone).
  testing::ExecSql(file, "DROP TABLE webhooks; DROP TABLE enrichments; DROP TABLE profiling_objections; DROP TABLE passwords; "
                         "DROP INDEX events_reads_by_reader; DROP INDEX events_reads; ALTER TABLE events DROP COLUMN reader; "
                         "DELETE FROM outbox; PRAGMA user_version = 15");
  auto s = OpenSqliteStore(file, false).value();
  EXPECT_EQ(s->SchemaVersion(), LatestSchemaVersion());
  auto txn = s->Begin(Store::Mode::kRead).value();
  std::vector<OutboxRecord> rows;
  ASSERT_TRUE(txn->ScanOutbox(false, [&](const OutboxRecord& r) { rows.push_back(r); }));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].event_seq, 2);
  EXPECT_EQ(rows[0].subject_id, 1);
  EXPECT_EQ(rows[0].kind, "consent.withdrawn");
  EXPECT_EQ(rows[0].created_at, 1795686000123);  // the event's moment
  EXPECT_FALSE(rows[0].delivered_at);
  EXPECT_EQ(rows[1].event_seq, 3);
  EXPECT_EQ(rows[1].subject_id, 0);
  EXPECT_EQ(rows[1].kind, "transfer.made");
}

TEST(SqliteStore, Schema19IndexesTheReadsByReaderNewestFirst) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  auto event = [](std::int64_t seq, const std::string& actor, const std::string& type, const std::string& reader) {
    EventRecord e;
    e.seq = seq;
    e.body = R"({"actor":")" + actor + R"(","at":"2026-11-26T09:40:00.123Z","data":{},"seq":)" + std::to_string(seq) +
             R"(,"subject":7,"type":")" + type + R"(","v":1})";
    e.prev_hash = Bytes(32, 0);
    e.hash = Bytes(32, static_cast<std::uint8_t>(seq));
    e.subject = 7;
    e.reader = reader;
    return e;
  };
  {
    auto s = OpenSqliteStore(file, true).value();
    auto txn = s->Begin(Store::Mode::kWrite).value();
    // Written before schema 19: no reader column yet.
    ASSERT_TRUE(txn->AppendEvent(event(1, "anna", "access.read", "")));
    ASSERT_TRUE(txn->AppendEvent(event(2, "anna", "consent.granted", "")));
    ASSERT_TRUE(txn->AppendEvent(event(3, "bob", "access.lookup", "")));
    ASSERT_TRUE(txn->Commit());
  }
  testing::ExecSql(file, "DROP INDEX events_reads_by_reader; DROP INDEX events_reads; "
                         "ALTER TABLE events DROP COLUMN reader; PRAGMA user_version = 18");
  auto s = OpenSqliteStore(file, false).value();
  EXPECT_EQ(s->SchemaVersion(), LatestSchemaVersion());
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->AppendEvent(event(4, "anna", "transfer.sent", "anna")));
    ASSERT_TRUE(txn->AppendEvent(event(5, "anna", "consent.withdrawn", "")));
    ASSERT_TRUE(txn->Commit());
  }
  auto txn = s->Begin(Store::Mode::kRead).value();
  auto seqs = [&](const std::string& reader, std::int64_t before, std::size_t stop_after) {
    std::vector<std::int64_t> out;
    EXPECT_TRUE(txn->ScanReads(reader, before, [&](const EventRecord& e) {
      out.push_back(e.seq);
      EXPECT_EQ(e.subject, 7);
      return out.size() < stop_after;
    }));
    return out;
  };
  EXPECT_EQ(seqs("anna", 100, 10), (std::vector<std::int64_t>{4, 1})) << "the migration filled the earlier read";
  EXPECT_EQ(seqs("", 100, 10), (std::vector<std::int64_t>{4, 3, 1}));
  EXPECT_EQ(seqs("", 4, 10), (std::vector<std::int64_t>{3, 1}));
  EXPECT_EQ(seqs("", 100, 1), (std::vector<std::int64_t>{4}));
  EXPECT_TRUE(seqs("nobody", 100, 10).empty());
}

// R-VII.2: a subject's destruction deletes its receipts (their content
// names its purposes, channel and evidence) and no one else's. Since
// schema 20 they are found through the subject's events: a format-2
// receipt is keyed by its receipt.issued event, a format-1 receipt by the
// change it signed, both events of its subject, even an event written
// before the events had a subject column.
TEST(SqliteStore, R_VII_2_a_destroyed_subjects_receipts_go_with_it_found_through_its_events) {
  TempDir dir;
  const auto file = dir.path() / "q.db";
  auto event = [](std::int64_t seq, SubjectId subject, const std::string& type) {
    EventRecord e;
    e.seq = seq;
    e.body = R"({"actor":"crm","at":"2026-11-26T09:40:00.123Z","data":{},"seq":)" + std::to_string(seq) +
             R"(,"subject":)" + std::to_string(subject) + R"(,"type":")" + type + R"(","v":1})";
    e.prev_hash = Bytes(32, 0);
    e.hash = Bytes(32, static_cast<std::uint8_t>(seq));
    e.subject = subject;
    return e;
  };
  SubjectId gone = 0, kept = 0;
  {
    auto s = OpenSqliteStore(file, true).value();
    auto txn = s->Begin(Store::Mode::kWrite).value();
    gone = txn->InsertSubject(1, Bytes{1}, Bytes{2}).value();
    kept = txn->InsertSubject(1, Bytes{3}, Bytes{4}).value();
    ASSERT_TRUE(txn->AppendEvent(event(1, gone, "consent.granted")));  // format 1: its receipt is keyed here
    ASSERT_TRUE(txn->AppendEvent(event(2, kept, "consent.granted")));
    ASSERT_TRUE(txn->AppendEvent(event(3, gone, "receipt.issued")));  // format 2
    ASSERT_TRUE(txn->AppendEvent(event(4, kept, "receipt.issued")));
    for (const auto& [seq, subject] : std::vector<std::pair<std::int64_t, SubjectId>>{{1, gone}, {2, kept}, {3, gone}, {4, kept}}) {
      ASSERT_TRUE(txn->PutReceipt({seq, subject, "{\"receipt\":" + std::to_string(seq) + "}"}));
    }
    ASSERT_TRUE(txn->Commit());
  }
  // As schema 19 left it, with its index of receipts by subject, and the
  // first change as a database begun before schema 3 kept it: without its
  // subject in the column.
  testing::ExecSql(file, "CREATE INDEX receipts_by_subject ON receipts (subject_id); "
                         "UPDATE events SET subject_id = NULL WHERE seq = 1; PRAGMA user_version = 19");
  auto s = OpenSqliteStore(file, false).value();
  EXPECT_EQ(s->SchemaVersion(), LatestSchemaVersion());
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'receipts_by_subject'", -1, &st,
                                 nullptr),
              SQLITE_OK);
    ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
    EXPECT_EQ(sqlite3_column_int(st, 0), 0) << "schema 20 drops the index";
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->DestroySubject(gone, 5));
    ASSERT_TRUE(txn->Commit());
  }
  auto txn = s->Begin(Store::Mode::kRead).value();
  std::vector<std::pair<std::int64_t, SubjectId>> left;
  ASSERT_TRUE(txn->ScanReceipts([&](const ReceiptRecord& r) { left.emplace_back(r.event_seq, r.subject_id); }));
  EXPECT_EQ(left, (std::vector<std::pair<std::int64_t, SubjectId>>{{2, kept}, {4, kept}}));
  for (const std::int64_t seq : {1, 3}) {
    auto r = txn->GetReceipt(seq);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_FALSE(*r) << "the receipt of event " << seq << " outlived its subject";
  }
}

TEST(SqliteStore, UncommittedTransactionLeavesNothing) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  {
    auto txn = s->Begin(Store::Mode::kWrite).value();
    ASSERT_TRUE(txn->InsertSubject(1, Bytes{1}, Bytes{2}));
  }  // destroyed without Commit
  auto txn = s->Begin(Store::Mode::kRead).value();
  EXPECT_TRUE(txn->ListSubjects(0, 10).value().empty());
}

TEST(SqliteStore, DuplicateBlindIndexNamesTheField) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  auto txn = s->Begin(Store::Mode::kWrite).value();
  ASSERT_TRUE(txn->InsertSubject(1, Bytes{1}, Bytes{2}));
  auto same_iin = txn->InsertSubject(1, Bytes{1}, Bytes{3});
  ASSERT_FALSE(same_iin);
  EXPECT_EQ(same_iin.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(same_iin.error().field, "iin");
  auto same_phone = txn->InsertSubject(1, Bytes{4}, Bytes{2});
  ASSERT_FALSE(same_phone);
  EXPECT_EQ(same_phone.error().field, "phone");
}

TEST(SqliteStore, EventsScanInOrder) {
  TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  auto txn = s->Begin(Store::Mode::kWrite).value();
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(txn->AppendEvent({i, "{}", Bytes(32), Bytes(32)}));
  ASSERT_TRUE(txn->Commit());
  auto r = s->Begin(Store::Mode::kRead).value();
  std::vector<std::int64_t> seen;
  ASSERT_TRUE(r->ScanEvents(2, [&](const EventRecord& e) {
    seen.push_back(e.seq);
    return true;
  }));
  EXPECT_EQ(seen, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(r->LastEvent().value()->seq, 3);
}

}  // namespace
}  // namespace qorgau::store

namespace qorgau::store {
namespace {

TEST(SqliteStore, DecisionRequestsKeepTheirSubjectsAndIndexEachSubjectOncePerSeal) {
  testing::TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  auto txn = s->Begin(Store::Mode::kWrite).value();
  // Ids of every varint length, a subject named twice, more distinct
  // subjects than one multi-row statement holds.
  std::vector<DecisionRequestRecord> seal7;
  for (int n = 0; n < 3; ++n) {
    DecisionRequestRecord r{7, n, 100 + n, "crm", "marketing", "", 5, {}, {}};
    for (SubjectId id = 1; id <= 70; ++id) r.subjects.push_back(id * (n + 1));
    r.subjects.push_back(std::int64_t{1} << 40);
    r.reasons.assign(r.subjects.size(), '\3');
    seal7.push_back(std::move(r));
  }
  ASSERT_TRUE(txn->InsertDecisionRequests(seal7));
  ASSERT_TRUE(txn->InsertDecisionRequests({{9, 0, 200, "crm", "marketing", "a,b", 6, {2}, std::string(1, '\0')}}));
  std::vector<DecisionRequestRecord> read;
  ASSERT_TRUE(txn->ScanDecisionRequests(7, [&](const DecisionRequestRecord& r) { read.push_back(r); }));
  ASSERT_EQ(read.size(), 3u);
  for (int n = 0; n < 3; ++n) {
    EXPECT_EQ(read[n].n, n);
    EXPECT_EQ(read[n].subjects, seal7[n].subjects);
    EXPECT_EQ(read[n].reasons, seal7[n].reasons);
  }
  EXPECT_EQ(txn->CountDecisionRequests().value(), 4);
  std::vector<std::int64_t> seals_of_2;
  ASSERT_TRUE(txn->ScanSubjectDecisionRequests(2, [&](const DecisionRequestRecord& r) {
    seals_of_2.push_back(r.seal);
  }));
  EXPECT_EQ(seals_of_2, (std::vector<std::int64_t>{7, 7, 7, 9}));  // every request of both seals
  std::size_t pairs = 0, of_2 = 0;
  ASSERT_TRUE(txn->ScanDecisionSubjects([&](SubjectId subject, std::int64_t) {
    ++pairs;
    of_2 += subject == 2;
  }));
  EXPECT_EQ(of_2, 2u);  // once per seal, though seal 7 names it twice
  // 1-70, the even ones up to 140, the multiples of 3 up to 210, 2^40; and 2 in seal 9.
  std::set<SubjectId> distinct;
  for (const auto& r : seal7) distinct.insert(r.subjects.begin(), r.subjects.end());
  EXPECT_EQ(pairs, distinct.size() + 1);
}

}  // namespace
}  // namespace qorgau::store
