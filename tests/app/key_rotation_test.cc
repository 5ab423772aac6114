// Issue 8 part 8: `key rotate-master` rewraps every data key and
// recomputes the blind indexes in one transaction; `key rotate-signing`
// replaces the ledger key with key ids, and what was signed before still
// verifies. Both are admin-only, need the data directory's lock, and are
// finished by the next open when a crash interrupts them after the commit.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "../rules/staff.h"
#include "../test_util.h"
#include "core/iin.h"
#include "rules/demographics.h"
#include "app/instance.h"
#include "app/key_rotation.h"
#include "crypto/public_keys.h"
#include "demo/synthetic.h"
#include "ledger/ledger.h"
#include "ledger/tree_head.h"
#include "report/receipt.h"
#include "store/sqlite/sqlite_store.h"

namespace qorgau {
namespace {

namespace fs = std::filesystem;

constexpr int kSubjects = 5;

class KeyRotation : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    key_file_ = data_.string() + ".master.key";
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicy(), clock_));
    auto inst = Open();
    rules::Engine& e = inst->engine();
    auto clerk = testing::MakeActor(e, "clerk", ActorRole::kDpo, kAllDutyActions, /*full_view=*/true);
    testing::MakeActor(e, "anna", ActorRole::kEmployee);
    for (int i = 1; i <= kSubjects; ++i) {
      const auto s = demo::SyntheticSubjects().At(i);
      auto id = e.AddSubject({s.iin, s.phone, {}, "subject"}, *clerk);
      ASSERT_TRUE(id) << id.error().ToString();
    }
    auto g = e.GrantConsent({rules::SubjectKey::Id(1), "marketing", "personal_cabinet", "CAB-1"}, *clerk);
    ASSERT_TRUE(g) << g.error().ToString();
    receipt_before_ = g->receipt;
  }

  std::unique_ptr<app::Instance> Open() {
    auto inst = app::Instance::Open(data_, clock_);
    EXPECT_TRUE(inst) << inst.error().ToString();
    return inst ? std::move(*inst) : nullptr;
  }

  app::MasterRotationOptions As(const std::string& actor) {
    app::MasterRotationOptions o;
    o.actor = actor;
    return o;
  }

  // Every subject's values read back in full, and found by IIN and phone.
  void ExpectEverySubjectReadable(app::Instance& inst) {
    auto clerk = inst.engine().CallerFor("clerk");
    ASSERT_TRUE(clerk);
    for (int i = 1; i <= kSubjects; ++i) {
      const auto s = demo::SyntheticSubjects().At(i);
      auto by_iin = inst.engine().LookupSubject(**clerk, rules::SubjectKey::Iin(s.iin));
      ASSERT_TRUE(by_iin) << i << ": " << by_iin.error().ToString();
      EXPECT_EQ(*by_iin, i);
      auto by_phone = inst.engine().LookupSubject(**clerk, rules::SubjectKey::Phone(s.phone));
      ASSERT_TRUE(by_phone) << i << ": " << by_phone.error().ToString();
      EXPECT_EQ(*by_phone, i);
      auto view = inst.engine().ReadPersonalData(**clerk, rules::SubjectKey::Id(i),
                                                 "legal_duties", {});
      ASSERT_TRUE(view) << i << ": " << view.error().ToString();
      std::string values;
      for (const auto& d : view->data) values += d.value + "|";
      EXPECT_NE(values.find(s.iin), std::string::npos) << i;
    }
    // The demographics aggregates read follow the IIN under the ring in force.
    auto opener = inst.keys().DemographicsOpener().value();
    auto txn = inst.store().Begin(store::Store::Mode::kRead).value();
    int seen = 0;
    ASSERT_TRUE(txn->ScanSubjectDemographics([&](store::SubjectId id, UnixMillis, std::span<const std::uint8_t> sealed) {
      if (id < 1 || id > kSubjects) return;
      ++seen;
      auto plain = opener.Open(sealed, crypto::DemographicsAad(id));
      ASSERT_TRUE(plain) << id << ": " << plain.error().ToString();
      EXPECT_EQ(*plain, rules::EncodeDemographics(rules::Demographics::Of(Iin::Parse(demo::SyntheticSubjects().At(id).iin).value()))) << id;
    }));
    EXPECT_EQ(seen, kSubjects);
  }

  std::vector<std::string> EventBodies() {
    auto store = store::OpenSqliteStoreReadOnly(data_ / "qorgau.db");
    EXPECT_TRUE(store);
    auto txn = (*store)->Begin(store::Store::Mode::kRead);
    std::vector<std::string> bodies;
    EXPECT_TRUE((*txn)->ScanEvents(1, [&](const store::EventRecord& e) {
      bodies.push_back(e.body);
      return true;
    }));
    return bodies;
  }

  ledger::VerifyReport Audit(const fs::path& keys = {}) {
    auto r = app::AuditDataDirectory(data_, app::AuditRequest{"console", keys, {}});
    EXPECT_TRUE(r) << r.error().ToString();
    return r ? *r : ledger::VerifyReport{};
  }

  testing::TempDir dir_;
  fs::path data_;
  std::string key_file_;
  FixedClock clock_{1764150000000};
  std::string receipt_before_;
};

