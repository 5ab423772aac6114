// End-to-end: the real `qorgau` binary, run as a user would.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include "../kantara_schema.h"
#include "../test_util.h"
#include "app/instance.h"
#include "demo/synthetic.h"
#include "../rules/staff.h"

namespace qorgau {
namespace {

using testing::RunQorgau;
using testing::TempDir;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = (dir_.path() / "data").string();
    auto r = Run({"init", "--policy", testing::KemPolicy().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // The operators these tests act as (--as): a clerk who may do what a
    // person may (masked), and one with the full view.
    FixedClock clock(1764150000000);
    auto inst = app::Instance::Open(data_, clock);
    ASSERT_TRUE(inst) << inst.error().ToString();
    testing::MakeActor((*inst)->engine(), "clerk", ActorRole::kDpo);
    testing::MakeActor((*inst)->engine(), "clerk-full", ActorRole::kDpo, kAllDutyActions, true);
  }
  // Runs qorgau on the test's data directory as `as`.
  testing::RunResult Run(std::vector<std::string> args, const std::string& as = "clerk") {
    args.insert(args.begin(), {"--data", data_, "--as", as});
    return RunQorgau(args);
  }
  testing::RunResult AddSubject(std::uint64_t index) {
    const auto s = demo::SyntheticSubjects().At(index);
    return Run({"subject", "add", "--iin", s.iin, "--phone", s.phone, "--name", s.name});
  }
  std::string DatabaseDump() { return testing::ReadFile(std::filesystem::path(data_) / "qorgau.db") +
                                      testing::ReadFile(std::filesystem::path(data_) / "qorgau.db-wal"); }

  TempDir dir_;
  std::string data_;
};

TEST_F(CliTest, InitCreatesPrivateKeyAndDatabase) {
  struct stat st {};
  // The master key lives beside the data directory, not in it.
  EXPECT_FALSE(std::filesystem::exists(data_ + "/master.key"));
  ASSERT_EQ(::stat((data_ + ".master.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((data_ + "/qorgau.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto again = Run({"init", "--policy", testing::KemPolicy().string()});
  EXPECT_NE(again.exit_code, 0);
  EXPECT_NE(again.err.find("already holds"), std::string::npos);
}

TEST_F(CliTest, InitWithAnInvalidPolicyCreatesNothing) {
  TempDir other;
  const auto file = testing::CopyKemPolicy(other.path());
  testing::WriteFile(file, testing::ReplaceOnce(testing::ReadFile(file), "basis: law", "basis: lore"));
  auto r = RunQorgau({"--data", (other.path() / "d").string(), "init", "--policy", file.string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("policy.yaml:"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(other.path() / "d"));
}

TEST_F(CliTest, PolicyCheckAcceptsKemAndRefusesAMistakeWithItsPosition) {
  auto ok = RunQorgau({"policy", "check", testing::KemPolicy().string()});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("valid"), std::string::npos);

  TempDir other;
  const auto file = testing::CopyKemPolicy(other.path());
  const std::string text = testing::ReplaceOnce(testing::ReadFile(file), "    purposes: [legal_duties]",
                                                "    purposes: [legal_dutys]");
  testing::WriteFile(file, text);
  auto bad = RunQorgau({"policy", "check", file.string()});
  EXPECT_NE(bad.exit_code, 0);
  const std::string where = "policy.yaml:" + std::to_string(testing::LineOf(text, "[legal_dutys]")) +
                            ":" + std::to_string(16) + ": ";
  EXPECT_NE(bad.err.find(where), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("unknown purpose 'legal_dutys'"), std::string::npos) << bad.err;
}

TEST_F(CliTest, R_II_1_policy_show_in_each_language) {
  auto kk = Run({"policy", "show", "--lang", "kk"});
  ASSERT_EQ(kk.exit_code, 0) << kk.err;
  EXPECT_NE(kk.out.find("маркетингтік әрекеттерді жүргізу"), std::string::npos);
  auto ru = Run({"policy", "show", "--lang", "ru"});
  EXPECT_NE(ru.out.find("проведение маркетинговых мероприятий"), std::string::npos);
  auto en = Run({"policy", "show", "--lang", "en"});
  EXPECT_NE(en.out.find("KAZEUROMOBILE"), std::string::npos);
  EXPECT_NE(Run({"policy", "show", "--lang", "de"}).exit_code, 0);
}

TEST_F(CliTest, SubjectAddAndShowMasked) {
  auto add = AddSubject(5);
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(add.out.find("subject 1 added"), std::string::npos);
  const auto s = demo::SyntheticSubjects().At(5);
  auto show = Run({"subject", "show", "--iin", s.iin, "--purpose", "legal_duties"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(s.iin.substr(0, 4) + "******" + s.iin.substr(10)), std::string::npos);
  EXPECT_EQ(show.out.find(s.iin), std::string::npos);
  EXPECT_EQ(show.out.find(s.phone), std::string::npos);
  auto full = Run({"subject", "show", "--iin", s.iin, "--purpose", "legal_duties"}, "clerk-full");
  EXPECT_NE(full.out.find(s.iin), std::string::npos);
}

TEST_F(CliTest, BadIinIsRefusedClearlyAndTheDatabaseIsUnchanged) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  const std::string before = DatabaseDump();
  auto s = demo::SyntheticSubjects().At(2);
  s.iin.back() = static_cast<char>('0' + (s.iin.back() - '0' + 1) % 10);
  auto r = Run({"subject", "add", "--iin", s.iin, "--phone", s.phone});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("iin: check digit does not match"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find(s.iin), std::string::npos) << "the value must not be echoed";
  EXPECT_EQ(DatabaseDump(), before);
}

TEST_F(CliTest, ConsentGrantListWithdraw) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  auto g = Run({"consent", "grant", "--id", "1", "--purpose", "marketing", "--channel",
                "personal_cabinet", "--evidence", "CAB-1"});
  ASSERT_EQ(g.exit_code, 0) << g.err;
  auto w = Run({"consent", "withdraw", "--id", "1", "--purpose", "marketing", "--channel",
                "app_support_chat", "--evidence", "CHAT-1"});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  auto l = Run({"consent", "list", "--id", "1"});
  EXPECT_NE(l.out.find("withdrawn"), std::string::npos) << l.out;
  EXPECT_NE(l.out.find("app_support_chat"), std::string::npos);
  auto missing = Run({"consent", "grant", "--id", "1", "--purpose", "marketing", "--channel",
                      "website"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("--evidence is required"), std::string::npos) << missing.err;
}

TEST_F(CliTest, AuditVerifyPassesThenFailsOnATamperedEvent) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  ASSERT_EQ(Run({"consent", "grant", "--id", "1", "--purpose", "marketing", "--channel", "website",
                 "--evidence", "W-1"})
                .exit_code,
            0);
  auto ok = Run({"audit", "verify"});
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ledger verified: "), std::string::npos) << ok.out;

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/qorgau.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* find = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT seq FROM events WHERE body LIKE '%consent.granted%'", -1,
                               &find, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(find), SQLITE_ROW);
  const std::string seq = std::to_string(sqlite3_column_int64(find, 0));
  sqlite3_finalize(find);
  ASSERT_EQ(sqlite3_exec(db, ("UPDATE events SET body = replace(body, 'website', 'websitE') WHERE seq = " + seq).c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto broken = Run({"audit", "verify"});
  EXPECT_NE(broken.exit_code, 0);
  EXPECT_NE(broken.err.find("BROKEN at event " + seq), std::string::npos) << broken.err;
}

TEST_F(CliTest, AuditCheckpointIsKeptOutsideAndVerifiedAgainst) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  const std::string file = (dir_.path() / "head.json").string();
  auto exported = Run({"audit", "checkpoint", "--out", file});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_NE(testing::ReadFile(file).find("\"format\":\"qorgau-tree-head/1\""), std::string::npos);
  auto ok = Run({"audit", "verify", "--checkpoint", file});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.out.find("consistent with the checkpoint"), std::string::npos) << ok.out;
  // The last event cut off, and the heads that would say so.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ + "/qorgau.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "DELETE FROM events WHERE seq = (SELECT max(seq) FROM events); "
                             "DELETE FROM tree_heads WHERE size > (SELECT max(seq) FROM events)",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto cut = Run({"audit", "verify", "--checkpoint", file});
  EXPECT_EQ(cut.exit_code, 1);
  EXPECT_NE(cut.err.find("cut short"), std::string::npos) << cut.err;
  auto bad = Run({"audit", "verify", "--checkpoint", data_ + "/receipt.pub"});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("checkpoint"), std::string::npos) << bad.err;
}

TEST_F(CliTest, MasterKeyFromTheEnvironment) {
  TempDir other;
  const std::string env = "QORGAU_MASTER_KEY=" + std::string(64, '1');
  const std::string d = (other.path() / "d").string();
  auto init = RunQorgau({"--data", d, "init", "--policy", testing::KemPolicy().string()}, env);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  EXPECT_FALSE(std::filesystem::exists(other.path() / "d/master.key"));
  EXPECT_FALSE(std::filesystem::exists(other.path() / "d.master.key"));
  EXPECT_EQ(RunQorgau({"--data", d, "actor", "list"}, env).exit_code, 0);
  auto wrong = RunQorgau({"--data", d, "actor", "list"}, "QORGAU_MASTER_KEY=" + std::string(64, '2'));
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("master_key"), std::string::npos);
  // Verifying needs no master key at all: the public key suffices.
  EXPECT_EQ(RunQorgau({"--data", d, "audit", "verify"}).exit_code, 0);
}

TEST_F(CliTest, Issue8_Keys_rotate_master_and_signing_through_the_cli) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  const auto s = demo::SyntheticSubjects().At(1);
  const std::string before = (dir_.path() / "before.json").string();
  const std::string after = (dir_.path() / "after.json").string();
  ASSERT_EQ(Run({"consent", "grant", "--id", "1", "--purpose", "marketing", "--channel", "personal_cabinet",
                 "--evidence", "CAB-1", "--receipt", before}).exit_code, 0);

