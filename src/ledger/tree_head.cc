#include "ledger/tree_head.h"

#include <boost/json.hpp>
#include <map>
#include <vector>

#include "ledger/canonical_json.h"

namespace qorgau::ledger {
namespace {

constexpr std::string_view kFrontierKey = "ledger.frontier";

void PutBigEndian(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// Node hashes of the tree: those computed in this call, else the store's
// (level >= 1) or an event's leaf hash (level 0).
class NodeReader {
 public:
  explicit NodeReader(store::Transaction& txn) : txn_(txn) {}
  void Remember(int level, std::int64_t index, const merkle::Hash& h) { fresh_[{level, index}] = h; }
  Result<merkle::Hash> Get(int level, std::int64_t index) {
    if (auto it = fresh_.find({level, index}); it != fresh_.end()) return it->second;
    merkle::Hash h{};
    if (level == 0) {
      bool found = false;
      QORGAU_TRY(txn_.ScanEvents(index + 1, [&](const store::EventRecord& e) {
        found = e.seq == index + 1;
        if (found) h = EventLeafHash(e.body);
        return false;
      }));
      if (!found) return Fail(ErrorCode::kCorruption, "events", "event " + std::to_string(index + 1) + " is missing");
      return h;
    }
    QORGAU_ASSIGN_OR_RETURN(const auto stored, txn_.GetMerkleNode(level, index));
    if (!stored || stored->size() != h.size()) {
      return Fail(ErrorCode::kCorruption, "merkle_nodes",
                  "node " + std::to_string(level) + "/" + std::to_string(index) + " is missing");
    }
    std::copy(stored->begin(), stored->end(), h.begin());
    return h;
  }

 private:
  store::Transaction& txn_;
  std::map<std::pair<int, std::int64_t>, merkle::Hash> fresh_;
};

// The largest power of two strictly below n (n >= 2).
std::int64_t SplitPoint(std::int64_t n) {
  std::int64_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[lo:hi]) from stored complete subtrees (RFC 9162 §2.1.1).
Result<merkle::Hash> SubtreeHash(NodeReader& nodes, std::int64_t lo, std::int64_t hi) {
  const std::int64_t n = hi - lo;
  if ((n & (n - 1)) == 0 && lo % n == 0) {
    int level = 0;
    while ((std::int64_t{1} << level) < n) ++level;
    return nodes.Get(level, lo >> level);
  }
  const std::int64_t k = SplitPoint(n);
  QORGAU_ASSIGN_OR_RETURN(const merkle::Hash left, SubtreeHash(nodes, lo, lo + k));
  QORGAU_ASSIGN_OR_RETURN(const merkle::Hash right, SubtreeHash(nodes, lo + k, hi));
  return merkle::NodeHash(left, right);
}

// PATH(m, D[lo:hi]) (RFC 9162 §2.1.3.1), deepest sibling first.
Result<void> Path(NodeReader& nodes, std::int64_t m, std::int64_t lo, std::int64_t hi,
                  std::vector<merkle::Hash>* out) {
  if (hi - lo <= 1) return {};
  const std::int64_t k = SplitPoint(hi - lo);
  if (m < lo + k) {
    QORGAU_TRY(Path(nodes, m, lo, lo + k, out));
    QORGAU_ASSIGN_OR_RETURN(const merkle::Hash sibling, SubtreeHash(nodes, lo + k, hi));
    out->push_back(sibling);
  } else {
    QORGAU_TRY(Path(nodes, m, lo + k, hi, out));
    QORGAU_ASSIGN_OR_RETURN(const merkle::Hash sibling, SubtreeHash(nodes, lo, lo + k));
    out->push_back(sibling);
  }
  return {};
}

// SUBPROOF(m, D[lo:hi], whole) (RFC 9162 §2.1.4.1), deepest node first.
// REQUIRES: 0 < m <= hi - lo.
Result<void> SubProof(NodeReader& nodes, std::int64_t m, std::int64_t lo, std::int64_t hi, bool whole,
                      std::vector<merkle::Hash>* out) {
  if (m == hi - lo) {
    if (whole) return {};  // the verifier holds this root already: it is the old head's
    QORGAU_ASSIGN_OR_RETURN(const merkle::Hash h, SubtreeHash(nodes, lo, hi));
    out->push_back(h);
    return {};
  }
  const std::int64_t k = SplitPoint(hi - lo);
  if (m <= k) {
    QORGAU_TRY(SubProof(nodes, m, lo, lo + k, whole, out));
    QORGAU_ASSIGN_OR_RETURN(const merkle::Hash right, SubtreeHash(nodes, lo + k, hi));
    out->push_back(right);
  } else {
    QORGAU_TRY(SubProof(nodes, m - k, lo + k, hi, false, out));
    QORGAU_ASSIGN_OR_RETURN(const merkle::Hash left, SubtreeHash(nodes, lo, lo + k));
    out->push_back(left);
  }
  return {};
}

}  // namespace

Result<std::vector<merkle::Hash>> ConsistencyProofFor(store::Transaction& txn, std::int64_t size1,
                                                      std::int64_t size2) {
  if (size1 < 0 || size1 > size2) {
    return Fail(ErrorCode::kInvalidArgument, "size", "a consistency proof needs 0 <= size1 <= size2");
  }
  std::vector<merkle::Hash> proof;
  if (size1 == 0 || size1 == size2) return proof;
  NodeReader nodes(txn);
  QORGAU_TRY(SubProof(nodes, size1, 0, size2, true, &proof));
  return proof;
}

Result<std::vector<merkle::Hash>> InclusionProofFor(store::Transaction& txn, std::int64_t seq,
                                                    std::int64_t size) {
  if (seq < 1 || seq > size) {
    return Fail(ErrorCode::kInvalidArgument, "seq", "not an event of a tree of this size");
  }
  NodeReader nodes(txn);
  std::vector<merkle::Hash> proof;
  QORGAU_TRY(Path(nodes, seq - 1, 0, size, &proof));
  return proof;
}

TreeHead TreeHeadFromRecord(const store::TreeHeadRecord& r) {
  TreeHead h;
  h.size = r.size;
  if (r.root.size() == h.root.size()) std::copy(r.root.begin(), r.root.end(), h.root.begin());
  h.at = r.at;
  h.key_id = r.key_id;
  h.signature = r.signature;
  return h;
}

std::string TreeHeadMessage(const TreeHead& head) {
  std::string msg(kTreeHeadFormat);
  msg += '\n';
  PutBigEndian(&msg, static_cast<std::uint64_t>(head.size));
  msg.append(reinterpret_cast<const char*>(head.root.data()), head.root.size());
  PutBigEndian(&msg, static_cast<std::uint64_t>(head.at));
  return msg;
}

merkle::Hash EventLeafHash(std::string_view body) { return merkle::LeafHash(body); }

bool VerifyTreeHead(const TreeHead& head, const crypto::Verifier& key) {
  return head.key_id == key.KeyId() && key.Verify(TreeHeadMessage(head), head.signature);
}

std::string TreeHeadJson(const TreeHead& head) {
  boost::json::object o{{"format", kTreeHeadFormat},
                        {"size", head.size},
                        {"root", crypto::ToHex(head.root)},
                        {"at", FormatUtc(head.at)},
                        {"key_id", head.key_id},
                        {"signature", crypto::Base64Encode(head.signature)}};
  auto text = CanonicalJson(o);
  return (text ? *text : boost::json::serialize(o)) + "\n";
}

Result<TreeHead> ParseTreeHeadJson(std::string_view text) {
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec || !v.is_object()) return Fail(ErrorCode::kInvalidArgument, "checkpoint", "is not a JSON object");
  const auto& o = v.get_object();
  auto str = [&](const char* key) -> Result<std::string> {
    const auto* x = o.if_contains(key);
    if (!x || !x->is_string()) return Fail(ErrorCode::kInvalidArgument, key, "missing or not a string");
    return std::string(x->get_string());
  };
  QORGAU_ASSIGN_OR_RETURN(const std::string format, str("format"));
  if (format != kTreeHeadFormat) {
    return Fail(ErrorCode::kInvalidArgument, "format", "must be " + std::string(kTreeHeadFormat));
  }
  TreeHead h;
  const auto* size = o.if_contains("size");
  if (!size || !size->is_int64() || size->get_int64() < 0) {
    return Fail(ErrorCode::kInvalidArgument, "size", "missing or not a count of events");
  }
  h.size = size->get_int64();
  QORGAU_ASSIGN_OR_RETURN(const std::string root_hex, str("root"));
  QORGAU_ASSIGN_OR_RETURN(const crypto::Bytes root, crypto::FromHex(root_hex, "root"));
  if (root.size() != h.root.size()) return Fail(ErrorCode::kInvalidArgument, "root", "must be 32 bytes");
  std::copy(root.begin(), root.end(), h.root.begin());
  QORGAU_ASSIGN_OR_RETURN(const std::string at, str("at"));
  QORGAU_ASSIGN_OR_RETURN(h.at, ParseUtc(at, "at"));
  QORGAU_ASSIGN_OR_RETURN(h.key_id, str("key_id"));
  QORGAU_ASSIGN_OR_RETURN(const std::string signature, str("signature"));
  QORGAU_ASSIGN_OR_RETURN(h.signature, crypto::Base64Decode(signature, "signature"));
  return h;
}

void ProofCache::Put(std::int64_t seq, Entry entry) {
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();  // untaken: their batches failed
  entries_[seq] = std::move(entry);
}

std::optional<ProofCache::Entry> ProofCache::Take(std::int64_t seq) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(seq);
  if (it == entries_.end()) return std::nullopt;
  Entry e = std::move(it->second);
  entries_.erase(it);
  return e;
}

