// Subjects' applications and their legal deadlines (issue 9; LAW.md §5,
// §14; R-IV.4, R-IV.5): deadlines in Kazakhstan working days, the overdue
// list, the state machine, documents by digest, legal representatives kept
// sealed, bad input refused with the field named, and the ledger proving
// every step.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "../access_world.h"
#include "../test_util.h"
#include "app/instance.h"
#include "core/iin.h"
#include "crypto/crypto.h"
#include "ledger/replay.h"
#include "report/statement.h"

#include <boost/json.hpp>
#include <map>
#include <set>

namespace qorgau::rules {
namespace {

UnixMillis Utc(const char* text) { return ParseUtc(text, "t").value(); }

const std::string kScan = std::string(64, 'a');  // a document's SHA-256, as hex

class Rights : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.path() / "data";
    ASSERT_TRUE(app::Instance::Init(data_, qorgau::testing::KemPolicy(), clock_));
    inst_ = app::Instance::Open(data_, clock_).value();
    world_ = qorgau::testing::MakeAccessWorld(engine(), /*with_keys=*/false);
  }
  Engine& engine() { return inst_->engine(); }
  const Caller& olga() { return world_["olga"]; }
  std::int64_t Revision() { return inst_->index().revision(); }

  ApplicationRequest Information(const char* received) {
    ApplicationRequest r;
    r.subject = SubjectKey::Id(1);
    r.kind = "information";
    r.channel = "office_written";
    r.reference = "REG-2026-0319-7";
    r.received_at = Utc(received);
    r.documents = {{"SCAN-7", kScan}};
    return r;
  }

  // What the ledger proves equals the tables.
  void ExpectLedgerProvesTheState() {
    auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
    auto report = ledger::ReplayAndCompare(*txn, {});
    ASSERT_TRUE(report) << report.error().ToString();
    EXPECT_TRUE(report->ok) << report->difference;
  }

  qorgau::testing::TempDir dir_;
  std::filesystem::path data_;
  FixedClock clock_{Utc("2026-03-19T06:00:00Z")};  // Thursday 19 March 2026, 11:00 in Almaty
  std::unique_ptr<app::Instance> inst_;
  qorgau::testing::AccessWorld world_;
};

TEST_F(Rights, R_IV_4_information_on_the_Thursday_before_Nauryz_is_due_after_the_holidays) {
  auto filed = engine().FileApplication(Information("2026-03-19T06:00:00Z"), olga());
  ASSERT_TRUE(filed) << filed.error().ToString();
  EXPECT_EQ(filed->record.kind, ApplicationKind::kInformation);
  EXPECT_EQ(filed->record.state, ApplicationState::kReceived);
  EXPECT_EQ(filed->record.working_days, 3);
  // Friday 20, then Nauryz and its rollovers (21-25), Thursday 26, Friday 27.
  EXPECT_EQ(filed->record.due_at, Utc("2026-03-27T18:59:59.999Z"));
  ASSERT_EQ(filed->documents.size(), 1u);
  EXPECT_EQ(filed->documents[0].sha256, kScan);

  // On the due day it is due, not late; the next day it is late.
  clock_.Set(Utc("2026-03-27T12:00:00Z"));
  auto due = engine().DueApplications(olga(), Utc("2026-03-28T19:00:00Z"));
  ASSERT_TRUE(due) << due.error().ToString();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_FALSE((*due)[0].overdue);
  EXPECT_EQ(engine().CountApplications(clock_.Now())->overdue.at("information"), 0);
  clock_.Set(Utc("2026-03-27T19:00:00Z"));  // 00:00 on Saturday 28 in Almaty
  due = engine().DueApplications(olga(), std::nullopt);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_TRUE((*due)[0].overdue);
  EXPECT_EQ(engine().CountApplications(clock_.Now())->open.at("information"), 1);
  EXPECT_EQ(engine().CountApplications(clock_.Now())->overdue.at("information"), 1);
  // Listing due applications is a read about each subject listed.
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  bool trail = false;
  ASSERT_TRUE(txn->ScanSubjectEvents(1, [&](const store::EventRecord& e) {
    trail = trail || (e.body.find("\"type\":\"access.read\"") != std::string::npos &&
                      e.body.find("\"what\":\"applications\"") != std::string::npos);
  }));
  EXPECT_TRUE(trail);
  txn.reset();

  // Answered, it is neither open nor late any more.
  const std::int64_t id = filed->record.id;
  ASSERT_TRUE(engine().AdvanceApplication(id, "identity_verified", olga()));
  auto answered = engine().AnswerApplication(id, "OUT-2026-55", olga());
  ASSERT_TRUE(answered) << answered.error().ToString();
  EXPECT_EQ(answered->record.state, ApplicationState::kAnswered);
  EXPECT_EQ(answered->record.outcome, "OUT-2026-55");
  EXPECT_TRUE(engine().DueApplications(olga(), std::nullopt)->empty());
  EXPECT_EQ(engine().CountApplications(clock_.Now())->open.at("information"), 0);
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, LAW_5_rectification_is_due_the_next_working_day) {
  ApplicationRequest r = Information("2026-03-20T06:00:00Z");  // Friday 20 March
  clock_.Set(Utc("2026-03-20T07:00:00Z"));
  r.kind = "rectification";
  auto filed = engine().FileApplication(r, olga());
  ASSERT_TRUE(filed) << filed.error().ToString();
  EXPECT_EQ(filed->record.working_days, 1);
  EXPECT_EQ(filed->record.due_at, Utc("2026-03-26T18:59:59.999Z"));  // Thursday 26
}

TEST_F(Rights, LAW_14_a_deadline_outside_the_calendars_is_refused_never_guessed) {
  // Thursday 30 December 2027: the third working day is in 2028, which no
  // file covers.
  ApplicationRequest r = Information("2027-12-30T06:00:00Z");
  clock_.Set(Utc("2027-12-30T07:00:00Z"));
  const std::int64_t before = Revision();
  auto filed = engine().FileApplication(r, olga());
  ASSERT_FALSE(filed);
  EXPECT_EQ(filed.error().reason, "calendar_missing");
  EXPECT_EQ(filed.error().field, "calendar");
  EXPECT_EQ(Revision(), before);
}

