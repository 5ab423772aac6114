// Witness statements (ledger/witness.h): consistency proofs read from the
// stored subtrees are the RFC 9162 proofs; a statement round-trips and a
// malformed one is refused naming the field; the witness's check, with the
// public key alone, accepts growth and refuses a ledger cut short, a proof
// from another head and a head not signed by the ledger key. The real
// binary and a real witness over HTTP: tests/e2e/witness_test.cc.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "ledger/merkle.h"
#include "ledger/witness.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau {
namespace {

class Witness : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicy(), clock_));
    {
      auto inst = app::Instance::Open(data_, clock_);
      ASSERT_TRUE(inst) << inst.error().ToString();
      world_ = testing::MakeAccessWorld((*inst)->engine(), /*with_keys=*/false);
    }
    keys_ = app::DataDirectoryPublicKeys(data_).value();
  }
  // The signed heads, in size order, and every event's leaf hash.
  std::vector<ledger::TreeHead> Heads() {
    auto store = store::OpenSqliteStoreReadOnly(data_ / "qorgau.db").value();
    auto txn = store->Begin(store::Store::Mode::kRead).value();
    std::vector<ledger::TreeHead> heads;
    EXPECT_TRUE(txn->ScanTreeHeads([&](const store::TreeHeadRecord& h) { heads.push_back(ledger::TreeHeadFromRecord(h)); }));
    return heads;
  }
  std::vector<ledger::merkle::Hash> Leaves() {
    auto store = store::OpenSqliteStoreReadOnly(data_ / "qorgau.db").value();
    auto txn = store->Begin(store::Store::Mode::kRead).value();
    std::vector<ledger::merkle::Hash> leaves;
    EXPECT_TRUE(txn->ScanEvents(1, [&](const store::EventRecord& e) {
      leaves.push_back(ledger::EventLeafHash(e.body));
      return true;
    }));
    return leaves;
  }
  void Exec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }
  // A few more events, sealed under a later head.
  void Grow() {
    auto inst = app::Instance::Open(data_, clock_);
    ASSERT_TRUE(inst) << inst.error().ToString();
    for (const char* id : {"w1", "w2", "w3"}) {
      ASSERT_TRUE((*inst)->engine().PutActor({id, ActorRole::kEmployee}, world_["admin"]));
    }
  }

  testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{1764150000000};
  testing::AccessWorld world_;
  crypto::PublicKeys keys_;
};

TEST_F(Witness, Issue8_Witness_consistency_proofs_from_the_stored_subtrees_are_RFC_9162_proofs) {
  const auto leaves = Leaves();
  const std::uint64_t n = leaves.size();
  ASSERT_GE(n, 8u);
  auto store = store::OpenSqliteStoreReadOnly(data_ / "qorgau.db").value();
  auto txn = store->Begin(store::Store::Mode::kRead).value();
  auto get = [&](std::uint64_t i) { return leaves[i]; };
  for (std::uint64_t to = 1; to <= n; ++to) {
    const auto root2 = ledger::merkle::RootFromLeaves(std::span(leaves).first(to));
    for (std::uint64_t from = 0; from <= to; ++from) {
      auto proof = ledger::ConsistencyProofFor(*txn, static_cast<std::int64_t>(from), static_cast<std::int64_t>(to));
      ASSERT_TRUE(proof) << proof.error().ToString();
      EXPECT_EQ(*proof, ledger::merkle::ConsistencyProof(from, to, get).value()) << from << " -> " << to;
      const auto root1 = ledger::merkle::RootFromLeaves(std::span(leaves).first(from));
      EXPECT_TRUE(ledger::merkle::VerifyConsistency(from, to, root1, root2, *proof)) << from << " -> " << to;
    }
  }
  EXPECT_FALSE(ledger::ConsistencyProofFor(*txn, 3, 2));
}

TEST_F(Witness, Issue8_Witness_statement_round_trips_and_verifies_with_the_public_key_only) {
  const ledger::TreeHead kept = app::LatestCheckpoint(data_, "dpo").value();
  Grow();
  auto made = app::WitnessStatementFor(data_, "dpo", kept.size, std::nullopt);
  ASSERT_TRUE(made) << made.error().ToString();
  EXPECT_GT(made->head.size, kept.size);
  EXPECT_EQ(made->previous_size, kept.size);
  const std::string text = ledger::WitnessJson(*made);
  EXPECT_EQ(text.find("{\"consistency\":[\""), 0u) << text;
  EXPECT_NE(text.find("\"format\":\"qorgau-witness/1\""), std::string::npos) << text;
  auto parsed = ledger::ParseWitnessJson(text);
  ASSERT_TRUE(parsed) << parsed.error().ToString();
  EXPECT_EQ(ledger::WitnessJson(*parsed), text);
  // Only the public key: receipt.pub, as a witness holds it.
  const auto key = crypto::PublicKeys::FromPath(data_ / "receipt.pub").value();
  EXPECT_TRUE(ledger::CheckWitnessStatement(*parsed, kept, key));
  EXPECT_TRUE(ledger::CheckWitnessStatement(*parsed, std::nullopt, key));
  // The same head again: an empty proof, the same root.
  auto same = app::WitnessStatementFor(data_, "dpo", made->head.size, std::nullopt).value();
  EXPECT_TRUE(same.consistency.empty());
  EXPECT_TRUE(ledger::CheckWitnessStatement(same, made->head, key));
  // A proof with one hash changed proves nothing.
  ledger::WitnessStatement bent = *parsed;
  ASSERT_FALSE(bent.consistency.empty());
  bent.consistency[0][0] ^= 1;
  auto refused = ledger::CheckWitnessStatement(bent, kept, key);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "consistency");
  EXPECT_NE(refused.error().message.find("rewritten"), std::string::npos) << refused.error().message;
}

