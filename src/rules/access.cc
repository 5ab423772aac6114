// Actors, duties and API keys (R-II.3, R-VIII): who may act, and with which
// key (rules/access.h).
#include <algorithm>
#include <boost/json.hpp>

#include "core/clock.h"
#include "core/personal_value.h"
#include "core/working_calendar.h"
#include "crypto/password.h"
#include "rules/access.h"
#include "rules/checks.h"

namespace qorgau::rules {
namespace {

using store::ActorRole;

constexpr std::string_view kKeyPrefix = "qk_";
constexpr std::string_view kEnrolmentPrefix = "qe_";

}  // namespace

Result<void> CreateConsoleActor(store::Store& store, const Clock& clock) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, store.Begin(store::Store::Mode::kWrite));
  const UnixMillis now = clock.Now();
  const store::ActorRecord console{std::string(kConsoleActor), ActorRole::kAdmin,
                                   "Administrator at the console", "", "", {}, now};
  QORGAU_TRY(txn->PutActor(console));
  ledger::EventDraft ev{"actor.created", std::nullopt, "init", {}};
  ev.data["actor"] = console.id;
  ev.data["role"] = ActorRoleName(console.role);
  ev.data["name_hash"] = crypto::ToHex(crypto::Sha256(console.name));
  ev.data["nda_signed"] = "";
  ev.data["liability_acknowledged"] = "";
  ev.data["purposes"] = boost::json::array();
  QORGAU_TRY(ledger::Append(*txn, now, ev));
  return txn->Commit();
}

void Access::ForgetCallers() {
  std::lock_guard<std::mutex> lock(callers_mu_);
  callers_.clear();
  ++callers_generation_;
}

Result<store::ActorRecord> Access::PutActor(const ActorInput& in, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  QORGAU_TRY(CheckReference(in.id, "id"));
  if (in.name.size() > 200) return Fail(ErrorCode::kInvalidArgument, "name", "longer than 200 bytes");
  // R-II.3: an NDA or a liability warning counts from the day it was
  // signed; a day still to come is a mistake, not a signature.
  const auto today = LocalDateIn(CountryTimeZone(d_.policy->controller.country), d_.clock.Now());
  for (const auto* date : {&in.nda_signed, &in.liability_acknowledged}) {
    if (date->empty()) continue;
    const std::string_view field = date == &in.nda_signed ? "nda_signed" : "liability_acknowledged";
    QORGAU_ASSIGN_OR_RETURN(const auto day, ParseDate(*date, field));
    if (day > today) {
      return Fail(ErrorCode::kInvalidArgument, std::string(field),
                  "is in the future: give the day it was signed, once it has been");
    }
  }
  for (const auto& p : in.purposes) {
    if (!d_.policy->FindPurpose(p)) {
      return Fail(ErrorCode::kNotFound, "purposes", "'" + p + "' is not a purpose");
    }
  }
  store::ActorRecord rec{in.id, in.role, in.name, in.nda_signed, in.liability_acknowledged,
                         in.purposes, 0};
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    // One time for the row and its event: the replay compares them.
    const UnixMillis now = d_.clock.Now();
    rec.created_at = now;
    auto existing = txn.GetActor(in.id);
    if (!existing) return tl::unexpected(existing.error());
    if (*existing && (*existing)->disabled_at) {
      // Disabling is for good: an update must not bring the actor or its
      // keys back (the ledger records no way back either).
      return Refuse("actor_disabled", "id",
                    "actor '" + in.id + "' is disabled and stays disabled; add the person or system under a new id");
    }
    if (*existing) rec.created_at = (*existing)->created_at;
    QORGAU_TRY(txn.PutActor(rec));
    ledger::EventDraft ev{*existing ? "actor.updated" : "actor.created", std::nullopt, by.id(), {}};
    ev.data["actor"] = in.id;
    ev.data["role"] = store::ActorRoleName(in.role);
    // The display name is an employee's personal data: its digest only.
    ev.data["name_hash"] = crypto::ToHex(crypto::Sha256(in.name));
    ev.data["nda_signed"] = in.nda_signed;
    ev.data["liability_acknowledged"] = in.liability_acknowledged;
    boost::json::array purposes;
    for (const auto& p : in.purposes) purposes.emplace_back(p);
    ev.data["purposes"] = std::move(purposes);
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return rec;
}