TEST_F(Rights, R_IV_4_an_application_moves_forward_only_and_is_answered_after_identity) {
  const std::int64_t id = engine().FileApplication(Information("2026-03-19T06:00:00Z"), olga())->record.id;
  auto early = engine().AnswerApplication(id, "OUT-1", olga());
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().reason, "identity_not_verified");
  auto skipped = engine().AdvanceApplication(id, "in_progress", olga());
  ASSERT_FALSE(skipped);
  EXPECT_EQ(skipped.error().reason, "identity_not_verified");
  ASSERT_TRUE(engine().AdvanceApplication(id, "identity_verified", olga()));
  ASSERT_TRUE(engine().AdvanceApplication(id, "in_progress", olga()));
  auto back = engine().AdvanceApplication(id, "identity_verified", olga());
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error().reason, "application_state");
  EXPECT_EQ(engine().AdvanceApplication(id, "answered", olga()).error().field, "to");
  auto attached = engine().AttachDocument(id, {"LETTER-2", std::string(64, 'b')}, olga());
  ASSERT_TRUE(attached) << attached.error().ToString();
  EXPECT_EQ(attached->documents.size(), 2u);
  EXPECT_EQ(engine().AttachDocument(id, {"LETTER-2", std::string(64, 'c')}, olga()).error().code,
            ErrorCode::kAlreadyExists);
  auto refused = engine().RefuseApplication(id, "identity_not_confirmed", olga());
  ASSERT_TRUE(refused) << refused.error().ToString();
  EXPECT_EQ(refused->record.state, ApplicationState::kRefused);
  EXPECT_EQ(engine().AnswerApplication(id, "OUT-2", olga()).error().reason, "application_closed");
  EXPECT_EQ(engine().AttachDocument(id, {"LATE-1", kScan}, olga()).error().reason, "application_closed");
  EXPECT_EQ(engine().RefuseApplication(id, "Not A Code", olga()).error().field, "reason");
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, LAW_5_a_legal_representative_is_kept_sealed_and_needs_valid_authority) {
  const auto parent = demo::SyntheticSubjects().At(7);
  ApplicationRequest r = Information("2026-03-19T06:00:00Z");
  r.representative = Representative{"attorney", parent.name, parent.iin, "power_of_attorney", "POA-77", ""};
  EXPECT_EQ(engine().FileApplication(r, olga()).error().field, "representative.valid_until");
  r.representative->valid_until = "2026-03-18";
  EXPECT_EQ(engine().FileApplication(r, olga()).error().reason, "authority_expired");
  r.representative->valid_until = "2026-12-31";
  r.representative->iin = "123";
  EXPECT_EQ(engine().FileApplication(r, olga()).error().field, "representative.iin");
  r.representative->iin = parent.iin;
  auto filed = engine().FileApplication(r, olga());
  ASSERT_TRUE(filed) << filed.error().ToString();
  EXPECT_EQ(filed->record.requester, "attorney");
  EXPECT_EQ(filed->record.proof_kind, "power_of_attorney");
  EXPECT_EQ(filed->record.proof_reference, "");  // sealed with the representative
  EXPECT_FALSE(filed->record.representative.empty());
  // Neither the ledger nor the table holds the representative's name or IIN.
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  ASSERT_TRUE(txn->ScanEvents(1, [&](const store::EventRecord& e) {
    EXPECT_EQ(e.body.find(parent.iin), std::string::npos) << e.body;
    EXPECT_EQ(e.body.find(parent.name), std::string::npos) << e.body;
    EXPECT_EQ(e.body.find("POA-77"), std::string::npos) << e.body;
    return true;
  }));
  const auto stored = txn->GetApplication(filed->record.id).value().value();
  const std::string sealed(stored.representative.begin(), stored.representative.end());
  EXPECT_EQ(sealed.find(parent.iin), std::string::npos);
  txn.reset();
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, BadInputNamesTheFieldAndChangesNothing) {
  const std::int64_t before = Revision();
  auto bad = [&](auto edit, const std::string& field) {
    ApplicationRequest r = Information("2026-03-19T06:00:00Z");
    edit(r);
    auto filed = engine().FileApplication(r, olga());
    ASSERT_FALSE(filed) << field;
    EXPECT_EQ(filed.error().field, field);
  };
  bad([](ApplicationRequest& r) { r.kind = "complaint"; }, "kind");
  bad([](ApplicationRequest& r) { r.channel = "fax"; }, "channel");
  bad([](ApplicationRequest& r) { r.reference = ""; }, "reference");
  bad([&](ApplicationRequest& r) { r.reference = demo::SyntheticSubjects().At(1).iin; }, "reference");
  bad([](ApplicationRequest& r) { r.received_at = Utc("2026-03-20T06:00:00Z"); }, "received_at");
  bad([](ApplicationRequest& r) { r.documents = {{"SCAN-1", "not-a-digest"}}; }, "documents[0].sha256");
  bad([](ApplicationRequest& r) { r.documents = {{"SCAN-1", kScan}, {"SCAN-1", kScan}}; }, "documents[1].reference");
  bad([](ApplicationRequest& r) { r.purposes = {"marketing"}; }, "purposes");
  bad([](ApplicationRequest& r) { r.kind = "withdrawal"; r.purposes = {"astrology"}; }, "purposes");
  bad([](ApplicationRequest& r) { r.subject = SubjectKey::Id(999); }, "subject");
  EXPECT_EQ(Revision(), before);
  EXPECT_EQ(engine().GetApplication(4242, olga()).error().code, ErrorCode::kNotFound);
}

TEST_F(Rights, R_VIII_1_an_applications_duty_alone_does_not_allow_checks_or_audiences) {
  const auto console = engine().CallerFor(std::string(kConsoleActor)).value();
  ASSERT_TRUE(engine().PutActor({"clerk", ActorRole::kEmployee, "Clerk", "2024-01-01", "2024-01-01", {}}, *console));
  ASSERT_TRUE(engine().GrantDuty({"clerk", "marketing", {"user.contact.phone"}, false,
                                  static_cast<DutyActions>(DutyAction::kApplications)},
                                 *console));
  const auto clerk = engine().CallerFor("clerk").value();
  EXPECT_EQ(engine().Check(*clerk, SubjectKey::Id(1), "marketing", {}).error().reason, "no_duty");
  EXPECT_EQ(engine().SelectAudience(*clerk, "marketing", false, nullptr).error().reason, "no_duty");
  EXPECT_TRUE(engine().FileApplication(Information("2026-03-19T06:00:00Z"), *clerk));
}

TEST_F(Rights, R_VIII_1_applications_need_the_applications_duty_or_the_dpo) {
  auto refused = engine().FileApplication(Information("2026-03-19T06:00:00Z"), world_["anna"]);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "no_duty");
  auto filed = engine().FileApplication(Information("2026-03-19T06:00:00Z"), world_["dpo"]);
  ASSERT_TRUE(filed) << filed.error().ToString();
  EXPECT_EQ(engine().AdvanceApplication(filed->record.id, "in_progress", world_["crm"]).error().reason, "no_duty");
  EXPECT_EQ(engine().GetApplication(filed->record.id, world_["anna"]).error().reason, "no_duty");
  EXPECT_EQ(engine().FileApplication(Information("2026-03-19T06:00:00Z"), world_["admin"]).error().reason,
            "role_not_allowed");
}