  auto refused = Run({"key", "rotate-master"}, "clerk");
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("refused [admin_only]"), std::string::npos) << refused.err;
  auto master = Run({"key", "rotate-master", "--progress-every", "1"}, "console");
  ASSERT_EQ(master.exit_code, 0) << master.err;
  EXPECT_NE(master.out.find("master key rotated: 1 data keys rewrapped"), std::string::npos) << master.out;
  EXPECT_NE(master.err.find("1 subjects rewrapped"), std::string::npos) << master.err;
  auto show = Run({"subject", "show", "--iin", s.iin, "--purpose", "legal_duties"}, "clerk-full");
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find(s.iin), std::string::npos);

  auto signing = Run({"key", "rotate-signing"}, "console");
  ASSERT_EQ(signing.exit_code, 0) << signing.err;
  EXPECT_NE(signing.out.find("signing key rotated"), std::string::npos) << signing.out;
  EXPECT_NE(signing.out.find("started again"), std::string::npos) << signing.out;
  ASSERT_EQ(Run({"consent", "withdraw", "--id", "1", "--purpose", "marketing", "--channel",
                 "app_support_chat", "--evidence", "CHAT-1", "--receipt", after}).exit_code, 0);

  for (const auto& file : {before, after}) {
    auto v = Run({"receipt", "verify", file});
    EXPECT_EQ(v.exit_code, 0) << file << ": " << v.err;
    EXPECT_NE(v.out.find("valid receipt"), std::string::npos) << v.out;
  }
  auto only_new = Run({"receipt", "verify", before, "--public-key", data_ + "/receipt.pub"});
  EXPECT_EQ(only_new.exit_code, 1);
  EXPECT_NE(only_new.err.find("signed with key"), std::string::npos) << only_new.err;
  auto with_dir = Run({"receipt", "verify", before, "--keys", data_ + "/receipt-keys"});
  EXPECT_EQ(with_dir.exit_code, 0) << with_dir.err;
  auto verify = Run({"audit", "verify"}, "console");
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

