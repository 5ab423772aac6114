// The engine: qorgau's commands on subjects and consents, each a rule of the
// operator's policy. Every change is validated first, then written with its
// ledger event in one store transaction; a refused command changes nothing.
//
// The engine does no I/O of its own: the store, the clock, the keys and the
// policy edition come in EngineDeps, so rules are tested on any date and
// store. Thread safety: an Engine may be shared; the store serialises
// transactions.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/key_ring.h"
#include "ledger/ledger.h"
#include "policy/policy.h"
#include "store/store.h"

namespace qorgau::rules {

using store::SubjectId;

struct EngineDeps {
  store::Store& store;
  const Clock& clock;
  const crypto::KeyRing& keys;
  std::shared_ptr<const policy::Policy> policy;  // the edition in force
};

// Who asks: "cli", "system", later an employee or API client id.
struct Actor {
  std::string id = "cli";
};

// How a subject is named by a caller.
struct SubjectKey {
  enum class Kind { kId, kIin, kPhone } kind = Kind::kId;
  std::string value;
  static SubjectKey Id(SubjectId id) { return {Kind::kId, std::to_string(id)}; }
  static SubjectKey Iin(std::string iin) { return {Kind::kIin, std::move(iin)}; }
  static SubjectKey Phone(std::string phone) { return {Kind::kPhone, std::move(phone)}; }
};

struct SubjectInput {
  std::string iin;
  std::string phone;
  // Further values by category id ("user.identity.name" -> "...").
  std::map<std::string, std::string> data;
  // Where the values come from (R-X.1): subject | service | public_source |
  // third_party | derived.
  std::string provenance = "subject";
};

struct DataItem {
  std::string category;
  std::string value;  // masked unless the full view was asked for
  std::string provenance;
  UnixMillis recorded_at = 0;
};

struct SubjectView {
  SubjectId id = 0;
  UnixMillis created_at = 0;
  bool masked = true;
  std::vector<DataItem> data;
};

struct ConsentRequest {
  SubjectKey subject;
  std::string purpose;
  std::string channel;
  std::string evidence;  // document id, message id, call recording id, signature
};

struct ConsentOutcome {
  SubjectId subject = 0;
  std::string purpose;
  store::ConsentState state = store::ConsentState::kGranted;
  int edition = 0;
  std::int64_t revision = 0;  // the ledger event that recorded it
};

// Publishes a loaded policy edition (its bundle of files) as immutable; the
// first publication also starts the ledger.
Result<int> PublishEdition(store::Store& store, const Clock& clock, const policy::Policy& policy,
                           const std::map<std::string, std::string>& files,
                           const std::string& main_file, const Actor& actor);

class Engine {
 public:
  explicit Engine(EngineDeps deps) : d_(std::move(deps)) {}

  const policy::Policy& policy() const { return *d_.policy; }

  Result<SubjectId> AddSubject(const SubjectInput& input, const Actor& actor);
  Result<SubjectView> ShowSubject(const SubjectKey& key, bool full);
  Result<std::vector<SubjectView>> ListSubjects(SubjectId after, size_t limit, bool full);

  // R-III.1, R-III.4: consent to a purpose whose basis is consent, through
  // a declared channel, with its evidence.
  Result<ConsentOutcome> GrantConsent(const ConsentRequest& request, const Actor& actor);
  // R-VI.2: withdrawal through a channel the policy accepts withdrawals from.
  Result<ConsentOutcome> WithdrawConsent(const ConsentRequest& request, const Actor& actor);
  Result<std::vector<store::ConsentRecord>> ListConsents(const SubjectKey& key);

  Result<ledger::VerifyReport> VerifyLedger();

 private:
  Result<SubjectId> Resolve(store::Transaction& txn, const SubjectKey& key);
  Result<SubjectView> View(store::Transaction& txn, const store::SubjectRecord& s, bool full);
  Result<ConsentOutcome> ChangeConsent(const ConsentRequest& request, const Actor& actor,
                                       store::ConsentState to);

  EngineDeps d_;
};

}  // namespace qorgau::rules