TEST_F(Rights, CalendarsAreImportedByAdminOrDpoAndProvedByTheLedger) {
  const std::string y2026 = qorgau::testing::ReadFile(qorgau::testing::SourceDir() / "calendars/kz/2026.yaml");
  EXPECT_EQ(engine().ImportCalendar(y2026, olga()).error().reason, "admin_only");
  auto again = engine().ImportCalendar(y2026, world_["dpo"]);
  ASSERT_TRUE(again) << again.error().ToString();
  EXPECT_EQ(again->year, 2026);
  auto bad = engine().ImportCalendar("country: KZ\nyear: 2030\nweekend: [saturday]\ndays_off:\n  - {date: 2031-01-01, "
                                     "kind: holiday, name: x, confirmed: true}\n",
                                     world_["admin"]);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().field, "calendar");
  EXPECT_EQ(engine().ListCalendars()->size(), 4u);
  ExpectLedgerProvesTheState();
  // A calendar changed behind the ledger's back is caught.
  inst_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_ / "qorgau.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE calendar_years SET content = content || '#' WHERE year = 2026", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  inst_ = app::Instance::Open(data_, clock_).value();
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  auto report = ledger::ReplayAndCompare(*txn, {});
  ASSERT_TRUE(report);
  EXPECT_FALSE(report->ok);
  EXPECT_NE(report->difference.find("calendar_years (KZ, 2026)"), std::string::npos) << report->difference;
}

// A rectification application of subject 1 with the applicant's identity
// verified, holding `documents`.
std::int64_t Rectification(Engine& e, const Caller& olga, std::vector<DocumentRef> documents) {
  ApplicationRequest r{SubjectKey::Id(1), "rectification", "office_written", "REG-R1", {}, {}, documents, {}};
  auto filed = e.FileApplication(r, olga);
  EXPECT_TRUE(filed) << filed.error().ToString();
  EXPECT_TRUE(e.AdvanceApplication(filed->record.id, "identity_verified", olga));
  return filed->record.id;
}

TEST_F(Rights, R_IV_5_a_change_of_recorded_data_without_an_application_is_refused) {
  const Caller& onboarding = world_["onboarding"];
  const std::int64_t before = Revision();
  auto refused = engine().PutData(SubjectKey::Id(1), "user.identity.name", "Another Name", "subject", onboarding);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "rectification_application_required");
  EXPECT_EQ(refused.error().field, "application");
  EXPECT_EQ(Revision(), before);
  // Another subject's application, or one of another kind, does not do.
  ApplicationRequest info = Information("2026-03-19T06:00:00Z");
  const std::int64_t information = engine().FileApplication(info, olga())->record.id;
  EXPECT_EQ(engine().PutData(SubjectKey::Id(1), "user.identity.name", "Another Name", "subject", onboarding,
                             information).error().reason,
            "rectification_application_required");
}

TEST_F(Rights, R_IV_5_a_rectification_without_a_document_is_refused) {
  const std::int64_t app = Rectification(engine(), olga(), {});
  auto refused = engine().PutData(SubjectKey::Id(1), "user.identity.name", "Another Name", "subject",
                                  world_["onboarding"], app);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "rectification_document_required");
}

