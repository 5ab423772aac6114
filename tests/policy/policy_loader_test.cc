// The KEM policy as code (R-0.1 … R-XI) and every refusal of the validator.
// Each refusal test edits a copy of the real policy in one place and checks
// the message and its position, so it fails if the rule is removed.
#include "policy/policy_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <stdexcept>

#include "../test_util.h"
#include "policy/policy_printer.h"
#include "rules/permissions.h"

namespace qorgau::policy {
namespace {

using testing::CopyKemPolicy;
using testing::LineOf;
using testing::ReadFile;
using testing::ReplaceOnce;
using testing::TempDir;
using testing::WriteFile;

const Policy& Kem() {
  static const LoadResult r = LoadPolicyFile(testing::KemPolicy());
  return *r.policy;
}

TEST(KemPolicy, LoadsWithoutProblems) {
  LoadResult r = LoadPolicyFile(testing::KemPolicy());
  for (const auto& d : r.problems) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.policy);
}

TEST(KemPolicy, R_0_1_edition_has_owner_order_effective_date_and_kazakh_text) {
  const Edition& e = Kem().edition;
  EXPECT_EQ(e.number, 1);
  EXPECT_EQ(InLanguage(e.owner, "kk"), "«КАЗЕВРОМОБАЙЛ» ЖШС директоры");
  EXPECT_EQ(e.order_year, 2024);
  EXPECT_EQ(e.effective, "on_approval");
  // The approval order's date is blank in the source: unknown, not invented.
  EXPECT_FALSE(e.effective_date.has_value());
  ASSERT_TRUE(e.texts.count("kk"));
  EXPECT_EQ(e.texts.at("kk"), ReadFile(testing::SourceDir() / "policies/kem/texts/kk.txt"));
  EXPECT_NE(e.texts.at("kk").find("Дербес деректерді қорғау саясаты"), std::string::npos);
  EXPECT_TRUE(e.texts.count("ru"));
  EXPECT_TRUE(e.texts.count("en"));
}

TEST(KemPolicy, R_I_1_controller_identity_and_address) {
  const Controller& c = Kem().controller;
  EXPECT_EQ(InLanguage(c.name, "en"), "KAZEUROMOBILE Limited Liability Partnership");
  EXPECT_EQ(c.brand, "Simply SM");
  EXPECT_EQ(c.postal_index, "A15C9K0");
  EXPECT_NE(InLanguage(c.address, "kk").find("Көктем-2"), std::string::npos);
  EXPECT_EQ(c.primary_storage_country, "KZ");
}

TEST(KemPolicy, R_V_1_eleven_purposes_numbered_with_the_seeds_kazakh_wording) {
  const Policy& p = Kem();
  ASSERT_EQ(p.purposes.size(), 11u);
  const std::string& seed = p.edition.texts.at("kk");
  std::set<int> numbers;
  for (const Purpose& pu : p.purposes) {
    numbers.insert(pu.number);
    const std::string& kk = InLanguage(pu.name, "kk");
    EXPECT_NE(seed.find(kk), std::string::npos) << pu.id << ": kk text is not verbatim";
    EXPECT_TRUE(pu.name.count("ru") && pu.name.count("en")) << pu.id;
  }
  EXPECT_EQ(numbers.size(), 11u);
  EXPECT_EQ(*numbers.begin(), 1);
  EXPECT_EQ(*numbers.rbegin(), 11);
  EXPECT_EQ(p.FindPurpose("marketing")->basis, LegalBasis::kConsent);
  EXPECT_EQ(p.FindPurpose("fiscal_reporting")->basis, LegalBasis::kLaw);
  EXPECT_EQ(p.FindPurpose("contract_performance")->basis, LegalBasis::kContract);
}

TEST(KemPolicy, R_III_4_channels_of_the_seed_and_the_law) {
  for (const char* id : {"website", "mobile_app", "personal_cabinet", "e_document", "e_message",
                         "call_centre", "app_support_chat", "state_service",
                         "non_state_service"}) {
    EXPECT_TRUE(Kem().FindChannel(id)) << id;
  }
  EXPECT_EQ(Kem().FindChannel("call_centre")->evidence, "call_recording");
}

TEST(KemPolicy, R_III_2_contract_methods) {
  for (const char* id : {"registration_form", "signed_application", "sms"}) {
    EXPECT_TRUE(Kem().FindContractMethod(id)) << id;
  }
}

TEST(KemPolicy, R_IV_2_every_category_has_access_class_purposes_and_retention) {
  const Policy& p = Kem();
  EXPECT_GE(p.categories.size(), 14u);
  for (const Category& c : p.categories) {
    EXPECT_FALSE(c.purposes.empty()) << c.id;
    EXPECT_FALSE(p.RetentionRules(c.id).empty()) << c.id;
  }
  EXPECT_EQ(p.FindCategory("user.social.public_profile")->access, AccessClass::kPublic);
  EXPECT_EQ(p.FindCategory("user.identity.iin")->access, AccessClass::kRestricted);
}

TEST(KemPolicy, R_VI_4_additional_services_need_only_withdrawable_purposes) {
  int additional = 0;
  for (const Service& s : Kem().services) {
    if (s.kind != ServiceKind::kAdditional) continue;
    ++additional;
    for (const Ref& r : s.purposes) {
      EXPECT_EQ(Kem().FindPurpose(r.id)->basis, LegalBasis::kConsent) << s.id << " " << r.id;
    }
  }
  EXPECT_GE(additional, 3);
}

TEST(KemPolicy, ShowPrintsEveryPurposeInTheLanguageAsked) {
  const std::string kk = FormatPolicy(Kem(), "kk");
  const std::string en = FormatPolicy(Kem(), "en");
  EXPECT_NE(kk.find("маркетингтік әрекеттерді жүргізу"), std::string::npos);
  EXPECT_NE(en.find("fiscal reporting to state bodies"), std::string::npos);
  EXPECT_NE(en.find("A15C9K0"), std::string::npos);
}

// Loads a copy of the KEM policy with one edit and returns the problems.
struct Mutated {
  std::string text;
  std::vector<Diagnostic> problems;
  bool Has(const std::string& needle, int line) const {
    return std::any_of(problems.begin(), problems.end(), [&](const Diagnostic& d) {
      return d.message.find(needle) != std::string::npos && (line == 0 || d.pos.line == line);
    });
  }
  std::string Dump() const {
    std::string s;
    for (const auto& d : problems) s += d.ToString() + "\n";
    return s;
  }
};

Mutated LoadEdited(const std::string& from, const std::string& to) {
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  Mutated m;
  m.text = ReplaceOnce(ReadFile(file), from, to);
  WriteFile(file, m.text);
  LoadResult r = LoadPolicyFile(file);
  m.problems = r.problems;
  EXPECT_FALSE(r.policy) << "the edited policy must be refused";
  return m;
}

TEST(PolicyCheck, ProblemsArePrintedAsFileLineColumn) {
  Mutated m = LoadEdited("    number: 4\n    basis: consent", "    number: 4\n    basis: maybe");
  ASSERT_FALSE(m.problems.empty());
  const Diagnostic& d = m.problems.front();
  EXPECT_EQ(d.pos.line, LineOf(m.text, "basis: maybe"));
  EXPECT_EQ(d.pos.column, 12);
  EXPECT_NE(d.ToString().find("policy.yaml:" + std::to_string(d.pos.line) + ":12: "),
            std::string::npos)
      << d.ToString();
  EXPECT_TRUE(m.Has("'maybe' is not one of contract, consent, law", 0)) << m.Dump();
}

// R-VI.3: the policy names who handles legal holds (default: the data
// protection officer), and the permission model follows it.
TEST(PolicyCheck, R_VI_3_the_policy_names_the_roles_that_handle_legal_holds) {
  EXPECT_EQ(Kem().withdrawal.legal_hold_roles, std::vector<ActorRole>{ActorRole::kDpo});
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  WriteFile(file, ReplaceOnce(ReadFile(file), "  block_if_legal_hold: true",
                              "  block_if_legal_hold: true\n  legal_hold_roles: [admin, dpo]"));
  LoadResult r = LoadPolicyFile(file);
  ASSERT_TRUE(r.policy) << (r.problems.empty() ? "" : r.problems.front().ToString());
  EXPECT_EQ(r.policy->withdrawal.legal_hold_roles,
            (std::vector<ActorRole>{ActorRole::kAdmin, ActorRole::kDpo}));
  const rules::Caller admin{{"a", ActorRole::kAdmin, "", "", "", {}, 0}, {}};
  const rules::Caller clerk{{"e", ActorRole::kEmployee, "", "", "", {}, 0}, {}};
  EXPECT_TRUE(rules::HandlesLegalHolds(*r.policy, admin));
  EXPECT_FALSE(rules::HandlesLegalHolds(Kem(), admin));
  EXPECT_FALSE(rules::HandlesLegalHolds(*r.policy, clerk));

  Mutated bad = LoadEdited("  block_if_legal_hold: true", "  block_if_legal_hold: true\n  legal_hold_roles: [dpo, judge]");
  EXPECT_TRUE(bad.Has("'judge' is not a role", LineOf(bad.text, "judge"))) << bad.Dump();
  Mutated none = LoadEdited("  block_if_legal_hold: true", "  block_if_legal_hold: true\n  legal_hold_roles: []");
  EXPECT_TRUE(none.Has("must name at least one role", 0)) << none.Dump();
}

// LAW.md §6: the primary database of a Kazakh operator stays in Kazakhstan.
TEST(PolicyCheck, LAW_6_primary_storage_outside_kazakhstan_is_refused) {
  Mutated m = LoadEdited("  primary_storage_country: KZ", "  primary_storage_country: DE");
  EXPECT_TRUE(m.Has("the primary database must be in Kazakhstan", 0)) << m.Dump();
}

// R-IX.3: a recipient's agreement as data; edition 1's short form (number
// and the day the NDA was signed) still loads, as an agreement with the
// clause and no expiry.
TEST(PolicyCheck, R_IX_3_recipients_carry_their_agreement_and_identity) {
  const policy::Recipient* bank = Kem().FindRecipient("partner_bank_kz");
  ASSERT_NE(bank, nullptr);
  EXPECT_EQ(bank->agreement.number, "AGR-2024-001");
  EXPECT_TRUE(bank->agreement.nondisclosure_clause);
  EXPECT_FALSE(bank->agreement.expires.has_value());
  EXPECT_TRUE(Kem().transfers.adequate_countries.empty());  // LAW.md §8: no official list

  Mutated backwards = LoadEdited("    agreement: \"AGR-2024-001\"\n    nda_signed: 2024-02-01",
                                 "    agreement: {number: A-1, signed: 2024-02-01, expires: 2023-01-01, "
                                 "nondisclosure_clause: true}");
  EXPECT_TRUE(backwards.Has("its agreement expires before it was signed", 0)) << backwards.Dump();
  Mutated bin = LoadEdited("    country: KZ\n    agreement: \"AGR-2024-001\"",
                           "    bin: \"12345\"\n    country: KZ\n    agreement: \"AGR-2024-001\"");
  EXPECT_TRUE(bin.Has("must be 12 digits", LineOf(bin.text, "12345"))) << bin.Dump();
  Mutated home = LoadEdited("\nwithdrawal:", "\ntransfers:\n  adequate_countries: [KZ]\n\nwithdrawal:");
  EXPECT_TRUE(home.Has("is the operator's own country", 0)) << home.Dump();
  Mutated lower = LoadEdited("\nwithdrawal:", "\ntransfers:\n  adequate_countries: [de]\n\nwithdrawal:");
  EXPECT_TRUE(lower.Has("ISO 3166-1 alpha-2", LineOf(lower.text, "[de]"))) << lower.Dump();
}

TEST(PolicyCheck, UnknownPurposeReferenceIsRefused) {
  Mutated m = LoadEdited("    purposes: [legal_duties]", "    purposes: [legal_dutys]");
  EXPECT_TRUE(m.Has("unknown purpose 'legal_dutys'", LineOf(m.text, "[legal_dutys]"))) << m.Dump();
}

TEST(PolicyCheck, UnknownCategoryReferenceIsRefused) {
  Mutated m = LoadEdited("    categories: [user.contact.phone, user.telecom.usage]\n    reenable",
                         "    categories: [user.contact.fax, user.telecom.usage]\n    reenable");
  EXPECT_TRUE(m.Has("unknown data category 'user.contact.fax'", LineOf(m.text, "user.contact.fax")))
      << m.Dump();
}

TEST(PolicyCheck, DuplicateIdIsRefused) {
  Mutated m = LoadEdited("  - id: e_message\n", "  - id: e_document\n");
  EXPECT_TRUE(m.Has("duplicate id 'e_document'", 0)) << m.Dump();
}

TEST(PolicyCheck, R_IV_2_category_that_no_purpose_uses_is_refused) {
  Mutated m = LoadEdited("    purposes: [legal_duties]", "    purposes: []");
  EXPECT_TRUE(m.Has("no purpose may use it", 0)) << m.Dump();
}

TEST(PolicyCheck, R_0_1_purpose_without_kazakh_text_is_refused) {
  Mutated m = LoadEdited("      kk: \"маркетингтік әрекеттерді жүргізу\"\n", "");
  EXPECT_TRUE(m.Has("purposes[3].name: has no Kazakh (kk) text", 0)) << m.Dump();
}

TEST(PolicyCheck, R_III_3_base_service_cannot_need_a_consent_purpose) {
  Mutated m = LoadEdited("    purposes: [contract_performance, service_notices]\n",
                         "    purposes: [contract_performance, service_notices, marketing]\n");
  EXPECT_TRUE(m.Has("a base service cannot need purpose 'marketing'", 0)) << m.Dump();
}

TEST(PolicyCheck, R_VII_1_retention_shorter_than_its_statutory_minimum_is_refused) {
  Mutated m = LoadEdited("    period: 5y\n    from: tax_period_end",
                         "    period: 3y\n    from: tax_period_end");
  EXPECT_TRUE(m.Has("period 3y is shorter than the statutory minimum 5y of 'tax_records'",
                    LineOf(m.text, "period: 3y\n    from: tax_period_end")))
      << m.Dump();
}

TEST(PolicyCheck, R_VII_1_category_without_retention_rule_is_refused) {
  Mutated m = LoadEdited("  - category: user.app.identifiers\n", "  - category: user.contact.email\n");
  EXPECT_TRUE(m.Has("category 'user.app.identifiers': has no retention rule", 0)) << m.Dump();
  // A second rule for a category is allowed (the longest applicable wins).
  EXPECT_FALSE(m.Has("user.contact.email", 0)) << m.Dump();
}

// The KEM rules as the legal review corrected them (issue 10).
TEST(KemPolicy, R_VII_1_retention_rules_follow_the_legal_review) {
  const Policy& p = Kem();
  auto only = [&](std::string_view what) {
    const auto rules = p.RetentionRules(what);
    EXPECT_FALSE(rules.empty()) << what;
    return rules.empty() ? nullptr : rules.front();
  };
  EXPECT_EQ(only("user.device.identifiers")->from, "relationship_end");
  const auto name = p.RetentionRules("user.identity.name");
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(name.front()->minimum->id, "tax_records");
  EXPECT_EQ(name.front()->period.ToString(), p.RetentionRules("user.identity.iin").front()->period.ToString());
  const auto biometric = p.RetentionRules("user.identity.biometric");
  for (const auto* r : biometric) EXPECT_FALSE(r->minimum && r->minimum->id == "subscriber_service_info");
  bool oral = false, accounting = false, aml = false;
  for (const auto& r : p.retention) {
    oral = oral || (r.category.id == "user.support.call_records" && r.from == "consent_end" &&
                    r.evidence == "call_recording" && r.minimum && r.minimum->id == "civil_limitation");
    accounting = accounting || (r.category.id == "user.financial.billing" && r.minimum &&
                                r.minimum->id == "accounting_records");
    aml = aml || (r.minimum && r.minimum->id == "aml_kyc" && r.purpose && r.purpose->id == "convergent_services");
  }
  EXPECT_TRUE(oral);
  EXPECT_TRUE(accounting);
  EXPECT_TRUE(aml);
  for (const auto& k : kRecordKinds) EXPECT_FALSE(p.RetentionRules("record:" + std::string(k.id)).empty()) << k.id;
}

TEST(PolicyCheck, R_VII_1_a_start_event_qorgau_never_records_is_refused) {
  Mutated m = LoadEdited("    from: collection\n", "    from: transaction\n");
  EXPECT_TRUE(m.Has("qorgau records no event 'transaction'", LineOf(m.text, "from: transaction"))) << m.Dump();
}

TEST(PolicyCheck, R_VII_1_every_category_needs_a_rule_that_reaches_every_subject) {
  Mutated m = LoadEdited("  - category: user.support.call_records\n    period: 1y\n",
                         "  - category: user.support.call_records\n    purpose: service_quality\n    period: 1y\n");
  EXPECT_TRUE(m.Has("category 'user.support.call_records': needs a retention rule that applies to every subject", 0))
      << m.Dump();
}

TEST(PolicyCheck, R_VII_1_records_count_from_their_own_event) {
  Mutated m = LoadEdited("  - record: contracts\n    period: 3y\n    from: relationship_end\n",
                         "  - record: contracts\n    period: 3y\n    from: collection\n");
  EXPECT_TRUE(m.Has("records of 'contracts': they count from 'relationship_end', not 'collection'", 0)) << m.Dump();
  Mutated unknown = LoadEdited("  - record: contracts\n", "  - record: invoices\n");
  EXPECT_TRUE(unknown.Has("'invoices' is not a record qorgau keeps", 0)) << unknown.Dump();
  Mutated both = LoadEdited("  - record: contracts\n", "  - record: contracts\n    category: user.contact.email\n");
  EXPECT_TRUE(both.Has("give either 'category'", 0)) << both.Dump();
}

TEST(PolicyCheck, R_VII_1_evidence_narrows_consent_end_only_and_a_law_purpose_never_ends_by_withdrawal) {
  Mutated m = LoadEdited("  - category: user.support.call_records\n    period: 1y\n",
                         "  - category: user.support.call_records\n    evidence: call_recording\n    period: 1y\n");
  EXPECT_TRUE(m.Has("'evidence' narrows the consents of 'from: consent_end' only", 0)) << m.Dump();
  Mutated law = LoadEdited("    evidence: call_recording\n    period: 3y", "    purpose: legal_duties\n    period: 3y");
  EXPECT_TRUE(law.Has("purpose 'legal_duties' rests on no consent", 0)) << law.Dump();
}

// Found by the policy_loader fuzz target: the malformed id was reported,
// then again as an unknown category with no file, line or column.
TEST(PolicyCheck, MalformedRetentionCategoryIsReportedOnceWithItsPosition) {
  Mutated m =
      LoadEdited("  - category: user.app.identifiers\n", "  - category: user.App.identifiers\n");
  EXPECT_TRUE(m.Has("'user.App.identifiers' is not an id", LineOf(m.text, "user.App.identifiers")))
      << m.Dump();
  EXPECT_FALSE(m.Has("unknown data category 'user.App.identifiers'", 0)) << m.Dump();
  for (const Diagnostic& d : m.problems) EXPECT_GT(d.pos.line, 0) << d.ToString();
}

TEST(PolicyCheck, UnknownKeyIsRefused) {
  Mutated m = LoadEdited("  brand: Simply SM\n", "  brand: Simply SM\n  colour: blue\n");
  EXPECT_TRUE(m.Has("controller: unknown key 'colour'", LineOf(m.text, "colour:"))) << m.Dump();
}

TEST(PolicyCheck, LawPurposeWithoutStatuteIsRefused) {
  Mutated m = LoadEdited("    statute: \"Tax Code No. 214-VIII; Law No. 234-III on Accounting and "
                         "Financial Reporting\"\n",
                         "");
  EXPECT_TRUE(m.Has("basis 'law' needs a 'statute'", 0)) << m.Dump();
}

TEST(PolicyCheck, UnknownStatuteIsRefused) {
  Mutated m2 = LoadEdited("    minimum: civil_limitation\n", "    minimum: civil_code\n");
  EXPECT_TRUE(m2.Has("unknown statute 'civil_code'", LineOf(m2.text, "civil_code"))) << m2.Dump();
}

TEST(PolicyCheck, ServiceCategoryNotAllowedForItsPurposesIsRefused) {
  Mutated m = LoadEdited("    categories: [user.contact.phone, user.telecom.usage]\n    reenable",
                         "    categories: [user.contact.phone, user.identity.iin]\n    reenable");
  EXPECT_TRUE(m.Has("category 'user.identity.iin' is not allowed for any of its purposes", 0))
      << m.Dump();
}

TEST(PolicyCheck, DuplicatePurposeNumberIsRefused) {
  Mutated m = LoadEdited("    number: 5\n", "    number: 4\n");
  EXPECT_TRUE(m.Has("duplicate number 4", 0)) << m.Dump();
}

TEST(PolicyCheck, BadDateAndPeriodAreRefused) {
  EXPECT_TRUE(LoadEdited("effective_date: null", "effective_date: 2024-02-30")
                  .Has("is not a real date", 0));
  EXPECT_TRUE(LoadEdited("effective: on_approval", "effective: on_date").Has("on_date needs the date", 0));
  EXPECT_TRUE(LoadEdited("period: 6m", "period: six months").Has("is not a period", 0));
}

TEST(PolicyCheck, UnreadableTextFileIsRefused) {
  Mutated m = LoadEdited("en: texts/en.md", "en: texts/missing.md");
  EXPECT_TRUE(m.Has("cannot read 'texts/missing.md'", LineOf(m.text, "texts/missing.md")))
      << m.Dump();
}

TEST(PolicyCheck, YamlSyntaxErrorHasAPosition) {
  Mutated m = LoadEdited("  brand: Simply SM\n", "  brand: [Simply SM\n");
  ASSERT_FALSE(m.problems.empty());
  EXPECT_GT(m.problems.front().pos.line, 0);
  EXPECT_TRUE(m.Has("YAML syntax", 0)) << m.Dump();
}

TEST(PolicyCheck, WithdrawalChannelMustBeDeclared) {
  Mutated m = LoadEdited("channels: [app_support_chat, office_written",
                         "channels: [app_chat, office_written");
  EXPECT_TRUE(m.Has("withdrawal: unknown channel 'app_chat'", 0)) << m.Dump();
}

TEST(PolicyCheck, MoreThan64CategoriesAreRefused) {
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  std::string extra;
  for (int i = 0; i < 50; ++i) {
    extra += "  - id: user.extra.c" + std::to_string(i) +
             "\n    access: restricted\n    name: {kk: \"x\"}\n    purposes: [marketing]\n";
  }
  std::string text = ReplaceOnce(ReadFile(file), "\nservices:", "\n" + extra + "\nservices:");
  WriteFile(file, text);
  LoadResult r = LoadPolicyFile(file);
  ASSERT_FALSE(r.policy);
  bool found = false;
  for (const auto& d : r.problems) found = found || d.message.find("more than 64") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(PolicyCheck, AllProblemsAreReportedNotOnlyTheFirst) {
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  std::string text = ReadFile(file);
  text = ReplaceOnce(text, "    purposes: [legal_duties]", "    purposes: [nope]");
  text = ReplaceOnce(text, "  brand: Simply SM\n", "  brand: Simply SM\n  colour: blue\n");
  WriteFile(file, text);
  LoadResult r = LoadPolicyFile(file);
  EXPECT_GE(r.problems.size(), 2u);
}

TEST(PolicyBundle, AnEditionReloadsFromItsStoredFiles) {
  LoadResult r = LoadPolicyFile(testing::KemPolicy());
  ASSERT_TRUE(r.policy);
  EXPECT_TRUE(r.files.count("policy.yaml"));
  EXPECT_TRUE(r.files.count("../law/kz.yaml"));
  EXPECT_TRUE(r.files.count("texts/kk.txt"));
  LoadResult again = LoadPolicyBundle(r.files, "policy.yaml");
  ASSERT_TRUE(again.policy);
  EXPECT_EQ(again.policy->purposes.size(), r.policy->purposes.size());
}

// Robustness: whatever the bytes, loading reports problems and never throws.
// Most cases load the KEM bundle from memory with policy.yaml replaced, which
// runs the same parse and walk as a file without touching the disk.

struct Outcome : Mutated {
  bool has_policy = false;
};

Outcome MakeOutcome(std::string text, const LoadResult& r) {
  Outcome o;
  o.text = std::move(text);
  o.problems = r.problems;
  o.has_policy = r.policy.has_value();
  return o;
}

const std::map<std::string, std::string>& KemBundle() {
  static const std::map<std::string, std::string> files =
      LoadPolicyFile(testing::KemPolicy()).files;
  return files;
}

Outcome LoadPolicyText(std::string text) {
  std::map<std::string, std::string> files = KemBundle();
  files["policy.yaml"] = text;
  LoadResult r;
  EXPECT_NO_THROW(r = LoadPolicyBundle(files, "policy.yaml"));
  return MakeOutcome(std::move(text), r);
}

// The KEM policy with the top-level section `key` (its line and every
// indented or comment line after it) replaced by `with`.
std::string ReplaceSection(const std::string& text, const std::string& key,
                           const std::string& with) {
  const size_t begin = text.find("\n" + key + ":");
  if (begin == std::string::npos) return text + "\n# ReplaceSection: no section " + key + "\n";
  size_t end = text.find('\n', begin + 1);
  while (end != std::string::npos && end + 1 < text.size() &&
         (text[end + 1] == ' ' || text[end + 1] == '#' || text[end + 1] == '\n')) {
    end = text.find('\n', end + 1);
  }
  if (end == std::string::npos) end = text.size();
  return text.substr(0, begin + 1) + with + text.substr(end);
}

const std::string& KemText() {
  static const std::string text = ReadFile(testing::KemPolicy());
  return text;
}

// The loader turns an exception out of the walk into a problem, but the walk
// is meant to check each node's kind before using it, so that the rest of
// the file is still checked; an exception means a check is missing.
bool WalkThrew(const Outcome& o) {
  return o.Has("cannot read this YAML", 0) || o.Has("cannot load the file", 0);
}

std::string MaxBytes() { return std::to_string(kMaxPolicyFileBytes); }

TEST(PolicyRobustness, TheBundleLoaderStillLoadsTheKemPolicy) {
  Outcome o = LoadPolicyText(KemText());
  EXPECT_TRUE(o.has_policy) << o.Dump();
}

TEST(PolicyRobustness, TruncatedFileIsRefusedOrLoadedButNeverThrows) {
  const std::string& text = KemText();
  int refused = 0;
  for (size_t cut = 0; cut < text.size(); cut += 97) {
    Outcome o = LoadPolicyText(text.substr(0, cut));
    EXPECT_NE(o.has_policy, !o.problems.empty()) << "cut at " << cut;
    EXPECT_FALSE(WalkThrew(o)) << "cut at " << cut << "\n" << o.Dump();
    refused += !o.has_policy;
  }
  EXPECT_GT(refused, 200);
  EXPECT_TRUE(LoadPolicyText("").Has("policy: must be a mapping", 0));
}

TEST(PolicyRobustness, TruncatedSectionIsAMissingKeyNotACrash) {
  // yaml-cpp 0.7 throws InvalidNode when a missing key's node is asked its
  // type; this is the abort `policy check` used to end with.
  Outcome o = LoadPolicyText(ReplaceSection(KemText(), "withdrawal", ""));
  EXPECT_TRUE(o.Has("policy: missing required key 'withdrawal'", 0)) << o.Dump();
  o = LoadPolicyText(ReplaceOnce(KemText(), "  approval_order:", "  approval_orders:"));
  EXPECT_TRUE(o.Has("edition: missing required key 'approval_order'", 0)) << o.Dump();
  EXPECT_FALSE(o.Has("must be a mapping", 0)) << o.Dump();
}

TEST(PolicyRobustness, SelfReferencingAnchorIsRefused) {
  Outcome o =
      LoadPolicyText(ReplaceOnce(KemText(), "  brand: Simply SM\n", "  brand: &me [*me]\n"));
  EXPECT_TRUE(o.Has("anchor '&me': anchors and aliases are not allowed in a policy file",
                    LineOf(o.text, "&me")))
      << o.Dump();
  EXPECT_FALSE(o.has_policy);
  EXPECT_TRUE(LoadPolicyText("a: &a [*a]\n").Has("anchors and aliases are not allowed", 1));
}

TEST(PolicyRobustness, BillionLaughsOfAliasesAndMergeKeysIsRefusedAtTheFirstAnchor) {
  std::string laughs = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < 10; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    laughs += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) laughs += (j ? ", " : "") + prev;
    laughs += "]\n";
  }
  Outcome o = LoadPolicyText(KemText() + laughs);
  EXPECT_TRUE(o.Has("anchor '&a0': anchors and aliases are not allowed", LineOf(o.text, "&a0")))
      << o.Dump();

