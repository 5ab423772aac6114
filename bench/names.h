// Benchmark names, shared by the registrations and the summary in main.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "fixtures.h"

namespace qorgau::bench::names {

inline std::string Subjects(std::uint64_t n) { return "/subjects:" + Short(n); }

inline std::string CheckQorgau(std::string_view purpose, std::uint64_t n) {
  return "check/qorgau/Check/" + std::string(purpose) + Subjects(n);
}
inline std::string CheckManyQorgau(std::string_view purpose, std::uint64_t n) {
  return "check/qorgau/CheckMany1024/" + std::string(purpose) + Subjects(n);
}
inline std::string CheckNaive(std::string_view purpose, std::uint64_t n) {
  return "check/naive/sql_select/" + std::string(purpose) + Subjects(n);
}
inline std::string AudienceQorgau(std::uint64_t n) { return "audience/qorgau/Select" + Subjects(n); }
inline std::string AudienceNaive(std::uint64_t n) { return "audience/naive/sql_count" + Subjects(n); }
inline std::string IndexMemory(std::uint64_t n) { return "index/memory" + Subjects(n); }
inline std::string IndexLoad(std::uint64_t n) { return "index/load_from_store" + Subjects(n); }
inline std::string DurableQorgau() { return "durable/qorgau/group_commit"; }
inline std::string DurableNaive() { return "durable/naive/txn_per_change"; }
inline std::string DurableFloor(int batch) { return "durable/sqlite_floor/batch_" + std::to_string(batch); }
inline std::string DurableLedgerFloor(int batch) { return "durable/ledger_floor/batch_" + std::to_string(batch); }
inline std::string StatementQorgau() { return "statement/qorgau/json_1000_events"; }
inline std::string StatementNaive() { return "statement/naive/sql_rows_to_json"; }

}  // namespace qorgau::bench::names
