#include "ledger/witness.h"

#include <boost/json.hpp>

#include "ledger/canonical_json.h"

namespace qorgau::ledger {
namespace {

// A consistency proof of trees below 2^63 leaves has at most 2 * 63 hashes;
// anything longer is not a proof, and is refused before it is decoded.
constexpr std::size_t kMaxProofHashes = 128;

Error InField(Error e, std::string_view prefix) {
  e.field = std::string(prefix) + (e.field.empty() ? "" : "." + e.field);
  return e;
}

}  // namespace

std::string WitnessJson(const WitnessStatement& s) {
  std::string head = TreeHeadJson(s.head);
  if (!head.empty() && head.back() == '\n') head.pop_back();
  boost::json::array proof;
  for (const merkle::Hash& h : s.consistency) proof.emplace_back(crypto::ToHex(h));
  auto proof_json = CanonicalJson(boost::json::value(std::move(proof)));
  CanonicalObject o;
  o.Raw("consistency", proof_json ? *proof_json : "[]")
      .String("format", kWitnessFormat)
      .Raw("head", head)
      .Int("previous_size", s.previous_size);
  // Every member is well-formed and named once: Finish cannot fail.
  auto text = o.Finish();
  return (text ? *text : std::string()) + "\n";
}

Result<WitnessStatement> ParseWitnessJson(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return Fail(ErrorCode::kInvalidArgument, "statement", "is not a JSON object");
  const auto& o = v.get_object();
  const auto* format = o.if_contains("format");
  if (!format || !format->is_string() || std::string(format->get_string()) != kWitnessFormat) {
    return Fail(ErrorCode::kInvalidArgument, "format", "must be " + std::string(kWitnessFormat));
  }
  WitnessStatement s;
  const auto* head = o.if_contains("head");
  if (!head || !head->is_object()) return Fail(ErrorCode::kInvalidArgument, "head", "missing or not an object");
  auto parsed = ParseTreeHeadJson(boost::json::serialize(*head));
  if (!parsed) return tl::unexpected(InField(parsed.error(), "head"));
  s.head = std::move(*parsed);
  const auto* previous = o.if_contains("previous_size");
  if (!previous || !previous->is_int64() || previous->get_int64() < 0) {
    return Fail(ErrorCode::kInvalidArgument, "previous_size", "missing or not a count of events");
  }
  s.previous_size = previous->get_int64();
  const auto* proof = o.if_contains("consistency");
  if (!proof || !proof->is_array()) {
    return Fail(ErrorCode::kInvalidArgument, "consistency", "missing or not a list of hashes");
  }
  if (proof->get_array().size() > kMaxProofHashes) {
    return Fail(ErrorCode::kInvalidArgument, "consistency", "longer than any consistency proof");
  }
  for (const auto& h : proof->get_array()) {
    if (!h.is_string()) return Fail(ErrorCode::kInvalidArgument, "consistency", "must be a list of hex hashes");
    QORGAU_ASSIGN_OR_RETURN(const crypto::Bytes bytes, crypto::FromHex(std::string(h.get_string()), "consistency"));
    merkle::Hash hash{};
    if (bytes.size() != hash.size()) {
      return Fail(ErrorCode::kInvalidArgument, "consistency", "every hash must be 32 bytes");
    }
    std::copy(bytes.begin(), bytes.end(), hash.begin());
    s.consistency.push_back(hash);
  }
  return s;
}

Result<WitnessStatement> MakeWitnessStatement(store::Transaction& txn, std::int64_t from,
                                              std::optional<std::int64_t> to) {
  if (from < 1) {
    return Fail(ErrorCode::kInvalidArgument, "from",
                "must be at least 1: the size of a tree head the witness kept");
  }
  if (to && *to < 1) return Fail(ErrorCode::kInvalidArgument, "to", "must be at least 1");
  QORGAU_ASSIGN_OR_RETURN(const auto latest, txn.LatestTreeHead());
  if (!latest) return Fail(ErrorCode::kFailedPrecondition, "ledger", "no signed tree head yet");
  const std::string covers = "the latest signed tree head covers " + std::to_string(latest->size) + " events";
  WitnessStatement s;
  if (!to || *to == latest->size) {
    s.head = TreeHeadFromRecord(*latest);
  } else {
    if (*to > latest->size) return Fail(ErrorCode::kInvalidArgument, "to", "beyond the ledger: " + covers);
    std::optional<TreeHead> found;
    QORGAU_TRY(txn.ScanTreeHeads([&](const store::TreeHeadRecord& h) {
      if (h.size == *to) found = TreeHeadFromRecord(h);
    }));
    if (!found) {
      return Fail(ErrorCode::kInvalidArgument, "to",
                  "no signed tree head covers exactly " + std::to_string(*to) + " events");
    }
    s.head = std::move(*found);
  }
  if (from > s.head.size) {
    return Fail(ErrorCode::kInvalidArgument, "from",
                to ? "exceeds to (" + std::to_string(s.head.size) + ")" : "beyond the ledger: " + covers);
  }
  s.previous_size = from;
  QORGAU_ASSIGN_OR_RETURN(s.consistency, ConsistencyProofFor(txn, from, s.head.size));
  return s;
}

Result<void> CheckWitnessStatement(const WitnessStatement& s, const std::optional<TreeHead>& previous,
                                   const crypto::PublicKeys& keys) {
  const crypto::Verifier* key = keys.Find(s.head.key_id);
  if (!key) {
    // The witness was given the wrong keys: nothing says the head is forged.
    return Fail(ErrorCode::kNotFound, "head.key_id",
                "the head is signed by key " + s.head.key_id + ", which is not among the public keys given");
  }
  if (!VerifyTreeHead(s.head, *key)) {
    return Fail(ErrorCode::kCorruption, "head.signature", "the head is not signed by the ledger key " + s.head.key_id);
  }
  if (!previous) return {};
  const std::string kept = "the witness's head of " + std::to_string(previous->size) + " events";
  if (s.head.size < previous->size) {
    return Fail(ErrorCode::kCorruption, "head.size",
                "the head covers " + std::to_string(s.head.size) + " events, fewer than " + kept +
                    ": the ledger was cut short");
  }
  // The same size needs no proof: the roots are equal or the ledger changed.
  if (s.head.size == previous->size) {
    if (s.head.root == previous->root) return {};
    return Fail(ErrorCode::kCorruption, "head.root",
                "the head of " + std::to_string(s.head.size) + " events has another root than " + kept +
                    ": the ledger was rewritten");
  }
  if (s.previous_size != previous->size) {
    return Fail(ErrorCode::kInvalidArgument, "previous_size",
                "the proof starts at " + std::to_string(s.previous_size) + " events, not at " + kept +
                    " (send it with --since that head)");
  }
  if (!merkle::VerifyConsistency(static_cast<std::uint64_t>(previous->size),
                                 static_cast<std::uint64_t>(s.head.size), previous->root, s.head.root,
                                 s.consistency)) {
    return Fail(ErrorCode::kCorruption, "consistency",
                "the head of " + std::to_string(s.head.size) + " events does not extend " + kept +
                    ": the ledger was rewritten");
  }
  return {};
}

}  // namespace qorgau::ledger
