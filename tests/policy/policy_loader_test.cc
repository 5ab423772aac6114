// The KEM policy as code (R-0.1 … R-XI) and every refusal of the validator.
// Each refusal test edits a copy of the real policy in one place and checks
// the message and its position, so it fails if the rule is removed.
#include "policy/policy_loader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "../test_util.h"
#include "policy/policy_printer.h"

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
    EXPECT_TRUE(p.FindRetention(c.id)) << c.id;
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
  EXPECT_TRUE(m.Has("a second rule for category 'user.contact.email'", 0)) << m.Dump();
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
  EXPECT_TRUE(LoadEdited("effective_date: 2024-01-01", "effective_date: 2024-02-30")
                  .Has("is not a real date", 0));
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

}  // namespace
}  // namespace qorgau::policy
