#include "api/auth_limiter.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace qorgau::api {

AuthLimiter::AuthLimiter(AuthLimits limits, const Clock& clock) : limits_(limits), clock_(clock) {}

std::string AuthLimiter::SourceOf(std::string_view peer) {
  const std::string text(peer);
  unsigned char bytes[16];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
    return "4" + std::string(reinterpret_cast<const char*>(bytes), 4);
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {
    static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(bytes, kMapped, sizeof kMapped) == 0) {
      return "4" + std::string(reinterpret_cast<const char*>(bytes + 12), 4);
    }
    return "6" + std::string(reinterpret_cast<const char*>(bytes), 8);
  }
  return text.empty() ? text : "?" + text;
}

std::int64_t AuthLimiter::LockedFor(std::string_view peer) const {
  const UnixMillis now = clock_.Now();
  if (now >= locked_until_max_.load(std::memory_order_acquire)) return 0;
  const std::string source = SourceOf(peer);
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = sources_.find(source);
  if (it == sources_.end() || it->second.locked_until <= now) return 0;
  return (it->second.locked_until - now + 999) / 1000;
}

bool AuthLimiter::CountFailure(std::string_view peer) {
  const UnixMillis now = clock_.Now();
  const UnixMillis window = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.window).count();
  std::string source = SourceOf(peer);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sources_.find(source);
  if (it == sources_.end()) {
    if (sources_.size() >= limits_.max_sources) MakeRoom(now);
    it = sources_.emplace(std::move(source), Entry{now, 0, 0}).first;
  }
  Entry& e = it->second;
  // A request admitted just before its source was locked out: the lockout
  // already answers for it.
  if (e.locked_until > now) return false;
  if (now - e.window_start >= window) e = Entry{now, 0, 0};
  if (++e.failures < limits_.max_failures) return false;
  e.locked_until = now + std::chrono::duration_cast<std::chrono::milliseconds>(limits_.lockout).count();
  // A fresh count once the lockout is over.
  e.window_start = e.locked_until;
  e.failures = 0;
  UnixMillis latest = locked_until_max_.load(std::memory_order_relaxed);
  while (latest < e.locked_until &&
         !locked_until_max_.compare_exchange_weak(latest, e.locked_until, std::memory_order_release)) {
  }
  return true;
}

std::size_t AuthLimiter::sources() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sources_.size();
}

void AuthLimiter::MakeRoom(UnixMillis now) {
  const UnixMillis window = std::chrono::duration_cast<std::chrono::milliseconds>(limits_.window).count();
  std::erase_if(sources_, [&](const auto& kv) {
    return kv.second.locked_until <= now && now - kv.second.window_start >= window;
  });
  if (sources_.size() < limits_.max_sources || sources_.empty()) return;
  // Still full of live sources (many addresses failing at once): forget
  // the oldest window, a lockout only when every source is locked out.
  auto older = [now](const Entry& a, const Entry& b) {
    const bool a_locked = a.locked_until > now, b_locked = b.locked_until > now;
    if (a_locked != b_locked) return !a_locked;
    return a_locked ? a.locked_until < b.locked_until : a.window_start < b.window_start;
  };
  auto victim = sources_.begin();
  for (auto it = sources_.begin(); it != sources_.end(); ++it) {
    if (older(it->second, victim->second)) victim = it;
  }
  sources_.erase(victim);
}

}  // namespace qorgau::api