Result<store::DutyRecord> Access::GrantDuty(const store::DutyRecord& duty, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  const policy::Policy& p = *d_.policy;
  if (duty.actions == 0 || (duty.actions & ~kAllDutyActions) != 0) {
    return Fail(ErrorCode::kInvalidArgument, "actions",
                "name at least one of " + DutyActionsText(kAllDutyActions));
  }
  if (!p.FindPurpose(duty.purpose)) {
    return Fail(ErrorCode::kNotFound, "purpose", "'" + duty.purpose + "' is not a purpose");
  }
  if (duty.categories.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "categories", "name at least one category");
  }
  for (const auto& c : duty.categories) {
    if (!p.FindCategory(c)) return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a category");
    if (!p.CategoryAllowsPurpose(c, duty.purpose)) {
      return Refuse("category_not_allowed_for_purpose", "categories",
                    "'" + c + "' is not a category purpose '" + duty.purpose + "' may use");
    }
  }
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto actor = txn.GetActor(duty.actor_id);
    if (!actor) return tl::unexpected(actor.error());
    if (!*actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if ((*actor)->disabled_at) return Refuse("actor_disabled", "actor", "the actor is disabled and stays disabled");
    if ((*actor)->role == ActorRole::kAdmin) {
      return Refuse("role_not_allowed", "actor",
                    "an administrator acts on no subject: give the duty to an employee or system");
    }
    if ((*actor)->role == ActorRole::kSystem &&
        std::find((*actor)->purposes.begin(), (*actor)->purposes.end(), duty.purpose) ==
            (*actor)->purposes.end()) {
      return Refuse("purpose_not_allowed_for_caller", "purpose",
                    "the system does not act for purpose '" + duty.purpose + "'");
    }
    QORGAU_TRY(txn.PutDuty(duty));
    ledger::EventDraft ev{"duty.granted", std::nullopt, by.id(), {}};
    ev.data["actor"] = duty.actor_id;
    ev.data["purpose"] = duty.purpose;
    boost::json::array cats;
    for (const auto& c : duty.categories) cats.emplace_back(c);
    ev.data["categories"] = std::move(cats);
    ev.data["view"] = duty.full_view ? "full" : "masked";
    ev.data["actions"] = DutyActionsText(duty.actions);
    QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return duty;
}

Result<std::string> Access::CreateApiKey(const std::string& actor_id, const Caller& by,
                                         std::optional<UnixMillis> expires_at) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  if (expires_at && *expires_at <= d_.clock.Now()) {
    return Fail(ErrorCode::kInvalidArgument, "expires", "must be in the future");
  }
  return IssueKey(actor_id, by.id(), expires_at, /*enrolled=*/false);
}

