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
                                                         std::int64_t subject, std::int64_t credential_at) {
  auto token = crypto::RandomBytes(32);
  if (!token) return tl::unexpected(token.error());
  auto csrf = crypto::RandomBytes(32);
  if (!csrf) return tl::unexpected(csrf.error());
  const auto now = std::chrono::steady_clock::now();
  Session s;
  s.kind = kind;
  s.actor = std::move(actor);
  s.subject = subject;
  s.credential_at = credential_at;
  s.csrf = crypto::ToHex(*csrf);
  s.idle_until = now + Idle(kind);
  switch (kind) {
    case SessionKind::kStaff: s.ends_at = now + limits_.staff_absolute; break;
    case SessionKind::kSubscriber: s.ends_at = now + limits_.subscriber_absolute; break;
    case SessionKind::kAnonymous: s.ends_at = now + limits_.anonymous_idle; break;
  }
  std::string text = crypto::ToHex(*token);
  const std::string key = Key(text);
  std::lock_guard<std::mutex> lock(mu_);
  if (kind == SessionKind::kAnonymous) {
    // The oldest anonymous sessions make room; signed-in ones are not touched.
    while (anonymous_ >= limits_.max_anonymous && !anonymous_order_.empty()) {
      auto it = sessions_.find(anonymous_order_.front());
      anonymous_order_.pop_front();
      if (it != sessions_.end() && it->second.kind == SessionKind::kAnonymous) {
        sessions_.erase(it);
        --anonymous_;
      }
    }
    ++anonymous_;
    anonymous_order_.push_back(key);
    // Keys of sessions gone since are skipped above; trim them when the
    // queue holds many.
    if (anonymous_order_.size() > 2 * limits_.max_anonymous + 16) {
      std::erase_if(anonymous_order_, [&](const std::string& k) {
        auto it = sessions_.find(k);
        return it == sessions_.end() || it->second.kind != SessionKind::kAnonymous;
      });
    }
  } else {
    while (sessions_.size() - anonymous_ >= limits_.max_sessions && sessions_.size() > anonymous_) DropSignedInLocked();
  }
  sessions_[key] = s;
  return std::make_pair(std::move(text), std::move(s));
}

void Sessions::DropSignedInLocked() {
  // Expired ones first; else the one whose idle expiry is nearest.
  const auto now = std::chrono::steady_clock::now();
  auto victim = sessions_.end();
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.kind == SessionKind::kAnonymous) continue;
    if (it->second.idle_until <= now || it->second.ends_at <= now) {
      victim = it;
      break;
    }
    if (victim == sessions_.end() || it->second.idle_until < victim->second.idle_until) victim = it;
  }
  if (victim != sessions_.end()) sessions_.erase(victim);
}

std::optional<Session> Sessions::Find(std::string_view token) {
  if (token.size() != 64) return std::nullopt;
  const std::string key = Key(token);
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.idle_until <= now || it->second.ends_at <= now) {
    if (it->second.kind == SessionKind::kAnonymous) --anonymous_;
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.idle_until = std::min(now + Idle(it->second.kind), it->second.ends_at);
  return it->second;
}

void Sessions::Remove(std::string_view token) {
  const std::string key = Key(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  if (it->second.kind == SessionKind::kAnonymous) --anonymous_;
  sessions_.erase(it);
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
