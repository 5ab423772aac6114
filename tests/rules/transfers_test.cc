// Transfers to the operator's partners (R-IX.1, R-IX.3; LAW.md §7, §8;
// rules/transfers.h), on a real store with the KEM policy whose example
// recipients the fixture identifies (test_util.h, KemPolicyWithPartners).
#include "rules/transfers.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <boost/json.hpp>
#include <chrono>
#include <sstream>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "report/statement.h"

namespace qorgau::rules {
namespace {

namespace json = boost::json;

UnixMillis Day(int y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days{year{y} / month{m} / day{d}}.time_since_epoch()).count();
}

class Transfers : public ::testing::Test {
 protected:
  void SetUp() override { Start(""); }
  // `transfers`: a `transfers:` section for the policy, or "".
  void Start(const std::string& transfers) {
    inst_.reset();
    dir_ = std::make_unique<testing::TempDir>();
    const auto policy = testing::KemPolicyWithPartners(dir_->path() / "policy");
    if (!transfers.empty()) {
      testing::WriteFile(policy, testing::ReplaceOnce(testing::ReadFile(policy), "\nwithdrawal:",
                                                      "\n" + transfers + "\nwithdrawal:"));
    }
    auto init = app::Instance::Init(dir_->path() / "data", policy, clock_);
    ASSERT_TRUE(init) << init.error().ToString();
    inst_ = app::Instance::Open(dir_->path() / "data", clock_).value();
    world_ = testing::MakeAccessWorld(engine(), /*with_keys=*/false);
    // broker: the convergent services and partner offers, handing data over.
    const auto console = testing::Console(engine());
    ASSERT_TRUE(engine().PutActor({"broker", store::ActorRole::kSystem, "Broker", "", "",
                                   {"convergent_services", "product_development"}},
                                  *console));
    const DutyActions acts = testing::Acts({DutyAction::kConsent, DutyAction::kTransfer});
    ASSERT_TRUE(engine().GrantDuty({"broker", "convergent_services",
                                    {"user.identity.name", "user.identity.iin", "user.contact.phone",
                                     "user.contact.address"},
                                    true, acts},
                                   *console));
    ASSERT_TRUE(engine().GrantDuty({"broker", "product_development", {"user.contact.phone"}, true, acts}, *console));
    sales_ = engine().CallerFor("broker").value();
  }
  Engine& engine() { return inst_->engine(); }
  void Consent(store::SubjectId id, const std::string& purpose, bool cross_border = false) {
    ConsentRequest req{SubjectKey::Id(id), purpose, "mobile_app", "APP-" + std::to_string(id)};
    req.cross_border = cross_border;
    auto r = engine().GrantConsent(req, *sales_);
    ASSERT_TRUE(r) << r.error().ToString();
  }
  Result<TransferOutcome> Send(const std::string& recipient, const std::string& purpose,
                               std::vector<std::string> categories, std::vector<store::SubjectId> subjects,
                               const Caller* caller = nullptr, const std::string& format = "jsonl") {
    out_.str("");
    return engine().Transfer({recipient, purpose, std::move(categories), std::move(subjects), format},
                             caller ? *caller : *sales_, out_);
  }
  std::int64_t Revision() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    return ledger::Revision(*txn).value();
  }
  // A refusal with `code` that recorded nothing and wrote nothing.
  void ExpectRefused(const Result<TransferOutcome>& r, const std::string& code, std::int64_t before,
                     std::size_t registered = 0) {
    ASSERT_FALSE(r) << "expected " << code;
    EXPECT_EQ(r.error().reason, code) << r.error().ToString();
    EXPECT_EQ(Revision(), before) << code << ": a refused transfer changes nothing";
    EXPECT_TRUE(out_.str().empty()) << code << ": no value leaves";
    EXPECT_EQ(engine().ListTransfers(world_["dpo"]).value().size(), registered);
  }
  std::vector<json::object> Lines() {
    std::vector<json::object> out;
    std::istringstream in(out_.str());
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).as_object());
    return out;
  }
  void ExpectLedgerVerifies() {
    auto verified = engine().VerifyLedger(world_["dpo"]);
    ASSERT_TRUE(verified) << verified.error().ToString();
    EXPECT_TRUE(verified->ok) << verified->reason;
  }

  FixedClock clock_{Day(2026, 3, 10)};
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<app::Instance> inst_;
  testing::AccessWorld world_;
  std::shared_ptr<const Caller> sales_;
  std::ostringstream out_;
};

