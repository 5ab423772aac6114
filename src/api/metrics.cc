#include "api/metrics.h"

#include <sstream>

#include "rules/decision_recorder.h"

namespace qorgau::api {

std::string_view AuthFailureName(AuthFailure reason) {
  switch (reason) {
    case AuthFailure::kMissing: return "missing";
    case AuthFailure::kUnknownKey: return "unknown_key";
    case AuthFailure::kRevoked: return "revoked";
    case AuthFailure::kExpired: return "expired";
    case AuthFailure::kDisabled: return "disabled";
    case AuthFailure::kBadEnrolmentToken: return "bad_enrolment_token";
  }
  return "unknown";
}

Metrics::Metrics(std::vector<std::string> routes) : routes_(std::move(routes)) {
  routes_.push_back("unmatched");
  stats_ = std::make_unique<RouteStats[]>(routes_.size());
}

void Metrics::CountRequest(std::size_t route, int status, double seconds) {
  RouteStats& s = stats_[route < routes_.size() ? route : unmatched()];
  std::size_t k = kStatuses.size() - 1;  // "other"
  for (std::size_t i = 0; i + 1 < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) k = i;
  }
  s.by_status[k].fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) s.buckets[i].fetch_add(1, std::memory_order_relaxed);
  }
  s.count.fetch_add(1, std::memory_order_relaxed);
  s.sum_ns.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
}

void Metrics::CountDecision(index::Reason reason, std::uint64_t n) {
  decisions_[static_cast<std::size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
}

void Metrics::CountAuthFailure(AuthFailure reason) {
  auth_failures_[static_cast<std::size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CountLockout() { lockouts_.fetch_add(1, std::memory_order_relaxed); }

std::string Metrics::RenderGauge(std::string_view name, std::string_view help, std::string_view label,
                                 const std::map<std::string, std::int64_t>& values) {
  std::ostringstream o;
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n";
  for (const auto& [value, n] : values) o << name << "{" << label << "=\"" << value << "\"} " << n << "\n";
  return o.str();
}

std::string Metrics::Render(std::int64_t ledger_height, std::size_t decisions_pending) const {
  std::ostringstream o;
  o << "# HELP qorgau_http_requests_total HTTP requests by route and status.\n"
    << "# TYPE qorgau_http_requests_total counter\n";
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    for (std::size_t k = 0; k < kStatuses.size(); ++k) {
      const std::uint64_t n = stats_[r].by_status[k].load(std::memory_order_relaxed);
      if (n == 0) continue;
      o << "qorgau_http_requests_total{route=\"" << routes_[r] << "\",status=\""
        << (kStatuses[k] == 0 ? std::string("other") : std::to_string(kStatuses[k])) << "\"} " << n
        << "\n";
    }
  }
  o << "# HELP qorgau_http_request_duration_seconds Request latency by route.\n"
    << "# TYPE qorgau_http_request_duration_seconds histogram\n";
  for (std::size_t r = 0; r < routes_.size(); ++r) {
    const RouteStats& s = stats_[r];
    const std::uint64_t count = s.count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      o << "qorgau_http_request_duration_seconds_bucket{route=\"" << routes_[r] << "\",le=\""
        << kBuckets[i] << "\"} " << s.buckets[i].load(std::memory_order_relaxed) << "\n";
    }
    o << "qorgau_http_request_duration_seconds_bucket{route=\"" << routes_[r] << "\",le=\"+Inf\"} "
      << count << "\n"
      << "qorgau_http_request_duration_seconds_sum{route=\"" << routes_[r] << "\"} "
      << s.sum_ns.load(std::memory_order_relaxed) / 1e9 << "\n"
      << "qorgau_http_request_duration_seconds_count{route=\"" << routes_[r] << "\"} " << count
      << "\n";
  }
  o << "# HELP qorgau_decisions_total Decisions by reason.\n"
    << "# TYPE qorgau_decisions_total counter\n";
  for (std::size_t r = 0; r <= static_cast<std::size_t>(index::Reason::kObligationOpen); ++r) {
    o << "qorgau_decisions_total{reason=\"" << index::ReasonCode(static_cast<index::Reason>(r))
      << "\"} " << decisions_[r].load(std::memory_order_relaxed) << "\n";
  }
  o << "# HELP qorgau_auth_failures_total Failed authentications (API keys, enrolment tokens) by reason.\n"
    << "# TYPE qorgau_auth_failures_total counter\n";
  for (std::size_t r = 0; r < kAuthFailureCount; ++r) {
    o << "qorgau_auth_failures_total{reason=\"" << AuthFailureName(static_cast<AuthFailure>(r))
      << "\"} " << auth_failures_[r].load(std::memory_order_relaxed) << "\n";
  }
  o << "# HELP qorgau_auth_lockouts_total Sources locked out after too many failed authentications.\n"
    << "# TYPE qorgau_auth_lockouts_total counter\n"
    << "qorgau_auth_lockouts_total " << lockouts_.load(std::memory_order_relaxed) << "\n";
  o << "# HELP qorgau_ledger_height The ledger revision the decision index reflects.\n"
    << "# TYPE qorgau_ledger_height gauge\n"
    << "qorgau_ledger_height " << ledger_height << "\n";
  o << "# HELP qorgau_decision_log_pending Decisions made and not yet handed to the store; batch "
       "checks wait from "
    << rules::DecisionRecorder::kBulkPending << ", single checks from "
    << rules::DecisionRecorder::kMaxPending << ".\n"
    << "# TYPE qorgau_decision_log_pending gauge\n"
    << "qorgau_decision_log_pending " << decisions_pending << "\n";
  return o.str();
}

}  // namespace qorgau::api
