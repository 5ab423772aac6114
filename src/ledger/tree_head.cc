#include "ledger/tree_head.h"

#include <boost/json.hpp>

#include "ledger/canonical_json.h"

namespace qorgau::ledger {
namespace {

constexpr std::string_view kFrontierKey = "ledger.frontier";

void PutBigEndian(std::string* out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

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

Result<std::optional<TreeHead>> SealTreeHead(store::Transaction& txn, const crypto::Signer& signer,
                                             UnixMillis now) {
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
  QORGAU_TRY(txn.ScanEvents(sealed + 1, [&](const store::EventRecord& e) {
    tree.Append(EventLeafHash(e.body));
    ++added;
    return true;
  }));
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
  return std::optional<TreeHead>(head);
}

}  // namespace qorgau::ledger
