#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
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

TEST(SqliteStore, DecisionRowsGetConsecutiveIdsAcrossMultiRowStatements) {
  testing::TempDir dir;
  auto s = OpenSqliteStore(dir.path() / "q.db", true).value();
  auto txn = s->Begin(Store::Mode::kWrite).value();
  std::vector<DecisionRecord> rows;
  for (int i = 0; i < 150; ++i) rows.push_back({0, i, "crm", i % 7 + 1, "marketing", "", "no_consent", 3});
  auto ids = txn->InsertDecisions(rows).value();
  EXPECT_EQ(ids.second - ids.first + 1, 150);
  std::vector<DecisionRecord> read;
  ASSERT_TRUE(txn->ScanDecisions(ids.first, ids.second, [&](const DecisionRecord& r) { read.push_back(r); }));
  ASSERT_EQ(read.size(), 150u);
  for (int i = 0; i < 150; ++i) {
    EXPECT_EQ(read[i].id, ids.first + i);
    EXPECT_EQ(read[i].at, i);
    EXPECT_EQ(read[i].subject, i % 7 + 1);
  }
}

}  // namespace
}  // namespace qorgau::store