TEST_F(Rights, R_IV_5_with_a_document_the_value_is_replaced_and_the_ledger_names_the_application) {
  const std::int64_t app = Rectification(engine(), olga(), {{"PASSPORT-COPY-1", kScan}});
  auto done = engine().PutData(SubjectKey::Id(1), "user.identity.name", "Another Name", "subject",
                               world_["onboarding"], app);
  ASSERT_TRUE(done) << done.error().ToString();
  const auto reader = qorgau::testing::MakeActor(engine(), "reader", ActorRole::kEmployee, kAllDutyActions, true);
  auto shown = engine().ReadPersonalData(*reader, SubjectKey::Id(1), "contract_performance", {"user.identity.name"});
  ASSERT_TRUE(shown) << shown.error().ToString();
  bool replaced = false;
  for (const auto& d : shown->data) replaced = replaced || (d.category == "user.identity.name" && d.value == "Another Name");
  EXPECT_TRUE(replaced);
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  bool linked = false;
  ASSERT_TRUE(txn->ScanSubjectEvents(1, [&](const store::EventRecord& e) {
    linked = linked || (e.body.find("\"type\":\"data.recorded\"") != std::string::npos &&
                        e.body.find("\"application\":" + std::to_string(app)) != std::string::npos);
  }));
  EXPECT_TRUE(linked);
  txn.reset();
  // A closed application rectifies nothing more.
  ASSERT_TRUE(engine().AnswerApplication(app, "OUT-R1", olga()));
  EXPECT_EQ(engine().PutData(SubjectKey::Id(1), "user.identity.name", "Third Name", "subject", world_["onboarding"],
                             app).error().reason,
            "rectification_application_required");
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, R_IV_5_the_phone_and_the_IIN_are_rectified_and_the_subject_is_found_by_the_new_ones) {
  const std::int64_t app = Rectification(engine(), olga(), {{"SIM-CONTRACT-1", kScan}});
  const auto one = demo::SyntheticSubjects().At(1);
  const auto fresh = demo::SyntheticSubjects().At(77);
  const auto two = demo::SyntheticSubjects().At(2);
  const Caller& onboarding = world_["onboarding"];
  // Subject 2's IIN is taken.
  auto taken = engine().PutData(SubjectKey::Id(1), "user.identity.iin", two.iin, "subject", onboarding, app);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(taken.error().field, "value");
  ASSERT_TRUE(engine().PutData(SubjectKey::Id(1), "user.contact.phone", fresh.phone, "subject", onboarding, app));
  ASSERT_TRUE(engine().PutData(SubjectKey::Id(1), "user.identity.iin", fresh.iin, "subject", onboarding, app));
  EXPECT_EQ(engine().LookupSubject(olga(), SubjectKey::Phone(fresh.phone)).value(), 1);
  EXPECT_EQ(engine().LookupSubject(olga(), SubjectKey::Iin(fresh.iin)).value(), 1);
  EXPECT_EQ(engine().LookupSubject(olga(), SubjectKey::Phone(one.phone)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(engine().LookupSubject(olga(), SubjectKey::Iin(one.iin)).error().code, ErrorCode::kNotFound);
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, LAW_5_a_blocked_subject_is_refused_by_every_check_read_and_change_until_unblocked) {
  const Caller& crm = world_["crm"];
  const SubjectKey one = SubjectKey::Id(1);
  ASSERT_TRUE(engine().Check(crm, one, "marketing", {})->allow);
  const std::uint64_t audience = engine().SelectAudience(crm, "marketing", false, nullptr)->count;
  ApplicationRequest r{one, "blocking", "e_document", "ED-BLOCK-1", {}, {}, {{"COMPLAINT-1", kScan}}, {}};
  const std::int64_t app = engine().FileApplication(r, olga())->record.id;
  // Not before the applicant's identity is verified.
  EXPECT_EQ(engine().BlockSubject(app, olga()).error().reason, "identity_not_verified");
  ASSERT_TRUE(engine().AdvanceApplication(app, "identity_verified", olga()));
  EXPECT_EQ(engine().BlockSubject(app, world_["anna"]).error().reason, "no_duty");
  auto blocked = engine().BlockSubject(app, olga());
  ASSERT_TRUE(blocked) << blocked.error().ToString();
  EXPECT_EQ(engine().BlockSubject(app, olga()).error().code, ErrorCode::kAlreadyExists);

  // Checks and audiences.
  auto check = engine().Check(crm, one, "marketing", {});
  ASSERT_TRUE(check) << check.error().ToString();
  EXPECT_FALSE(check->allow);
  EXPECT_EQ(check->reason, index::Reason::kSubjectBlocked);
  EXPECT_FALSE(engine().Check(world_["billing"], one, "debt_collection", {})->allow);
  EXPECT_EQ(engine().SelectAudience(crm, "marketing", false, nullptr)->count, audience - 1);
  // Reads, recorded as refused.
  EXPECT_EQ(engine().ReadPersonalData(world_["anna"], one, "contract_performance", {}).error().reason,
            "subject_blocked");
  EXPECT_EQ(engine().ListConsents(world_["anna"], one).error().reason, "subject_blocked");
  EXPECT_EQ(engine().ListServices(world_["anna"], one).error().reason, "subject_blocked");
  EXPECT_EQ(engine().ListObligations(world_["billing"], one).error().reason, "subject_blocked");
  // Changes.
  EXPECT_EQ(engine().GrantConsent({one, "product_development", "mobile_app", "APP-9"}, crm).error().reason,
            "subject_blocked");
  EXPECT_EQ(engine().PutData(one, "user.contact.address", "Almaty", "subject", world_["onboarding"]).error().reason,
            "subject_blocked");
  // The application itself is still handled, and the other subject is not touched.
  EXPECT_TRUE(engine().GetApplication(app, world_["dpo"]));
  EXPECT_TRUE(engine().ListConsents(world_["anna"], SubjectKey::Id(2)));

  // The preview of a withdrawal reads the subject's records: refused too.
  EXPECT_EQ(engine().Withdraw({one, "app_support_chat", "CHAT-9", {"marketing_offers"}, {}, true}, crm).error().reason,
            "subject_blocked");
  // Lifted only on the application the block rests on, or a verified unblocking one.
  ApplicationRequest other{one, "blocking", "e_document", "ED-BLOCK-2", {}, {}, {}, {}};
  const std::int64_t second = engine().FileApplication(other, olga())->record.id;
  ASSERT_TRUE(engine().AdvanceApplication(second, "identity_verified", olga()));
  EXPECT_EQ(engine().UnblockSubject(second, "breach_remedied", olga()).error().reason, "blocking_application_required");
  ApplicationRequest unblocking{one, "unblocking", "e_document", "ED-UNBLOCK-1", {}, {}, {}, {}};
  const std::int64_t lift = engine().FileApplication(unblocking, olga())->record.id;
  EXPECT_EQ(engine().UnblockSubject(lift, "breach_remedied", olga()).error().reason, "identity_not_verified");
  EXPECT_EQ(engine().UnblockSubject(app, "Not a code", olga()).error().field, "reason");
  EXPECT_EQ(engine().UnblockSubject(app, demo::SyntheticSubjects().At(3).iin, olga()).error().field, "reason");
  ASSERT_TRUE(engine().UnblockSubject(app, "breach_not_confirmed", olga()));
  EXPECT_EQ(engine().UnblockSubject(app, "breach_not_confirmed", olga()).error().reason, "subject_not_blocked");
  EXPECT_TRUE(engine().Check(crm, one, "marketing", {})->allow);
  EXPECT_TRUE(engine().ListConsents(world_["anna"], one));
  EXPECT_EQ(engine().SelectAudience(crm, "marketing", false, nullptr)->count, audience);
  ExpectLedgerProvesTheState();
  // The block survives a restart: the index loads it.
  ASSERT_TRUE(engine().BlockSubject(app, olga()));
  inst_.reset();
  inst_ = app::Instance::Open(data_, clock_).value();
  EXPECT_EQ(inst_->engine().Check(*inst_->engine().CallerFor("crm").value(), one, "marketing", {})->reason,
            index::Reason::kSubjectBlocked);
}

// The statement of the Done-when: an information application answered with
// a statement in the language asked for, listing data, purposes, sources,
// methods and periods, the consent history and the application.
TEST_F(Rights, R_IV_4_the_statement_answers_an_information_application_in_kk_ru_and_en) {
  const std::int64_t app = engine().FileApplication(Information("2026-03-19T06:00:00Z"), olga())->record.id;
  ASSERT_TRUE(engine().AdvanceApplication(app, "identity_verified", olga()));
  const std::int64_t before = Revision();
  std::map<std::string, boost::json::object> by_lang;
  for (const std::string lang : {"kk", "ru", "en"}) {
    auto st = engine().Statement({SubjectKey::Id(1), lang, false, app}, olga());
    ASSERT_TRUE(st) << st.error().ToString();
    EXPECT_EQ(st->reference.rfind("ST-1-", 0), 0u) << st->reference;
    by_lang[lang] = boost::json::parse(report::StatementJson(engine().policy(), *st)).as_object();
    const std::string html = report::StatementHtml(engine().policy(), *st);
    EXPECT_NE(html.find("@page { size: A4;"), std::string::npos);
    EXPECT_NE(html.find("<html lang=\"" + lang + "\">"), std::string::npos);
  }
  // Each statement is a recorded read.
  EXPECT_EQ(Revision(), before + 3);
  const auto& en = by_lang["en"];
  EXPECT_EQ(en.at("title").as_string(), "Statement of personal data held");
  EXPECT_EQ(by_lang["ru"].at("title").as_string(), "Сведения о персональных данных");
  EXPECT_EQ(by_lang["kk"].at("title").as_string(), "Дербес деректер туралы мәліметтер");
  EXPECT_EQ(en.at("application").as_int64(), app);
  EXPECT_TRUE(en.at("masked").as_bool());
  // Every value held, masked for olga (no full view), with its purposes,
  // source, collection method and periods.
  const auto& data = en.at("data").as_array();
  std::set<std::string> categories;
  for (const auto& d : data) {
    const auto& o = d.as_object();
    categories.insert(std::string(o.at("category").as_string()));
    EXPECT_FALSE(o.at("purposes").as_array().empty());
    EXPECT_FALSE(o.at("source_name").as_string().empty());
    EXPECT_FALSE(o.at("collection").as_string().empty());
    EXPECT_FALSE(o.at("storage_period").as_string().empty());
    EXPECT_FALSE(o.at("processing_period").as_string().empty());
  }
  const auto one = demo::SyntheticSubjects().At(1);
  EXPECT_TRUE(categories.count("user.identity.iin"));
  EXPECT_TRUE(categories.count("user.contact.phone"));
  EXPECT_EQ(report::StatementJson(engine().policy(), *engine().Statement({SubjectKey::Id(1), "en", false, app}, olga()))
                .find(one.iin),
            std::string::npos);
  // The phone is kept 2 years after the relationship ends (the policy's rule).
  for (const auto& d : data) {
    if (d.as_object().at("category").as_string() == "user.contact.phone") {
      EXPECT_EQ(d.as_object().at("storage_period").as_string(),
                "2 years after the relationship ends; statutory minimum 2 years (" +
                    engine().policy().FindStatute("subscriber_service_info")->cite +
                    "); the period has not started yet");
      EXPECT_EQ(d.as_object().at("storage").at("status").as_string(), "waiting");
      EXPECT_EQ(d.as_object().at("storage").at("statute").as_string(), "subscriber_service_info");
    }
  }
  // The consent history (subject 1 joined the personalised offers by SMS),
  // the contract, and this application.
  bool marketing = false;
  for (const auto& c : en.at("consents").as_array()) {
    marketing = marketing || (c.as_object().at("purpose").as_string() == "marketing" &&
                              c.as_object().at("evidence").as_string() == "SMS-1");
  }
  EXPECT_TRUE(marketing);
  EXPECT_FALSE(en.at("contracts").as_array().empty());
  ASSERT_EQ(en.at("applications").as_array().size(), 1u);
  EXPECT_EQ(en.at("applications").as_array()[0].as_object().at("due_date").as_string(), "2026-03-27");
  EXPECT_TRUE(en.at("transfers").as_array().empty());  // nothing went to a recipient
  // Then the application is answered with the statement's reference.
  auto st = engine().Statement({SubjectKey::Id(1), "kk", false, app}, olga());
  ASSERT_TRUE(engine().AnswerApplication(app, st->reference, olga()));
  // Refusals: no duty; a bad language; an application of another kind.
  EXPECT_EQ(engine().Statement({SubjectKey::Id(1), "en", false, std::nullopt}, world_["anna"]).error().reason, "no_duty");
  EXPECT_EQ(engine().Statement({SubjectKey::Id(1), "de", false, std::nullopt}, olga()).error().field, "lang");
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, LAW_14_the_statement_gives_days_in_the_operators_time_zone) {
  // 00:30 on Friday 20 March in Almaty is still Thursday 19 in UTC.
  clock_.Set(Utc("2026-03-19T19:45:00Z"));
  ASSERT_TRUE(engine().FileApplication(Information("2026-03-19T19:30:00Z"), olga()));
  auto st = engine().Statement({SubjectKey::Id(1), "en", false, std::nullopt}, olga());
  ASSERT_TRUE(st) << st.error().ToString();
  const auto json = boost::json::parse(report::StatementJson(engine().policy(), *st));
  EXPECT_EQ(json.at("applications").as_array()[0].at("received_on").as_string(), "2026-03-20");
  EXPECT_EQ(json.at("date").as_string(), "2026-03-20");
}

TEST_F(Rights, R_IV_4_full_values_only_where_a_full_view_duty_covers_them) {
  const auto reader = qorgau::testing::MakeActor(engine(), "reader", ActorRole::kEmployee, kAllDutyActions, true);
  const auto one = demo::SyntheticSubjects().At(1);
  auto full = engine().Statement({SubjectKey::Id(1), "en", true, std::nullopt}, *reader);
  ASSERT_TRUE(full) << full.error().ToString();
  EXPECT_FALSE(full->masked);
  EXPECT_NE(report::StatementJson(engine().policy(), *full).find(one.iin), std::string::npos);
  // olga's duty is masked: full asked, masked given.
  auto masked = engine().Statement({SubjectKey::Id(1), "en", true, std::nullopt}, olga());
  EXPECT_TRUE(masked->masked);
  // HTML escapes what it shows.
  EXPECT_EQ(report::StatementHtml(engine().policy(), *full).find("<script"), std::string::npos);
}

TEST_F(Rights, LAW_10_a_breach_found_on_a_Friday_afternoon_is_notified_by_the_end_of_Monday) {
  // Friday 20 November 2026, 15:30 in Almaty (10:30 UTC).
  clock_.Set(Utc("2026-11-20T10:30:00Z"));
  BreachRequest req{Utc("2026-11-20T10:30:00Z"), "siem_alert", {"user.contact.phone", "user.identity.iin"},
                    {"access_revoked", "passwords_rotated"}, {1, 2}};
  EXPECT_EQ(engine().RecordBreach(req, olga()).error().reason, "dpo_only");
  auto breach = engine().RecordBreach(req, world_["dpo"]);
  ASSERT_TRUE(breach) << breach.error().ToString();
  EXPECT_EQ(breach->notify_due_at, Utc("2026-11-23T18:59:59.999Z"));  // Monday 23, end of day in Almaty
  EXPECT_EQ(breach->subjects, (std::vector<SubjectId>{1, 2}));
  // Late on Tuesday, counted until the notice is recorded as sent.
  clock_.Set(Utc("2026-11-24T04:00:00Z"));
  EXPECT_EQ(engine().CountOverdueNotices(clock_.Now()).value(), 1);
  // The notice names the operator, the measures and each subject's identifiers.
  const std::int64_t before = Revision();
  auto notice = engine().BreachNotice(breach->id, "ru", world_["dpo"]);
  ASSERT_TRUE(notice) << notice.error().ToString();
  EXPECT_NE(notice->find("Уведомление о нарушении безопасности персональных данных"), std::string::npos);
  EXPECT_NE(notice->find("passwords_rotated"), std::string::npos);
  EXPECT_NE(notice->find(demo::SyntheticSubjects().At(1).iin), std::string::npos);
  EXPECT_NE(notice->find(demo::SyntheticSubjects().At(2).phone.substr(0, 2)), std::string::npos);
  EXPECT_EQ(Revision(), before + 2);  // a recorded read of each subject
  ASSERT_TRUE(engine().BreachNotice(breach->id, "kk", world_["dpo"]));
  EXPECT_EQ(engine().BreachNotice(breach->id, "en", world_["dpo"]).error().field, "lang");
  ASSERT_TRUE(engine().BreachNotified(breach->id, "MCRIAP-2026-11-24-1", world_["dpo"]));
  EXPECT_EQ(engine().CountOverdueNotices(clock_.Now()).value(), 0);
  EXPECT_EQ(engine().BreachNotified(breach->id, "AGAIN", world_["dpo"]).error().reason, "breach_notified");
  // Bad input names the field.
  BreachRequest bad = req;
  bad.subjects = {999};
  EXPECT_EQ(engine().RecordBreach(bad, world_["dpo"]).error().field, "subjects");
  bad = req;
  bad.measures = {};
  EXPECT_EQ(engine().RecordBreach(bad, world_["dpo"]).error().field, "measures");
  bad = req;
  bad.detected_at = Utc("2026-12-01T00:00:00Z");
  EXPECT_EQ(engine().RecordBreach(bad, world_["dpo"]).error().field, "detected_at");
  ASSERT_EQ(engine().ListBreaches(world_["dpo"])->size(), 1u);
  ExpectLedgerProvesTheState();
}

TEST_F(Rights, LAW_12_a_minor_applies_only_through_a_legal_representative) {
  using namespace std::chrono;
  // Born 10 May 2012: 13 on 19 March 2026.
  const std::string minor_iin = Iin::Make(year{2012} / 5 / 10, Sex::kFemale, 77).value().digits();
  auto minor = engine().AddSubject({minor_iin, demo::SyntheticSubjects().At(50).phone, {}, "subject"},
                                   world_["onboarding"]);
  ASSERT_TRUE(minor) << minor.error().ToString();
  ApplicationRequest r = Information("2026-03-19T06:00:00Z");
  r.subject = SubjectKey::Id(*minor);
  auto alone = engine().FileApplication(r, olga());
  ASSERT_FALSE(alone);
  EXPECT_EQ(alone.error().reason, "representative_required");
  const auto parent = demo::SyntheticSubjects().At(51);
  r.representative = Representative{"parent", parent.name, parent.iin, "birth_certificate", "BC-2012-77", ""};
  auto filed = engine().FileApplication(r, olga());
  ASSERT_TRUE(filed) << filed.error().ToString();
  EXPECT_EQ(filed->record.requester, "parent");
  // The statement says who acted.
  auto st = engine().Statement({SubjectKey::Id(*minor), "en", false, std::nullopt}, olga());
  ASSERT_TRUE(st) << st.error().ToString();
  const auto json = boost::json::parse(report::StatementJson(engine().policy(), *st));
  EXPECT_EQ(json.at("applications").as_array()[0].at("requester_name").as_string(), "a parent (legal representative)");
  // An adult applies alone (subject 1).
  EXPECT_TRUE(engine().FileApplication(Information("2026-03-19T06:00:00Z"), olga()));
}

// The office employee who carries out withdrawal and re-enabling
// applications: olga, with a duty to record and withdraw marketing consent.
class RviApplications : public Rights {
 protected:
  void SetUp() override {
    Rights::SetUp();
    store::DutyRecord duty{"olga", "marketing", {"user.contact.phone"}, false,
                           static_cast<DutyActions>(static_cast<int>(DutyAction::kConsent) |
                                                    static_cast<int>(DutyAction::kWithdraw))};
    ASSERT_TRUE(engine().GrantDuty(duty, *qorgau::testing::Console(engine())));
    world_.callers["olga"] = engine().CallerFor("olga").value();
  }
  std::int64_t File(const char* kind, const char* channel, const char* reference,
                    std::vector<std::string> purposes, bool verify = true) {
    ApplicationRequest r{SubjectKey::Id(1), kind, channel, reference, {}, {}, {}, std::move(purposes)};
    auto filed = engine().FileApplication(r, olga());
    EXPECT_TRUE(filed) << filed.error().ToString();
    if (verify) {
      EXPECT_TRUE(engine().AdvanceApplication(filed->record.id, "identity_verified", olga()));
    }
    return filed->record.id;
  }
  store::ApplicationRecord Load(std::int64_t id) { return engine().GetApplication(id, olga())->record; }
  bool ServiceOn(const char* service) {
    const auto services = engine().ListServices(olga(), SubjectKey::Id(1)).value();
    for (const auto& s : services) {
      if (s.service == service) return s.active;
    }
    return false;
  }
};

TEST_F(RviApplications, R_VI_3_a_withdrawal_application_is_refused_while_a_debt_is_open) {
  const SubjectKey one = SubjectKey::Id(1);
  ASSERT_TRUE(engine().OpenObligation({one, store::ObligationKind::kDebt, "DEBT-2026-3", "4200"}, world_["billing"]));
  const std::int64_t id = File("withdrawal", "office_written", "REG-W-1", {"marketing"});
  auto refused = engine().Withdraw({one, "", "", {}, {}, false, id}, olga());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "withdrawal_blocked_by_obligation");
  // The rule's refusal is the application's answer, in the ledger.
  const auto app = Load(id);
  EXPECT_EQ(app.state, ApplicationState::kRefused);
  EXPECT_EQ(app.outcome, "withdrawal_blocked_by_obligation");
  EXPECT_TRUE(ServiceOn("marketing_offers"));
  EXPECT_TRUE(engine().Check(world_["crm"], one, "marketing", {})->allow);
  ExpectLedgerProvesTheState();
}

TEST_F(RviApplications, R_VI_4_a_withdrawal_application_switches_off_only_the_services_that_need_the_data) {
  const SubjectKey one = SubjectKey::Id(1);
  const std::int64_t id = File("withdrawal", "office_written", "REG-W-2", {"marketing"});
  // It is answered by the withdrawal, never by a letter alone.
  EXPECT_EQ(engine().AnswerApplication(id, "OUT-1", olga()).error().reason, "answered_by_carrying_out");
  auto plan = engine().Withdraw({one, "", "", {}, {}, false, id}, olga());
  ASSERT_TRUE(plan) << plan.error().ToString();
  EXPECT_EQ(plan->consents_end, std::vector<std::string>{"marketing"});
  EXPECT_EQ(plan->services_off, std::vector<std::string>{"marketing_offers"});
  EXPECT_FALSE(ServiceOn("marketing_offers"));
  EXPECT_TRUE(ServiceOn("mobile_base"));
  EXPECT_FALSE(engine().Check(world_["crm"], one, "marketing", {})->allow);
  // The application is answered by the withdrawal's receipt, whose channel
  // and evidence are the application's.
  const auto app = Load(id);
  EXPECT_EQ(app.state, ApplicationState::kAnswered);
  ASSERT_EQ(app.outcome.rfind("receipt-", 0), 0u) << app.outcome;
  const auto receipt = boost::json::parse(*engine().Receipt(world_["dpo"], std::stoll(app.outcome.substr(8))));
  EXPECT_EQ(receipt.at("channel").as_string(), "office_written");
  EXPECT_EQ(receipt.at("evidence").as_string(), "REG-W-2");
  // Carried out once only.
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, id}, olga()).error().reason,
            "withdrawal_application_required");
  ExpectLedgerProvesTheState();
}