// --- Master key ---

TEST_F(KeyRotation, Issue8_Keys_rotate_master_rewraps_every_data_key) {
  const std::string old_key = testing::ReadFile(key_file_);
  std::int64_t progress_calls = 0;
  auto options = As("console");
  options.progress_every = 2;
  options.progress = [&](std::int64_t) { ++progress_calls; };
  auto r = app::RotateMasterKey(data_, options, clock_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->subjects, kSubjects);
  EXPECT_EQ(progress_calls, kSubjects / 2);
  EXPECT_TRUE(r->replaced);
  EXPECT_EQ(r->new_key, fs::path(key_file_));
  const std::string new_key = testing::ReadFile(key_file_);
  EXPECT_NE(new_key, old_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  {
    auto inst = Open();
    ASSERT_TRUE(inst);
    ExpectEverySubjectReadable(*inst);
  }
  // The event: counts and the check value's digest, never key material.
  const auto events = EventBodies();
  const auto rotated = std::find_if(events.begin(), events.end(), [](const std::string& b) {
    return b.find("\"type\":\"master_key.rotated\"") != std::string::npos;
  });
  ASSERT_NE(rotated, events.end());
  EXPECT_NE(rotated->find("\"subjects\":5"), std::string::npos) << *rotated;
  EXPECT_NE(rotated->find("\"check_hash\""), std::string::npos) << *rotated;
  EXPECT_EQ(rotated->find(new_key.substr(0, 64)), std::string::npos);
  EXPECT_EQ(rotated->find(old_key.substr(0, 64)), std::string::npos);
  const auto report = Audit();
  EXPECT_TRUE(report.ok) << report.reason;

  // The old key no longer opens the database: the check value refuses it.
  ASSERT_TRUE(fs::remove(key_file_));
  testing::WriteFile(key_file_, old_key);
  ASSERT_EQ(::chmod(key_file_.c_str(), 0600), 0);
  auto refused = app::Instance::Open(data_, clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::kCrypto);
  EXPECT_EQ(refused.error().field, "master_key");
}

TEST_F(KeyRotation, Issue8_Keys_rotate_master_twice_and_audit_proves_the_check_value) {
  ASSERT_TRUE(app::RotateMasterKey(data_, As("console"), clock_));
  ASSERT_TRUE(app::RotateMasterKey(data_, As("console"), clock_));
  {
    auto inst = Open();
    ASSERT_TRUE(inst);
    ExpectEverySubjectReadable(*inst);
  }
  EXPECT_TRUE(Audit().ok);
  // A check value changed behind the ledger's back is a difference.
  {
    auto store = store::OpenSqliteStore(data_ / "qorgau.db", /*create=*/false);
    ASSERT_TRUE(store);
    auto txn = (*store)->Begin(store::Store::Mode::kWrite);
    ASSERT_TRUE((*txn)->PutMeta(crypto::kKeyCheckMeta, crypto::Bytes(16, 0x42)));
    ASSERT_TRUE((*txn)->Commit());
  }
  const auto report = Audit();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("key_check"), std::string::npos) << report.reason;
}

TEST_F(KeyRotation, Issue8_Keys_rotate_master_refused_for_a_non_admin_changes_nothing) {
  const std::string old_key = testing::ReadFile(key_file_);
  const auto before = EventBodies().size();
  for (const std::string actor : {"anna", "clerk"}) {
    auto r = app::RotateMasterKey(data_, As(actor), clock_);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::kPermissionDenied);
    EXPECT_EQ(r.error().reason, "admin_only") << r.error().ToString();
  }
  EXPECT_EQ(testing::ReadFile(key_file_), old_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
  EXPECT_EQ(EventBodies().size(), before);
  auto inst = Open();
  ASSERT_TRUE(inst);
  ExpectEverySubjectReadable(*inst);
}

