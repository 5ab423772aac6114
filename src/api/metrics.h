// Prometheus metrics of the service: requests by route and status, request
// latency histograms, decisions by reason, failed authentications by reason
// and the lockouts they caused, and the ledger height. Counting
// is lock-free (atomics in fixed arrays), so it costs the hot path a few
// increments.
// Thread safety: all methods may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "index/decision_index.h"

namespace qorgau::api {

// Why a request's credential was not accepted (qorgau_auth_failures_total).
enum class AuthFailure : std::uint8_t {
  kMissing,            // no credential: no `Authorization: Bearer`, no token
  kUnknownKey,         // not a key, or no such key
  kRevoked,            // a revoked key
  kExpired,            // an expired key
  kDisabled,           // the key of a disabled actor
  kBadEnrolmentToken,  // an enrolment token unknown, used or expired
};
inline constexpr std::size_t kAuthFailureCount = 6;
// The label: missing, unknown_key, revoked, expired, disabled, bad_enrolment_token.
std::string_view AuthFailureName(AuthFailure reason);

class Metrics {
 public:
  // `routes` names the routes by index ("POST /v1/check"); an extra
  // "unmatched" route is added at the end.
  explicit Metrics(std::vector<std::string> routes);

  std::size_t unmatched() const { return routes_.size() - 1; }
  void CountRequest(std::size_t route, int status, double seconds);
  void CountDecision(index::Reason reason, std::uint64_t n = 1);
  void CountAuthFailure(AuthFailure reason);
  // A source locked out after too many failed authentications (AuthLimiter).
  void CountLockout();
  // The text exposition format; `ledger_height` is the index revision,
  // `decisions_pending` the decisions waiting for the decision log.
  std::string Render(std::int64_t ledger_height, std::size_t decisions_pending) const;
  // A gauge per label value ("qorgau_applications_open{kind=...} 3"), in
  // the exposition format, for what the store counts at scrape time.
  static std::string RenderGauge(std::string_view name, std::string_view help, std::string_view label,
                                 const std::map<std::string, std::int64_t>& values);

 private:
  static constexpr std::array<int, 15> kStatuses = {200, 201, 400, 401, 403, 404, 405, 409,
                                                    413, 415, 422, 429, 500, 503, 0};
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.5,   1.0};
  struct RouteStats {
    std::array<std::atomic<std::uint64_t>, kStatuses.size()> by_status{};
    std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};
    std::atomic<std::uint64_t> count{0};
    std::atomic<std::uint64_t> sum_ns{0};
  };
  std::vector<std::string> routes_;
  std::unique_ptr<RouteStats[]> stats_;
  std::array<std::atomic<std::uint64_t>, 16> decisions_{};
  std::array<std::atomic<std::uint64_t>, kAuthFailureCount> auth_failures_{};
  std::atomic<std::uint64_t> lockouts_{0};
};

}  // namespace qorgau::api
