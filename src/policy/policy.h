// The policy model: one edition of an operator's personal-data protection
// policy, as loaded from `policy.yaml` (format qorgau.policy/1, documented in
// docs/policy.md). A Policy is immutable once loaded and validated; share it
// by `std::shared_ptr<const Policy>`.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/personal_value.h"
#include "core/vocabulary.h"

namespace qorgau::policy {

// Where a value was written, for messages "file:line:column: ...".
// line and column are 1-based; 0 means unknown.
struct SourcePos {
  std::string file;
  int line = 0;
  int column = 0;
};

// A reference to another entry by id, with where it was written.
struct Ref {
  std::string id;
  SourcePos pos;
};

// Text in several languages: "kk" (required), "ru", "en".
using Text = std::map<std::string, std::string, std::less<>>;

// The languages a text may have, in display order.
inline constexpr std::string_view kLanguages[] = {"kk", "ru", "en"};

// Text in `lang`, falling back to kk, then to any language present.
const std::string& InLanguage(const Text& text, std::string_view lang);

enum class LegalBasis : std::uint8_t {
  kContract = 0,  // the consent that joining a contract gives (R-III.3)
  kConsent = 1,   // a separate consent of the subject (R-III.1)
  kLaw = 2,       // a statute or an Art. 9 item; needs `statute`
};
std::string_view LegalBasisName(LegalBasis b);

enum class AccessClass : std::uint8_t {
  kPublic = 0,      // general access (LAW §1)
  kRestricted = 1,  // restricted access, confidential
};

enum class ServiceKind : std::uint8_t {
  kBase = 0,        // provided under the contract itself
  kAdditional = 1,  // may be switched off by withdrawal (R-VI.4)
};

// A length of time as written: 5y, 6m, 30d.
struct Period {
  int amount = 0;
  char unit = 'd';  // 'y', 'm' or 'd'
  // Approximate length in days, for comparing periods of different units.
  double Days() const;
  // `from` plus the period, by the calendar: months and years keep the day
  // of the month (the last day when the month is shorter) and the time.
  UnixMillis After(UnixMillis from) const;
  std::string ToString() const;
};

struct Purpose {
  std::string id;
  int number = 0;  // position in the seed's closed list (R-V.1)
  LegalBasis basis = LegalBasis::kConsent;
  std::string statute;  // required for kLaw
  Text name;
  // kContract: also while the subject has an open obligation (a debt, an
  // instalment), not only while a service needing the purpose is on:
  // collecting a debt outlives the service it arose under.
  bool while_obligation_open = false;
  // R-X.2: data about the subject may be added from the policy's sources,
  // and attributes derived (profiling), for this purpose.
  bool enrichment = false;
  SourcePos pos;
};

struct Category {
  std::string id;  // dotted, "user.contact.phone"
  AccessClass access = AccessClass::kRestricted;
  ValueType value = ValueType::kText;  // how values are validated and masked
  Text name;
  std::vector<Ref> purposes;  // the purposes that may use this category
  SourcePos pos;
};

struct Channel {
  std::string id;
  std::string evidence;  // the kind of proof kept: e_document, e_message, ...
  Text name;
  SourcePos pos;
};

struct ContractMethod {
  std::string id;
  Text name;
  SourcePos pos;
};

struct Service {
  std::string id;
  ServiceKind kind = ServiceKind::kBase;
  Text name;
  std::vector<Ref> join_methods;
  std::vector<Ref> purposes;
  std::vector<Ref> categories;
  bool reenable_written_application = false;  // R-VI.5
  bool reenable_new_consent = false;          // R-VI.5
  bool has_reenable = false;                  // `reenable` was written
  SourcePos pos;
};

// The events a retention period can count from: each is recorded by
// qorgau (docs/policy.md section 12 says when each happens).
inline constexpr std::string_view kRetentionStarts[] = {
    "collection",            // the value was recorded (subject.added, data.recorded)
    "relationship_end",      // the last contract ended (contract.ended); without any contract, the last consent
                             // withdrawn; without either, the subject's registration
    "tax_period_end",        // the end of the calendar year of the later of collection and relationship end
    "service_end",           // every service of the subject that needs the category is off
    "consent_end",           // every consent the rule covers is withdrawn
    "application_answered",  // the application was answered or refused
    "obligation_closed",     // the obligation was closed
};

// The records qorgau itself keeps, which retention rules may name instead
// of a category, each with the event its period counts from.
struct RecordKind {
  std::string_view id;
  std::string_view from;
};
inline constexpr RecordKind kRecordKinds[] = {
    {"contracts", "relationship_end"},
    {"consents", "consent_end"},
    {"obligations", "obligation_closed"},
    {"applications", "application_answered"},
};

// R-VII.1: how long data of a category (or a record qorgau keeps) stay,
// and from when. A category may have several rules (one a purpose needs,
// another a statute sets); the longest applicable one wins.
struct RetentionRule {
  Ref category;        // a data category, or
  std::string record;  // a record kind of kRecordKinds
  // Applies only to subjects whose data serve this purpose (a consent to
  // it, a contract for a contract purpose; a purpose of law always).
  std::optional<Ref> purpose;
  // consent_end: only consents given through channels keeping this kind of
  // evidence (call_recording: an oral consent); "" for every consent.
  std::string evidence;
  Period period;       // may be 0d: at once
  std::string from;    // one of kRetentionStarts
  std::optional<Ref> minimum;  // a statute id of the law table
  std::string ground;
  SourcePos pos;
  SourcePos period_pos;
  SourcePos from_pos;
  // What the rule is about: the category id, or "record:" and the kind.
  std::string Subject() const { return record.empty() ? category.id : "record:" + record; }
};

// The agreement that binds a recipient (R-IX.3).
struct Agreement {
  std::string number;
  std::chrono::year_month_day signed_on{};
  std::optional<std::chrono::year_month_day> expires;  // none: until terminated
  // Whether it holds the clause that forbids the recipient to disseminate
  // subjects' data without their consent or another legal ground (R-IX.3).
  bool nondisclosure_clause = false;
};

// A partner the operator may transfer data to (R-IX.1, R-IX.3).
struct Recipient {
  std::string id;
  Text name;
  std::string bin;           // a Kazakh business identification number (12 digits), or
  std::string registration;  // a foreign registration (register and number)
  std::string country;       // ISO 3166-1 alpha-2
  Agreement agreement;
  std::vector<Ref> purposes;    // what it may receive data for
  std::vector<Ref> categories;  // and which data
  SourcePos pos;
};

// Where data about a subject may come from besides the subject (R-X.1): a
// public source (public social-network accounts) or a third party under
// contract with the operator, for the purposes and categories it names.
enum class SourceKind : std::uint8_t { kPublic = 0, kThirdParty = 1 };

struct DataSource {
  std::string id;
  Text name;
  SourceKind kind = SourceKind::kPublic;
  // A third party: who it is (as a recipient) and the agreement it
  // supplies data under; a public source has neither.
  std::string bin;
  std::string registration;
  std::string country;
  std::optional<Agreement> agreement;
  std::vector<Ref> purposes;
  std::vector<Ref> categories;
  SourcePos pos;
};

// Transfers across the border (LAW.md §8).
struct TransferRules {
  // Countries that ensure the protection of personal data; a transfer to
  // any other needs the subject's consent to cross-border transfer. No
  // official list exists: empty by default, so every transfer abroad needs
  // that consent.
  std::vector<std::string> adequate_countries;
};

// Anonymised aggregates (R-IX.2): how small a group may be released.
struct AggregateRules {
  int k = 10;                       // every released group holds at least k subjects
  int l = 2;                        // and, with a sensitive attribute, l distinct values of it
  int max_suppressed_percent = 5;   // generalise until at most this share of subjects is suppressed
  // The differential-privacy budget each recipient has for noisy releases
  // (the sum of their epsilons); none: noisy releases are refused.
  std::optional<double> epsilon_budget;
};

struct WithdrawalRules {
  std::vector<Ref> channels;
  bool block_if_unfulfilled_obligation = true;  // R-VI.3
  bool block_if_legal_hold = true;              // R-VI.3
  // Who opens and closes legal holds (`legal_hold_roles`); a legal
  // restriction is the data protection officer's matter by default.
  std::vector<ActorRole> legal_hold_roles = {ActorRole::kDpo};
  // R-VI.3's scope: the purposes an open debt or instalment keeps from
  // being withdrawn (`obligation_blocks`); empty: every purpose.
  std::vector<Ref> obligation_blocks;
  Text warning;                                 // R-VI.1
};

struct NamedItem {
  std::string id;
  Text name;
  SourcePos pos;
};

// A statutory retention minimum from the law table (format qorgau.law/1).
struct Statute {
  std::string id;
  Period period;
  std::string cite;
  std::string confidence;  // confirmed | from_memory
  SourcePos pos;
};

struct Edition {
  int number = 0;
  Text owner;
  std::optional<std::string> order_number;  // null: blank in the source document
  int order_year = 0;
  std::string effective;  // on_approval | on_publication | on_date
  // The day it takes effect, where the source says; none: unknown (an
  // approval order whose date is blank). `policy publish` records the
  // moment it takes effect in the store.
  std::optional<std::chrono::year_month_day> effective_date;
  // Why each change from the edition before was made: "section/id" (as
  // policy/policy_diff.h names changes) -> the reason. Publishing refuses
  // a change without one.
  std::map<std::string, std::string> changes;
  std::map<std::string, std::string> text_paths;  // lang -> path relative to the policy
  std::map<std::string, std::string> texts;       // lang -> the text itself
};

struct Controller {
  Text name;
  std::string brand;
  Text address;
  std::string postal_index;
  std::string country;
  std::string primary_storage_country;
  std::string bin;          // business identification number, 12 digits; "" when not given
  std::string dpo_contact;  // the person responsible for processing (Art. 25(3)): how to reach them; ""
};

struct Policy {
  std::string format;
  std::string law_path;
  std::string jurisdiction;
  Edition edition;
  Controller controller;
  std::vector<Channel> channels;
  std::vector<ContractMethod> contract_methods;
  std::vector<Purpose> purposes;
  std::vector<Category> categories;
  std::vector<Service> services;
  std::vector<RetentionRule> retention;
  std::vector<Recipient> recipients;
  std::vector<DataSource> sources;  // R-X.1
  TransferRules transfers;
  AggregateRules aggregates;
  WithdrawalRules withdrawal;
  std::vector<NamedItem> rights;
  // rights[].deadline_working_days: the working days an application of the
  // right must be answered within, where the policy sets one (LAW.md §5).
  std::map<std::string, int> right_deadlines;
  std::vector<NamedItem> security_measures;
  std::vector<Statute> statutes;

  // Lookups by id; nullptr when absent.
  const Purpose* FindPurpose(std::string_view id) const;
  const Category* FindCategory(std::string_view id) const;
  const Channel* FindChannel(std::string_view id) const;
  const ContractMethod* FindContractMethod(std::string_view id) const;
  const Service* FindService(std::string_view id) const;
  const Statute* FindStatute(std::string_view id) const;
  const Recipient* FindRecipient(std::string_view id) const;
  const DataSource* FindSource(std::string_view id) const;
  // The retention rules of a category (or, "record:KIND", of a record).
  std::vector<const RetentionRule*> RetentionRules(std::string_view subject) const;
  // The first category holding values of `type`; nullptr when none.
  const Category* FindCategoryByValue(ValueType type) const;

  // Whether `category` lists `purpose` among those that may use it.
  bool CategoryAllowsPurpose(std::string_view category, std::string_view purpose) const;
};

}  // namespace qorgau::policy