  std::string merges = "m0: &m0 {k0: v, k1: v}\n";
  for (int i = 1; i < 30; ++i) {
    const std::string prev = "*m" + std::to_string(i - 1);
    merges += "m" + std::to_string(i) + ": &m" + std::to_string(i) + " {<<: [" + prev + ", " +
              prev + "], k" + std::to_string(i) + ": v}\n";
  }
  o = LoadPolicyText(merges);
  EXPECT_TRUE(o.Has("anchors and aliases are not allowed", 1)) << o.Dump();
  EXPECT_EQ(o.problems.size(), 1u) << o.Dump();
}

TEST(PolicyRobustness, AnAliasWithoutAnchorIsASyntaxError) {
  Outcome o = LoadPolicyText(ReplaceOnce(KemText(), "  brand: Simply SM\n", "  brand: *nowhere\n"));
  EXPECT_TRUE(o.Has("YAML syntax", LineOf(o.text, "*nowhere"))) << o.Dump();
}

TEST(PolicyRobustness, AMillionKeysAreRefusedByTheSizeLimit) {
  std::string text = "format: qorgau.policy/1\n";
  text.reserve(14'000'000);
  for (int i = 0; i < 1'000'000; ++i) text += "k" + std::to_string(i) + ": 0\n";
  Outcome o = LoadPolicyText(std::move(text));
  EXPECT_TRUE(o.Has("cannot read the policy file: larger than " + MaxBytes() + " bytes", 0))
      << o.Dump();
  EXPECT_EQ(o.problems.size(), 1u);
}

