// Actors, duties and API keys (R-II.3, R-VIII): who may act, for which
// purposes, with which key. Only an administrator may manage them. Keys are
// kept as SHA-256; authenticated callers are cached until any actor, duty
// or key changes. Part of rules::Engine (rules/engine.h); implemented in
// access.cc.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct ActorInput {
  std::string id;
  store::ActorRole role = store::ActorRole::kEmployee;
  std::string name;
  std::string nda_signed;              // YYYY-MM-DD or empty
  std::string liability_acknowledged;  // YYYY-MM-DD or empty
  std::vector<std::string> purposes;   // systems: the purposes it acts for
};

// A one-time enrolment token, shown once (Engine::CreateEnrolment).
struct Enrolment {
  std::string token;          // "qe_" and 64 hex digits
  UnixMillis expires_at = 0;  // redeemable before this
};

// An API key as an administrator sees it: its id, never the key.
struct KeyInfo {
  std::string id;  // hex SHA-256 of the key, as the store keeps it (`key revoke --key` takes a prefix)
  UnixMillis created_at = 0;
  std::optional<UnixMillis> expires_at = {};
  std::optional<UnixMillis> revoked_at = {};
};

// The actor that `init` creates: an administrator at the console of the
// data directory, the CLI's default `--as`.
inline constexpr std::string_view kConsoleActor = "console";
// Creates it, at init: the first administrator, from whom every other
// actor, duty and key comes (actor.created, by "init").
Result<void> CreateConsoleActor(store::Store& store, const Clock& clock);

class Access {
 public:
  explicit Access(EngineCore& core) : core_(core), d_(core.deps()) {}
  Access(const Access&) = delete;
  Access& operator=(const Access&) = delete;

  // The caller an actor id acts as, from the store (the CLI's --as); an
  // unknown or disabled actor is kUnauthenticated.
  Result<std::shared_ptr<const Caller>> CallerFor(const std::string& actor_id);

  Result<store::ActorRecord> PutActor(const ActorInput& input, const Caller& by);
  Result<store::DutyRecord> GrantDuty(const store::DutyRecord& duty, const Caller& by);
  // A new API key for a system, returned once; only its SHA-256 is kept.
  // A person's key is refused (enrolment_required): see CreateEnrolment.
  Result<std::string> CreateApiKey(const std::string& actor_id, const Caller& by,
                                   std::optional<UnixMillis> expires_at = std::nullopt);
  // A one-time token (returned once, "qe_..."), valid for `valid_for` ms,
  // with which the employee, and only whoever holds the token, gets a key.
  Result<Enrolment> CreateEnrolment(const std::string& actor_id, const Caller& by,
                                    UnixMillis valid_for = 72LL * 3600 * 1000);
  // Redeems an enrolment token: {actor id, the new API key}. The token is
  // the credential; it works once, before it expires.
  Result<std::pair<std::string, std::string>> RedeemEnrolment(std::string_view token);
  // Redeems an enrolment token for a console password instead of a key
  // (docs/console.md): the person behind the token sets it, so an
  // administrator cannot sign in to the console as an employee. A person
  // only (employee, dpo) or an administrator; not a system. Returns the
  // actor. The token is used up as by RedeemEnrolment; a `password.set`
  // event records the hash's digest, never the hash.
  Result<std::string> SetPasswordByEnrolment(std::string_view token, std::string_view password);
  // The caller `actor_id` with `password`, for a console sign-in. Every
  // refusal is kUnauthenticated with reason `unauthenticated` (no actor, no
  // password, a wrong one, a disabled actor), and takes the time of an
  // Argon2id check.
  Result<std::shared_ptr<const Caller>> SignInWithPassword(const std::string& actor_id, std::string_view password);
  // When the actor's console password was set (none: it has none): a
  // session signed in before a later one (a reset) is no longer valid.
  Result<std::optional<UnixMillis>> PasswordSetAt(const std::string& actor_id);
  // Revokes the live key of `actor_id` whose id (hex SHA-256) starts with
  // `key_id`; disables an actor; removes a duty. Effective at once.
  Result<void> RevokeKey(const std::string& actor_id, const std::string& key_id, const Caller& by);
  Result<void> DisableActor(const std::string& actor_id, const Caller& by);
  Result<void> RemoveDuty(const std::string& actor_id, const std::string& purpose, const Caller& by);
  Result<std::vector<store::ActorRecord>> ListActors(const Caller& by);
  // An actor's duties, by purpose (administrators).
  Result<std::vector<store::DutyRecord>> ListDuties(const std::string& actor_id, const Caller& by);
  // The keys of an actor, live or not, by key id; never the keys.
  Result<std::vector<KeyInfo>> ListKeys(const std::string& actor_id, const Caller& by);
  // The caller a key belongs to; cached (shared, immutable) until actors,
  // duties or keys change. A refusal is kUnauthenticated with a reason
  // saying why: `unauthenticated` (not a key, or no such key),
  // `key_revoked`, `key_expired`, `actor_disabled`. A door that faces the
  // network may answer them all alike (the HTTP API does) and count the
  // reasons instead.
  Result<std::shared_ptr<const Caller>> Authenticate(std::string_view api_key);

 private:
  // Writes a new key for `actor_id`; `enrolled`: redeeming the enrolment
  // `token_hash`, by the actor itself.
  Result<std::string> IssueKey(const std::string& actor_id, const std::string& by,
                               std::optional<UnixMillis> expires_at, bool enrolled,
                               const crypto::Bytes& token_hash = {});
  void ForgetCallers();

  EngineCore& core_;
  const EngineDeps& d_;
  // Authenticated callers by key (in memory only); cleared when actors,
  // duties or keys change.
  std::mutex callers_mu_;
  struct CachedCaller {
    std::shared_ptr<const Caller> caller;
    std::optional<UnixMillis> expires_at;  // of the key
  };
  std::unordered_map<std::string, CachedCaller> callers_;
  std::uint64_t callers_generation_ = 0;  // bumped at every change; guarded by callers_mu_
};

}  // namespace qorgau::rules