TEST_F(Witness, Issue8_Witness_a_malformed_statement_is_refused_naming_the_field) {
  const std::string good = ledger::WitnessJson(app::WitnessStatementFor(data_, "dpo", 1, std::nullopt).value());
  auto field_of = [](const std::string& text) {
    auto r = ledger::ParseWitnessJson(text);
    return r ? std::string("(parsed)") : r.error().field;
  };
  EXPECT_EQ(field_of("[]"), "statement");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "qorgau-witness/1", "qorgau-witness/2")), "format");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "\"previous_size\":1", "\"previous_size\":-1")), "previous_size");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "\"consistency\":[\"", "\"consistency\":[\"ab\",\"")), "consistency");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "\"consistency\":[", "\"consistency\":[1,")), "consistency");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "\"root\":\"", "\"root\":\"00")), "head.root");
  EXPECT_EQ(field_of(testing::ReplaceOnce(good, "\"head\":{", "\"head\":[],\"x\":{")), "head");
}

TEST_F(Witness, Issue8_Witness_bad_from_and_to_are_refused_naming_the_field) {
  Grow();
  const auto heads = Heads();
  ASSERT_GE(heads.size(), 2u);
  const std::int64_t last = heads.back().size;
  auto refusal = [&](std::int64_t from, std::optional<std::int64_t> to) {
    auto r = app::WitnessStatementFor(data_, "dpo", from, to);
    EXPECT_FALSE(r) << from;
    return r ? Error{} : r.error();
  };
  EXPECT_EQ(refusal(0, std::nullopt).field, "from");
  EXPECT_EQ(refusal(-3, std::nullopt).field, "from");
  EXPECT_EQ(refusal(last + 1, std::nullopt).field, "from");
  EXPECT_NE(refusal(last + 1, std::nullopt).message.find("beyond the ledger"), std::string::npos);
  EXPECT_EQ(refusal(1, 0).field, "to");
  EXPECT_EQ(refusal(1, last + 1).field, "to");
  const Error above = refusal(heads.front().size + 1, heads.front().size);
  EXPECT_EQ(above.field, "from");
  EXPECT_NE(above.message.find("exceeds to"), std::string::npos) << above.message;
  // A size no head was signed at (inside a batch) names `to`.
  std::int64_t unsigned_size = 0;
  for (std::int64_t s = 1; s < last && !unsigned_size; ++s) {
    bool is_head = false;
    for (const auto& h : heads) is_head = is_head || h.size == s;
    if (!is_head) unsigned_size = s;
  }
  if (unsigned_size) {
    const Error e = refusal(1, unsigned_size);
    EXPECT_EQ(e.field, "to");
    EXPECT_NE(e.message.find("no signed tree head"), std::string::npos) << e.message;
  }
  // An earlier head as `to`: its own signed head, proven from `from`.
  auto earlier = app::WitnessStatementFor(data_, "dpo", 1, heads.front().size);
  ASSERT_TRUE(earlier) << earlier.error().ToString();
  EXPECT_EQ(earlier->head.root, heads.front().root);
  EXPECT_TRUE(ledger::CheckWitnessStatement(*earlier, std::nullopt, keys_));
}

TEST_F(Witness, Issue8_Witness_check_refuses_a_ledger_cut_short_a_wrong_start_and_a_foreign_key) {
  const ledger::TreeHead early = app::LatestCheckpoint(data_, "dpo").value();
  Grow();
  const ledger::TreeHead kept = app::LatestCheckpoint(data_, "dpo").value();
  // The ledger cut back to the early head: signed, but smaller than kept.
  Exec("DELETE FROM events WHERE seq > " + std::to_string(early.size) +
       "; DELETE FROM tree_heads WHERE size > " + std::to_string(early.size));
  const ledger::WitnessStatement cut{app::LatestCheckpoint(data_, "dpo").value(), 0, {}};
  auto r = ledger::CheckWitnessStatement(cut, kept, keys_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "head.size");
  EXPECT_NE(r.error().message.find("cut short"), std::string::npos) << r.error().message;
  // A proof from some other size than the kept head's.
  ASSERT_GT(kept.size, early.size);
  ledger::WitnessStatement other{kept, 1, {}};
  auto wrong_start = ledger::CheckWitnessStatement(other, early, keys_);
  ASSERT_FALSE(wrong_start);
  EXPECT_EQ(wrong_start.error().field, "previous_size");
  // The kept head again, without a proof: the same root suffices.
  EXPECT_TRUE(ledger::CheckWitnessStatement(ledger::WitnessStatement{kept, 0, {}}, kept, keys_));
  // A head whose key is not among the witness's keys, or forged.
  ledger::WitnessStatement forged{kept, kept.size, {}};
  forged.head.root[0] ^= 1;
  auto not_signed = ledger::CheckWitnessStatement(forged, std::nullopt, keys_);
  ASSERT_FALSE(not_signed);
  EXPECT_EQ(not_signed.error().field, "head.signature");
  auto unknown = ledger::CheckWitnessStatement(ledger::WitnessStatement{kept, 0, {}}, std::nullopt, crypto::PublicKeys());
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().field, "head.key_id");
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound) << "a missing key is no sign of a forged head";
  EXPECT_EQ(not_signed.error().code, ErrorCode::kCorruption);
}

}  // namespace
}  // namespace qorgau
