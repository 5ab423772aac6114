// Sign-in of subscribers by phone number and a one-time code sent by SMS.
//
// SmsGateway is the operator's SMS centre; qorgau ships one gateway, which
// appends each message to a file (the demo's, `var/demo/sms.txt`; README),
// and a real deployment implements the interface over its SMS centre's
// API. A line of the file names the phone masked ("+7701*****67"): the
// file stands in for the network, and the number itself is personal data.
//
// OneTimeCodes issues six-digit codes from OpenSSL's generator, valid five
// minutes, at most five tries each; it keeps their SHA-256 only. Issuing
// is rate-limited per number (one a minute while the last is unused, five
// an hour) and per source
// address (twenty an hour), so that the form can be used neither to flood
// a subscriber with SMS nor to guess codes. A code is sent only when the
// number is a subscriber's, but the page says the same either way, so the
// form does not tell who is a subscriber.
// Thread safety: every method may be called from many threads at once.
#pragma once

#include <chrono>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "core/error.h"

namespace qorgau::web {

class SmsGateway {
 public:
  virtual ~SmsGateway() = default;
  // Sends `text` to `phone_e164`; an error if the message was not accepted.
  virtual Result<void> Send(const std::string& phone_e164, const std::string& text) = 0;
};

// Appends "<UTC time> to <masked phone>: <text>" lines to a file (0600).
class FileSmsGateway : public SmsGateway {
 public:
  explicit FileSmsGateway(std::string path) : path_(std::move(path)) {}
  Result<void> Send(const std::string& phone_e164, const std::string& text) override;
  const std::string& path() const { return path_; }

 private:
  std::mutex mu_;
  std::string path_;
};

struct CodeLimits {
  std::chrono::seconds valid{5 * 60};
  int tries = 5;
  std::chrono::seconds per_number_gap{60};
  int per_number_per_hour = 5;
  int per_source_per_hour = 20;
};

class OneTimeCodes {
 public:
  explicit OneTimeCodes(CodeLimits limits = {}) : limits_(limits) {}

  // Whether a code may be issued now for `phone` asked from `source`
  // (kFailedPrecondition, reason rate_limited, if not); counts the attempt when it may.
  Result<void> Admit(const std::string& phone, const std::string& source);
  // A new code for `phone`, replacing any earlier one.
  Result<std::string> Issue(const std::string& phone);
  // Whether `code` is `phone`'s live code; a right code is used up, a
  // wrong one costs a try (the code is dropped after the last).
  bool Verify(const std::string& phone, std::string_view code);

 private:
  struct Live {
    std::string digest;  // SHA-256 hex of phone and code
    std::chrono::steady_clock::time_point until;
    int tries_left = 0;
  };
  using Times = std::deque<std::chrono::steady_clock::time_point>;
  static void Trim(Times& t, std::chrono::steady_clock::time_point now);

  CodeLimits limits_;
  std::mutex mu_;
  std::map<std::string, Live> live_;
  std::map<std::string, Times> by_number_, by_source_;
};

}  // namespace qorgau::web
