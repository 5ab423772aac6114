// The information statement (R-IV.4; LAW.md §5): what the operator holds
// about a subject, why, from where, how, for how long, and what was done
// with the subject's consents and applications, in Kazakh, Russian or
// English, as JSON or as a printable A4 HTML page. Built from the store
// alone (rules::Applications::Statement gathers it); this file only
// renders it, so it reads nothing and records nothing.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::report {

struct StatementInput {
  std::string reference;   // "ST-<subject>-<seq of the statement's access.read event>"
  UnixMillis at = 0;       // when it was produced
  std::string local_date;  // that day in the operator's time zone, YYYY-MM-DD
  std::string time_zone;
  std::string lang = "kk";  // kk | ru | en
  store::SubjectId subject = 0;
  std::string prepared_by;  // the actor who produced it
  std::optional<std::int64_t> application;  // the information application it answers
  bool masked = true;
  bool blocked = false;

  struct Value {
    std::string category;
    std::string value;  // masked unless `masked` is false
    std::string provenance;
    UnixMillis recorded_at = 0;  // collected, or last changed
    std::optional<std::int64_t> rectified_on;  // the rectification application of the last change
    std::string recorded_day;  // recorded_at's day in the operator's time zone
    // How long it is kept (R-VII.1), from the retention plan
    // (rules/retention.h) on the statement's day.
    struct Storage {
      const policy::RetentionRule* rule = nullptr;  // the rule that decides; none: no rule applies
      std::string status = "waiting";               // due | held | running | waiting
      std::string due_day;                          // local day its period ends; "" while waiting
      std::vector<std::string> kept_by;             // held: the kinds of obligation keeping it
    } storage = {};
    // Enriched from a source of the policy, or derived (R-X): from where,
    // under which agreement, for what, from which categories.
    std::optional<store::EnrichmentRecord> enrichment = {};
  };
  std::vector<Value> data;

  struct ConsentStep {
    UnixMillis at = 0;
    bool granted = true;
    std::string purpose, channel, evidence;
    int edition = 0;
    std::string day;  // `at`'s day in the operator's time zone
    std::string requester = "subject";  // or the legal representative who acted: parent, guardian, attorney
  };
  std::vector<ConsentStep> consents;

  // What was destroyed of the subject's data and records (R-VII.2):
  // retention.destroyed events, oldest first.
  struct Destroyed {
    UnixMillis at = 0;
    std::string day;  // local
    std::string why;  // retention, withdrawal, service_off, contract_end, application, restore
    std::vector<std::string> what;  // categories, or record:KIND
  };
  std::vector<Destroyed> destroyed;

  // What of the subject's data went to which recipient (R-IX.1): each
  // transfer that sent them, oldest first.
  struct Transfer {
    store::TransferRecord transfer;
    std::string day;           // local
    std::string basis;         // the subject's legal basis for the purpose then
    std::string cross_border;  // domestic | adequate_country | consent
  };
  std::vector<Transfer> transfers;

  std::vector<store::ContractRecord> contracts;
  std::vector<std::string> contract_days;  // each contract's day joined, local
  std::vector<store::SubscriptionRecord> services;
  std::size_t open_obligations = 0;  // destruction waits while any is open (R-VII.1)
  std::map<std::string, bool> purpose_holds;  // purpose -> its legal basis holds now

  struct Application {
    store::ApplicationRecord record;
    std::string due_date;       // local
    std::string received_date;  // local
  };
  std::vector<Application> applications;
};

// JSON (one object; every text in the language asked for).
std::string StatementJson(const policy::Policy& policy, const StatementInput& in);
// A self-contained HTML page that prints on A4.
std::string StatementHtml(const policy::Policy& policy, const StatementInput& in);

}  // namespace qorgau::report