TEST_F(RviApplications, R_VI_2_a_withdrawal_application_follows_the_channels_and_rules_of_R_VI) {
  const SubjectKey one = SubjectKey::Id(1);
  // Not verified yet: nothing happens, and it stays open.
  const std::int64_t unverified = File("withdrawal", "office_written", "REG-W-3", {"marketing"}, false);
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, unverified}, olga()).error().reason,
            "withdrawal_application_required");
  EXPECT_EQ(Load(unverified).state, ApplicationState::kReceived);
  // The application names what is withdrawn: nothing else may be given.
  EXPECT_EQ(engine().Withdraw({one, "office_written", "", {}, {}, false, unverified}, olga()).error().field,
            "application");
  // Only consent is withdrawn: a purpose resting on the contract is refused
  // when the application is filed.
  ApplicationRequest contract_purpose{one, "withdrawal", "office_written", "REG-W-9", {}, {}, {}, {"contract_performance"}};
  EXPECT_EQ(engine().FileApplication(contract_purpose, olga()).error().reason, "basis_is_contract");
  // Another kind, or another subject's.
  const std::int64_t info = File("information", "office_written", "REG-I-1", {});
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, info}, olga()).error().reason,
            "withdrawal_application_required");
  EXPECT_EQ(engine().Withdraw({SubjectKey::Id(2), "", "", {}, {}, false, unverified}, olga()).error().reason,
            "withdrawal_application_required");
  // Whoever carries it out handles applications: crm withdraws marketing
  // consent, but handles no application.
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, unverified}, world_["crm"]).error().code,
            ErrorCode::kPermissionDenied);
  // R-VI.2: an electronic document is not a channel the policy takes
  // withdrawals from; the application is refused with that rule.
  // Not before the applicant's identity is verified, though.
  const std::int64_t early = File("withdrawal", "e_document", "ED-W-0", {"marketing"}, false);
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, early}, olga()).error().reason,
            "withdrawal_application_required");
  EXPECT_EQ(Load(early).state, ApplicationState::kReceived);
  const std::int64_t e_doc = File("withdrawal", "e_document", "ED-W-1", {"marketing"});
  EXPECT_EQ(engine().Withdraw({one, "", "", {}, {}, false, e_doc}, olga()).error().reason, "channel_not_accepted");
  EXPECT_EQ(Load(e_doc).outcome, "channel_not_accepted");
  EXPECT_TRUE(ServiceOn("marketing_offers"));
  ExpectLedgerProvesTheState();
}