TEST(PolicyRobustness, MoreNodesThanTheLimitWithinTheSizeLimitAreRefused) {
  std::string text;
  for (size_t i = 0; i <= kMaxPolicyNodes / 2; ++i) text += "k" + std::to_string(i) + ": 0\n";
  ASSERT_LT(text.size(), kMaxPolicyFileBytes);
  Outcome o = LoadPolicyText(text);
  EXPECT_TRUE(o.Has("more than " + std::to_string(kMaxPolicyNodes) + " YAML nodes",
                    static_cast<int>(kMaxPolicyNodes / 2)))
      << o.Dump().substr(0, 2000);
  EXPECT_EQ(o.problems.size(), 1u);
}

TEST(PolicyRobustness, FiftyMegabyteLineIsRefusedByTheSizeLimit) {
  Outcome o = LoadPolicyText("format: qorgau.policy/1\nx: " + std::string(50 << 20, 'a') + "\n");
  EXPECT_TRUE(o.Has("cannot read the policy file: larger than " + MaxBytes() + " bytes", 0))
      << o.Dump();

  // A 50 MB policy file on disk (sparse: the test writes nothing), refused
  // by its size before a byte is read.
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  std::filesystem::resize_file(file, 50 << 20);
  LoadResult r = LoadPolicyFile(file);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].ToString(),
            file.string() + ": cannot read the policy file: larger than " + MaxBytes() + " bytes");
}

