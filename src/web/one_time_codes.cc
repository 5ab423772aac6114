// One-time sign-in codes and the SMS gateway (web/one_time_codes.h).
#include "web/one_time_codes.h"

#include <fcntl.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/phone.h"
#include "crypto/crypto.h"

namespace qorgau::web {
namespace {

std::string Digest(const std::string& phone, std::string_view code) {
  return crypto::ToHex(crypto::Sha256({phone, "\n", code}));
}

}  // namespace

Result<void> FileSmsGateway::Send(const std::string& phone_e164, const std::string& text) {
  auto phone = Phone::Parse(phone_e164);
  if (!phone) return tl::unexpected(phone.error());
  const std::string line = FormatUtc(SystemClock().Now()) + " to " + phone->Masked() + ": " + text + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Fail(ErrorCode::kIo, "sms", "the SMS file cannot be opened");
  const ssize_t n = ::write(fd, line.data(), line.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) return Fail(ErrorCode::kIo, "sms", "the SMS was not written");
  return {};
}

void OneTimeCodes::Trim(Times& t, std::chrono::steady_clock::time_point now) {
  while (!t.empty() && t.front() + std::chrono::hours(1) <= now) t.pop_front();
}

Result<void> OneTimeCodes::Admit(const std::string& phone, const std::string& source) {
  const auto now = std::chrono::steady_clock::now();
  auto refused = [](const char* why) {
    return tl::unexpected(Error{ErrorCode::kFailedPrecondition, "phone", why, "rate_limited"});
  };
  std::lock_guard<std::mutex> lock(mu_);
  // The tables shrink as their windows empty; swept when they grow large,
  // refused or not, so that they stay bounded by the numbers and addresses
  // admitted within the hour.
  if (by_number_.size() > 100000 || by_source_.size() > 100000) {
    for (auto* table : {&by_number_, &by_source_}) {
      for (auto it = table->begin(); it != table->end();) {
        Trim(it->second, now);
        it = it->second.empty() ? table->erase(it) : std::next(it);
      }
    }
  }
  // Looked up, not inserted: a refused request adds nothing.
  auto number = by_number_.find(phone);
  auto src = by_source_.find(source);
  if (src != by_source_.end()) {
    Trim(src->second, now);
    if (static_cast<int>(src->second.size()) >= limits_.per_source_per_hour) {
      return refused("too many codes asked from this address");
    }
  }
  if (number != by_number_.end()) {
    Trim(number->second, now);
    // A new code while the last is live and unused waits out the gap; once
    // used (signed in), the next may come at once. Every number that asks
    // gets a live code (web/pages.cc), subscriber's or not, so this answer
    // does not tell whether the number is a subscriber's.
    auto live = live_.find(phone);
    const bool unused = live != live_.end() && live->second.until > now;
    if (static_cast<int>(number->second.size()) >= limits_.per_number_per_hour ||
        (unused && !number->second.empty() && number->second.back() + limits_.per_number_gap > now)) {
      return refused("too many codes asked for this number");
    }
  }
  by_number_[phone].push_back(now);
  by_source_[source].push_back(now);
  return {};
}

Result<std::string> OneTimeCodes::Issue(const std::string& phone) {
  auto random = crypto::RandomBytes(4);
  if (!random) return tl::unexpected(random.error());
  std::uint32_t n = 0;
  for (auto b : *random) n = (n << 8) | b;
  std::string code = std::to_string(n % 1000000);
  code.insert(0, 6 - code.size(), '0');
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  std::erase_if(live_, [&](const auto& kv) { return kv.second.until <= now; });
  live_[phone] = Live{Digest(phone, code), now + limits_.valid, limits_.tries};
  return code;
}

bool OneTimeCodes::Verify(const std::string& phone, std::string_view code) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(phone);
  if (it == live_.end()) return false;
  if (it->second.until <= now) {
    live_.erase(it);
    return false;
  }
  const std::string sent = Digest(phone, code);
  const bool ok = crypto::Equal(reinterpret_cast<const std::uint8_t*>(sent.data()),
                                reinterpret_cast<const std::uint8_t*>(it->second.digest.data()), sent.size());
  if (ok || --it->second.tries_left <= 0) live_.erase(it);
  return ok;
}

}  // namespace qorgau::web
