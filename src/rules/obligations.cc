// Obligations: debts, instalments and legal holds, which block withdrawal
// while open (R-VI.3). Billing sends them one at a time or as a CSV file;
// a file is imported whole or not at all.
#include <boost/json.hpp>
#include <set>

#include "core/csv.h"
#include "core/personal_value.h"
#include "rules/checks.h"
#include "rules/obligations.h"

namespace qorgau::rules {
namespace {

using store::ObligationKind;

// What a valid request needs, without the store.
Result<std::optional<std::int64_t>> CheckRequest(const ObligationRequest& req) {
  QORGAU_TRY(CheckReference(req.ref, "ref"));
  if (req.amount.empty()) {
    if (req.kind != ObligationKind::kLegalHold) {
      return Fail(ErrorCode::kInvalidArgument, "amount", "a debt or instalment needs an amount");
    }
    return std::optional<std::int64_t>();
  }
  auto amount = ParseAmount(req.amount, "amount");
  if (!amount) return tl::unexpected(amount.error());
  return std::optional<std::int64_t>(*amount);
}

}  // namespace

Result<std::int64_t> ParseAmount(std::string_view text, std::string_view field) {
  const std::string f(field);
  std::int64_t tenge = 0;
  std::int64_t tiyn = 0;
  size_t i = 0;
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, f, "must not be empty");
  for (; i < text.size() && text[i] != '.'; ++i) {
    if (text[i] < '0' || text[i] > '9' || i >= 12) {
      return Fail(ErrorCode::kInvalidArgument, f, "must be tenge, like 12500 or 12500.50");
    }
    tenge = tenge * 10 + (text[i] - '0');
  }
  if (i < text.size()) {
    const std::string_view frac = text.substr(i + 1);
    if (frac.empty() || frac.size() > 2) {
      return Fail(ErrorCode::kInvalidArgument, f, "at most two digits after the point");
    }
    for (char c : frac) {
      if (c < '0' || c > '9') return Fail(ErrorCode::kInvalidArgument, f, "must be tenge, like 12500.50");
      tiyn = tiyn * 10 + (c - '0');
    }
    if (frac.size() == 1) tiyn *= 10;
  }
  const std::int64_t total = tenge * 100 + tiyn;
  if (total <= 0) return Fail(ErrorCode::kInvalidArgument, f, "must be greater than zero");
  return total;
}

Result<store::ObligationRecord> Obligations::OpenObligation(const ObligationRequest& req,
                                                            const Caller& actor) {
  QORGAU_TRY(Authorize(*d_.policy, actor, Action::kObligationOpen, {{}, {}, req.kind}));
  QORGAU_TRY(core_.AuthorizeKey(actor, req.subject));
  auto amount = CheckRequest(req);
  if (!amount) return tl::unexpected(amount.error());
  std::set<std::string> seen;
  for (const auto& c : req.categories) {
    if (!d_.policy->FindCategory(c)) {
      return Fail(ErrorCode::kNotFound, "categories", "'" + c + "' is not a data category of the policy");
    }
    if (!seen.insert(c).second) return Fail(ErrorCode::kInvalidArgument, "categories", "'" + c + "' given twice");
  }
  store::ObligationRecord rec;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto id = core_.Resolve(txn, req.subject);
    if (!id) return tl::unexpected(id.error());
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"obligation.opened", *id, actor.id(), {}};
    ev.data["ref"] = req.ref;
    ev.data["kind"] = store::ObligationKindName(req.kind);
    if (*amount) ev.data["amount_tiyn"] = **amount;
    if (!req.categories.empty()) {
      boost::json::array cats;
      for (const auto& c : req.categories) cats.emplace_back(c);
      ev.data["categories"] = std::move(cats);
    }
    auto event = ledger::Append(txn, now, ev);
    if (!event) return tl::unexpected(event.error());
    rec = store::ObligationRecord{req.ref, *id, req.kind, *amount, now, std::nullopt, event->seq, req.categories};
    QORGAU_TRY(txn.InsertObligation(rec));
    return std::vector<index::Delta>{{index::Delta::Kind::kObligationOpened, *id, index::ObligationOrdinal(req.kind)}};
  });
  if (!written) return tl::unexpected(written.error());
  return rec;
}

