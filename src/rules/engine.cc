// Engine: its core first, then each aggregate over it; and the publication
// of policy editions.
#include "rules/engine.h"

#include "ledger/ledger.h"

namespace qorgau::rules {

Result<crypto::Bytes> EditionHash(const std::map<std::string, std::string>& files) {
  // Length-prefixed so that no two bundles share an encoding.
  std::string msg = "qorgau-edition/1\n";
  for (const auto& [path, content] : files) {
    msg += std::to_string(path.size()) + ":" + path + std::to_string(content.size()) + ":" + content;
  }
  const crypto::Digest d = crypto::Sha256(msg);
  return crypto::Bytes(d.begin(), d.end());
}

Engine::Engine(EngineDeps deps)
    : EngineCore(std::move(deps)),
      Subjects(static_cast<EngineCore&>(*this)),
      Consents(static_cast<EngineCore&>(*this)),
      Obligations(static_cast<EngineCore&>(*this)),
      Withdrawals(static_cast<EngineCore&>(*this)),
      Decisions(static_cast<EngineCore&>(*this)),
      Access(static_cast<EngineCore&>(*this)),
      Audit(static_cast<EngineCore&>(*this)),
      Applications(static_cast<EngineCore&>(*this)),
      Retention(static_cast<EngineCore&>(*this)),
      Transfers(static_cast<EngineCore&>(*this)),
      Aggregates(static_cast<EngineCore&>(*this)),
      Editions(static_cast<EngineCore&>(*this)),
      Webhooks(static_cast<EngineCore&>(*this)),
      Enrichment(static_cast<EngineCore&>(*this)),
      Statistics(static_cast<EngineCore&>(*this)) {}

Engine::~Engine() = default;

Result<int> PublishEdition(store::Store& store, const Clock& clock, const policy::Policy& policy,
                           const std::map<std::string, std::string>& files,
                           const std::string& main_file, const std::string& actor_id) {
  auto hash = EditionHash(files);
  if (!hash) return tl::unexpected(hash.error());
  auto txn = store.Begin(store::Store::Mode::kWrite);
  if (!txn) return tl::unexpected(txn.error());
  auto latest = (*txn)->LatestEdition();
  if (!latest) return tl::unexpected(latest.error());
  if (*latest && (*latest)->number >= policy.edition.number) {
    return Fail(ErrorCode::kFailedPrecondition, "edition.number",
                "edition " + std::to_string(policy.edition.number) +
                    " is not newer than the published edition " +
                    std::to_string((*latest)->number));
  }
  const UnixMillis now = clock.Now();
  store::EditionRecord rec{policy.edition.number, main_file, *hash, now, files};
  QORGAU_TRY((*txn)->PutEdition(rec));
  ledger::EventDraft ev{"policy.published", std::nullopt, actor_id, {}};
  ev.data["edition"] = policy.edition.number;
  ev.data["hash"] = crypto::ToHex(*hash);
  if (policy.edition.effective_date) {
    ev.data["effective_date"] = FormatDate(*policy.edition.effective_date);
  } else {
    ev.data["effective_date"] = nullptr;
  }
  QORGAU_TRY(ledger::Append(**txn, now, ev));
  QORGAU_TRY((*txn)->Commit());
  return policy.edition.number;
}

}  // namespace qorgau::rules
