#include "ledger/ledger.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>

#include "../test_util.h"
#include "ledger/canonical_json.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau::ledger {
namespace {

using testing::TempDir;

TEST(CanonicalJson, SortsKeysAtEveryLevelAndHasNoWhitespace) {
  boost::json::value a = boost::json::parse(R"({"b":1,"a":{"d":[true,null],"c":"x"}})");
  boost::json::value b = boost::json::parse(R"({ "a" : { "c" : "x", "d" : [ true, null ] }, "b" : 1 })");
  EXPECT_EQ(CanonicalJson(a).value(), R"({"a":{"c":"x","d":[true,null]},"b":1})");
  EXPECT_EQ(CanonicalJson(a).value(), CanonicalJson(b).value());
}

TEST(CanonicalJson, EscapesControlCharactersAndKeepsUtf8) {
  boost::json::object o;
  o["k"] = "қ\"\\\n\x01";
  EXPECT_EQ(CanonicalJson(o).value(), "{\"k\":\"қ\\\"\\\\\\n\\u0001\"}");
}

TEST(CanonicalJson, RefusesFloatingPoint) {
  EXPECT_FALSE(CanonicalJson(boost::json::value(1.5)));
}

TEST(CanonicalJson, AnObjectBuiltMemberByMemberHasTheSameBytesAsTheTree) {
  boost::json::object tree;
  tree["zeta"] = "қ\"\n";
  tree["alpha"] = -7;
  tree["mid"] = boost::json::parse(R"({"y":[1,"b"],"x":true})");
  tree["flag"] = false;
  CanonicalObject built;
  built.String("zeta", "қ\"\n").Int("alpha", -7);
  built.Raw("mid", CanonicalJson(tree["mid"]).value()).Bool("flag", false);
  EXPECT_EQ(built.Finish().value(), CanonicalJson(tree).value());
  CanonicalObject twice;
  twice.Int("a", 1).String("a", "x");
  EXPECT_FALSE(twice.Finish());
}

class LedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = dir_.path() / "q.db";
    store_ = store::OpenSqliteStore(file_, true).value();
  }
  void AppendN(int n) {
    auto txn = store_->Begin(store::Store::Mode::kWrite).value();
    for (int i = 0; i < n; ++i) {
      EventDraft d{"consent.granted", 7, "test", {}};
      d.data["purpose"] = "marketing";
      d.data["n"] = i;
      ASSERT_TRUE(Append(*txn, 1700000000000 + i, d));
    }
    ASSERT_TRUE(txn->Commit());
  }
  VerifyReport VerifyNow() {
    auto txn = store_->Begin(store::Store::Mode::kRead).value();
    return Verify(*txn).value();
  }
  void Sql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }

  TempDir dir_;
  std::filesystem::path file_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(LedgerTest, AppendedEventsVerify) {
  AppendN(5);
  VerifyReport r = VerifyNow();
  EXPECT_TRUE(r.ok) << r.reason;
  EXPECT_EQ(r.events, 5);
  EXPECT_EQ(r.head_hash.size(), 64u);
}

TEST_F(LedgerTest, TamperedEventIsReportedWithItsPosition) {
  AppendN(5);
  store_.reset();
  Sql("UPDATE events SET body = replace(body, 'marketing', 'marketinG') WHERE seq = 3");
  store_ = store::OpenSqliteStore(file_, false).value();
  VerifyReport r = VerifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.broken_seq, 3);
  EXPECT_EQ(r.events, 2);
  EXPECT_NE(r.reason.find("hash"), std::string::npos);
}

TEST_F(LedgerTest, ReplacedHashIsReported) {
  AppendN(4);
  store_.reset();
  Sql("UPDATE events SET hash = zeroblob(32) WHERE seq = 2");
  store_ = store::OpenSqliteStore(file_, false).value();
  VerifyReport r = VerifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.broken_seq, 2);
}

TEST_F(LedgerTest, ReorderedLinkIsReported) {
  AppendN(4);
  store_.reset();
  // Event 3 claims event 1 as its predecessor: the chain is cut there.
  Sql("UPDATE events SET prev_hash = (SELECT hash FROM events WHERE seq = 1) WHERE seq = 3");
  store_ = store::OpenSqliteStore(file_, false).value();
  VerifyReport r = VerifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.broken_seq, 3);
  EXPECT_NE(r.reason.find("previous-hash"), std::string::npos);
}

TEST_F(LedgerTest, DeletedEventIsReported) {
  AppendN(4);
  store_.reset();
  Sql("DELETE FROM events WHERE seq = 2");
  store_ = store::OpenSqliteStore(file_, false).value();
  VerifyReport r = VerifyNow();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.broken_seq, 2);
  EXPECT_NE(r.reason.find("missing"), std::string::npos);
}

TEST_F(LedgerTest, R_VIII_3_events_never_carry_personal_data_values) {
  auto txn = store_->Begin(store::Store::Mode::kWrite).value();
  EventDraft d{"subject.added", 1, "test", {}};
  d.data["note"] = "call back on 87015550123";
  auto r = Append(*txn, 1, d);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "data.note");
  EXPECT_EQ(Revision(*txn).value(), 0);
}

}  // namespace
}  // namespace qorgau::ledger