TEST_F(Transfers, R_IX_1_each_subject_is_decided_on_its_own_legal_basis) {
  Consent(1, "convergent_services");
  auto r = Send("partner_bank_kz", "convergent_services", {"user.identity.name", "user.contact.phone"}, {1, 2});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->record.sent, 1);
  EXPECT_EQ(r->record.refused, (std::map<std::string, std::int64_t>{{"no_consent", 1}}));

  // The export holds subject 1's values, decrypted, and nobody else's.
  const auto lines = Lines();
  ASSERT_EQ(lines.size(), 1u) << out_.str();
  const auto one = demo::SyntheticSubjects().At(1);
  EXPECT_EQ(lines[0].at("transfer").as_int64(), r->record.id);
  EXPECT_EQ(lines[0].at("subject").as_int64(), 1);
  EXPECT_EQ(lines[0].at("user.identity.name").as_string(), one.name);
  EXPECT_EQ(lines[0].at("user.contact.phone").as_string(), one.phone);

  // The register: who, to whom, what, how many; no value, no subject.
  const auto list = engine().ListTransfers(world_["dpo"]).value();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].recipient, "partner_bank_kz");
  EXPECT_EQ(list[0].agreement, "AGR-2024-001");
  EXPECT_EQ(list[0].country, "KZ");
  EXPECT_EQ(list[0].actor, "broker");

  // The subject's statement shows it, with its ground; the other's does not.
  auto st1 = engine().Statement({SubjectKey::Id(1), "en"}, world_["dpo"]);
  ASSERT_TRUE(st1) << st1.error().ToString();
  ASSERT_EQ(st1->transfers.size(), 1u);
  EXPECT_EQ(st1->transfers[0].transfer.recipient, "partner_bank_kz");
  EXPECT_EQ(st1->transfers[0].basis, "consent");
  EXPECT_EQ(st1->transfers[0].cross_border, "domestic");
  EXPECT_TRUE(engine().Statement({SubjectKey::Id(2), "en"}, world_["dpo"])->transfers.empty());
  // Printed, in the subject's language: the recipient, its country and agreement, the ground.
  const std::string html = report::StatementHtml(inst_->policy(), *st1);
  for (const char* want : {"Partner bank (example)", "AGR-2024-001", "no, within Kazakhstan", "Full name"}) {
    EXPECT_NE(html.find(want), std::string::npos) << want;
  }
  const auto ru = engine().Statement({SubjectKey::Id(1), "ru"}, world_["dpo"]);
  EXPECT_NE(report::StatementJson(inst_->policy(), *ru).find("Банк-партнёр (пример)"), std::string::npos);

  // The transfer is in the subject's access trail, by whom and for what.
  const auto trail = engine().AccessTrail(world_["dpo"], SubjectKey::Id(1)).value();
  EXPECT_TRUE(std::any_of(trail.begin(), trail.end(), [](const AccessEntry& a) {
    return a.what == "transfer:partner_bank_kz" && a.actor == "broker" && a.purpose == "convergent_services";
  }));
  ExpectLedgerVerifies();
}

TEST_F(Transfers, R_IX_1_a_transfer_nobody_may_receive_is_refused_and_records_nothing) {
  const std::int64_t before = Revision();
  auto r = Send("partner_bank_kz", "convergent_services", {"user.identity.name"}, {1, 2});
  ExpectRefused(r, "no_subject_allowed", before);
  EXPECT_NE(r.error().message.find("no_consent 2"), std::string::npos) << r.error().message;
}