Result<std::string> Access::IssueKey(const std::string& actor_id, const std::string& by,
                                     std::optional<UnixMillis> expires_at, bool enrolled,
                                     const crypto::Bytes& token_hash) {
  auto random = crypto::RandomBytes(32);
  if (!random) return tl::unexpected(random.error());
  const std::string key = std::string(kKeyPrefix) + crypto::ToHex(*random);
  const crypto::Digest digest = crypto::Sha256(key);
  auto written = core_.Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto actor = txn.GetActor(actor_id);
    if (!actor) return tl::unexpected(actor.error());
    if (!*actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if ((*actor)->disabled_at) return Refuse("actor_disabled", "actor", "the actor is disabled");
    // A person's key is theirs alone: an administrator who could create it
    // could act as the employee. It is issued only through an enrolment
    // token that the employee redeems (CreateEnrolment, RedeemEnrolment).
    if (!enrolled && ((*actor)->role == ActorRole::kEmployee || (*actor)->role == ActorRole::kDpo)) {
      return Refuse("enrolment_required", "actor",
                    "an employee's key is issued only through an enrolment token the employee "
                    "redeems ('key enrol', then 'key redeem' or POST /v1/enrolments/redeem)");
    }
    const UnixMillis now = d_.clock.Now();
    if (enrolled) {
      QORGAU_ASSIGN_OR_RETURN(auto enrolment, txn.FindEnrolment(token_hash));
      if (!enrolment || enrolment->actor_id != actor_id || enrolment->redeemed_at ||
          enrolment->expires_at <= now) {
        return tl::unexpected(Error{ErrorCode::kUnauthenticated, "token",
                                    "the enrolment token is unknown, used or expired",
                                    "enrolment_invalid"});
      }
      enrolment->redeemed_at = now;
      QORGAU_TRY(txn.PutEnrolment(*enrolment));
      ledger::EventDraft redeemed{"enrolment.redeemed", std::nullopt, actor_id, {}};
      redeemed.data["actor"] = actor_id;
      redeemed.data["token_hash"] = crypto::ToHex(token_hash);
      QORGAU_TRY(ledger::Append(txn, now, redeemed));
    }
    store::ApiKeyRecord rec{crypto::Bytes(digest.begin(), digest.end()), actor_id, now, expires_at, {}};
    QORGAU_TRY(txn.InsertApiKey(rec));
    ledger::EventDraft ev{"key.created", std::nullopt, enrolled ? actor_id : by, {}};
    ev.data["actor"] = actor_id;
    // The key's SHA-256, as the store keeps it (the `hash` suffix marks it
    // as a digest for the ledger's personal-data guard); never the key.
    ev.data["key_hash"] = crypto::ToHex(digest);
    if (expires_at) ev.data["expires_at"] = FormatUtc(*expires_at);
    if (enrolled) ev.data["via"] = "enrolment";
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return key;
}

Result<Enrolment> Access::CreateEnrolment(const std::string& actor_id, const Caller& by,
                                          UnixMillis valid_for) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  if (valid_for <= 0 || valid_for > 7LL * 24 * 3600 * 1000) {
    return Fail(ErrorCode::kInvalidArgument, "valid_for", "must be between a millisecond and 7 days");
  }
  auto random = crypto::RandomBytes(32);
  if (!random) return tl::unexpected(random.error());
  const std::string token = std::string(kEnrolmentPrefix) + crypto::ToHex(*random);
  const crypto::Digest digest = crypto::Sha256(token);
  UnixMillis expires_at = 0;
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const auto actor, txn.GetActor(actor_id));
    if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if (actor->disabled_at) return Refuse("actor_disabled", "actor", "the actor is disabled");
    const UnixMillis now = d_.clock.Now();
    const store::EnrolmentRecord rec{crypto::Bytes(digest.begin(), digest.end()), actor_id, now,
                                     now + valid_for, {}};
    expires_at = rec.expires_at;
    QORGAU_TRY(txn.PutEnrolment(rec));
    ledger::EventDraft ev{"enrolment.created", std::nullopt, by.id(), {}};
    ev.data["actor"] = actor_id;
    ev.data["token_hash"] = crypto::ToHex(digest);
    ev.data["expires_at"] = FormatUtc(rec.expires_at);
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return Enrolment{token, expires_at};
}

Result<std::pair<std::string, std::string>> Access::RedeemEnrolment(std::string_view token) {
  auto invalid = [] {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "token",
                                "the enrolment token is unknown, used or expired", "enrolment_invalid"});
  };
  if (!token.starts_with(kEnrolmentPrefix) || token.size() != kEnrolmentPrefix.size() + 64) return invalid();
  const crypto::Digest digest = crypto::Sha256(token);
  const crypto::Bytes hash(digest.begin(), digest.end());
  std::string actor_id;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto enrolment, txn->FindEnrolment(hash));
    if (!enrolment) return invalid();
    actor_id = enrolment->actor_id;
  }
  QORGAU_ASSIGN_OR_RETURN(std::string key, IssueKey(actor_id, actor_id, std::nullopt, true, hash));
  ForgetCallers();
  return std::make_pair(actor_id, std::move(key));
}

