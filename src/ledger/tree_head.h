// Signed tree heads: the ledger as a Merkle tree (RFC 9162 §2.1, leaves =
// the events' canonical bodies in seq order), and a signed statement of its
// size and root at the end of every group-commit batch
// (docs/ledger-format.md, format 2).
//
// A tree head is what an outside witness keeps (`qorgau audit checkpoint`):
// with it, `audit verify --checkpoint` detects a ledger cut short or
// rewritten, which the hash chain alone cannot, and a receipt proves its
// event is in the ledger (an inclusion proof to a signed head).
//
// The signed message is
//   "qorgau-tree-head/1\n" || size (8 bytes, big-endian) || root (32 bytes)
//   || at (milliseconds, 8 bytes, big-endian)
// signed with Ed25519 by the operator's ledger key (the receipt key).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "crypto/signer.h"
#include "ledger/merkle.h"
#include "store/store.h"

namespace qorgau::ledger {

inline constexpr std::string_view kTreeHeadFormat = "qorgau-tree-head/1";
// The store's meta key of the ledger key's id once `key rotate-signing` has
// run (written with its `signing_key.rotated` event); absent before.
inline constexpr std::string_view kSigningKeyMeta = "signing_key";

struct TreeHead {
  std::int64_t size = 0;  // events covered: seq 1..size
  merkle::Hash root{};
  UnixMillis at = 0;
  std::string key_id;
  crypto::Bytes signature;
};

TreeHead TreeHeadFromRecord(const store::TreeHeadRecord& record);

// The bytes a tree head's signature covers.
std::string TreeHeadMessage(const TreeHead& head);
// The leaf hash of an event (RFC 9162: SHA-256(0x00 || body)).
merkle::Hash EventLeafHash(std::string_view body);

// True when `head` is signed by `key`.
bool VerifyTreeHead(const TreeHead& head, const crypto::Verifier& key);

// A tree head as a checkpoint file (JSON, one line):
// {"format":"qorgau-tree-head/1","size":N,"root":"hex","at":"UTC","key_id":"...",
//  "signature":"base64"}
std::string TreeHeadJson(const TreeHead& head);
// Parses TreeHeadJson's output; an error names the field.
Result<TreeHead> ParseTreeHeadJson(std::string_view text);

// The inclusion proof of event `seq` in the tree of the first `size`
// events (RFC 9162 §2.1.3.1), from the stored subtree hashes: O(log^2 n)
// reads. Verify with merkle::VerifyInclusion(seq - 1, size, ...).
Result<std::vector<merkle::Hash>> InclusionProofFor(store::Transaction& txn, std::int64_t seq,
                                                    std::int64_t size);

// The consistency proof (RFC 9162 §2.1.4.1) that the tree of the first
// `size1` events is a prefix of the tree of the first `size2`, from the
// stored subtree hashes: O(log^2 n) reads. Empty for size1 == 0 and for
// size1 == size2 (see merkle::VerifyConsistency). kInvalidArgument (field
// "size") unless 0 <= size1 <= size2; size2 must not exceed the last
// sealed size, whose subtrees are stored.
Result<std::vector<merkle::Hash>> ConsistencyProofFor(store::Transaction& txn, std::int64_t size1,
                                                      std::int64_t size2);

// Inclusion proofs computed while sealing, for receipts: a receipt's caller
// takes its proof after the commit without reading the store. Entries not
// taken (a batch that failed to commit) are dropped past a bound.
// Thread safety: all methods may be called from any thread.
class ProofCache {
 public:
  struct Entry {
    TreeHead head;
    std::vector<merkle::Hash> path;
  };
  void Put(std::int64_t seq, Entry entry);
  // The proof of event `seq`, removed from the cache; nullopt if none.
  std::optional<Entry> Take(std::int64_t seq);

 private:
  static constexpr std::size_t kMaxEntries = 1 << 16;
  std::mutex mu_;
  std::unordered_map<std::int64_t, Entry> entries_;
};

// Appends the events after the last signed head to the tree and signs a
// new head over them, inside `txn` (the group committer's batch, before its
// commit): every committed batch ends signed. Does nothing when no event
// was added. The frontier of the tree is kept in the store (meta
// "ledger.frontier"), so sealing reads only the new events; the first seal
// of a format-1 ledger builds it from event 1 (the migration).
// When `proofs` is given, the inclusion proof of every `receipt.issued`
// event of the batch in the new head goes into it.
Result<std::optional<TreeHead>> SealTreeHead(store::Transaction& txn, const crypto::Signer& signer,
                                             UnixMillis now, ProofCache* proofs = nullptr);

}  // namespace qorgau::ledger
