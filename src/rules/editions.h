// Policy editions (R-0.1, R-XI): publishing a new edition with the
// difference from the one before and the reason for each change, the
// subjects told through the outbox, acceptance per subject and edition.
// Part of rules::Engine (rules/engine.h); implemented in editions.cc.
//
// A published edition is immutable. It takes effect at its moment (on
// publication, or a later day); until then the one before stays in force.
// The edition in force is the one a process opens with (app/instance.h):
// a running server takes a new edition when it is restarted after that
// moment.
//
// Consents given under an earlier edition stay valid unless the new one
// widens what the purpose covers (a category it may use, a recipient of its
// data, or what a recipient receives): then checks answer
// `consent_renewal_required` until the subject consents again
// (index/decision_index.h).
//
// Acceptance (R-XI.2) is recorded per subject and edition: explicitly
// (through the app: AcceptEdition), or by continued use, at the first
// change that processes the subject's data (a consent given, a service
// switched on, a contract joined, a value recorded) after the edition took
// effect. Decisions (checks) are answered from memory and record no
// acceptance.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "policy/policy_diff.h"
#include "rules/engine_core.h"

namespace qorgau::rules {

struct PublishRequest {
  std::shared_ptr<const policy::Policy> policy;  // loaded and valid
  std::map<std::string, std::string> files;      // the bundle, verbatim
  std::string main_file;
  std::optional<UnixMillis> effective_at;  // none: on publication
  std::string reason;                      // why the edition is published
};

struct PublishOutcome {
  int edition = 0;
  UnixMillis effective_at = 0;
  policy::PolicyDiff diff;
  std::int64_t notified = 0;  // subjects told through the outbox
  std::int64_t revision = 0;
};

// One edition of the history, with what changed from the one before.
struct EditionView {
  store::EditionRecord record;  // files included
  std::shared_ptr<const policy::Policy> policy;
  std::optional<policy::PolicyDiff> diff;  // none for the first
  bool in_force = false;
};

// The hash of an edition's bundle of files (length-prefixed, SHA-256).
Result<crypto::Bytes> EditionHash(const std::map<std::string, std::string>& files);

// The diff as JSON, each change with its reason from `to`'s edition.changes.
std::string PolicyDiffJson(const policy::PolicyDiff& diff, const policy::Policy& to);

class Editions {
 public:
  explicit Editions(EngineCore& core) : core_(core), d_(core.deps()) {}
  Editions(const Editions&) = delete;
  Editions& operator=(const Editions&) = delete;

  // Publishes the next edition (the data protection officer's). Refused
  // when it is not the next number, when a change has no reason in its
  // edition.changes (or a reason names no change), or when it takes effect
  // in the past.
  Result<PublishOutcome> PublishPolicy(const PublishRequest& request, const Caller& caller);
  // What `request` would publish, without publishing it.
  Result<policy::PolicyDiff> PreviewPolicy(const PublishRequest& request, const Caller& caller);
  // Every edition, oldest first, with its difference from the one before.
  // Loaded and compared once: an edition never changes once published, so
  // later calls read the list and load only what is new.
  Result<std::vector<EditionView>> ListEditions();
  // The subject accepts the edition in force, explicitly (R-XI.2).
  Result<store::AcceptanceRecord> AcceptEdition(const SubjectKey& subject, const std::string& channel,
                                                const std::string& evidence, const Caller& caller);
  // Whether the subject has accepted the edition in force, and how: a
  // recorded read ("acceptance") under the consents' permission.
  Result<std::optional<store::AcceptanceRecord>> EditionAcceptance(const Caller& caller, const SubjectKey& subject);
  // The outbox, by event then subject (`pending_only`: not delivered yet).
  Result<std::vector<store::OutboxRecord>> Outbox(bool pending_only, const Caller& caller);

 private:
  Result<policy::PolicyDiff> Prepare(const PublishRequest& request, const Caller& caller, store::EditionRecord* latest);
  EngineCore& core_;
  const EngineDeps& d_;
  std::mutex loaded_mu_;
  std::vector<EditionView> loaded_;  // as ListEditions last loaded them
};

}  // namespace qorgau::rules