Result<std::string> Access::SetPasswordByEnrolment(std::string_view token, std::string_view password) {
  auto invalid = [] {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "token",
                                "the enrolment token is unknown, used or expired", "enrolment_invalid"});
  };
  // The password is checked before the token is used up, so that a typo
  // does not cost the person their token.
  QORGAU_TRY(crypto::CheckPassword(password));
  if (!token.starts_with(kEnrolmentPrefix) || token.size() != kEnrolmentPrefix.size() + 64) return invalid();
  const crypto::Digest digest = crypto::Sha256(token);
  const crypto::Bytes token_hash(digest.begin(), digest.end());
  // The token is looked up before the password is hashed: a guessed token
  // costs a read, not 64 MiB of Argon2id (the write checks it again).
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto enrolment, txn->FindEnrolment(token_hash));
    if (!enrolment || enrolment->redeemed_at || enrolment->expires_at <= d_.clock.Now()) return invalid();
  }
  QORGAU_ASSIGN_OR_RETURN(const std::string hash, crypto::HashPassword(password));
  std::string actor_id;
  auto written = core_.Write([&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    const UnixMillis now = d_.clock.Now();
    QORGAU_ASSIGN_OR_RETURN(auto enrolment, txn.FindEnrolment(token_hash));
    if (!enrolment || enrolment->redeemed_at || enrolment->expires_at <= now) return invalid();
    actor_id = enrolment->actor_id;
    QORGAU_ASSIGN_OR_RETURN(const auto actor, txn.GetActor(actor_id));
    if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if (actor->disabled_at) return Refuse("actor_disabled", "actor", "the actor is disabled");
    if (actor->role == ActorRole::kSystem) {
      return Refuse("role_not_allowed", "token", "a system signs in with its API key, not to the console");
    }
    enrolment->redeemed_at = now;
    QORGAU_TRY(txn.PutEnrolment(*enrolment));
    ledger::EventDraft redeemed{"enrolment.redeemed", std::nullopt, actor_id, {}};
    redeemed.data["actor"] = actor_id;
    redeemed.data["token_hash"] = crypto::ToHex(token_hash);
    QORGAU_TRY(ledger::Append(txn, now, redeemed));
    QORGAU_TRY(txn.PutPassword({actor_id, hash, now}));
    ledger::EventDraft ev{"password.set", std::nullopt, actor_id, {}};
    ev.data["actor"] = actor_id;
    // The digest of the stored Argon2id string: the replay checks the row
    // against it, and the ledger gives no one a hash to guess against.
    ev.data["password_hash"] = crypto::ToHex(crypto::Sha256(hash));
    ev.data["via"] = "enrolment";
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  return actor_id;
}

Result<std::shared_ptr<const Caller>> Access::SignInWithPassword(const std::string& actor_id,
                                                                 std::string_view password) {
  std::string stored;
  {
    QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
    QORGAU_ASSIGN_OR_RETURN(const auto record, txn->GetPassword(actor_id));
    if (record) stored = record->hash;
  }
  const bool ok = crypto::VerifyPassword(stored, password);
  auto caller = ok ? CallerFor(actor_id) : Result<std::shared_ptr<const Caller>>(nullptr);
  if (!ok || !caller || !*caller || (*caller)->role() == ActorRole::kSystem) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "password", "the actor or the password is wrong",
                                "unauthenticated"});
  }
  return caller;
}

Result<std::optional<UnixMillis>> Access::PasswordSetAt(const std::string& actor_id) {
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto record, txn->GetPassword(actor_id));
  if (!record) return std::optional<UnixMillis>();
  return std::optional<UnixMillis>(record->set_at);
}