TEST_F(RviApplications, R_VI_5_a_reenabling_application_switches_the_service_back_on_with_a_new_consent) {
  const SubjectKey one = SubjectKey::Id(1);
  ASSERT_TRUE(engine().Withdraw({one, "", "", {}, {}, false, File("withdrawal", "office_written", "REG-W-4", {})},
                                olga()));
  ASSERT_FALSE(ServiceOn("marketing_offers"));
  // Through the chat: not written, and marketing_offers comes back only on a
  // written application (R-VI.5); the rule refuses the application.
  const std::int64_t chat = File("reenabling", "app_support_chat", "CHAT-R-1", {"marketing_offers"});
  EXPECT_EQ(engine().AnswerApplication(chat, "OUT-2", olga()).error().reason, "answered_by_carrying_out");
  ServiceRequest by_chat{one, "marketing_offers", "", "", "", chat};
  EXPECT_EQ(engine().EnableService(by_chat, olga()).error().reason, "written_application_required");
  EXPECT_EQ(Load(chat).state, ApplicationState::kRefused);
  // A service it does not name.
  const std::int64_t written = File("reenabling", "office_written", "REG-R-1", {"marketing_offers"});
  EXPECT_EQ(engine().EnableService({one, "contests", "", "", "", written}, olga()).error().reason,
            "reenabling_application_required");
  // At the office, in writing: on again, with a new consent whose evidence
  // is the application, and the application answered by its receipt.
  auto on = engine().EnableService({one, "marketing_offers", "", "", "", written}, olga());
  ASSERT_TRUE(on) << on.error().ToString();
  EXPECT_EQ(on->consents_granted, std::vector<std::string>{"marketing"});
  EXPECT_TRUE(ServiceOn("marketing_offers"));
  EXPECT_TRUE(engine().Check(world_["crm"], one, "marketing", {})->allow);
  const auto app = Load(written);
  EXPECT_EQ(app.state, ApplicationState::kAnswered);
  const auto receipt = boost::json::parse(*engine().Receipt(world_["dpo"], std::stoll(app.outcome.substr(8))));
  EXPECT_EQ(receipt.at("evidence").as_string(), "REG-R-1");
  // Asked again for a service that is on: closed with that reason, not
  // left open to fall overdue.
  const std::int64_t again = File("reenabling", "office_written", "REG-R-2", {"marketing_offers"});
  EXPECT_EQ(engine().EnableService({one, "marketing_offers", "", "", "", again}, olga()).error().reason,
            "service_already_on");
  EXPECT_EQ(Load(again).state, ApplicationState::kRefused);
  EXPECT_EQ(Load(again).outcome, "service_already_on");
  ExpectLedgerProvesTheState();
}