TEST(PolicyRobustness, OversizedTextFileIsRefusedByTheDiskAndTheBundleLoader) {
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  std::filesystem::resize_file(file.parent_path() / "texts/en.md", kMaxPolicyFileBytes + 1);
  LoadResult r = LoadPolicyFile(file);
  Mutated m{ReadFile(file), r.problems};
  EXPECT_TRUE(
      m.Has("edition.texts.en: cannot read 'texts/en.md': larger than " + MaxBytes() + " bytes",
            LineOf(m.text, "en: texts/en.md")))
      << m.Dump();

  std::map<std::string, std::string> files = KemBundle();
  files["texts/en.md"] = std::string(kMaxPolicyFileBytes + 1, 'x');
  r = LoadPolicyBundle(files, "policy.yaml");
  m.problems = r.problems;
  EXPECT_TRUE(m.Has("cannot read 'texts/en.md': larger than " + MaxBytes() + " bytes", 0))
      << m.Dump();
  EXPECT_FALSE(r.policy);
}

TEST(PolicyRobustness, AValueLongerThanTheLookaheadLimitIsRefused) {
  Outcome o = LoadPolicyText("format: qorgau.policy/1\nx: " + std::string(1 << 20, 'a') + "\n");
  EXPECT_TRUE(o.Has(
      "more than " + std::to_string(kMaxPolicyLookaheadBytes) + " bytes without a new YAML node",
      0))
      << o.Dump();
  // yaml-cpp reads a flow list to its end before reporting its first node;
  // without the limit this one took 1.7 GB and 5 s under ASan.
  std::string flow(kMaxPolicyFileBytes - 1, '[');
  o = LoadPolicyText(flow);
  EXPECT_TRUE(o.Has("bytes without a new YAML node", 1)) << o.Dump();
  // As a value, a flow list hands out its items as it goes: the node limit
  // stops it.
  flow = "x: [";
  while (flow.size() < kMaxPolicyFileBytes - 2) flow += "1,";
  o = LoadPolicyText(flow + "]\n");
  EXPECT_TRUE(o.Has("more than " + std::to_string(kMaxPolicyNodes) + " YAML nodes", 1)) << o.Dump();
}

