// Failed authentications counted per source address, and the lockout of a
// source that fails too often: the HTTP API's defence against guessing
// keys and enrolment tokens (docs/architecture.md, "Failed
// authentications").
//
// The rule: a source that fails `max_failures` authentications (a wrong,
// revoked or expired API key, the key of a disabled actor, a bad
// enrolment token) within `window` is locked out for `lockout`. While it
// is, every request it makes to a route that takes a credential is
// answered 429 with Retry-After before its credential is looked at;
// public routes (health, metrics, the policy) stay open to it.
// - All of the source's credentialed requests are refused, not only the
//   failing ones: if a right guess still got through, the answers (429 or
//   2xx) would tell the guesser which guess was right, at an unchanged rate.
// - A success does not reset the count: a guesser holding one valid key of
//   its own could otherwise reset it between guesses.
// - A request without any credential is not a guess and does not count.
// - The cost: clients that share the guesser's address (a NAT, a proxy)
//   wait out the lockout with it.
//
// A source is an IPv4 address, or the /64 prefix of an IPv6 address (one
// host usually holds a whole /64); an IPv4-mapped IPv6 address is its IPv4
// address. The address is the TCP peer's: headers such as X-Forwarded-For
// are not trusted, since any client can send them.
//
// Memory is bounded: at most `max_sources` sources are tracked (tens of
// bytes each). When the table is full, sources whose window and lockout
// have passed are forgotten; if none has, the one whose window is oldest
// (a locked-out source only when every source is locked out).
//
// Time comes from the injected Clock. Thread safety: all methods may be
// called from any thread. While no source is locked out, LockedFor costs
// one atomic load and takes no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace qorgau::api {

// The limits; each is a `qorgau serve` option ([serve] in the TOML file).
struct AuthLimits {
  int max_failures = 10;                 // within `window`; then the lockout
  std::chrono::seconds window{60};       // 10 a minute: a typo is fine, guessing is not
  std::chrono::seconds lockout{60};      // long enough to slow guessing, short for a NAT's neighbours
  std::size_t max_sources = 10000;       // about a megabyte at most
};

class AuthLimiter {
 public:
  AuthLimiter(AuthLimits limits, const Clock& clock);
  AuthLimiter(const AuthLimiter&) = delete;
  AuthLimiter& operator=(const AuthLimiter&) = delete;

  // Whole seconds (at least 1) until `peer` may present a credential
  // again; 0 when it may now.
  std::int64_t LockedFor(std::string_view peer) const;
  // Counts a failed authentication from `peer`; true when this failure
  // locked its source out.
  bool CountFailure(std::string_view peer);
  // Sources tracked now.
  std::size_t sources() const;

  // The source a peer address belongs to, as a table key: the IPv4
  // address, or the /64 of an IPv6 address, in bytes; text that is no
  // address stands for itself (an empty peer: requests handed to the API
  // without a socket).
  static std::string SourceOf(std::string_view peer);

 private:
  struct Entry {
    UnixMillis window_start = 0;
    int failures = 0;             // within the window
    UnixMillis locked_until = 0;  // locked out while the clock is before it
  };
  // Forgets what has passed; if the table is still full, one more source.
  // REQUIRES: mu_ held.
  void MakeRoom(UnixMillis now);

  const AuthLimits limits_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> sources_;  // guarded by mu_
  // The latest end of any lockout: while the clock is past it, no source
  // is locked out.
  std::atomic<UnixMillis> locked_until_max_{0};
};

}  // namespace qorgau::api
