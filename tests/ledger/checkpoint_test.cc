// Signed tree heads and checkpoints (ledger/tree_head.h, ledger/audit.h):
// every batch ends signed; a checkpoint kept outside proves the ledger was
// neither cut short nor rewritten, even with its hash chain recomputed; an
// event appended without the ledger key is found; `audit verify` runs
// read-only beside a running instance.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "crypto/crypto.h"
#include "ledger/ledger.h"
#include "ledger/tree_head.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau {
namespace {

class Checkpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicy(), clock_));
    auto inst = app::Instance::Open(data_, clock_);
    ASSERT_TRUE(inst) << inst.error().ToString();
    world_ = testing::MakeAccessWorld((*inst)->engine(), /*with_keys=*/false);
  }
  app::AuditRequest Request(std::optional<ledger::TreeHead> checkpoint = {}) {
    return app::AuditRequest{"dpo", {}, std::move(checkpoint)};
  }
  ledger::VerifyReport Audit(std::optional<ledger::TreeHead> checkpoint = {}) {
    auto r = app::AuditDataDirectory(data_, Request(std::move(checkpoint)));
    EXPECT_TRUE(r) << r.error().ToString();
    return r.value_or(ledger::VerifyReport{});
  }
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  std::int64_t Events() {
    auto store = store::OpenSqliteStoreReadOnly(data_ / "qorgau.db").value();
    auto txn = store->Begin(store::Store::Mode::kRead).value();
    return ledger::Revision(*txn).value();
  }
  // Changes event `seq`'s body and recomputes the hash chain from there, as
  // someone with the database but without the ledger key could.
  void RewriteFrom(std::int64_t seq, const std::string& from, const std::string& to) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT seq, body, prev_hash FROM events WHERE seq >= ?1 ORDER BY seq",
                                 -1, &s, nullptr),
              SQLITE_OK);
    sqlite3_bind_int64(s, 1, seq);
    std::vector<std::pair<std::int64_t, std::string>> rows;
    crypto::Bytes prev;
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string body(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)), sqlite3_column_bytes(s, 1));
      if (rows.empty()) {
        const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 2));
        prev.assign(p, p + sqlite3_column_bytes(s, 2));
        const size_t at = body.find(from);
        ASSERT_NE(at, std::string::npos);
        body.replace(at, from.size(), to);
      }
      rows.emplace_back(sqlite3_column_int64(s, 0), std::move(body));
    }
    sqlite3_finalize(s);
    for (const auto& [n, body] : rows) {
      const std::string msg = "qorgau-ledger/1\n" + std::string(prev.begin(), prev.end()) + body;
      const crypto::Digest d = crypto::Sha256(msg);
      const crypto::Bytes hash(d.begin(), d.end());
      sqlite3_stmt* u = nullptr;
      ASSERT_EQ(sqlite3_prepare_v2(db, "UPDATE events SET body = ?2, prev_hash = ?3, hash = ?4 WHERE seq = ?1",
                                   -1, &u, nullptr),
                SQLITE_OK);
      sqlite3_bind_int64(u, 1, n);
      sqlite3_bind_text(u, 2, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(u, 3, prev.data(), static_cast<int>(prev.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(u, 4, hash.data(), static_cast<int>(hash.size()), SQLITE_TRANSIENT);
      ASSERT_EQ(sqlite3_step(u), SQLITE_DONE);
      sqlite3_finalize(u);
      prev = hash;
    }
    sqlite3_close(db);
  }

  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  testing::AccessWorld world_;
};

TEST_F(Checkpoints, EveryEventIsUnderASignedTreeHeadAndTheLedgerVerifiesReadOnly) {
  const ledger::VerifyReport r = Audit();
  EXPECT_TRUE(r.ok) << r.reason;
  auto head = app::LatestCheckpoint(data_, "dpo");
  ASSERT_TRUE(head) << head.error().ToString();
  EXPECT_EQ(head->size, Events());
  // The checkpoint file round-trips and verifies with the public key only.
  auto parsed = ledger::ParseTreeHeadJson(ledger::TreeHeadJson(*head));
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  const auto pem = testing::ReadFile(data_ / "receipt.pub");
  const auto key = crypto::Verifier::FromPem(pem).value();
  EXPECT_TRUE(ledger::VerifyTreeHead(*parsed, key));
  parsed->size += 1;
  EXPECT_FALSE(ledger::VerifyTreeHead(*parsed, key));
  EXPECT_TRUE(Audit(*head).ok);
}

TEST_F(Checkpoints, AnEventAppendedWithoutTheLedgerKeyIsFound) {
  // A forged event with a valid chain hash, after the last signed head.
  const std::int64_t n = Events();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT hash FROM events WHERE seq = ?1", -1, &s, nullptr), SQLITE_OK);
  sqlite3_bind_int64(s, 1, n);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
  const crypto::Bytes prev(p, p + 32);
  sqlite3_finalize(s);
  const std::string body = "{\"actor\":\"dpo\",\"at\":\"2025-11-26T09:40:00.000Z\",\"data\":{},\"seq\":" +
                           std::to_string(n + 1) + ",\"type\":\"note\",\"v\":1}";
  const crypto::Digest d = crypto::Sha256("qorgau-ledger/1\n" + std::string(prev.begin(), prev.end()) + body);
  sqlite3_stmt* ins = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "INSERT INTO events (seq, body, prev_hash, hash) VALUES (?1, ?2, ?3, ?4)",
                               -1, &ins, nullptr),
            SQLITE_OK);
  sqlite3_bind_int64(ins, 1, n + 1);
  sqlite3_bind_text(ins, 2, body.data(), static_cast<int>(body.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(ins, 3, prev.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_blob(ins, 4, d.data(), 32, SQLITE_TRANSIENT);
  ASSERT_EQ(sqlite3_step(ins), SQLITE_DONE);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  const ledger::VerifyReport r = Audit();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.broken_seq, n + 1);
  EXPECT_NE(r.reason.find("after the last signed tree head"), std::string::npos) << r.reason;
}

TEST_F(Checkpoints, TruncationIsFoundByTheSignedHeadsAndByACheckpoint) {
  const ledger::TreeHead kept = app::LatestCheckpoint(data_, "dpo").value();
  const std::int64_t n = Events();
  // Cut the last three events off, and the heads that would betray it.
  Exec("DELETE FROM events WHERE seq > " + std::to_string(n - 3));
  const ledger::VerifyReport heads = Audit();
  EXPECT_FALSE(heads.ok);
  EXPECT_NE(heads.reason.find("cut short"), std::string::npos) << heads.reason;
  Exec("DELETE FROM tree_heads WHERE size > " + std::to_string(n - 3));
  // Without the removed heads, only an outside checkpoint still knows.
  const ledger::VerifyReport r = Audit(kept);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("the checkpoint proves " + std::to_string(n)), std::string::npos) << r.reason;
}