TEST(PolicyRobustness, NestingDeeperThanTheLimitIsRefused) {
  const size_t deep = kMaxPolicyDepth + 1;
  Outcome o = LoadPolicyText("x: " + std::string(deep, '[') + std::string(deep, ']') + "\n");
  EXPECT_TRUE(
      o.Has("lists and maps nested more than " + std::to_string(kMaxPolicyDepth) + " deep", 1))
      << o.Dump();
  std::string block;
  for (size_t i = 0; i < deep; ++i) block += std::string(i, ' ') + "- \n";
  o = LoadPolicyText(block);
  EXPECT_TRUE(o.Has("nested more than", static_cast<int>(deep))) << o.Dump();
}

TEST(PolicyRobustness, TextPathAtDevZeroIsNotARegularFile) {
  Mutated m = LoadEdited("kk: texts/kk.txt", "kk: /dev/zero");
  EXPECT_TRUE(m.Has("edition.texts.kk: cannot read '/dev/zero': not a regular file",
                    LineOf(m.text, "/dev/zero")))
      << m.Dump();
  m = LoadEdited("law: ../law/kz.yaml", "law: /dev/zero");
  EXPECT_TRUE(m.Has("law: cannot read '/dev/zero': not a regular file", 6)) << m.Dump();
}

TEST(PolicyRobustness, TextPathAtADirectoryOrAFifoIsNotARegularFile) {
  Mutated m = LoadEdited("en: texts/en.md", "en: texts");
  EXPECT_TRUE(m.Has("cannot read 'texts': not a regular file", LineOf(m.text, "en: texts")))
      << m.Dump();

  // A plain open() of a FIFO waits for a writer: the test would hang.
  TempDir dir;
  const auto file = CopyKemPolicy(dir.path());
  ASSERT_EQ(::mkfifo((file.parent_path() / "texts/fifo").c_str(), 0600), 0);
  WriteFile(file, ReplaceOnce(ReadFile(file), "en: texts/en.md", "en: texts/fifo"));
  LoadResult r = LoadPolicyFile(file);
  m = Mutated{ReadFile(file), r.problems};
  EXPECT_TRUE(m.Has("cannot read 'texts/fifo': not a regular file", 0)) << m.Dump();

  r = LoadPolicyFile(file.parent_path());
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_NE(r.problems[0].message.find("cannot read the policy file: not a regular file"),
            std::string::npos)
      << r.problems[0].ToString();
}