Result<void> Access::RevokeKey(const std::string& actor_id, const std::string& key_id, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  if (key_id.size() < 8) return Fail(ErrorCode::kInvalidArgument, "key", "give at least 8 hex digits of the key id");
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const auto actor, txn.GetActor(actor_id));
    if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor '" + actor_id + "'");
    std::vector<store::ApiKeyRecord> matches;
    QORGAU_TRY(txn.ScanApiKeys([&](const store::ApiKeyRecord& k) {
      if (k.actor_id == actor_id && !k.revoked_at && crypto::ToHex(k.key_hash).starts_with(key_id)) {
        matches.push_back(k);
      }
    }));
    if (matches.empty()) return Fail(ErrorCode::kNotFound, "key", "no live key of this actor has this id");
    if (matches.size() > 1) return Fail(ErrorCode::kInvalidArgument, "key", "the id matches several keys; give more digits");
    const UnixMillis now = d_.clock.Now();
    QORGAU_TRY(txn.RevokeApiKey(matches[0].key_hash, now));
    ledger::EventDraft ev{"key.revoked", std::nullopt, by.id(), {}};
    ev.data["actor"] = actor_id;
    ev.data["key_hash"] = crypto::ToHex(matches[0].key_hash);
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return {};
}

Result<void> Access::DisableActor(const std::string& actor_id, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  if (actor_id == by.id()) {
    return Refuse("role_not_allowed", "actor", "an administrator does not disable itself");
  }
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(auto actor, txn.GetActor(actor_id));
    if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    if (actor->disabled_at) return Fail(ErrorCode::kAlreadyExists, "actor", "already disabled");
    const UnixMillis now = d_.clock.Now();
    actor->disabled_at = now;
    QORGAU_TRY(txn.PutActor(*actor));
    ledger::EventDraft ev{"actor.disabled", std::nullopt, by.id(), {}};
    ev.data["actor"] = actor_id;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return {};
}

Result<void> Access::RemoveDuty(const std::string& actor_id, const std::string& purpose, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsManage));
  auto written = core_.Write(by, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    QORGAU_ASSIGN_OR_RETURN(const auto actor, txn.GetActor(actor_id));
    if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
    QORGAU_ASSIGN_OR_RETURN(const auto duties, txn.GetDuties(actor_id));
    const bool has = std::any_of(duties.begin(), duties.end(),
                                 [&](const store::DutyRecord& d) { return d.purpose == purpose; });
    if (!has) {
      // A duty of a purpose a later edition dropped can still be removed;
      // a name that is no purpose at all is a mistake of the request.
      if (!d_.policy->FindPurpose(purpose)) {
        return Fail(ErrorCode::kNotFound, "purpose", "'" + purpose + "' is not a purpose");
      }
      return tl::unexpected(Error{ErrorCode::kNotFound, "purpose",
                                  "the actor has no duty for this purpose", "duty_not_found"});
    }
    QORGAU_TRY(txn.DeleteDuty(actor_id, purpose));
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"duty.removed", std::nullopt, by.id(), {}};
    ev.data["actor"] = actor_id;
    ev.data["purpose"] = purpose;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    return std::vector<index::Delta>{};
  });
  if (!written) return tl::unexpected(written.error());
  ForgetCallers();
  return {};
}

Result<std::vector<store::ActorRecord>> Access::ListActors(const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsRead));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  return (*txn)->ListActors();
}

Result<std::vector<store::DutyRecord>> Access::ListDuties(const std::string& actor_id, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsRead));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto actor, txn->GetActor(actor_id));
  if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
  QORGAU_ASSIGN_OR_RETURN(auto duties, txn->GetDuties(actor_id));
  std::sort(duties.begin(), duties.end(), [](const auto& a, const auto& b) { return a.purpose < b.purpose; });
  return duties;
}

