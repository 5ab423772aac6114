// Obligations: debts, instalments and legal holds, which block withdrawal
// while open (R-VI.3). Billing sends them one at a time or as a CSV file;
// a file is imported whole or not at all. Part of rules::Engine
// (rules/engine.h); implemented in obligations.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "rules/engine_core.h"

namespace qorgau::rules {

struct ObligationRequest {
  SubjectKey subject;
  store::ObligationKind kind = store::ObligationKind::kDebt;
  std::string ref;
  std::string amount;  // tenge, "12500" or "12500.50"; empty for none
  // What it keeps from destruction while open (R-VII.1): categories of the
  // policy; none, every datum and record of the subject.
  std::vector<std::string> categories = {};
};

struct ImportReport {
  std::size_t opened = 0;
  std::size_t closed = 0;
  // "line N: field: reason" for every bad row; when not empty, nothing was
  // imported.
  std::vector<std::string> problems;
};

// Tenge as text to tiyn: "12500" -> 1250000, "12500.5" -> 1250050.
Result<std::int64_t> ParseAmount(std::string_view text, std::string_view field);

class Obligations {
 public:
  explicit Obligations(EngineCore& core) : core_(core), d_(core.deps()) {}
  Obligations(const Obligations&) = delete;
  Obligations& operator=(const Obligations&) = delete;

  Result<store::ObligationRecord> OpenObligation(const ObligationRequest& request,
                                                 const Caller& caller);
  Result<store::ObligationRecord> CloseObligation(const std::string& ref, const Caller& caller);
  // CSV with the header action,iin,kind,ref,amount; all rows or none.
  Result<ImportReport> ImportObligations(std::string_view csv, const Caller& caller);
  // Debts and instalments for an 'obligations' duty, legal holds for the
  // roles that handle them.
  Result<std::vector<store::ObligationRecord>> ListObligations(const Caller& caller,
                                                               const SubjectKey& key);

 private:
  // One row of an obligation import looked a subject up by IIN.
  Result<void> RecordImportLookup(store::Transaction& txn, const Caller& caller, SubjectId subject,
                                  UnixMillis at);

  EngineCore& core_;
  const EngineDeps& d_;
};

}  // namespace qorgau::rules