TEST(PolicyRobustness, MissingPolicyFileSaysWhy) {
  LoadResult r = LoadPolicyFile("/nonexistent/policy.yaml");
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].ToString(),
            "/nonexistent/policy.yaml: cannot read the policy file: no such file or directory");
}

TEST(PolicyRobustness, DuplicateKeyIsRefusedAtItsSecondOccurrence) {
  Mutated m = LoadEdited("  brand: Simply SM\n", "  brand: Simply SM\n  brand: Simply\n");
  EXPECT_TRUE(m.Has("controller: duplicate key 'brand' (first at line " +
                        std::to_string(LineOf(m.text, "brand: Simply SM")) + ")",
                    LineOf(m.text, "brand: Simply\n")))
      << m.Dump();

  Outcome o = LoadPolicyText(KemText() + "format: qorgau.policy/1\n");
  const int last_line = static_cast<int>(std::count(o.text.begin(), o.text.end(), '\n'));
  EXPECT_TRUE(o.Has("policy: duplicate key 'format' (first at line 5)", last_line)) << o.Dump();

  o = LoadPolicyText(ReplaceOnce(KemText(), "  - id: website\n", "  - id: website\n    id: web\n"));
  EXPECT_TRUE(o.Has("channels[0]: duplicate key 'id'", LineOf(o.text, "id: web\n"))) << o.Dump();
  // Quoting does not make a key different.
  o = LoadPolicyText(
      ReplaceOnce(KemText(), "  brand: Simply SM\n", "  brand: a\n  \"brand\": b\n"));
  EXPECT_TRUE(o.Has("controller: duplicate key 'brand'", 0)) << o.Dump();
}