Result<std::vector<KeyInfo>> Access::ListKeys(const std::string& actor_id, const Caller& by) {
  QORGAU_TRY(Authorize(*d_.policy, by, Action::kActorsRead));
  QORGAU_ASSIGN_OR_RETURN(auto txn, d_.store.Begin(store::Store::Mode::kRead));
  QORGAU_ASSIGN_OR_RETURN(const auto actor, txn->GetActor(actor_id));
  if (!actor) return Fail(ErrorCode::kNotFound, "actor", "no actor with this id");
  std::vector<KeyInfo> keys;
  QORGAU_TRY(txn->ScanApiKeys([&](const store::ApiKeyRecord& k) {
    if (k.actor_id != actor_id) return;
    keys.push_back({crypto::ToHex(k.key_hash), k.created_at, k.expires_at, k.revoked_at});
  }));
  std::sort(keys.begin(), keys.end(), [](const KeyInfo& a, const KeyInfo& b) {
    return a.created_at != b.created_at ? a.created_at < b.created_at : a.id < b.id;
  });
  return keys;
}

Result<std::shared_ptr<const Caller>> Access::CallerFor(const std::string& actor_id) {
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto actor, (*txn)->GetActor(actor_id));
  if (!actor) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "as",
                                "no actor '" + actor_id + "' (see 'qorgau actor list')",
                                "unauthenticated"});
  }
  if (actor->disabled_at) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "as",
                                "actor '" + actor_id + "' is disabled", "actor_disabled"});
  }
  QORGAU_ASSIGN_OR_RETURN(auto duties, (*txn)->GetDuties(actor_id));
  return std::make_shared<const Caller>(Caller{std::move(*actor), std::move(duties)});
}

Result<std::shared_ptr<const Caller>> Access::Authenticate(std::string_view api_key) {
  auto refused = [](std::string reason, std::string message) {
    return tl::unexpected(Error{ErrorCode::kUnauthenticated, "authorization", std::move(message),
                                std::move(reason)});
  };
  auto unauthenticated = [&] {
    return refused("unauthenticated", "a valid API key is needed (Authorization: Bearer qk_...)");
  };
  auto expired = [&] { return refused("key_expired", "the API key has expired"); };
  if (!api_key.starts_with(kKeyPrefix) || api_key.size() != kKeyPrefix.size() + 64) {
    return unauthenticated();
  }
  // The cache is keyed by the key itself (memory only, never stored), so a
  // known caller costs one lookup and no hashing. Revoking a key, disabling
  // an actor or changing a duty clears it, so they take effect at once.
  const std::string cache_key(api_key);
  const UnixMillis now = d_.clock.Now();
  std::uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(callers_mu_);
    if (auto it = callers_.find(cache_key); it != callers_.end()) {
      if (!it->second.expires_at || now < *it->second.expires_at) return it->second.caller;
      callers_.erase(it);
      return expired();
    }
    generation = callers_generation_;
  }
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  const crypto::Digest digest = crypto::Sha256(api_key);
  auto key = (*txn)->FindApiKey(crypto::Bytes(digest.begin(), digest.end()));
  if (!key) return tl::unexpected(key.error());
  if (!*key) return unauthenticated();
  if ((*key)->revoked_at) return refused("key_revoked", "the API key has been revoked");
  if ((*key)->expires_at && now >= *(*key)->expires_at) return expired();
  auto actor = (*txn)->GetActor((*key)->actor_id);
  if (!actor) return tl::unexpected(actor.error());
  if (!*actor) return unauthenticated();
  if ((*actor)->disabled_at) return refused("actor_disabled", "the key's actor is disabled");
  auto duties = (*txn)->GetDuties((*key)->actor_id);
  if (!duties) return tl::unexpected(duties.error());
  auto caller = std::make_shared<const Caller>(Caller{std::move(**actor), std::move(*duties)});
  std::lock_guard<std::mutex> lock(callers_mu_);
  // An actor, duty or key that changed while we read must not be cached
  // in its old form: only cache what was read in the current generation.
  if (generation == callers_generation_) {
    if (callers_.size() > 10000) callers_.clear();
    callers_[cache_key] = CachedCaller{caller, (*key)->expires_at};
  }
  return caller;
}

}  // namespace qorgau::rules