// LAW.md §12: a minor's consent (directly, by joining a contract, or with
// a service switched on) is given by a legal representative with proof of
// authority; the ledger names who acted, keeps their identity sealed, and
// the statement says who acted.
TEST_F(Rights, LAW_12_a_minors_consent_is_given_only_by_a_legal_representative) {
  using namespace std::chrono;
  const std::string minor_iin = Iin::Make(year{2011} / 8 / 30, Sex::kMale, 12).value().digits();
  const Caller& onboarding = world_["onboarding"];
  auto minor = engine().AddSubject({minor_iin, demo::SyntheticSubjects().At(52).phone, {}, "subject"}, onboarding);
  ASSERT_TRUE(minor) << minor.error().ToString();
  const SubjectKey key = SubjectKey::Id(*minor);
  const std::int64_t before = Revision();
  // Alone: refused, and nothing changes.
  auto join = engine().JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-52"}, onboarding);
  ASSERT_FALSE(join);
  EXPECT_EQ(join.error().reason, "representative_required");
  EXPECT_EQ(engine().GrantConsent({key, "marketing", "office_written", "REG-52"}, onboarding).error().reason,
            "representative_required");
  EXPECT_EQ(Revision(), before);
  // A power of attorney that had lapsed is no authority.
  const auto parent = demo::SyntheticSubjects().At(53);
  Representative lapsed{"attorney", parent.name, parent.iin, "power_of_attorney", "POA-2025-9", "2026-03-18"};
  auto refused = engine().JoinContract({key, "form", {"mobile_base"}, "FORM-52", lapsed}, onboarding);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().reason, "authority_expired");
  EXPECT_EQ(refused.error().field, "representative.valid_until");
  Representative bad_iin = lapsed;
  bad_iin.iin = "123";
  EXPECT_EQ(engine().JoinContract({key, "form", {"mobile_base"}, "FORM-52", bad_iin}, onboarding).error().field,
            "representative.iin");
  EXPECT_EQ(Revision(), before);
  // The parent, with the birth certificate: joined, and the consent given.
  const Representative by_parent{"parent", parent.name, parent.iin, "birth_certificate", "BC-2011-12", ""};
  auto joined = engine().JoinContract({key, "form", {"mobile_base", "simply_app"}, "FORM-52", by_parent}, onboarding);
  ASSERT_TRUE(joined) << joined.error().ToString();
  auto granted = engine().GrantConsent({key, "marketing", "office_written", "REG-52", by_parent}, onboarding);
  ASSERT_TRUE(granted) << granted.error().ToString();
  // The events name the parent and the proof, never their name or IIN; the
  // identity is kept sealed under the subject's key.
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  int represented = 0;
  ASSERT_TRUE(txn->ScanSubjectEvents(*minor, [&](const store::EventRecord& e) {
    EXPECT_EQ(e.body.find(parent.iin), std::string::npos);
    EXPECT_EQ(e.body.find(parent.name), std::string::npos);
    if (e.body.find("\"requester\":\"parent\"") != std::string::npos &&
        e.body.find("\"proof_kind\":\"birth_certificate\"") != std::string::npos) {
      EXPECT_EQ(e.body.find("BC-2011-12"), std::string::npos);
      ++represented;
    }
  }));
  EXPECT_EQ(represented, 2);  // contract.joined, consent.granted
  int rows = 0;
  ASSERT_TRUE(txn->ScanRepresentations([&](const store::RepresentationRecord& r) {
    ++rows;
    EXPECT_EQ(r.subject_id, *minor);
    const std::string sealed(r.sealed.begin(), r.sealed.end());
    EXPECT_EQ(sealed.find(parent.iin), std::string::npos);
  }));
  EXPECT_EQ(rows, 2);
  txn.reset();
  // The statement says who acted.
  auto st = engine().Statement({key, "ru", false, std::nullopt}, olga());
  ASSERT_TRUE(st) << st.error().ToString();
  const auto json = boost::json::parse(report::StatementJson(engine().policy(), *st));
  bool by_a_parent = false;
  for (const auto& c : json.at("consents").as_array()) {
    if (c.at("purpose").as_string() == "marketing") by_a_parent = c.at("requester").as_string() == "parent";
  }
  EXPECT_TRUE(by_a_parent);
  EXPECT_NE(report::StatementHtml(engine().policy(), *st).find("родитель (законный представитель)"), std::string::npos);
  ExpectLedgerProvesTheState();
  // An adult consents alone (subject 2).
  EXPECT_TRUE(engine().GrantConsent({SubjectKey::Id(2), "marketing", "office_written", "REG-2"}, onboarding));
}