Result<std::optional<TreeHead>> SealTreeHead(store::Transaction& txn, const crypto::Signer& signer,
                                             UnixMillis now, ProofCache* proofs) {
  merkle::CompactRange tree;
  QORGAU_ASSIGN_OR_RETURN(const auto stored, txn.GetMeta(kFrontierKey));
  if (stored) {
    QORGAU_ASSIGN_OR_RETURN(tree, merkle::CompactRange::Deserialize(*stored));
  }
  // The stored frontier must be the one the last signed head describes: a
  // frontier changed behind the ledger's back would sign a false root.
  QORGAU_ASSIGN_OR_RETURN(const auto last, txn.LatestTreeHead());
  const std::int64_t sealed = last ? last->size : 0;
  const merkle::Hash root = tree.Root();
  if (static_cast<std::int64_t>(tree.size()) != sealed ||
      (last && crypto::Bytes(root.begin(), root.end()) != last->root)) {
    return Fail(ErrorCode::kCorruption, "ledger.frontier",
                "the stored Merkle frontier does not match the last signed tree head");
  }
  std::int64_t added = 0;
  std::vector<merkle::Hash> leaves;
  std::vector<std::int64_t> receipts;
  QORGAU_TRY(txn.ScanEvents(sealed + 1, [&](const store::EventRecord& e) {
    if (proofs && e.body.find("\"type\":\"receipt.issued\"") != std::string::npos) {
      receipts.push_back(e.seq);
    }
    leaves.push_back(EventLeafHash(e.body));
    tree.Append(leaves.back());
    ++added;
    return true;
  }));
  // The complete subtrees each new leaf closes, for inclusion proofs in
  // O(log n) reads (InclusionProofFor).
  NodeReader nodes(txn);
  for (std::int64_t k = 0; k < added; ++k) {
    std::int64_t j = sealed + k;  // the leaf's index
    merkle::Hash h = leaves[static_cast<std::size_t>(k)];
    nodes.Remember(0, j, h);
    for (int level = 0; (j & 1) == 1; ++level, j >>= 1) {
      QORGAU_ASSIGN_OR_RETURN(const merkle::Hash left, nodes.Get(level, j - 1));
      h = merkle::NodeHash(left, h);
      nodes.Remember(level + 1, j >> 1, h);
      QORGAU_TRY(txn.PutMerkleNode(level + 1, j >> 1, crypto::Bytes(h.begin(), h.end())));
    }
  }
  if (added == 0) return std::optional<TreeHead>();
  TreeHead head;
  head.size = static_cast<std::int64_t>(tree.size());
  head.root = tree.Root();
  head.at = now;
  head.key_id = signer.KeyId();
  QORGAU_ASSIGN_OR_RETURN(head.signature, signer.Sign(TreeHeadMessage(head)));
  QORGAU_TRY(txn.PutTreeHead({head.size, crypto::Bytes(head.root.begin(), head.root.end()), head.at,
                              head.key_id, head.signature}));
  QORGAU_TRY(txn.PutMeta(kFrontierKey, tree.Serialize()));
  for (const std::int64_t seq : receipts) {
    std::vector<merkle::Hash> path;
    QORGAU_TRY(Path(nodes, seq - 1, 0, head.size, &path));
    proofs->Put(seq, {head, std::move(path)});
  }
  return std::optional<TreeHead>(head);
}

}  // namespace qorgau::ledger