TEST(PolicyRobustness, SecondDocumentIsRefusedAndTheFirstIsStillChecked) {
  std::string text =
      ReplaceOnce(KemText(), "  brand: Simply SM\n", "  brand: Simply SM\n  colour: blue\n");
  text += "---\nformat: qorgau.policy/1\n";
  Outcome o = LoadPolicyText(text);
  EXPECT_TRUE(o.Has("a policy file holds one YAML document", LineOf(text, "---\n"))) << o.Dump();
  EXPECT_TRUE(o.Has("controller: unknown key 'colour'", LineOf(text, "colour"))) << o.Dump();
  EXPECT_FALSE(o.has_policy);
  // An empty second document is a second document all the same.
  o = LoadPolicyText(KemText() + "---\n");
  EXPECT_TRUE(o.Has("a policy file holds one YAML document", 0)) << o.Dump();
  // A leading "---" and a closing "..." are one document.
  EXPECT_TRUE(LoadPolicyText("---\n" + KemText() + "...\n").has_policy);
}

TEST(PolicyRobustness, WrongNodeTypeAtEveryTopLevelSectionIsReported) {
  for (const char* key : {"edition", "controller", "withdrawal"}) {
    Outcome o = LoadPolicyText(ReplaceSection(KemText(), key, std::string(key) + ": 5\n"));
    EXPECT_TRUE(o.Has(std::string(key) + ": must be a mapping",
                      LineOf(o.text, "\n" + std::string(key) + ":") + 1))
        << key << "\n"
        << o.Dump();
    o = LoadPolicyText(ReplaceSection(KemText(), key, std::string(key) + ": [a, b]\n"));
    EXPECT_TRUE(o.Has(std::string(key) + ": must be a mapping", 0)) << key << "\n" << o.Dump();
  }
  for (const char* key : {"channels", "contract_methods", "purposes", "categories", "services",
                          "retention", "recipients", "rights", "security_measures"}) {
    Outcome o = LoadPolicyText(ReplaceSection(KemText(), key, std::string(key) + ": {a: 1}\n"));
    EXPECT_TRUE(o.Has(std::string(key) + ": must be a list",
                      LineOf(o.text, "\n" + std::string(key) + ":") + 1))
        << key << "\n"
        << o.Dump();
    o = LoadPolicyText(ReplaceSection(KemText(), key, std::string(key) + ": [5, [1]]\n"));
    EXPECT_TRUE(o.Has(std::string(key) + "[0]: must be a mapping", 0)) << key << "\n" << o.Dump();
    EXPECT_TRUE(o.Has(std::string(key) + "[1]: must be a mapping", 0)) << key << "\n" << o.Dump();
  }
  for (const char* key : {"format", "law"}) {
    Outcome o = LoadPolicyText(ReplaceSection(KemText(), key, std::string(key) + ": {a: 1}\n"));
    EXPECT_TRUE(o.Has(std::string(key) + ": must be a string", 0)) << key << "\n" << o.Dump();
  }
  EXPECT_TRUE(LoadPolicyText("- 1\n- 2\n").Has("policy: must be a mapping", 1));
  EXPECT_TRUE(LoadPolicyText("just text\n").Has("policy: must be a mapping", 1));
}

TEST(PolicyRobustness, WrongNodeTypeInsideAnEntryIsReported) {
  Outcome o = LoadPolicyText(
      ReplaceOnce(KemText(), "    purposes: [legal_duties]", "    purposes: {legal_duties: 1}"));
  EXPECT_TRUE(o.Has(".purposes: must be a list", LineOf(o.text, "{legal_duties: 1}"))) << o.Dump();
  o = LoadPolicyText(ReplaceOnce(KemText(), "  owner:", "  owner: [a]\n  x_owner:"));
  EXPECT_TRUE(o.Has("edition.owner: must be a mapping", 0)) << o.Dump();
  o = LoadPolicyText(ReplaceOnce(KemText(), "  texts:", "  texts: texts\n  x_texts:"));
  EXPECT_TRUE(o.Has("edition.texts: must be a mapping", 0)) << o.Dump();
  o = LoadPolicyText(ReplaceOnce(KemText(), "    kk: texts/kk.txt", "    kk: [texts/kk.txt]"));
  EXPECT_TRUE(o.Has("edition.texts.kk: must be a string", 0)) << o.Dump();
}

