// Prometheus metrics of the service: requests by route and status, request
// latency histograms, decisions by reason, and the ledger height.
// Thread safety: all methods may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <map>
#include <string>

#include "index/decision_index.h"

namespace qorgau::api {

class Metrics {
 public:
  void CountRequest(const std::string& route, int status, double seconds);
  void CountDecision(index::Reason reason, std::uint64_t n = 1);
  // The text exposition format; `ledger_height` is the index revision.
  std::string Render(std::int64_t ledger_height) const;

 private:
  static constexpr std::array<double, 10> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                      0.025,  0.05,  0.1,    0.5,   1.0};
  struct Histogram {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  std::array<std::atomic<std::uint64_t>, 16> decisions_{};
};

}  // namespace qorgau::api