TEST_F(Transfers, R_IX_3_only_an_identified_partner_under_an_agreement_in_force_with_the_clause) {
  Consent(1, "convergent_services");
  const std::int64_t before = Revision();
  const std::vector<std::string> name = {"user.identity.name"};
  ExpectRefused(Send("expired_partner", "convergent_services", name, {1}), "agreement_not_in_force", before);
  ExpectRefused(Send("open_partner", "convergent_services", name, {1}), "no_nondisclosure_clause", before);
  ExpectRefused(Send("unknown_partner", "convergent_services", name, {1}), "recipient_unidentified", before);
  auto nobody = Send("nobody", "convergent_services", name, {1});
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(nobody.error().field, "recipient");
  // The same transfer to the bank, whose agreement holds, goes.
  EXPECT_TRUE(Send("partner_bank_kz", "convergent_services", name, {1}));
}

TEST_F(Transfers, R_IX_1_purpose_and_categories_stay_within_the_agreement) {
  Consent(1, "convergent_services");
  Consent(1, "product_development");
  const std::int64_t before = Revision();
  ExpectRefused(Send("partner_bank_kz", "product_development", {"user.contact.phone"}, {1}),
                "purpose_not_in_agreement", before);
  ExpectRefused(Send("partner_bank_kz", "convergent_services", {"user.contact.address"}, {1}),
                "category_not_in_agreement", before);
}

TEST_F(Transfers, R_VIII_1_only_a_transfer_duty_with_the_full_view_sends_data) {
  Consent(1, "convergent_services");
  const std::int64_t before = Revision();
  // dana reads marketing data in full, but hands nothing over.
  ExpectRefused(Send("partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}, &world_["dana"]),
                "no_duty", before);
  // sales' duty does not cover billing.
  ExpectRefused(Send("partner_bank_kz", "convergent_services", {"user.financial.billing"}, {1}),
                "category_not_in_duty", before);
  // A transfer duty that shows values masked.
  const auto console = testing::Console(engine());
  ASSERT_TRUE(engine().GrantDuty({"broker", "convergent_services", {"user.identity.name"}, false,
                                  testing::Acts({DutyAction::kTransfer})},
                                 *console));
  const auto masked = engine().CallerFor("broker").value();
  ExpectRefused(Send("partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}, masked.get()),
                "full_view_required", Revision());
}

// LAW.md §8: abroad, only to a country that ensures protection, or with the
// subject's consent to cross-border transfer.
TEST_F(Transfers, LAW_8_across_the_border_only_to_an_adequate_country_or_with_consent) {
  Consent(1, "product_development", /*cross_border=*/true);
  Consent(2, "product_development");
  const auto consents = engine().ListConsents(*sales_, SubjectKey::Id(1)).value();
  ASSERT_EQ(consents.size(), 1u);
  EXPECT_TRUE(consents[0].cross_border);

  auto r = Send("content_partner_eu", "product_development", {"user.contact.phone"}, {1, 2});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->record.sent, 1);
  EXPECT_EQ(r->record.refused, (std::map<std::string, std::int64_t>{{"no_cross_border_consent", 1}}));
  ASSERT_EQ(Lines().size(), 1u);
  EXPECT_EQ(Lines()[0].at("subject").as_int64(), 1);
  EXPECT_EQ(engine().Statement({SubjectKey::Id(1), "ru"}, world_["dpo"])->transfers.at(0).cross_border, "consent");
  // Nobody with that consent: refused whole.
  const std::int64_t before = Revision();
  ExpectRefused(Send("content_partner_eu", "product_development", {"user.contact.phone"}, {2}), "no_subject_allowed",
                before, /*registered=*/1);
}

TEST_F(Transfers, LAW_8_a_country_the_policy_lists_as_adequate_needs_no_consent_to_cross) {
  Start("transfers:\n  adequate_countries: [DE]\n");
  Consent(2, "product_development");
  auto r = Send("content_partner_eu", "product_development", {"user.contact.phone"}, {2});
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->record.sent, 1);
  EXPECT_EQ(engine().Statement({SubjectKey::Id(2), "kk"}, world_["dpo"])->transfers.at(0).cross_border,
            "adequate_country");
  ExpectLedgerVerifies();
}

