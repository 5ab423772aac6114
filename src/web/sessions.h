// Sessions of the web pages, and their CSRF tokens.
//
// A session is a random 32-byte token in an HttpOnly, SameSite=Strict
// cookie (Secure under TLS); the server keeps only its SHA-256, with who
// signed in (a staff actor, or a subscriber by subject id), the session's
// CSRF token and two expiries: idle (extended by each request) and
// absolute. A visitor who has not signed in gets an anonymous session the
// first time a form is shown, so that the sign-in forms carry a CSRF token
// too; signing in replaces it with a new token (no session fixation).
//
// Sessions live in memory: a restart of the server signs everyone out,
// which loses no data (every change is in the ledger when it is answered).
// Their number is bounded, anonymous and signed-in ones apart: a flood of
// anonymous visitors drops the oldest anonymous sessions only, never a
// signed-in one, and signing in (rate-limited by its password or code)
// drops, past its own bound, the signed-in session nearest to expiry.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <chrono>
#include <deque>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/error.h"

namespace qorgau::web {

enum class SessionKind : std::uint8_t { kAnonymous, kStaff, kSubscriber };

struct Session {
  SessionKind kind = SessionKind::kAnonymous;
  std::string actor;            // kStaff: the actor id
  std::int64_t subject = 0;     // kSubscriber: the subject id
  std::string csrf;             // hex, sent back in every form
  // kStaff: when the actor's password was set at sign-in; a password set
  // since (a reset) ends the session.
  std::int64_t credential_at = 0;
  std::chrono::steady_clock::time_point idle_until, ends_at;
};

struct SessionLimits {
  std::chrono::seconds staff_idle{30 * 60};
  std::chrono::seconds staff_absolute{10 * 3600};
  std::chrono::seconds subscriber_idle{15 * 60};
  std::chrono::seconds subscriber_absolute{2 * 3600};
  std::chrono::seconds anonymous_idle{30 * 60};
  std::size_t max_sessions = 100000;   // signed in
  std::size_t max_anonymous = 50000;   // visitors shown a sign-in form
};

class Sessions {
 public:
  explicit Sessions(SessionLimits limits = {}) : limits_(limits) {}

  // A new session; returns its token (for the cookie) and the session.
  Result<std::pair<std::string, Session>> Create(SessionKind kind, std::string actor, std::int64_t subject,
                                                 std::int64_t credential_at = 0);
  // The live session of `token`, its idle expiry extended; none if unknown
  // or expired (an expired one is dropped).
  std::optional<Session> Find(std::string_view token);
  void Remove(std::string_view token);
  // Ends every session of a staff actor (disabled, password changed).
  void RemoveActor(const std::string& actor);
  std::size_t size();

  // Whether `sent` is the session's CSRF token (constant time).
  static bool CsrfMatches(const Session& session, std::string_view sent);

 private:
  std::chrono::seconds Idle(SessionKind kind) const;
  void DropSignedInLocked();

  SessionLimits limits_;
  std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // SHA-256 hex of the token -> session
  std::size_t anonymous_ = 0;                           // of sessions_
  std::deque<std::string> anonymous_order_;             // keys, oldest first (some gone since)
};

}  // namespace qorgau::web