Result<store::ObligationRecord> Obligations::CloseObligation(const std::string& ref, const Caller& actor) {
  QORGAU_TRY(CheckReference(ref, "ref"));
  // Without any obligations right the caller learns nothing, not even
  // whether the reference exists.
  if (auto debts = Authorize(*d_.policy, actor, Action::kObligationClose, {});
      !debts && !HandlesLegalHolds(*d_.policy, actor)) {
    return tl::unexpected(debts.error());
  }
  store::ObligationRecord rec;
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    auto found = txn.GetObligation(ref);
    if (!found) return tl::unexpected(found.error());
    if (!*found) return Fail(ErrorCode::kNotFound, "ref", "no obligation with this reference");
    QORGAU_TRY(Authorize(*d_.policy, actor, Action::kObligationClose, {{}, {}, (*found)->kind}));
    if ((*found)->closed_at) return Refuse("obligation_closed", "ref", "the obligation is already closed");
    const UnixMillis now = d_.clock.Now();
    ledger::EventDraft ev{"obligation.closed", (*found)->subject_id, actor.id(), {}};
    ev.data["ref"] = ref;
    QORGAU_TRY(ledger::Append(txn, now, ev));
    QORGAU_TRY(txn.CloseObligation(ref, now));
    rec = **found;
    rec.closed_at = now;
    return std::vector<index::Delta>{
        {index::Delta::Kind::kObligationClosed, rec.subject_id, index::ObligationOrdinal(rec.kind)}};
  });
  if (!written) return tl::unexpected(written.error());
  return rec;
}

Result<ImportReport> Obligations::ImportObligations(std::string_view csv, const Caller& actor) {
  // Rows name subjects by IIN: importing needs the right to look them up,
  // so that a refused import cannot tell who is a subscriber.
  const policy::Category* iin_category = d_.policy->FindCategoryByValue(ValueType::kIin);
  QORGAU_TRY(Authorize(*d_.policy, actor, Action::kObligationImport,
                       {{}, {iin_category ? iin_category->id : ""}, {}}));
  ImportReport report;
  auto rows = ParseCsv(csv);
  if (!rows) {
    report.problems.push_back(rows.error().message);
    return report;
  }
  if (rows->empty()) {
    report.problems.push_back("line 1: the file is empty");
    return report;
  }
  const std::vector<std::string> header = {"action", "iin", "kind", "ref", "amount"};
  if ((*rows)[0].fields != header) {
    report.problems.push_back("line " + std::to_string((*rows)[0].line) +
                              ": the header must be action,iin,kind,ref,amount");
    return report;
  }
  struct Row {
    int line;
    bool open;
    ObligationRequest req;
  };
  std::vector<Row> parsed;
  std::set<std::string> refs;
  auto problem = [&](int line, const Error& e) {
    report.problems.push_back("line " + std::to_string(line) + ": " + e.ToString());
  };
  // First every row on its own, so that all problems are reported at once.
  for (size_t k = 1; k < rows->size(); ++k) {
    const CsvRow& row = (*rows)[k];
    if (row.fields.size() != 5) {
      problem(row.line, Error{ErrorCode::kInvalidArgument, "", "expected 5 fields, found " +
                                                                   std::to_string(row.fields.size())});
      continue;
    }
    Row r{row.line, row.fields[0] == "open", {SubjectKey::Iin(row.fields[1]), {}, row.fields[3], row.fields[4]}};
    if (row.fields[0] != "open" && row.fields[0] != "close") {
      problem(row.line, Error{ErrorCode::kInvalidArgument, "action", "must be open or close"});
      continue;
    }
    if (!refs.insert(row.fields[3]).second) {
      problem(row.line, Error{ErrorCode::kInvalidArgument, "ref", "appears twice in the file"});
      continue;
    }
    if (r.open) {
      if (!store::ParseObligationKind(row.fields[2], &r.req.kind)) {
        problem(row.line, Error{ErrorCode::kInvalidArgument, "kind", "must be debt, instalment or legal_hold"});
        continue;
      }
      if (auto iin = NormalizeValue(ValueType::kIin, row.fields[1], "iin"); !iin) {
        problem(row.line, iin.error());
        continue;
      }
      if (auto ok = CheckRequest(r.req); !ok) {
        problem(row.line, ok.error());
        continue;
      }
      if (auto ok = Authorize(*d_.policy, actor, Action::kObligationOpen, {{}, {}, r.req.kind});
          !ok) {
        problem(row.line, ok.error());
        continue;
      }
    } else if (auto ok = CheckReference(row.fields[3], "ref"); !ok) {
      problem(row.line, ok.error());
      continue;
    } else if (auto iin = NormalizeValue(ValueType::kIin, row.fields[1], "iin"); !iin) {
      problem(row.line, iin.error());
      continue;
    }
    parsed.push_back(std::move(r));
  }
  if (!report.problems.empty()) return report;

  // Then all rows in one transaction: a row the store refuses (unknown
  // subject, taken reference) fails the whole file.
  auto written = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
    std::vector<index::Delta> deltas;
    report.opened = report.closed = 0;
    const UnixMillis now = d_.clock.Now();
    for (const Row& r : parsed) {
      auto fail = [&](const Error& e) {
        return Fail(e.code, "", "line " + std::to_string(r.line) + ": " + e.ToString());
      };
      if (r.open) {
        auto id = core_.Resolve(txn, r.req.subject);
        if (!id) return fail(id.error());
        QORGAU_TRY(RecordImportLookup(txn, actor, *id, now));
        auto amount = CheckRequest(r.req);
        ledger::EventDraft ev{"obligation.opened", *id, actor.id(), {}};
        ev.data["ref"] = r.req.ref;
        ev.data["kind"] = store::ObligationKindName(r.req.kind);
        ev.data["source"] = "import";
        if (*amount) ev.data["amount_tiyn"] = **amount;
        auto event = ledger::Append(txn, now, ev);
        if (!event) return tl::unexpected(event.error());
        store::ObligationRecord rec{r.req.ref, *id, r.req.kind, *amount, now, std::nullopt, event->seq};
        if (auto ins = txn.InsertObligation(rec); !ins) return fail(ins.error());
        deltas.push_back({index::Delta::Kind::kObligationOpened, *id, index::ObligationOrdinal(r.req.kind)});
        ++report.opened;
      } else {
        auto found = txn.GetObligation(r.req.ref);
        if (!found) return tl::unexpected(found.error());
        if (!*found) return fail(Error{ErrorCode::kNotFound, "ref", "no obligation with this reference"});
        auto id = core_.Resolve(txn, r.req.subject);
        if (!id) return fail(id.error());
        QORGAU_TRY(RecordImportLookup(txn, actor, *id, now));
        if (*id != (*found)->subject_id) {
          return fail(Error{ErrorCode::kInvalidArgument, "ref", "belongs to another subject than the row's IIN"});
        }
        if ((*found)->closed_at) return fail(Error{ErrorCode::kFailedPrecondition, "ref", "already closed"});
        if (auto ok = Authorize(*d_.policy, actor, Action::kObligationClose, {{}, {}, (*found)->kind});
            !ok) {
          return fail(ok.error());
        }
        ledger::EventDraft ev{"obligation.closed", (*found)->subject_id, actor.id(), {}};
        ev.data["ref"] = r.req.ref;
        ev.data["source"] = "import";
        QORGAU_TRY(ledger::Append(txn, now, ev));
        QORGAU_TRY(txn.CloseObligation(r.req.ref, now));
        deltas.push_back(
            {index::Delta::Kind::kObligationClosed, (*found)->subject_id, index::ObligationOrdinal((*found)->kind)});
        ++report.closed;
      }
    }
    return deltas;
  });
  if (!written) {
    // A store that failed is not a problem of the file's rows.
    if (const ErrorCode c = written.error().code;
        c == ErrorCode::kIo || c == ErrorCode::kCorruption || c == ErrorCode::kInternal) {
      return tl::unexpected(written.error());
    }
    report.opened = report.closed = 0;
    report.problems.push_back(written.error().message);
    // The rows looked up before the failing one were rolled back with it;
    // that an import was attempted, and failed, stays in the trail.
    auto recorded = core_.Write(actor, [&](store::Transaction& txn) -> Result<std::vector<index::Delta>> {
      ledger::EventDraft ev{"access.lookup", std::nullopt, actor.id(), {}};
      ev.data["by"] = "iin";
      ev.data["source"] = "import";
      ev.data["allowed"] = true;
      ev.data["found"] = false;
      ev.data["reason"] = "import_refused";
      QORGAU_TRY(ledger::Append(txn, d_.clock.Now(), ev));
      return std::vector<index::Delta>{};
    });
    if (!recorded) return tl::unexpected(recorded.error());
  }
  return report;
}

