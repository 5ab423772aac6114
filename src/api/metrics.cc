#include "api/metrics.h"

#include <sstream>

namespace qorgau::api {

void Metrics::CountRequest(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.buckets[i];
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::CountDecision(index::Reason reason, std::uint64_t n) {
  decisions_[static_cast<size_t>(reason)].fetch_add(n, std::memory_order_relaxed);
}

std::string Metrics::Render(std::int64_t ledger_height) const {
  std::ostringstream o;
  std::lock_guard<std::mutex> lock(mu_);
  o << "# HELP qorgau_http_requests_total HTTP requests by route and status.\n"
    << "# TYPE qorgau_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    o << "qorgau_http_requests_total{route=\"" << key.first << "\",status=\"" << key.second
      << "\"} " << n << "\n";
  }
  o << "# HELP qorgau_http_request_duration_seconds Request latency by route.\n"
    << "# TYPE qorgau_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      o << "qorgau_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\""
        << kBuckets[i] << "\"} " << h.buckets[i] << "\n";
    }
    o << "qorgau_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} "
      << h.count << "\n"
      << "qorgau_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
      << "qorgau_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.count
      << "\n";
  }
  o << "# HELP qorgau_decisions_total Decisions by reason.\n"
    << "# TYPE qorgau_decisions_total counter\n";
  for (size_t r = 0; r <= static_cast<size_t>(index::Reason::kUnknownPurpose); ++r) {
    o << "qorgau_decisions_total{reason=\"" << index::ReasonCode(static_cast<index::Reason>(r))
      << "\"} " << decisions_[r].load(std::memory_order_relaxed) << "\n";
  }
  o << "# HELP qorgau_ledger_height The ledger revision the decision index reflects.\n"
    << "# TYPE qorgau_ledger_height gauge\n"
    << "qorgau_ledger_height " << ledger_height << "\n";
  return o.str();
}

}  // namespace qorgau::api