TEST_F(Checkpoints, ARewrittenLedgerWithItsChainRecomputedIsFound) {
  const ledger::TreeHead kept = app::LatestCheckpoint(data_, "dpo").value();
  // Rewrite anna's role in the ledger itself, recompute the chain, and make
  // the tables agree: the chain and the replay are satisfied...
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE body LIKE '%\"actor\":\"anna\"%' "
                                   "AND body LIKE '%actor.created%'",
                               -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  const std::int64_t seq = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  RewriteFrom(seq, "\"role\":\"employee\"", "\"role\":\"dpo\"");
  Exec("UPDATE actors SET role = 3 WHERE id = 'anna'");
  // ...and the forger, without the ledger key, can only drop the heads.
  Exec("DELETE FROM tree_heads WHERE size >= " + std::to_string(seq));
  const ledger::VerifyReport heads = Audit();
  EXPECT_FALSE(heads.ok);
  EXPECT_NE(heads.reason.find("after the last signed tree head"), std::string::npos) << heads.reason;
  const ledger::VerifyReport r = Audit(kept);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("rewritten"), std::string::npos) << r.reason;
}

TEST_F(Checkpoints, ACheckpointNotSignedByTheLedgerKeyIsRefused) {
  ledger::TreeHead forged = app::LatestCheckpoint(data_, "dpo").value();
  forged.root[0] ^= 1;
  const ledger::VerifyReport r = Audit(forged);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.reason.find("not signed by the ledger key"), std::string::npos) << r.reason;
}

TEST_F(Checkpoints, OnlyTheAuditRolesVerifyAndExport) {
  auto anna = app::AuditDataDirectory(data_, app::AuditRequest{"anna", {}, {}});
  ASSERT_FALSE(anna);
  EXPECT_EQ(anna.error().reason, "admin_only");
  EXPECT_TRUE(app::AuditDataDirectory(data_, app::AuditRequest{"admin", {}, {}}));
  auto export_refused = app::LatestCheckpoint(data_, "crm");
  ASSERT_FALSE(export_refused);
  EXPECT_EQ(export_refused.error().reason, "admin_only");
}

}  // namespace
}  // namespace qorgau