TEST(PolicyRobustness, ProblemsOfTheLawTableAreReportedWithTheOthers) {
  std::map<std::string, std::string> files = KemBundle();
  files["../law/kz.yaml"] = "format: &f qorgau.law/1\n";
  files["policy.yaml"] =
      ReplaceOnce(KemText(), "  brand: Simply SM\n", "  brand: a\n  colour: b\n");
  LoadResult r = LoadPolicyBundle(files, "policy.yaml");
  Mutated m{files["policy.yaml"], r.problems};
  EXPECT_TRUE(m.Has("anchors and aliases are not allowed", 1)) << m.Dump();
  EXPECT_EQ(r.problems[0].pos.file, "law/kz.yaml");
  EXPECT_TRUE(m.Has("controller: unknown key 'colour'", 0)) << m.Dump();

  files["../law/kz.yaml"] = "statutes: 5\n";
  r = LoadPolicyBundle(files, "policy.yaml");
  m.problems = r.problems;
  EXPECT_TRUE(m.Has("statutes: must be a list", 1)) << m.Dump();
  EXPECT_TRUE(m.Has("law: missing required key 'format'", 1)) << m.Dump();
}

TEST(PolicyRobustness, NulBytesAndUtf16AreRefusedAsNotUtf8) {
  const std::string nul("Simply\0SM", 9);
  Outcome o = LoadPolicyText(ReplaceOnce(KemText(), "Simply SM", nul));
  EXPECT_TRUE(o.Has("the file must be UTF-8 text without NUL bytes", LineOf(o.text, nul)))
      << o.Dump();
  o =
      LoadPolicyText(std::string("\xFF\xFE"
                                 "f\0o\0:\0 \0x\0",
                                 12));
  EXPECT_TRUE(o.Has("must be UTF-8 text, not UTF-16 or UTF-32", 1)) << o.Dump();
  // Windows-1251 bytes, and an encoded surrogate: refused where they are.
  const std::string cp1251 = "Simply \xd1\xcc";
  o = LoadPolicyText(ReplaceOnce(KemText(), "Simply SM", cp1251));
  EXPECT_TRUE(o.Has("the file is not valid UTF-8 here", LineOf(o.text, cp1251))) << o.Dump();
  o = LoadPolicyText(ReplaceOnce(KemText(), "Simply SM", "Simply \xed\xa0\x80"));
  EXPECT_TRUE(o.Has("the file is not valid UTF-8 here", 0)) << o.Dump();
}

TEST(PolicyRobustness, ExceptionsFromAFileReaderBecomeProblems) {
  FileReader throwing = [](const std::string& rel) -> Result<std::string> {
    if (rel == "policy.yaml") return KemText();
    throw std::runtime_error("disk on fire");
  };
  LoadResult r;
  ASSERT_NO_THROW(r = LoadPolicy("policy.yaml", "x", throwing));
  Mutated m{KemText(), r.problems};
  EXPECT_TRUE(m.Has("cannot load the file: disk on fire", 0)) << m.Dump();
  EXPECT_FALSE(r.policy);

  FileReader oversized = [](const std::string&) -> Result<std::string> {
    return std::string(kMaxPolicyFileBytes + 1, '#');
  };
  r = LoadPolicy("policy.yaml", "x", oversized);
  ASSERT_EQ(r.problems.size(), 1u);
  EXPECT_EQ(r.problems[0].ToString(),
            "x/policy.yaml: cannot read the policy file: larger than " + MaxBytes() + " bytes");
}

// 200 random edits of the real policy: deleted, repeated and swapped lines,
// random bytes, flipped characters. The loader must answer every one with a
// policy or with problems, never an exception or a crash (ASan, UBSan).
TEST(PolicyRobustness, RandomMutationsOfTheKemPolicyNeverThrow) {
  std::mt19937 rng(20240601);
  auto below = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  for (int round = 0; round < 200; ++round) {
    std::vector<std::string> lines;
    {
      std::istringstream in(KemText());
      for (std::string line; std::getline(in, line);) lines.push_back(line + "\n");
    }
    const size_t edits = 1 + below(4);
    for (size_t e = 0; e < edits; ++e) {
      switch (below(5)) {
        case 0:
          lines.erase(lines.begin() + below(lines.size()));
          break;
        case 1: {
          const size_t at = below(lines.size());
          lines.insert(lines.begin() + at, lines[at]);
          break;
        }
        case 2:
          std::swap(lines[below(lines.size())], lines[below(lines.size())]);
          break;
        case 3: {
          std::string& line = lines[below(lines.size())];
          std::string bytes;
          for (size_t i = 1 + below(8); i > 0; --i) bytes += static_cast<char>(below(256));
          line.insert(below(line.size() + 1), bytes);
          break;
        }
        default: {
          // Either a character that means something to YAML or one bit off.
          std::string& line = lines[below(lines.size())];
          if (line.empty()) break;
          char& c = line[below(line.size())];
          const char syntax[] = " :-[]{}&*!|>'\"#%@`,?\t\n";
          c = below(2) ? syntax[below(sizeof syntax - 1)] : static_cast<char>(c ^ (1 << below(8)));
          break;
        }
      }
    }
    std::string text;
    for (const auto& l : lines) text += l;
    Outcome o = LoadPolicyText(text);
    EXPECT_NE(o.has_policy, !o.problems.empty()) << "round " << round;
    EXPECT_FALSE(WalkThrew(o)) << "round " << round << "\n" << o.Dump();
  }
}

}  // namespace
}  // namespace qorgau::policy
