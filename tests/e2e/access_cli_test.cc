// docs/access.md, row by row, through the real `qorgau` binary: each action
// once by an actor the matrix allows (`--as`, exit 0) and once by one it
// refuses (exit 1, "refused [code]"), on a fresh data directory each. The
// same rows run over HTTP in tests/api/access_test.cc.
#include <gtest/gtest.h>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "crypto/crypto.h"

namespace qorgau {
namespace {

struct Row {
  std::string action;
  std::string allowed_as;
  std::vector<std::string> allowed;
  std::string refused_as;
  std::vector<std::string> refused;
  std::string refused_code;
};

const std::vector<Row>& Rows() {
  const auto one = demo::SyntheticSubjects().At(1);
  const auto fresh = demo::SyntheticSubjects().At(30);
  static const std::string calendar = (testing::SourceDir() / "calendars/kz/2026.yaml").string();
  static const std::vector<Row> rows = {
      {"application.file", "olga",
       {"request", "file", "--id", "1", "--kind", "information", "--channel", "office_written", "--reference", "REG-1"},
       "anna",
       {"request", "file", "--id", "1", "--kind", "information", "--channel", "office_written", "--reference", "REG-1"},
       "no_duty"},
      {"applications.read", "olga", {"request", "show", "{app}"}, "anna", {"request", "show", "{app}"}, "no_duty"},
      {"applications.read (subject)", "dpo", {"request", "list", "--id", "1"}, "idle",
       {"request", "list", "--id", "1"}, "no_duty"},
      {"applications.read (due)", "olga", {"request", "overdue", "--as-of", "2025-12-01"}, "crm",
       {"request", "overdue", "--as-of", "2025-12-01"}, "no_duty"},
      {"application.handle", "olga", {"request", "advance", "{app}", "--to", "identity_verified"}, "crm",
       {"request", "advance", "{app}", "--to", "identity_verified"}, "no_duty"},
      {"application.handle (documents)", "olga", {"request", "attach", "{app}", "--document", "SCAN-1:" + std::string(64, 'a')},
       "anna", {"request", "attach", "{app}", "--document", "SCAN-1:" + std::string(64, 'a')}, "no_duty"},
      {"application.handle (answer)", "dpo", {"request", "answer", "{verified}", "--reference", "OUT-1"}, "anna",
       {"request", "answer", "{verified}", "--reference", "OUT-1"}, "no_duty"},
      {"application.handle (refuse)", "olga", {"request", "refuse", "{app}", "--reason", "duplicate"}, "billing",
       {"request", "refuse", "{app}", "--reason", "duplicate"}, "no_duty"},
      {"application.handle (block)", "olga", {"request", "block", "{blocking}"}, "anna",
       {"request", "block", "{blocking}"}, "no_duty"},
      {"application.handle (unblock)", "olga", {"request", "unblock", "{blocked}", "--reason", "breach_remedied"},
       "crm", {"request", "unblock", "{blocked}", "--reason", "breach_remedied"}, "no_duty"},
      {"statement.read", "dpo", {"statement", "--id", "1", "--lang", "en", "--format", "html"}, "anna",
       {"statement", "--id", "1", "--lang", "en"}, "no_duty"},
      {"breach.record", "dpo",
       {"breach", "record", "--how", "siem_alert", "--category", "user.contact.phone", "--measure", "access_revoked",
        "--subject", "1"},
       "olga",
       {"breach", "record", "--how", "siem_alert", "--category", "user.contact.phone", "--measure", "access_revoked",
        "--subject", "1"},
       "dpo_only"},
      {"breaches.read", "dpo", {"breach", "list"}, "anna", {"breach", "list"}, "dpo_only"},
      {"retention.plan", "dpo", {"retention", "plan", "--as-of", "2030-01-01"}, "olga", {"retention", "plan"},
       "dpo_only"},
      {"retention.run", "dpo", {"retention", "run", "--quiet"}, "olga", {"retention", "run"}, "dpo_only"},
      {"retention.acts", "dpo", {"retention", "acts"}, "anna", {"retention", "acts"}, "dpo_only"},
      {"transfer.make", "sales",
       {"transfer", "make", "--recipient", "partner_bank_kz", "--purpose", "convergent_services", "--category",
        "user.identity.name", "--subject", "1", "--out", "{out}"},
       "dana",
       {"transfer", "make", "--recipient", "partner_bank_kz", "--purpose", "convergent_services", "--category",
        "user.identity.name", "--subject", "1", "--out", "{out}"},
       "no_duty"},
      {"transfers.read", "dpo", {"transfer", "list"}, "anna", {"transfer", "list"}, "no_duty"},
      {"aggregate.release", "dpo", {"aggregate", "--purpose", "contract_performance", "--by", "service:marketing_offers"},
       "idle", {"aggregate", "--purpose", "contract_performance", "--by", "service:marketing_offers"}, "no_duty"},
      {"aggregates.read", "dpo", {"aggregates"}, "anna", {"aggregates"}, "dpo_only"},
      {"policy.accept", "crm", {"policy", "accept", "--id", "1", "--channel", "mobile_app", "--evidence", "APP-ACC-1"},
       "idle", {"policy", "accept", "--id", "1", "--channel", "mobile_app", "--evidence", "APP-ACC-1"}, "no_duty"},
      {"statistics.read", "dpo", {"statistics", "--from", "2025-01-01"}, "anna", {"statistics"}, "admin_only"},
      {"outbox.read", "admin", {"outbox", "--pending"}, "anna", {"outbox"}, "admin_only"},
      {"policy.publish", "dpo", {"policy", "publish", "{edition2}", "--reason", "legal review"}, "anna",
       {"policy", "publish", "{edition2}", "--reason", "legal review"}, "dpo_only"},
      {"contract.end", "crm", {"contract", "end", "--id", "1", "--contract", "2", "--evidence", "NOTICE-1"}, "anna",
       {"contract", "end", "--id", "1", "--contract", "2", "--evidence", "NOTICE-1"}, "no_duty"},
      {"calendar.import", "admin", {"calendar", "import", calendar}, "olga", {"calendar", "import", calendar},
       "admin_only"},
      {"subject.add", "onboarding", {"subject", "add", "--iin", fresh.iin, "--phone", fresh.phone},
       "crm", {"subject", "add", "--iin", fresh.iin, "--phone", fresh.phone}, "no_duty"},
      {"subject.lookup", "anna",
       {"subject", "show", "--phone", one.phone, "--purpose", "contract_performance"}, "anna",
       {"subject", "show", "--iin", one.iin, "--purpose", "contract_performance"}, "no_duty"},
      {"data.record", "onboarding",
       {"subject", "put", "--id", "1", "--category", "user.contact.address", "--value", "Almaty"}, "anna",
       {"subject", "put", "--id", "1", "--category", "user.contact.address", "--value", "Almaty"},
       "no_duty"},
      {"data.read", "anna", {"subject", "show", "--id", "1", "--purpose", "contract_performance"}, "anna",
       {"subject", "show", "--id", "1", "--purpose", "marketing"}, "no_duty"},
      {"contract.join", "onboarding",
       {"contract", "join", "--id", "2", "--method", "sms", "--services", "marketing_offers", "--evidence",
        "SMS-2"},
       "crm",
       {"contract", "join", "--id", "2", "--method", "sms", "--services", "contests", "--evidence", "SMS-3"},
       "purpose_not_allowed_for_caller"},
      {"service.enable", "crm",
       {"service", "enable", "--id", "2", "--service", "marketing_offers", "--channel", "mobile_app",
        "--evidence", "APP-1"},
       "anna",
       {"service", "enable", "--id", "2", "--service", "marketing_offers", "--channel", "mobile_app",
        "--evidence", "APP-1"},
       "no_duty"},
      {"service.disable", "crm", {"service", "disable", "--id", "1", "--service", "marketing_offers"},
       "anna", {"service", "disable", "--id", "1", "--service", "marketing_offers"}, "no_duty"},
      {"services.read", "anna", {"service", "list", "--id", "1"}, "idle", {"service", "list", "--id", "1"},
       "no_duty"},
      {"consent.grant", "crm",
       {"consent", "grant", "--id", "2", "--purpose", "product_development", "--channel", "mobile_app",
        "--evidence", "APP-2"},
       "anna",
       {"consent", "grant", "--id", "2", "--purpose", "product_development", "--channel", "mobile_app",
        "--evidence", "APP-2"},
       "no_duty"},
      {"consent.withdraw", "crm",
       {"withdraw", "--id", "1", "--channel", "app_support_chat", "--service", "marketing_offers",
        "--evidence", "CHAT-1"},
       "anna",
       {"withdraw", "--id", "1", "--channel", "app_support_chat", "--service", "marketing_offers",
        "--evidence", "CHAT-1"},
       "no_duty"},
      {"withdrawal.preview", "crm",
       {"withdraw", "--id", "1", "--channel", "app_support_chat", "--service", "marketing_offers",
        "--preview"},
       "anna",
       {"withdraw", "--id", "1", "--channel", "app_support_chat", "--service", "marketing_offers",
        "--preview"},
       "no_duty"},
      {"consents.read", "anna", {"consent", "list", "--id", "1"}, "idle", {"consent", "list", "--id", "1"},
       "no_duty"},
      {"consents.read (acceptance)", "anna", {"policy", "accepted", "--id", "1"}, "idle",
       {"policy", "accepted", "--id", "1"}, "no_duty"},
      {"obligation.open", "billing",
       {"obligation", "open", "--id", "1", "--kind", "debt", "--ref", "D-1", "--amount", "100"}, "billing",
       {"obligation", "open", "--id", "1", "--kind", "legal_hold", "--ref", "H-1"},
       "legal_hold_role_required"},
      {"obligation.close", "billing", {"obligation", "close", "--ref", "D-2"}, "anna",
       {"obligation", "close", "--ref", "D-2"}, "no_duty"},
      {"obligation.import", "billing", {"obligation", "import", "{csv}"}, "crm",
       {"obligation", "import", "{csv}"}, "no_duty"},
      {"obligations.read", "billing", {"obligation", "list", "--id", "1"}, "anna",
       {"obligation", "list", "--id", "1"}, "no_duty"},
      {"check", "crm", {"check", "--id", "1", "--purpose", "marketing"}, "crm",
       {"check", "--id", "1", "--purpose", "debt_collection"}, "purpose_not_allowed_for_caller"},
      {"audience", "crm", {"audience", "--purpose", "marketing", "--out", "{out}"}, "anna",
       {"audience", "--purpose", "marketing", "--out", "{out}"}, "no_duty"},
      {"receipt.read", "crm", {"receipt", "show", "--event", "{seq}"}, "anna",
       {"receipt", "show", "--event", "{seq}"}, "no_duty"},
      {"access_trail.read", "dpo", {"audit", "access", "--id", "1"}, "anna", {"audit", "access", "--id", "1"},
       "dpo_only"},
      {"access_trail.read (by actor)", "dpo", {"audit", "reads", "--actor", "anna"}, "anna",
       {"audit", "reads", "--actor", "anna"}, "dpo_only"},
      {"audit.verify", "admin", {"audit", "verify"}, "anna", {"audit", "verify"}, "admin_only"},
      {"audit.checkpoint", "dpo", {"audit", "checkpoint"}, "anna", {"audit", "checkpoint"}, "admin_only"},
      {"audit.checkpoint (consistency)", "admin", {"audit", "consistency", "--from", "1"}, "anna",
       {"audit", "consistency", "--from", "1"}, "admin_only"},
      {"actors.manage", "admin", {"actor", "add", "--id", "eve", "--role", "employee"}, "dpo",
       {"actor", "add", "--id", "eve", "--role", "employee"}, "admin_only"},
      {"actors.read", "admin", {"actor", "list"}, "dpo", {"actor", "list"}, "admin_only"},
      {"actors.read (duties)", "admin", {"actor", "list", "--duties"}, "dpo", {"actor", "list", "--duties"},
       "admin_only"},
      {"actors.read (keys)", "admin", {"key", "list", "--actor", "crm"}, "dpo",
       {"key", "list", "--actor", "crm"}, "admin_only"},
      {"actors.manage (duty)", "admin",
       {"actor", "duty", "--actor", "dana", "--purpose", "marketing", "--categories", "user.contact.phone"},
       "dpo",
       {"actor", "duty", "--actor", "dana", "--purpose", "marketing", "--categories", "user.contact.phone"},
       "admin_only"},
      // Every action of docs/access.md can be granted from the CLI, transfer too.
      {"actors.manage (transfer duty)", "admin",
       {"actor", "duty", "--actor", "dana", "--purpose", "convergent_services", "--categories",
        "user.contact.phone", "--actions", "transfer"},
       "dpo",
       {"actor", "duty", "--actor", "dana", "--purpose", "convergent_services", "--categories",
        "user.contact.phone", "--actions", "transfer"},
       "admin_only"},
      {"actors.manage (enrol)", "admin", {"key", "enrol", "--actor", "anna"}, "dpo",
       {"key", "enrol", "--actor", "anna"}, "admin_only"},
      {"actors.manage (key)", "admin", {"key", "create", "--actor", "billing", "--expires", "2030-01-31"},
       "dpo", {"key", "create", "--actor", "billing", "--expires", "2030-01-31"}, "admin_only"},
      {"actors.manage (revoke)", "admin", {"key", "revoke", "--actor", "crm", "--key", "{crm_key}"}, "dpo",
       {"key", "revoke", "--actor", "crm", "--key", "{crm_key}"}, "admin_only"},
      {"actors.manage (duty remove)", "admin", {"actor", "duty-remove", "--actor", "anna", "--purpose",
       "contract_performance"}, "anna", {"actor", "duty-remove", "--actor", "anna", "--purpose",
       "contract_performance"}, "admin_only"},
      {"actors.manage (disable)", "admin", {"actor", "disable", "--id", "bek"}, "crm",
       {"actor", "disable", "--id", "bek"}, "admin_only"},
      // CLI only (the data directory to itself): docs/access.md.
      {"keys.rotate_master", "admin", {"key", "rotate-master"}, "dpo", {"key", "rotate-master"},
       "admin_only"},
      {"keys.rotate_signing", "admin", {"key", "rotate-signing"}, "dpo", {"key", "rotate-signing"},
       "admin_only"},
      {"store.backup", "admin", {"backup", "{out}"}, "dpo", {"backup", "{out}"}, "admin_only"},
      {"store.restore", "admin", {"restore", "{backup}"}, "dpo", {"restore", "{backup}"}, "admin_only"},
      {"webhooks.manage", "admin",
       {"webhook", "add", "--name", "crm", "--url", "http://127.0.0.1:9/hooks", "--secret-file", "{out}"}, "dpo",
       {"webhook", "add", "--name", "crm", "--url", "http://127.0.0.1:9/hooks", "--secret-file", "{out}"},
       "admin_only"},
      {"webhooks.manage (list)", "admin", {"webhook", "list"}, "anna", {"webhook", "list"}, "admin_only"},
      {"outbox.deliver", "admin", {"webhook", "deliver"}, "dpo", {"webhook", "deliver"}, "admin_only"},
      // The token is the credential; --as plays no part.
      {"key.redeem", "anna", {"key", "redeem", "{fresh}"}, "anna", {"key", "redeem", "{used}"},
       "enrolment_invalid"},
  };
  return rows;
}

// gtest names a failing row by its action, not its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.action; }

class AccessCliMatrix : public ::testing::TestWithParam<Row> {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    FixedClock clock(1764150000000);
    ASSERT_TRUE(app::Instance::Init(data_, testing::KemPolicyWithPartners(dir_.path() / "policy"), clock));
    auto inst = app::Instance::Open(data_, clock);
    ASSERT_TRUE(inst) << inst.error().ToString();
    rules::Engine& e = (*inst)->engine();
    const testing::AccessWorld world = testing::MakeAccessWorld(e, /*with_keys=*/false);
    // What some rows act on: a debt to close and to list, a receipt to read.
    ASSERT_TRUE(e.OpenObligation({rules::SubjectKey::Id(2), ObligationKind::kDebt, "D-2", "100"},
                                 world["billing"]));
    auto g = e.GrantConsent({rules::SubjectKey::Id(1), "product_development", "mobile_app", "APP-7"},
                            world["crm"]);
    ASSERT_TRUE(g) << g.error().ToString();
    seq_ = std::to_string(g->revision);
    // Subject 1's convergent consent, which a transfer to the bank rests on.
    ASSERT_TRUE(e.GrantConsent({rules::SubjectKey::Id(1), "convergent_services", "mobile_app", "APP-8"},
                               world["sales"]));
    crm_key_ = crypto::ToHex(crypto::Sha256(e.CreateApiKey("crm", world["admin"]).value())).substr(0, 16);
    // Applications to read and handle: one received, one whose applicant's
    // identity was verified.
    rules::ApplicationRequest application;
    application.subject = rules::SubjectKey::Id(1);
    application.kind = "information";
    application.channel = "office_written";
    application.reference = "REG-7";
    auto filed = e.FileApplication(application, world["olga"]);
    ASSERT_TRUE(filed) << filed.error().ToString();
    app_ = std::to_string(filed->record.id);
    auto verified = e.FileApplication(application, world["olga"]);
    ASSERT_TRUE(verified) << verified.error().ToString();
    verified_ = std::to_string(verified->record.id);
    ASSERT_TRUE(e.AdvanceApplication(verified->record.id, "identity_verified", world["olga"]));
    // Blocking applications of two subjects no other row uses: the first's
    // verified, the second's verified and the subject blocked on it.
    for (std::uint64_t n : {40, 41}) {
      const auto s = demo::SyntheticSubjects().At(n);
      auto who = e.AddSubject({s.iin, s.phone, {}, "subject"}, world["onboarding"]);
      ASSERT_TRUE(who) << who.error().ToString();
      rules::ApplicationRequest blocking{rules::SubjectKey::Id(*who), "blocking", "e_document", "ED-1", {}, {}, {}, {}};
      auto b = e.FileApplication(blocking, world["olga"]);
      ASSERT_TRUE(b) << b.error().ToString();
      ASSERT_TRUE(e.AdvanceApplication(b->record.id, "identity_verified", world["olga"]));
      (n == 40 ? blocking_ : blocked_) = std::to_string(b->record.id);
    }
    ASSERT_TRUE(e.BlockSubject(std::stoll(blocked_), world["olga"]));
    csv_ = (dir_.path() / "billing.csv").string();
    testing::WriteFile(csv_, "action,iin,kind,ref,amount\nopen," + demo::SyntheticSubjects().At(1).iin +
                                 ",debt,D-3,100\n");
    inst->reset();
    const auto& args = GetParam().refused;
    if (std::find(args.begin(), args.end(), "{backup}") != args.end()) {
      auto made = app::BackupDataDirectory(data_, dir_.path() / "backup", "admin", clock);
      ASSERT_TRUE(made) << made.error().ToString();
    }
    if (std::find(args.begin(), args.end(), "{used}") == args.end()) return;
    // Enrolment tokens by the binary, on the clock the binary redeems them by.
    auto enrol = [&] {
      auto r = Run("admin", {"key", "enrol", "--actor", "anna"});
      EXPECT_EQ(r.exit_code, 0) << r.err;
      return r.out.substr(0, r.out.find('\n'));
    };
    used_ = enrol();
    ASSERT_EQ(Run("anna", {"key", "redeem", used_}).exit_code, 0);
    fresh_ = enrol();
  }
  testing::RunResult Run(const std::string& as, std::vector<std::string> args) {
    for (auto& a : args) {
      if (a == "{seq}") a = seq_;
      if (a == "{csv}") a = csv_;
      if (a == "{out}") a = (dir_.path() / "ids.txt").string();
      // Edition 2 with the same test partners as the edition the data directory runs.
      if (a == "{edition2}") a = testing::KemPolicyWithPartners(dir_.path() / "policy", "kem-2").string();
      if (a == "{crm_key}") a = crm_key_;
      if (a == "{used}") a = used_;
      if (a == "{fresh}") a = fresh_;
      if (a == "{app}") a = app_;
      if (a == "{verified}") a = verified_;
      if (a == "{blocking}") a = blocking_;
      if (a == "{blocked}") a = blocked_;
      if (a == "{backup}") a = (dir_.path() / "backup").string();
    }
    args.insert(args.begin(), {"--data", data_.string(), "--as", as});
    return testing::RunQorgau(args);
  }

