// Sessions of the web pages (web/sessions.h).
#include "web/sessions.h"

#include <algorithm>

#include "crypto/crypto.h"

namespace qorgau::web {
namespace {

std::string Key(std::string_view token) { return crypto::ToHex(crypto::Sha256(token)); }

}  // namespace

std::chrono::seconds Sessions::Idle(SessionKind kind) const {
  switch (kind) {
    case SessionKind::kStaff: return limits_.staff_idle;
    case SessionKind::kSubscriber: return limits_.subscriber_idle;
    case SessionKind::kAnonymous: break;
  }
  return limits_.anonymous_idle;
}

Result<std::pair<std::string, Session>> Sessions::Create(SessionKind kind, std::string actor,
                                                         std::int64_t subject) {
  auto token = crypto::RandomBytes(32);
  if (!token) return tl::unexpected(token.error());
  auto csrf = crypto::RandomBytes(32);
  if (!csrf) return tl::unexpected(csrf.error());
  const auto now = std::chrono::steady_clock::now();
  Session s;
  s.kind = kind;
  s.actor = std::move(actor);
  s.subject = subject;
  s.csrf = crypto::ToHex(*csrf);
  s.idle_until = now + Idle(kind);
  switch (kind) {
    case SessionKind::kStaff: s.ends_at = now + limits_.staff_absolute; break;
    case SessionKind::kSubscriber: s.ends_at = now + limits_.subscriber_absolute; break;
    case SessionKind::kAnonymous: s.ends_at = now + limits_.anonymous_idle; break;
  }
  std::string text = crypto::ToHex(*token);
  std::lock_guard<std::mutex> lock(mu_);
  while (sessions_.size() >= limits_.max_sessions && !sessions_.empty()) DropOneLocked();
  sessions_[Key(text)] = s;
  return std::make_pair(std::move(text), std::move(s));
}

void Sessions::DropOneLocked() {
  // Expired ones first; else the one whose idle expiry is nearest.
  const auto now = std::chrono::steady_clock::now();
  auto victim = sessions_.begin();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.idle_until <= now || it->second.ends_at <= now) {
      victim = it;
      break;
    }
    if (it->second.idle_until < victim->second.idle_until) victim = it;
  }
  sessions_.erase(victim);
}

std::optional<Session> Sessions::Find(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  const std::string key = Key(token);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.idle_until <= now || it->second.ends_at <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.idle_until = std::min(now + Idle(it->second.kind), it->second.ends_at);
  return it->second;
}

void Sessions::Remove(std::string_view token) {
  const std::string key = Key(token);
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(key);
}

void Sessions::RemoveActor(const std::string& actor) {
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(sessions_, [&](const auto& kv) {
    return kv.second.kind == SessionKind::kStaff && kv.second.actor == actor;
  });
}

std::size_t Sessions::size() {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

bool Sessions::CsrfMatches(const Session& session, std::string_view sent) {
  if (sent.size() != session.csrf.size() || sent.empty()) return false;
  return crypto::Equal(reinterpret_cast<const std::uint8_t*>(sent.data()),
                       reinterpret_cast<const std::uint8_t*>(session.csrf.data()), sent.size());
}

}  // namespace qorgau::web