// LAW.md §12: who may act for whom. A representative is not the subject,
// is of age, proves their authority by the document of their kind, and a
// parent represents only a child.
TEST_F(Rights, LAW_12_a_representative_is_an_adult_other_than_the_subject_with_the_proof_of_their_kind) {
  using namespace std::chrono;
  const Caller& onboarding = world_["onboarding"];
  const std::string minor_iin = Iin::Make(year{2012} / 2 / 3, Sex::kFemale, 55).value().digits();
  const SubjectKey minor =
      SubjectKey::Id(engine().AddSubject({minor_iin, demo::SyntheticSubjects().At(55).phone, {}, "subject"}, onboarding).value());
  const auto parent = demo::SyntheticSubjects().At(56);
  const std::int64_t before = Revision();
  auto join = [&](const Representative& rep) {
    return engine().JoinContract({minor, "form", {"mobile_base"}, "FORM-55", rep}, onboarding);
  };
  // The minor as their own representative.
  EXPECT_EQ(join({"parent", "Name", minor_iin, "birth_certificate", "BC-55", ""}).error().reason,
            "representative_is_the_subject");
  // Another minor.
  const std::string sibling = Iin::Make(year{2010} / 6 / 1, Sex::kMale, 57).value().digits();
  EXPECT_EQ(join({"guardian", "Name", sibling, "guardianship_decision", "GD-55", ""}).error().reason,
            "representative_is_a_minor");
  // A proof not of the representative's kind.
  EXPECT_EQ(join({"parent", parent.name, parent.iin, "power_of_attorney", "POA-55", "2027-01-01"}).error().field,
            "representative.proof_kind");
  EXPECT_EQ(Revision(), before);
  // A parent of an adult is no representative; a holder of their power of
  // attorney is.
  const SubjectKey adult = SubjectKey::Id(2);
  EXPECT_EQ(engine().GrantConsent({adult, "marketing", "office_written", "REG-56",
                                   Representative{"parent", parent.name, parent.iin, "birth_certificate", "BC-56", ""}},
                                  onboarding)
                .error()
                .reason,
            "parent_of_an_adult");
  EXPECT_TRUE(engine().GrantConsent(
      {adult, "marketing", "office_written", "REG-56",
       Representative{"attorney", parent.name, parent.iin, "power_of_attorney", "POA-56", "2026-12-31"}},
      onboarding));
  ExpectLedgerProvesTheState();
}

// LAW.md §12 for every change of a minor's consents: a service switched on
// and a withdrawal need the representative too; a withdrawal carried out on
// a representative's application names them; the sealed identity holds
// the name, the IIN and the proof's number.
TEST_F(RviApplications, LAW_12_a_minors_services_and_withdrawals_go_through_the_representative) {
  using namespace std::chrono;
  const Caller& onboarding = world_["onboarding"];
  const std::string minor_iin = Iin::Make(year{2011} / 11 / 11, Sex::kMale, 58).value().digits();
  const SubjectId id = engine().AddSubject({minor_iin, demo::SyntheticSubjects().At(58).phone, {}, "subject"}, onboarding).value();
  const SubjectKey minor = SubjectKey::Id(id);
  const auto parent = demo::SyntheticSubjects().At(59);
  const Representative by_parent{"parent", parent.name, parent.iin, "birth_certificate", "BC-2011-58", ""};
  ASSERT_TRUE(engine().JoinContract({minor, "form", {"mobile_base"}, "FORM-58", by_parent}, onboarding));
  // A service switched on: alone, refused; with the parent, on.
  ServiceRequest enable{minor, "marketing_offers", "", "office_written", "REG-58"};
  EXPECT_EQ(engine().EnableService(enable, olga()).error().reason, "representative_required");
  enable.representative = by_parent;
  ASSERT_TRUE(engine().EnableService(enable, olga()));
  // A withdrawal alone is refused; on the parent's application it is done,
  // and the ledger names the parent.
  EXPECT_EQ(engine().Withdraw({minor, "office_written", "REG-59", {}, {"marketing"}, false}, olga()).error().reason,
            "representative_required");
  ApplicationRequest r{minor, "withdrawal", "office_written", "REG-W-58", {}, by_parent, {}, {"marketing"}};
  const std::int64_t app = engine().FileApplication(r, olga()).value().record.id;
  ASSERT_TRUE(engine().AdvanceApplication(app, "identity_verified", olga()));
  auto done = engine().Withdraw({minor, "", "", {}, {}, false, app}, olga());
  ASSERT_TRUE(done) << done.error().ToString();
  auto txn = inst_->store().Begin(store::Store::Mode::kRead).value();
  int withdrawn_by_parent = 0;
  ASSERT_TRUE(txn->ScanSubjectEvents(id, [&](const store::EventRecord& e) {
    if (e.body.find("\"type\":\"consent.withdrawn\"") != std::string::npos &&
        e.body.find("\"requester\":\"parent\"") != std::string::npos) {
      ++withdrawn_by_parent;
    }
  }));
  EXPECT_EQ(withdrawn_by_parent, 1);
  // The sealed identity opens under the subject's key to the name, IIN and
  // the proof's number.
  const auto subject = txn->GetSubject(id).value().value();
  const auto key = inst_->keys().UnwrapDataKey(id, subject.wrapped_key).value();
  int opened = 0;
  ASSERT_TRUE(txn->ScanRepresentations([&](const store::RepresentationRecord& rec) {
    if (rec.subject_id != id) return;
    const auto identity = crypto::Open(key, rec.sealed, crypto::PersonalDataAad(id, "representative"));
    ASSERT_TRUE(identity) << identity.error().ToString();
    const auto o = boost::json::parse(*identity).as_object();
    EXPECT_EQ(o.at("iin").as_string(), parent.iin);
    EXPECT_EQ(o.at("name").as_string(), parent.name);
    EXPECT_EQ(o.at("proof_reference").as_string(), "BC-2011-58");
    ++opened;
  }));
  EXPECT_GE(opened, 4);  // contract.joined, service.enabled, the withdrawn consent, the service switched off
  txn.reset();
  ExpectLedgerProvesTheState();
}

}  // namespace
}  // namespace qorgau::rules
