// Counts over time for the data protection officer's dashboard
// (docs/console.md): consents granted and withdrawn per day, and the
// decision log's decisions per day by reason, from the ledger; and the
// ledger's state (its height, its latest signed tree head).
// Part of rules::Engine (rules/engine.h); implemented in statistics.cc.
//
// Days are the operator's local days (its country's time zone, as the
// working-day calendar counts them). The counts are kept in memory and
// brought up to date at each call from the events appended since the
// last, so the first call reads the whole ledger once and later calls
// only what is new. They hold no subject and no value: counts only.
// Decisions are counted on the day their batch was sealed in the ledger
// (`decisions.recorded`), which is at most a moment after they were made.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct DayStatistics {
  std::chrono::year_month_day day;
  std::int64_t granted = 0;    // consent.granted events, and consents given by joining a contract
  std::int64_t withdrawn = 0;  // consent.withdrawn events
  std::array<std::int64_t, 16> decisions{};  // by index::Reason
};

struct StatisticsView {
  std::chrono::year_month_day from, to;
  std::vector<DayStatistics> days;  // every day of [from, to], in order
  std::int64_t events = 0;          // the ledger's height
  // The latest signed tree head (what `audit checkpoint` exports for a
  // witness): its size and when it was signed; none before the first.
  std::optional<std::pair<std::int64_t, UnixMillis>> tree_head;
};

// The view as JSON (GET /v1/statistics, docs/openapi.yaml): `from`, `to`,
// `days` [{day, granted, withdrawn, decisions: {reason code: n}}] (reasons
// with no decision left out), `ledger` {events, tree_head: {size, at}|null}.
std::string StatisticsJson(const StatisticsView& view);

class Statistics {
 public:
  explicit Statistics(EngineCore& core) : core_(core), d_(core.deps()) {}
  Statistics(const Statistics&) = delete;
  Statistics& operator=(const Statistics&) = delete;

  // `statistics.read`: the data protection officer or an administrator.
  // `to` defaults to today (local), `from` to a year before `to`. Refused
  // (kInvalidArgument) when `to` is before `from` or the range is longer
  // than 3 years.
  Result<StatisticsView> ReadStatistics(const Caller& caller, std::optional<std::chrono::year_month_day> from,
                                        std::optional<std::chrono::year_month_day> to);

 private:
  struct Counts {
    std::int64_t granted = 0, withdrawn = 0;
    std::array<std::int64_t, 16> decisions{};
  };
  // Reads the events after next_seq_. REQUIRES: mu_ held.
  Result<void> CatchUp(store::Transaction& txn);

  EngineCore& core_;
  const EngineDeps& d_;
  std::mutex mu_;
  std::int64_t next_seq_ = 1;
  std::int64_t events_ = 0;
  std::map<std::int32_t, Counts> days_;  // days since 1970-01-01, local
};

}  // namespace qorgau::rules
