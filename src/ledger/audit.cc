#include "ledger/audit.h"

#include <boost/json.hpp>
#include <algorithm>
#include <iterator>
#include <limits>

namespace qorgau::ledger {
namespace {

VerifyReport& Broken(VerifyReport& r, std::int64_t seq, std::string reason) {
  r.ok = false;
  r.broken_seq = seq;
  r.reason = std::move(reason);
  return r;
}

// A `signing_key.rotated` event: the ledger key changes from `old_id` to
// `new_id` from the next tree head on.
struct Rotation {
  std::int64_t seq = 0;
  std::string old_id, new_id;
};

// The rotations of the ledger, in order, and the public keys they name
// (believed once a head signed by a trusted key covers them). A rotation
// whose key does not have the id it states is broken at its event.
Result<std::vector<Rotation>> ReadRotations(store::Transaction& txn, crypto::PublicKeys* named,
                                            VerifyReport& report) {
  std::vector<Rotation> out;
  std::optional<std::pair<std::int64_t, std::string>> bad;
  QORGAU_TRY(txn.ScanEvents(1, [&](const store::EventRecord& e) {
    if (e.body.find("\"type\":\"signing_key.rotated\"") == std::string::npos) return true;
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(e.body, ec);
    const auto* data = !ec && v.is_object() ? v.get_object().if_contains("data") : nullptr;
    const auto* o = data && data->is_object() ? &data->get_object() : nullptr;
    auto text = [&](const char* k) -> std::string {
      const auto* x = o ? o->if_contains(k) : nullptr;
      return x && x->is_string() ? std::string(x->get_string()) : std::string();
    };
    Rotation r{e.seq, text("old_key_id"), text("new_key_id")};
    for (const auto& [id, pem_field] : {std::pair{r.old_id, "old_public_key"},
                                        std::pair{r.new_id, "new_public_key"}}) {
      auto key = crypto::Verifier::FromPem(text(pem_field));
      if (id.empty() || !key || key->KeyId() != id) {
        bad = {e.seq, std::string("a signing_key.rotated event's ") + pem_field +
                          " is missing or is not the key its id names"};
        return false;
      }
      named->Add(std::move(*key));
    }
    out.push_back(std::move(r));
    return true;
  }));
  if (bad) Broken(report, bad->first, bad->second);
  return out;
}

// Checks the stored tree heads, and the checkpoint, against the events.
Result<void> CheckTreeHeads(store::Transaction& txn, const AuditOptions& options,
                            VerifyReport& report) {
  std::vector<store::TreeHeadRecord> heads;
  QORGAU_TRY(txn.ScanTreeHeads([&](const store::TreeHeadRecord& h) { heads.push_back(h); }));
  crypto::PublicKeys named;
  QORGAU_ASSIGN_OR_RETURN(const std::vector<Rotation> rotations, ReadRotations(txn, &named, report));
  if (!report.ok) return {};
  auto trusted = [&](const std::string& id) -> const crypto::Verifier* {
    if (options.ledger_key && options.ledger_key->KeyId() == id) return options.ledger_key;
    return options.ledger_keys ? options.ledger_keys->Find(id) : nullptr;
  };
  auto key_for = [&](const std::string& id) -> const crypto::Verifier* {
    const crypto::Verifier* key = trusted(id);
    return key ? key : named.Find(id);
  };
  // Each head is signed by the key in force: the first head's, then each
  // rotation's new key from the head after the one that covers it.
  std::optional<std::string> in_force;
  std::int64_t rotated_at = 0;
  std::size_t next_rotation = 0;
  bool anchored = false;
  for (const auto& h : heads) {
    const std::string where = "the tree head of size " + std::to_string(h.size);
    if (in_force && h.key_id != *in_force) {
      Broken(report, h.size, where + " is signed by key " + h.key_id + ", but the ledger key was " +
                                 *in_force +
                                 (rotated_at ? " (rotated at event " + std::to_string(rotated_at) + ")"
                                             : std::string()));
      return {};
    }
    const crypto::Verifier* key = key_for(h.key_id);
    if (!key) {
      Broken(report, h.size, where + " is signed by key " + h.key_id +
                                 ", which is not among the public keys given (receipt-keys/ or "
                                 "--public-key) nor named by a signing_key.rotated event");
      return {};
    }
    if (!VerifyTreeHead(TreeHeadFromRecord(h), *key)) {
      Broken(report, h.size, where + " is not signed by the ledger key " + h.key_id);
      return {};
    }
    anchored = anchored || trusted(h.key_id) != nullptr;
    in_force = h.key_id;
    for (; next_rotation < rotations.size() && rotations[next_rotation].seq <= h.size; ++next_rotation) {
      const Rotation& r = rotations[next_rotation];
      if (r.old_id != *in_force) {
        Broken(report, r.seq, "a signing_key.rotated event retires key " + r.old_id +
                                  ", but the ledger key was " + *in_force);
        return {};
      }
      in_force = r.new_id;
      rotated_at = r.seq;
    }
  }
  if (!heads.empty() && !anchored) {
    std::string ids;
    for (const auto& id : options.ledger_keys ? options.ledger_keys->Ids() : std::vector<std::string>{}) {
      ids += (ids.empty() ? "" : ", ") + id;
    }
    if (options.ledger_key) ids += (ids.empty() ? "" : ", ") + options.ledger_key->KeyId();
    Broken(report, heads.back().size,
           "no tree head is signed by a trusted public key (" + (ids.empty() ? "none given" : ids) +
               "); the last is signed by key " + heads.back().key_id);
    return {};
  }
  const TreeHead* checkpoint = options.checkpoint ? &*options.checkpoint : nullptr;
  if (checkpoint) {
    const crypto::Verifier* key = key_for(checkpoint->key_id);
    if (!key) {
      Broken(report, 0, "the checkpoint is signed by key " + checkpoint->key_id +
                            ", which is not among the public keys given nor named by the ledger");
      return {};
    }
    if (!VerifyTreeHead(*checkpoint, *key)) {
      Broken(report, 0, "the checkpoint is not signed by the ledger key " + checkpoint->key_id);
      return {};
    }
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

// A decisions.recorded event: a range of decision_log rows (the first
// format: `first`, `last`) or the requests that carry its seq (`requests`).
struct Seal {
  std::int64_t seq = 0;
  std::optional<std::int64_t> first, last, requests;
  std::int64_t count = 0;
  std::string digest;
};

Result<void> CheckDecisionRows(store::Transaction& txn, const std::vector<Seal>& seals,
                               VerifyReport& report) {
  std::int64_t sealed_rows = 0;
  for (const Seal& seal : seals) {
    if (!seal.first) continue;
    std::vector<store::DecisionRecord> rows;
    QORGAU_TRY(txn.ScanDecisions(*seal.first, *seal.last,
                                 [&](const store::DecisionRecord& r) { rows.push_back(r); }));
    if (static_cast<std::int64_t>(rows.size()) != seal.count || DecisionDigest(rows) != seal.digest) {
      Broken(report, seal.seq, "decision log rows " + std::to_string(*seal.first) + "-" +
                                   std::to_string(*seal.last) +
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

Result<void> CheckDecisionRequests(store::Transaction& txn, const std::vector<Seal>& seals,
                                   VerifyReport& report) {
  std::int64_t sealed = 0;
  // Every (subject, seal) pair the requests name, to compare with the index.
  std::vector<std::pair<store::SubjectId, std::int64_t>> named;
  for (const Seal& seal : seals) {
    if (!seal.requests) continue;
    std::vector<store::DecisionRequestRecord> requests;
    QORGAU_TRY(txn.ScanDecisionRequests(
        seal.seq, [&](const store::DecisionRequestRecord& r) { requests.push_back(r); }));
    std::int64_t decisions = 0;
    for (const auto& r : requests) decisions += static_cast<std::int64_t>(r.subjects.size());
    if (static_cast<std::int64_t>(requests.size()) != *seal.requests || decisions != seal.count ||
        DecisionRequestsDigest(requests) != seal.digest) {
      Broken(report, seal.seq, "the decision log's requests sealed by event " + std::to_string(seal.seq) +
                                   " do not match the digest this event sealed");
      return {};
    }
    sealed += *seal.requests;
    const std::size_t from = named.size();
    for (const auto& r : requests) {
      for (store::SubjectId id : r.subjects) named.emplace_back(id, seal.seq);
    }
    std::sort(named.begin() + static_cast<std::ptrdiff_t>(from), named.end());
    named.erase(std::unique(named.begin() + static_cast<std::ptrdiff_t>(from), named.end()), named.end());
  }
  QORGAU_ASSIGN_OR_RETURN(const std::int64_t all, txn.CountDecisionRequests());
  if (all != sealed) {
    Broken(report, 0, "the decision log holds " + std::to_string(all - sealed) +
                          " request(s) that no decisions.recorded event sealed");
    return {};
  }
  // The subject index must name exactly the subjects of each seal: a pair
  // removed hides decisions from a subject's access trail.
  std::sort(named.begin(), named.end());
  std::vector<std::pair<store::SubjectId, std::int64_t>> indexed;
  QORGAU_TRY(txn.ScanDecisionSubjects(
      [&](store::SubjectId subject, std::int64_t seal) { indexed.emplace_back(subject, seal); }));
  if (indexed != named) {
    std::vector<std::pair<store::SubjectId, std::int64_t>> diff;
    std::set_symmetric_difference(named.begin(), named.end(), indexed.begin(), indexed.end(),
                                  std::back_inserter(diff));
    const auto& [subject, seal] = diff.front();
    const bool missing = std::binary_search(named.begin(), named.end(), diff.front());
    Broken(report, seal, "the decision log's subject index " +
                             std::string(missing ? "lacks" : "adds") + " subject " +
                             std::to_string(subject) + " for the decisions sealed by event " +
                             std::to_string(seal));
  }
  return {};
}

Result<void> CheckDecisionLog(store::Transaction& txn, VerifyReport& report) {
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
    Seal seal{e.seq, num("first"), num("last"), num("requests"), num("count").value_or(-1), {}};
    const bool rows = seal.first && seal.last && !seal.requests;
    const bool requests = !seal.first && !seal.last && seal.requests;
    if ((!rows && !requests) || seal.count < 0 || !digest || !digest->is_string()) {
      malformed = e.seq;
      return false;
    }
    seal.digest = std::string(digest->get_string());
    seals.push_back(std::move(seal));
    return true;
  }));
  if (malformed) {
    Broken(report, *malformed, "a decisions.recorded event lacks its range or digest");
    return {};
  }
  QORGAU_TRY(CheckDecisionRows(txn, seals, report));
  if (!report.ok) return {};
  return CheckDecisionRequests(txn, seals, report);
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

std::string DecisionRequestsDigest(const std::vector<store::DecisionRequestRecord>& requests) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text = "qorgau-decisions/2\n";
  for (const auto& r : requests) {
    text += std::to_string(r.n) + '\t' + std::to_string(r.at) + '\t' + r.actor + '\t' + r.purpose +
            '\t' + r.categories + '\t' + std::to_string(r.revision) + '\t';
    for (std::size_t i = 0; i < r.subjects.size(); ++i) {
      if (i) text += ',';
      text += std::to_string(r.subjects[i]);
    }
    text += '\t';
    for (const char c : r.reasons) {
      const auto b = static_cast<unsigned char>(c);
      text += kHex[b >> 4];
      text += kHex[b & 15];
    }
    text += '\n';
  }
  return crypto::ToHex(crypto::Sha256(text));
}

Result<VerifyReport> Audit(store::Transaction& txn, const AuditOptions& options) {
  if (!options.ledger_key && (!options.ledger_keys || options.ledger_keys->empty())) {
    return Fail(ErrorCode::kInvalidArgument, "public_key", "no public key to verify with");
  }
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