  testing::TempDir dir_;
  std::filesystem::path data_;
  std::string seq_, csv_, crm_key_, used_, fresh_, app_, verified_, blocking_, blocked_;
};

TEST_P(AccessCliMatrix, AllowedAndRefusedAsDocumented) {
  const Row& row = GetParam();
  auto refused = Run(row.refused_as, row.refused);
  EXPECT_EQ(refused.exit_code, 1) << row.action << ": " << refused.out << refused.err;
  EXPECT_NE(refused.err.find("refused [" + row.refused_code + "]"), std::string::npos)
      << row.action << ": " << refused.err;
  auto allowed = Run(row.allowed_as, row.allowed);
  EXPECT_EQ(allowed.exit_code, 0) << row.action << ": " << allowed.out << allowed.err;
}

INSTANTIATE_TEST_SUITE_P(DocsAccessMd, AccessCliMatrix, ::testing::ValuesIn(Rows()),
                         [](const ::testing::TestParamInfo<Row>& info) {
                           std::string name = info.param.action;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(AccessCli, AnUnknownActorIsRefusedAndTheDefaultIsTheConsoleAdministrator) {
  testing::TempDir dir;
  const std::string data = (dir.path() / "d").string();
  ASSERT_EQ(testing::RunQorgau({"--data", data, "init", "--policy", testing::KemPolicy().string()}).exit_code, 0);
  auto unknown = testing::RunQorgau({"--data", data, "--as", "mallory", "audit", "verify"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("no actor 'mallory'"), std::string::npos) << unknown.err;
  // console administers: it verifies the ledger and lists actors, and acts on no subject.
  EXPECT_EQ(testing::RunQorgau({"--data", data, "audit", "verify"}).exit_code, 0);
  auto list = testing::RunQorgau({"--data", data, "actor", "list"});
  EXPECT_NE(list.out.find("console"), std::string::npos) << list.out;
  const auto s = demo::SyntheticSubjects().At(5);
  auto add = testing::RunQorgau({"--data", data, "subject", "add", "--iin", s.iin, "--phone", s.phone});
  EXPECT_NE(add.err.find("refused [role_not_allowed]"), std::string::npos) << add.err;
  auto env = testing::RunQorgau({"--data", data, "audit", "verify"}, "QORGAU_AS=mallory");
  EXPECT_NE(env.err.find("no actor 'mallory'"), std::string::npos) << env.err;
}

}  // namespace
}  // namespace qorgau