TEST_F(CliTest, ASecondProcessOnTheSameDataDirectoryIsRefused) {
  FixedClock clock(1764150000000);
  auto held = app::Instance::Open(data_, clock);
  ASSERT_TRUE(held) << held.error().ToString();
  auto r = Run({"actor", "list"}, "console");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("in use by another qorgau process"), std::string::npos) << r.err;
  // Verifying reads only, with the public key: it runs beside the owner.
  auto verify = Run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  held->reset();
  EXPECT_EQ(Run({"actor", "list"}, "console").exit_code, 0);
}

TEST_F(CliTest, AConfigFileSetsTheDataDirectory) {
  const std::string config = (dir_.path() / "qorgau.toml").string();
  testing::WriteFile(config, "data = \"" + data_ + "\"\n[serve]\nlisten = \"127.0.0.1:0\"\n");
  auto r = RunQorgau({"--config", config, "audit", "verify"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("ledger verified"), std::string::npos);
}

TEST_F(CliTest, AConfigFileWithAMisspeltKeyOrALineThatIsNotTomlStopsTheCommand) {
  const std::string config = (dir_.path() / "qorgau.toml").string();
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"data = \"" + data_ + "\"\n[serve]\nlistne = \"127.0.0.1:0\"\n", "'serve.listne'"},
           {"data = \"" + data_ + "\"\nthis is not toml [[[\n", "this is not toml"},
           {"data = \"" + data_ + "\"\n[serve]\nretention-as = \"dpo\"\nretention-at = \"02:30\"\n[serv]\nlisten = \"x\"\n",
            "[serv]"}}) {
    testing::WriteFile(config, text);
    auto r = RunQorgau({"--config", config, "audit", "verify"});
    EXPECT_EQ(r.exit_code, 2) << text << r.err;
    EXPECT_NE(r.err.find("--config"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << r.err;
    EXPECT_EQ(r.out.find("ledger verified"), std::string::npos) << "the command ran: " << r.out;
  }
}

TEST_F(CliTest, AnUnparsableCommandLineExitsWithTwo) {
  // A missing required flag, a value outside its choices, an unknown flag:
  // usage errors, status 2, whatever CLI11's own code; --help is 0.
  EXPECT_EQ(Run({"subject", "add", "--iin", "000000000000"}).exit_code, 2);
  EXPECT_EQ(Run({"actor", "add", "--id", "x", "--role", "superuser"}).exit_code, 2);
  EXPECT_EQ(Run({"audit", "verify", "--no-such-flag"}).exit_code, 2);
  EXPECT_EQ(Run({"audit", "verify", "--help"}).exit_code, 0);
}

TEST_F(CliTest, CommandsWithoutADatabaseSayWhatToDo) {
  TempDir empty;
  auto r = RunQorgau({"--data", empty.path().string(), "audit", "verify"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("qorgau init"), std::string::npos) << r.err;
}

TEST_F(CliTest, R_VI_3_withdraw_refused_for_a_debt_prints_the_reason_code_and_exits_non_zero) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  ASSERT_EQ(Run({"contract", "join", "--id", "1", "--method", "form", "--services", "mobile_base", "--evidence", "FORM-1"}).exit_code, 0);
  const std::string joined = (dir_.path() / "joined.json").string();
  auto offers = Run({"contract", "join", "--id", "1", "--method", "sms", "--services",
                     "marketing_offers,contests", "--evidence", "SMS-77", "--receipt", joined});
  ASSERT_EQ(offers.exit_code, 0) << offers.err;
  EXPECT_NE(offers.out.find("consents granted: contests_campaigns, marketing"), std::string::npos) << offers.out;
  ASSERT_EQ(Run({"obligation", "open", "--id", "1", "--kind", "debt", "--ref", "DEBT-9", "--amount", "500"}).exit_code, 0);
  auto refused = Run({"withdraw", "--id", "1", "--channel", "app_support_chat", "--evidence", "CHAT-1"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("refused [withdrawal_blocked_by_obligation]"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("DEBT-9"), std::string::npos);
  ASSERT_EQ(Run({"obligation", "close", "--ref", "DEBT-9"}).exit_code, 0);
  auto preview = Run({"withdraw", "--id", "1", "--channel", "app_support_chat", "--service",
                      "marketing_offers", "--preview"});
  ASSERT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_NE(preview.out.find("PREVIEW"), std::string::npos);
  EXPECT_NE(preview.out.find("services switched off: marketing_offers"), std::string::npos) << preview.out;
  const std::string receipt = (dir_.path() / "r.json").string();
  auto done = Run({"withdraw", "--id", "1", "--channel", "app_support_chat", "--service",
                   "marketing_offers", "--evidence", "CHAT-2", "--receipt", receipt});
  ASSERT_EQ(done.exit_code, 0) << done.err;
  auto check = Run({"check", "--id", "1", "--purpose", "marketing"});
  EXPECT_EQ(check.exit_code, 3);
  EXPECT_NE(check.out.find("DENY withdrawn"), std::string::npos) << check.out;

  auto ok = RunQorgau({"receipt", "verify", receipt, "--public-key", data_ + "/receipt.pub"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  // The joining's receipt in the Kantara Consent Receipt v1.1 form (Art.
  // 8), valid against the published schema; a withdrawal's has none.
  const std::string id(boost::json::parse(testing::ReadFile(joined)).at("receipt_id").as_string());
  const std::string kantara = (dir_.path() / "kantara.json").string();
  auto exported = Run({"receipt", "export", id.substr(8), "--format", "kantara", "--lang", "en", "--out", kantara});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_EQ(testing::KantaraSchemaErrors(testing::ReadFile(kantara)), "");
  EXPECT_NE(testing::ReadFile(kantara).find("Short text message (SMS) (SMS-77)"), std::string::npos) << testing::ReadFile(kantara);
  EXPECT_NE(Run({"receipt", "export", id.substr(8), "--format", "xml"}).exit_code, 0);
  const std::string withdrawal(boost::json::parse(testing::ReadFile(receipt)).at("receipt_id").as_string());
  auto not_a_consent = Run({"receipt", "export", withdrawal.substr(8), "--format", "kantara"});
  EXPECT_NE(not_a_consent.exit_code, 0);
  EXPECT_NE(not_a_consent.err.find("receipt_not_a_consent"), std::string::npos) << not_a_consent.err;
  std::string text = testing::ReadFile(receipt);
  text[text.find("CHAT-2") + 5] = '3';
  testing::WriteFile(receipt, text);
  auto bad = RunQorgau({"receipt", "verify", receipt, "--public-key", data_ + "/receipt.pub"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("INVALID"), std::string::npos);
}

TEST_F(CliTest, ObligationImportOfABadFileNamesTheLinesAndImportsNothing) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  const auto s = demo::SyntheticSubjects().At(1);
  const std::string csv = (dir_.path() / "billing.csv").string();
  testing::WriteFile(csv, "action,iin,kind,ref,amount\nopen," + s.iin + ",debt,I-1,10\nopen," +
                              s.iin + ",debt,I-2,ten\n");
  auto r = Run({"obligation", "import", csv});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("billing.csv: line 3: amount:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing imported"), std::string::npos);
  EXPECT_EQ(r.err.find(s.iin), std::string::npos);
  EXPECT_NE(Run({"obligation", "list", "--id", "1"}).out.find("no obligations"), std::string::npos);
}

TEST_F(CliTest, AudienceWritesTheIdsForAPurpose) {
  for (std::uint64_t i = 1; i <= 3; ++i) ASSERT_EQ(AddSubject(i).exit_code, 0);
  for (const char* id : {"1", "3"}) {
    ASSERT_EQ(Run({"consent", "grant", "--id", id, "--purpose", "marketing", "--channel", "website",
                   "--evidence", "W-1"}).exit_code, 0);
  }
  const std::string in = (dir_.path() / "in.txt").string();
  const std::string out = (dir_.path() / "out.txt").string();
  auto all = Run({"audience", "--purpose", "marketing", "--out", out});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_EQ(testing::ReadFile(out), "1\n3\n");
  testing::WriteFile(in, "2\n3\n");
  ASSERT_EQ(Run({"audience", "--purpose", "marketing", "--in", in, "--out", out}).exit_code, 0);
  EXPECT_EQ(testing::ReadFile(out), "3\n");
}

TEST_F(CliTest, R_IV_4_a_statement_written_to_a_file_is_readable_by_its_owner_only) {
  ASSERT_EQ(AddSubject(1).exit_code, 0);
  const auto out = dir_.path() / "statement.html";
  testing::WriteFile(out.string(), "an older file, world-readable");
  std::filesystem::permissions(out, std::filesystem::perms(0644));
  auto r = Run({"statement", "--id", "1", "--lang", "en", "--format", "html", "--out", out.string()}, "clerk-full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::status(out).permissions() & std::filesystem::perms::all, std::filesystem::perms(0600))
      << "the statement carries the subject's values";
  EXPECT_NE(testing::ReadFile(out.string()).find("<html"), std::string::npos);
  // A file that cannot be written is named, with the reason.
  auto nowhere = Run({"statement", "--id", "1", "--lang", "en", "--out", (dir_.path() / "no" / "x.html").string()},
                     "clerk-full");
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_NE(nowhere.err.find("x.html"), std::string::npos) << nowhere.err;
}

TEST_F(CliTest, R_IX_1_a_refused_transfer_leaves_a_file_named_by_out_as_it_was) {
  const auto kept = dir_.path() / "bank.jsonl";
  testing::WriteFile(kept.string(), "an earlier export");
  const auto made = dir_.path() / "new.jsonl";
  for (const auto& out : {kept, made}) {
    auto r = Run({"transfer", "make", "--recipient", "partner_bank_kz", "--purpose", "convergent_services",
                  "--category", "user.identity.name", "--subject", "1", "--out", out.string()},
                 "clerk-full");
    EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  }
  EXPECT_EQ(testing::ReadFile(kept.string()), "an earlier export") << "neither truncated nor removed";
  EXPECT_FALSE(std::filesystem::exists(made)) << "a file the refused transfer created is removed";
}

TEST(CliDemo, DemoRunsEndToEnd) {
  TempDir dir;
  auto r = RunQorgau({"--data", (dir.path() / "demo").string(), "demo", "--policy",
                      testing::KemPolicy().string(), "--subjects", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("refused as expected - an IIN with a wrong check digit"), std::string::npos);
  EXPECT_NE(r.out.find("[withdrawal_blocked_by_obligation]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[written_application_required]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("marketing: granted via office_written (APP-2026-0301)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("edition 2: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("events verified"), std::string::npos);
  // The next start runs edition 2.
  auto editions = RunQorgau({"--data", (dir.path() / "demo").string(), "policy", "editions"});
  ASSERT_EQ(editions.exit_code, 0) << editions.err;
  EXPECT_NE(editions.out.find("edition 2 (in force)"), std::string::npos) << editions.out;
  auto verify = RunQorgau({"--data", (dir.path() / "demo").string(), "receipt", "verify",
                           (dir.path() / "demo/receipt-withdrawal.json").string()});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

}  // namespace
}  // namespace qorgau