TEST_F(KeyRotation, Issue8_Keys_rotate_master_refused_while_the_lock_is_held) {
  const std::string old_key = testing::ReadFile(key_file_);
  auto held = Open();
  ASSERT_TRUE(held);
  auto r = app::RotateMasterKey(data_, As("console"), clock_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.error().message.find("needs the data directory to itself"), std::string::npos)
      << r.error().ToString();
  auto s = app::RotateSigningKey(data_, "console", clock_);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kFailedPrecondition);
  held.reset();
  EXPECT_EQ(testing::ReadFile(key_file_), old_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
}

TEST_F(KeyRotation, Issue8_Keys_a_crash_between_commit_and_rename_is_finished_on_open) {
  const std::string old_key = testing::ReadFile(key_file_);
  ASSERT_TRUE(app::RotateMasterKey(data_, As("console"), clock_));
  // The state a crash after the commit leaves: the database needs the key
  // in <keyfile>.new, the key file still holds the old one.
  fs::rename(key_file_, key_file_ + ".new");
  testing::WriteFile(key_file_, old_key);
  ASSERT_EQ(::chmod(key_file_.c_str(), 0600), 0);
  const std::string new_key = testing::ReadFile(key_file_ + ".new");

  auto inst = Open();
  ASSERT_TRUE(inst);
  ExpectEverySubjectReadable(*inst);
  EXPECT_EQ(testing::ReadFile(key_file_), new_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
}

TEST_F(KeyRotation, Issue8_Keys_a_new_key_file_of_a_rotation_that_did_not_commit_is_removed) {
  const std::string old_key = testing::ReadFile(key_file_);
  // A crash before the commit: <keyfile>.new written, the database unchanged.
  testing::WriteFile(key_file_ + ".new", std::string(64, 'a') + "\n");
  ASSERT_EQ(::chmod((key_file_ + ".new").c_str(), 0600), 0);
  auto inst = Open();
  ASSERT_TRUE(inst);
  ExpectEverySubjectReadable(*inst);
  EXPECT_EQ(testing::ReadFile(key_file_), old_key);
  EXPECT_FALSE(fs::exists(key_file_ + ".new"));
}

TEST_F(KeyRotation, Issue8_Keys_a_key_from_the_environment_rotates_into_the_file_given) {
  const std::string old_hex = testing::ReadFile(key_file_).substr(0, 64);
  ASSERT_TRUE(fs::remove(key_file_));
  const fs::path new_file = dir_.path() / "next.key";
  // Without --new-key-file: refused, nothing written.
  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY", old_hex.c_str(), 1), 0);
  auto refused = app::RotateMasterKey(data_, As("console"), clock_);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().field, "new-key-file");
  EXPECT_NE(refused.error().message.find("QORGAU_MASTER_KEY"), std::string::npos);

  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY", old_hex.c_str(), 1), 0);
  auto options = As("console");
  options.new_key_file = new_file;
  auto r = app::RotateMasterKey(data_, options, clock_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_FALSE(r->replaced);
  EXPECT_EQ(r->new_key, new_file);
  struct stat st {};
  ASSERT_EQ(::stat(new_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  EXPECT_EQ(std::getenv("QORGAU_MASTER_KEY"), nullptr);

  // The old key is refused with what to do; the new one opens.
  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY", old_hex.c_str(), 1), 0);
  auto old = app::Instance::Open(data_, clock_);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("--new-key-file"), std::string::npos) << old.error().ToString();
  ASSERT_EQ(::setenv("QORGAU_MASTER_KEY", testing::ReadFile(new_file).substr(0, 64).c_str(), 1), 0);
  auto inst = Open();
  ASSERT_TRUE(inst);
  ExpectEverySubjectReadable(*inst);
  ::unsetenv("QORGAU_MASTER_KEY");
}

TEST_F(KeyRotation, Issue8_Keys_new_key_file_is_refused_for_a_key_file_qorgau_replaces) {
  auto options = As("console");
  options.new_key_file = dir_.path() / "elsewhere.key";
  auto r = app::RotateMasterKey(data_, options, clock_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().field, "new-key-file");
  EXPECT_FALSE(fs::exists(options.new_key_file));
}

// --- Signing key ---

TEST_F(KeyRotation, Issue8_Keys_rotate_signing_keeps_earlier_receipts_verifiable) {
  const std::string old_pub = testing::ReadFile(data_ / "receipt.pub");
  auto r = app::RotateSigningKey(data_, "console", clock_);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_NE(r->old_key_id, r->new_key_id);
  EXPECT_TRUE(fs::exists(app::ReceiptKeysDirectory(data_) / (r->old_key_id + ".pub")));
  EXPECT_TRUE(fs::exists(app::ReceiptKeysDirectory(data_) / (r->new_key_id + ".pub")));
  EXPECT_FALSE(fs::exists(data_ / "receipt.key.new"));
  EXPECT_NE(testing::ReadFile(data_ / "receipt.pub"), old_pub);
  struct stat st {};
  ASSERT_EQ(::stat((data_ / "receipt.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  std::string receipt_after;
  {
    auto inst = Open();
    ASSERT_TRUE(inst);
    EXPECT_EQ(inst->signer().KeyId(), r->new_key_id);
    auto clerk = inst->engine().CallerFor("clerk");
    auto g = inst->engine().GrantConsent({rules::SubjectKey::Id(2), "marketing", "personal_cabinet", "CAB-2"},
                                         **clerk);
    ASSERT_TRUE(g) << g.error().ToString();
    receipt_after = g->receipt;
    // The server's own audit (GET /v1/audit/verify) has the key in force
    // only: the old one comes from the rotation event it vouches for.
    auto console = inst->engine().CallerFor("console");
    auto verified = inst->engine().VerifyLedger(**console, std::nullopt);
    ASSERT_TRUE(verified) << verified.error().ToString();
    EXPECT_TRUE(verified->ok) << verified->reason;
  }
  auto keys = app::DataDirectoryPublicKeys(data_);
  ASSERT_TRUE(keys) << keys.error().ToString();
  const auto before = report::VerifyReceipt(receipt_before_, *keys);
  EXPECT_TRUE(before.ok) << before.reason;
  EXPECT_EQ(before.key_id, r->old_key_id);
  const auto after = report::VerifyReceipt(receipt_after, *keys);
  EXPECT_TRUE(after.ok) << after.reason;
  EXPECT_EQ(after.key_id, r->new_key_id);

  // With the new public key alone, the earlier receipt names its key.
  auto only_new = crypto::PublicKeys::FromPath(data_ / "receipt.pub");
  ASSERT_TRUE(only_new);
  const auto unknown = report::VerifyReceipt(receipt_before_, *only_new);
  EXPECT_FALSE(unknown.ok);
  EXPECT_NE(unknown.reason.find(r->old_key_id), std::string::npos) << unknown.reason;

  // A changed byte fails.
  std::string changed = receipt_after;
  const auto at = changed.find("CAB-2");
  ASSERT_NE(at, std::string::npos);
  changed[at + 4] = '3';
  EXPECT_FALSE(report::VerifyReceipt(changed, *keys).ok);

  // audit verify across the rotation: with the archive (the default), and
  // with the key in force only.
  auto report = Audit();
  EXPECT_TRUE(report.ok) << report.reason;
  report = Audit(data_ / "receipt.pub");
  EXPECT_TRUE(report.ok) << report.reason;
  const auto events = EventBodies();
  EXPECT_TRUE(std::any_of(events.begin(), events.end(), [&](const std::string& b) {
    return b.find("\"type\":\"signing_key.rotated\"") != std::string::npos &&
           b.find(r->old_key_id) != std::string::npos && b.find(r->new_key_id) != std::string::npos;
  }));
}

TEST_F(KeyRotation, Issue8_Keys_a_checkpoint_from_before_the_rotation_still_verifies) {
  auto checkpoint = app::LatestCheckpoint(data_, "console");
  ASSERT_TRUE(checkpoint) << checkpoint.error().ToString();
  ASSERT_TRUE(app::RotateSigningKey(data_, "console", clock_));
  { ASSERT_TRUE(Open()); }
  auto r = app::AuditDataDirectory(data_, app::AuditRequest{"console", {}, *checkpoint});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->ok) << r->reason;
}

TEST_F(KeyRotation, Issue8_Keys_a_head_signed_by_the_retired_key_after_the_rotation_is_broken) {
  auto old_signer = crypto::Signer::FromPem(testing::ReadFile(data_ / "receipt.key"));
  ASSERT_TRUE(old_signer);
  ASSERT_TRUE(app::RotateSigningKey(data_, "console", clock_));
  // Whoever kept the old private key appends an event and signs a head.
  {
    auto store = store::OpenSqliteStore(data_ / "qorgau.db", /*create=*/false);
    ASSERT_TRUE(store);
    auto txn = (*store)->Begin(store::Store::Mode::kWrite);
    ledger::EventDraft ev{"actor.disabled", std::nullopt, "console", {}};
    ev.data["actor"] = "anna";
    ASSERT_TRUE(ledger::Append(**txn, clock_.Now(), ev));
    ASSERT_TRUE(ledger::SealTreeHead(**txn, *old_signer, clock_.Now()));
    ASSERT_TRUE((*txn)->Commit());
  }
  const auto report = Audit();
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("signed by key " + old_signer->KeyId()), std::string::npos) << report.reason;
  EXPECT_NE(report.reason.find("rotated at event"), std::string::npos) << report.reason;
}

TEST_F(KeyRotation, Issue8_Keys_a_head_signed_by_an_unknown_key_names_it) {
  const std::string id = Open()->signer().KeyId();
  testing::TempDir other;
  auto stranger = crypto::Signer::Generate();
  ASSERT_TRUE(stranger);
  testing::WriteFile(other.path() / (stranger->KeyId() + ".pub"), stranger->PublicPem().value());
  const auto report = Audit(other.path());
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.reason.find("signed by key " + id), std::string::npos) << report.reason;
}

TEST_F(KeyRotation, Issue8_Keys_rotate_signing_refused_for_a_non_admin_changes_nothing) {
  const std::string key = testing::ReadFile(data_ / "receipt.key");
  auto r = app::RotateSigningKey(data_, "clerk", clock_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().reason, "admin_only") << r.error().ToString();
  EXPECT_EQ(testing::ReadFile(data_ / "receipt.key"), key);
  EXPECT_FALSE(fs::exists(data_ / "receipt.key.new"));
  std::error_code ec;
  EXPECT_EQ(std::distance(fs::directory_iterator(app::ReceiptKeysDirectory(data_), ec),
                          fs::directory_iterator()),
            1);
}

TEST_F(KeyRotation, Issue8_Keys_a_signing_rotation_interrupted_after_its_commit_is_finished_on_open) {
  const std::string old_key = testing::ReadFile(data_ / "receipt.key");
  auto r = app::RotateSigningKey(data_, "console", clock_);
  ASSERT_TRUE(r);
  // A crash after the commit, before the renames.
  fs::rename(data_ / "receipt.key", data_ / "receipt.key.new");
  testing::WriteFile(data_ / "receipt.key", old_key);
  ASSERT_EQ(::chmod((data_ / "receipt.key").c_str(), 0600), 0);
  auto inst = Open();
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->signer().KeyId(), r->new_key_id);
  EXPECT_FALSE(fs::exists(data_ / "receipt.key.new"));
  auto pub = crypto::Verifier::FromPem(testing::ReadFile(data_ / "receipt.pub"));
  ASSERT_TRUE(pub);
  EXPECT_EQ(pub->KeyId(), r->new_key_id);
}

TEST_F(KeyRotation, Issue8_Keys_a_signing_key_the_ledger_never_named_is_removed_or_refused) {
  const std::string id = Open()->signer().KeyId();
  auto stray = crypto::Signer::Generate();
  ASSERT_TRUE(stray);
  // Before the commit: an unused receipt.key.new is removed.
  testing::WriteFile(data_ / "receipt.key.new", stray->PrivatePem().value());
  ASSERT_EQ(::chmod((data_ / "receipt.key.new").c_str(), 0600), 0);
  {
    auto inst = Open();
    ASSERT_TRUE(inst);
    EXPECT_EQ(inst->signer().KeyId(), id);
  }
  EXPECT_FALSE(fs::exists(data_ / "receipt.key.new"));
  // After a rotation, receipt.key must be the key the ledger names.
  const std::string old_key = testing::ReadFile(data_ / "receipt.key");
  ASSERT_TRUE(app::RotateSigningKey(data_, "console", clock_));
  ASSERT_TRUE(fs::remove(data_ / "receipt.key"));
  testing::WriteFile(data_ / "receipt.key", old_key);
  ASSERT_EQ(::chmod((data_ / "receipt.key").c_str(), 0600), 0);
  auto refused = app::Instance::Open(data_, clock_);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("the ledger's signing key is"), std::string::npos)
      << refused.error().ToString();
}

TEST_F(KeyRotation, Issue8_Keys_an_older_data_directory_gets_its_archive_on_open) {
  const std::string id = Open()->signer().KeyId();
  fs::remove_all(app::ReceiptKeysDirectory(data_));
  { ASSERT_TRUE(Open()); }
  EXPECT_TRUE(fs::exists(app::ReceiptKeysDirectory(data_) / (id + ".pub")));
}

}  // namespace
}  // namespace qorgau