Result<void> Obligations::RecordImportLookup(store::Transaction& txn, const Caller& caller,
                                             SubjectId subject, UnixMillis at) {
  ledger::EventDraft ev{"access.lookup", subject, caller.id(), {}};
  ev.data["by"] = "iin";
  ev.data["source"] = "import";
  ev.data["allowed"] = true;
  ev.data["found"] = true;
  ev.data["reason"] = "need_to_know";
  QORGAU_TRY(ledger::Append(txn, at, ev));
  return {};
}

Result<std::vector<store::ObligationRecord>> Obligations::ListObligations(const Caller& caller,
                                                                          const SubjectKey& key) {
  QORGAU_ASSIGN_OR_RETURN(const SubjectId id, core_.FindUnblocked(caller, key, "obligations"));
  QORGAU_TRY(core_.RecordRead(caller, id, "obligations", "", {},
                        Authorize(*d_.policy, caller, Action::kObligationsRead)));
  auto txn = d_.store.Begin(store::Store::Mode::kRead);
  if (!txn) return tl::unexpected(txn.error());
  QORGAU_ASSIGN_OR_RETURN(auto list, (*txn)->GetObligations(id, /*open_only=*/false));
  // Debts and instalments to the 'obligations' duty, legal holds to their role.
  std::erase_if(list, [&](const store::ObligationRecord& o) {
    return !Authorize(*d_.policy, caller, Action::kObligationsRead, {{}, {}, o.kind});
  });
  return list;
}

}  // namespace qorgau::rules
