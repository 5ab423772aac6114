#include "ledger/audit.h"

#include <boost/json.hpp>
#include <limits>

namespace qorgau::ledger {
namespace {

VerifyReport& Broken(VerifyReport& r, std::int64_t seq, std::string reason) {
  r.ok = false;
  r.broken_seq = seq;
  r.reason = std::move(reason);
  return r;
}

// Checks the stored tree heads, and the checkpoint, against the events.
Result<void> CheckTreeHeads(store::Transaction& txn, const AuditOptions& options,
                            VerifyReport& report) {
  std::vector<store::TreeHeadRecord> heads;
  QORGAU_TRY(txn.ScanTreeHeads([&](const store::TreeHeadRecord& h) { heads.push_back(h); }));
  for (const auto& h : heads) {
    if (!VerifyTreeHead(TreeHeadFromRecord(h), *options.ledger_key)) {
      Broken(report, h.size, "the tree head of size " + std::to_string(h.size) +
                                 " is not signed by the ledger key " + options.ledger_key->KeyId());
      return {};
    }
  }
  const TreeHead* checkpoint = options.checkpoint ? &*options.checkpoint : nullptr;
  if (checkpoint && !VerifyTreeHead(*checkpoint, *options.ledger_key)) {
    Broken(report, 0, "the checkpoint is not signed by the ledger key " + options.ledger_key->KeyId());
    return {};
  }
  // One pass over the events: the root at every signed size.
  merkle::CompactRange tree;
  std::size_t next = 0;
  bool checkpoint_seen = checkpoint && checkpoint->size == 0;
  auto at_size = [&]() -> bool {
    const auto size = static_cast<std::int64_t>(tree.size());
    while (next < heads.size() && heads[next].size == size) {
      const merkle::Hash root = tree.Root();
      if (crypto::Bytes(root.begin(), root.end()) != heads[next].root) {
        Broken(report, size, "the events 1-" + std::to_string(size) +
                                 " do not have the root their signed tree head states");
        return false;
      }
      ++next;
    }
    if (checkpoint && checkpoint->size == size) {
      checkpoint_seen = true;
      if (tree.Root() != checkpoint->root) {
        Broken(report, size, "the events 1-" + std::to_string(size) +
                                 " are not those of the checkpoint: the ledger was rewritten");
        return false;
      }
    }
    return true;
  };
  bool good = at_size();
  QORGAU_TRY(txn.ScanEvents(1, [&](const store::EventRecord& e) {
    if (!good) return false;
    tree.Append(EventLeafHash(e.body));
    good = at_size();
    return good;
  }));
  if (!good) return {};
  const auto events = static_cast<std::int64_t>(tree.size());
  if (checkpoint && !checkpoint_seen) {
    Broken(report, events, "the ledger holds " + std::to_string(events) +
                               " events, the checkpoint proves " + std::to_string(checkpoint->size) +
                               ": it was cut short");
    return {};
  }
  if (next < heads.size()) {
    Broken(report, events, "a signed tree head covers " + std::to_string(heads[next].size) +
                               " events, the ledger holds " + std::to_string(events) +
                               ": it was cut short");
    return {};
  }
  const std::int64_t signed_size = heads.empty() ? 0 : heads.back().size;
  if (signed_size != events) {
    Broken(report, signed_size + 1, "events " + std::to_string(signed_size + 1) + "-" +
                                        std::to_string(events) +
                                        " are after the last signed tree head: appended without the "
                                        "ledger key");
  }
  return {};
}

Result<void> CheckDecisionLog(store::Transaction& txn, VerifyReport& report) {
  struct Seal {
    std::int64_t seq, first, last, count;
    std::string digest;
  };
  std::vector<Seal> seals;
  std::optional<std::int64_t> malformed;
  QORGAU_TRY(txn.ScanEvents(1, [&](const store::EventRecord& e) {
    if (e.body.find("\"type\":\"decisions.recorded\"") == std::string::npos) return true;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(e.body, ec);
    const auto* data = !ec && v.is_object() ? v.get_object().if_contains("data") : nullptr;
    const auto* o = data && data->is_object() ? &data->get_object() : nullptr;
    auto num = [&](const char* k) -> std::optional<std::int64_t> {
      const auto* x = o ? o->if_contains(k) : nullptr;
      return x && x->is_int64() ? std::optional<std::int64_t>(x->get_int64()) : std::nullopt;
    };
    const auto* digest = o ? o->if_contains("digest_hash") : nullptr;
    if (!num("first") || !num("last") || !num("count") || !digest || !digest->is_string()) {
      malformed = e.seq;
      return false;
    }
    seals.push_back({e.seq, *num("first"), *num("last"), *num("count"), std::string(digest->get_string())});
    return true;
  }));
  if (malformed) {
    Broken(report, *malformed, "a decisions.recorded event lacks its range or digest");
    return {};
  }
  std::int64_t sealed_rows = 0;
  for (const Seal& seal : seals) {
    std::vector<store::DecisionRecord> rows;
    QORGAU_TRY(txn.ScanDecisions(seal.first, seal.last,
                                 [&](const store::DecisionRecord& r) { rows.push_back(r); }));
    if (static_cast<std::int64_t>(rows.size()) != seal.count || DecisionDigest(rows) != seal.digest) {
      Broken(report, seal.seq, "decision log rows " + std::to_string(seal.first) + "-" +
                                   std::to_string(seal.last) +
                                   " do not match the digest this event sealed");
      return {};
    }
    sealed_rows += seal.count;
  }
  std::int64_t all_rows = 0;
  QORGAU_TRY(txn.ScanDecisions(std::numeric_limits<std::int64_t>::min(),
                               std::numeric_limits<std::int64_t>::max(),
                               [&](const store::DecisionRecord&) { ++all_rows; }));
  if (all_rows != sealed_rows) {
    Broken(report, 0, "the decision log holds " + std::to_string(all_rows - sealed_rows) +
                          " row(s) that no decisions.recorded event sealed");
  }
  return {};
}

}  // namespace

std::string DecisionDigest(const std::vector<store::DecisionRecord>& rows) {
  std::string text = "qorgau-decisions/1\n";
  for (const auto& r : rows) {
    text += std::to_string(r.id) + '\t' + std::to_string(r.at) + '\t' + r.actor + '\t' +
            std::to_string(r.subject) + '\t' + r.purpose + '\t' + r.categories + '\t' + r.reason +
            '\t' + std::to_string(r.revision) + '\n';
  }
  return crypto::ToHex(crypto::Sha256(text));
}

Result<VerifyReport> Audit(store::Transaction& txn, const AuditOptions& options) {
  if (!options.ledger_key) return Fail(ErrorCode::kInternal, "ledger_key", "no key to verify with");
  QORGAU_ASSIGN_OR_RETURN(VerifyReport report, Verify(txn));
  if (!report.ok) return report;
  QORGAU_TRY(CheckTreeHeads(txn, options, report));
  if (!report.ok) return report;
  QORGAU_TRY(CheckDecisionLog(txn, report));
  if (!report.ok) return report;
  QORGAU_ASSIGN_OR_RETURN(const StateReport state, ReplayAndCompare(txn, options.check_receipt));
  report.rows = state.rows;
  report.unproven = state.unproven;
  if (!state.ok) Broken(report, state.event, state.difference);
  return report;
}

}  // namespace qorgau::ledger