TEST_F(Transfers, R_IX_1_export_as_csv_and_bad_requests_name_their_field) {
  Consent(1, "convergent_services");
  Consent(2, "convergent_services");
  auto r = Send("partner_bank_kz", "convergent_services", {"user.contact.phone", "user.identity.name"}, {1, 2},
                nullptr, "csv");
  ASSERT_TRUE(r) << r.error().ToString();
  const std::string csv = out_.str();
  EXPECT_EQ(csv.substr(0, csv.find("\r\n")), "transfer,subject,user.contact.phone,user.identity.name");
  EXPECT_NE(csv.find(demo::SyntheticSubjects().At(2).phone), std::string::npos);
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3);

  const std::int64_t before = Revision();
  struct Bad {
    TransferRequest req;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {{"partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}, "xml"}, "format"},
      {{"partner_bank_kz", "convergent_services", {}, {1}, "jsonl"}, "categories"},
      {{"partner_bank_kz", "convergent_services", {"user.identity.name", "user.identity.name"}, {1}, "jsonl"},
       "categories"},
      {{"partner_bank_kz", "convergent_services", {"user.identity.name"}, {}, "jsonl"}, "subjects"},
      {{"partner_bank_kz", "convergent_services", {"user.identity.name"}, {1, 1}, "jsonl"}, "subjects"},
      {{"partner_bank_kz", "no_such_purpose", {"user.identity.name"}, {1}, "jsonl"}, "purpose"},
  };
  for (const auto& b : bad) {
    out_.str("");
    auto e = engine().Transfer(b.req, *sales_, out_);
    ASSERT_FALSE(e) << b.field;
    EXPECT_EQ(e.error().field, b.field) << e.error().ToString();
  }
  EXPECT_EQ(Revision(), before);
}

// The register and each subject's part of it are state the ledger proves.
TEST_F(Transfers, R_IX_1_the_ledger_proves_the_register_of_transfers) {
  Consent(1, "convergent_services", /*cross_border=*/true);
  ASSERT_TRUE(Send("partner_bank_kz", "convergent_services", {"user.identity.name"}, {1}));
  ExpectLedgerVerifies();
  const auto data = dir_->path() / "data";
  for (const char* sql : {"DELETE FROM transfer_subjects", "UPDATE transfers SET sent = 5",
                          "UPDATE consents SET cross_border = 0 WHERE purpose = 'convergent_services'"}) {
    inst_.reset();
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((data / "qorgau.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "SAVEPOINT t", nullptr, nullptr, nullptr), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK) << sql;
    ASSERT_GT(sqlite3_changes(db), 0) << sql;
    ASSERT_EQ(sqlite3_exec(db, "RELEASE t", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    inst_ = app::Instance::Open(data, clock_).value();
    auto report = engine().VerifyLedger(world_["dpo"]);
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_FALSE(report->ok) << sql;
    // Put it back for the next one.
    inst_.reset();
    ASSERT_EQ(sqlite3_open((data / "qorgau.db").c_str(), &db), SQLITE_OK);
    const std::string undo = std::string(sql).starts_with("DELETE")
                                 ? "INSERT INTO transfer_subjects SELECT id, 1, 'consent', 'domestic' FROM transfers"
                             : std::string(sql).starts_with("UPDATE transfers")
                                 ? "UPDATE transfers SET sent = 1"
                                 : "UPDATE consents SET cross_border = 1 WHERE purpose = 'convergent_services'";
    ASSERT_EQ(sqlite3_exec(db, undo.c_str(), nullptr, nullptr, nullptr), SQLITE_OK) << undo;
    sqlite3_close(db);
    inst_ = app::Instance::Open(data, clock_).value();
    ExpectLedgerVerifies();
  }
}

}  // namespace
}  // namespace qorgau::rules
